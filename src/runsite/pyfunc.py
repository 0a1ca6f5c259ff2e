"""``runsite.pyfunc``: the generic model interface (MLflow's ``mlflow.pyfunc``)."""

from __future__ import annotations

import os
from typing import Any

from runsite.models.api import Model


def load_model(model_uri: str | os.PathLike[str], store: Any = None) -> Model:
    """Load any logged model as a ``Model`` with ``.predict()`` applying its preprocessor."""
    from runsite.models.api import load_model as _load

    return _load(model_uri, store)


__all__ = ["Model", "load_model"]
