"""``runsite.exceptions``: MLflow's ``mlflow.exceptions`` name for runsite's errors, so
``from mlflow.exceptions import MlflowException`` ports (``MlflowException`` is
``RunsiteError``, the base of every runsite error)."""

from __future__ import annotations

from runsite.errors import RunsiteError

MlflowException = RunsiteError

__all__ = ["MlflowException"]
