"""``runsite.sklearn``: log and load a scikit-learn estimator or pipeline.

The same shape as MLflow's ``mlflow.sklearn``.
"""

from __future__ import annotations

import os
from typing import Any

from runsite import _flavor_api


def log_model(model: Any, name: str = "model", **kwargs: Any) -> Any:
    """Log a scikit-learn estimator or pipeline into the active run.

    Arguments as ``runsite.log_model``.
    """
    return _flavor_api.log_model("sklearn", model, name, **kwargs)


def save_model(sk_model: Any, path: str | os.PathLike[str], **kwargs: Any) -> None:
    """Save the model as a folder at ``path``, outside any run (MLflow's
    ``mlflow.sklearn.save_model``); ``load_model(path)`` loads it. Keyword arguments as
    ``log_model``'s (``signature``, ``input_example``, ``pip_requirements`` …)."""
    _flavor_api.save_model("sklearn", sk_model, path, **kwargs)


def load_model(model_uri: str | os.PathLike[str], store: Any = None) -> Any:
    """Load the fitted estimator itself (hashes checked first)."""
    return _flavor_api.load_native("sklearn", model_uri, store)


def autolog(**kwargs: Any) -> None:
    """Autolog scikit-learn training into runs (MLflow's ``mlflow.sklearn.autolog``; switches
    and what is logged: docs/autolog.md). ``autolog(disable=True)`` turns it off."""
    from runsite.autologging import sklearn as _auto

    _auto.autolog(**kwargs)
