"""Autologging: ``runsite.autolog()``, ``runsite.sklearn.autolog()``,
``runsite.xgboost.autolog()``, shaped like MLflow's (docs/autolog.md). ``core`` holds the
patching and the rules every wrapper keeps; ``sklearn`` and ``xgboost`` the flavors."""

from __future__ import annotations

from typing import Any


def autolog(
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    log_datasets: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    silent: bool = False,
    extra_tags: dict[str, Any] | None = None,
) -> None:
    """Autolog every supported library that is installed (scikit-learn, XGBoost)::

        runsite.autolog()
        LinearRegression().fit(X, y)   # a run with params, training_* metrics, model

    The switches are MLflow's (``mlflow.autolog``); ``disable=True`` restores the
    libraries' own functions. A library that is not installed is skipped."""
    switches = dict(locals())  # first: the imports below add locals of their own
    import importlib.util

    from runsite.autologging import sklearn as sk
    from runsite.autologging import xgboost as xg

    for module, fn in (("sklearn", sk.autolog), ("xgboost", xg.autolog)):
        if importlib.util.find_spec(module) is not None:
            fn(**switches)
