"""``runsite.xgboost``: log and load a XGBoost Booster or scikit-learn-API model.

The same shape as MLflow's ``mlflow.xgboost``.
"""

from __future__ import annotations

import os
from typing import Any

from runsite import _flavor_api


def log_model(model: Any, name: str = "model", **kwargs: Any) -> Any:
    """Log a XGBoost Booster or scikit-learn-API model into the active run.

    Arguments as ``runsite.log_model``.
    """
    return _flavor_api.log_model("xgboost", model, name, **kwargs)


def save_model(xgb_model: Any, path: str | os.PathLike[str], **kwargs: Any) -> None:
    """Save the model as a folder at ``path``, outside any run (MLflow's
    ``mlflow.xgboost.save_model``); ``load_model(path)`` loads it. Keyword arguments as
    ``log_model``'s (``signature``, ``input_example``, ``pip_requirements`` …)."""
    _flavor_api.save_model("xgboost", xgb_model, path, **kwargs)


def load_model(model_uri: str | os.PathLike[str], store: Any = None) -> Any:
    """Load the Booster or XGBModel itself (hashes checked first)."""
    return _flavor_api.load_native("xgboost", model_uri, store)


def autolog(**kwargs: Any) -> None:
    """Autolog XGBoost training into runs (MLflow's ``mlflow.xgboost.autolog``; switches
    and what is logged: docs/autolog.md). ``autolog(disable=True)`` turns it off."""
    from runsite.autologging import xgboost as _auto

    _auto.autolog(**kwargs)
