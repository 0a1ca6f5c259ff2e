"""XGBoost autologging (``runsite.xgboost.autolog``), as MLflow's ``mlflow.xgboost``:

- ``xgboost.train``: the booster params and ``train``'s other arguments
  (``num_boost_round``, ``early_stopping_rounds``, ``maximize``, ``verbose_eval``,
  ``custom_metric``) as params; every round's evaluation results as metrics named
  ``<eval name>-<metric>`` (``train-rmse``, ``validation_0-logloss``; ``@`` becomes
  ``_at_``) at step = round; with early stopping ``stopped_iteration`` and
  ``best_iteration``, and the best round's results again at the step after the last;
  ``feature_importance_weight.json``; the training DMatrix (context ``train``) and each
  eval set (``eval``) as inputs; the Booster as the model.
- the scikit-learn API (``XGBRegressor.fit`` & co.): the same params and metrics (it
  trains through ``xgboost.train``), ``fit``'s data as inputs, and the fitted
  estimator as the model, with a signature.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

from runsite.autologging import core
from runsite.autologging.common import (
    FitCall,
    log_data,
    log_fitted_model,
    method_wrapper,
    str_params,
)

FLAVOR = "xgboost"
_UNLOGGED = (
    "params",
    "dtrain",
    "evals",
    "obj",
    "feval",
    "evals_result",
    "xgb_model",
    "callbacks",
    "learning_rates",
)


def autolog(
    importance_types: list[str] | None = None,
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    log_datasets: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    silent: bool = False,
    registered_model_name: str | None = None,
    extra_tags: dict[str, Any] | None = None,
    model_format: str | None = None,
    disable_for_unsupported_versions: bool = False,
) -> None:
    """Log every ``xgboost.train`` and scikit-learn-API ``fit`` into a run: params,
    per-round eval metrics, data hashes, the model. Switches as MLflow's
    ``mlflow.xgboost.autolog``; ``disable=True`` puts the originals back.
    ``model_format`` and ``disable_for_unsupported_versions`` are accepted for MLflow
    scripts and change nothing (models are saved as UBJSON)."""
    importance_types = list(importance_types or ["weight"])
    core.configure(FLAVOR, _install, locals())


def _install() -> None:
    import xgboost
    import xgboost.sklearn
    import xgboost.training

    original_train = xgboost.training.train
    for owner in (xgboost, xgboost.training, xgboost.sklearn):
        if getattr(owner, "train", None) is original_train:
            core.patch(FLAVOR, owner, "train", _wrap_train)
    wrap_fit = method_wrapper(FLAVOR, _before_fit, _after_fit)
    for cls in _sklearn_classes():
        fn = cls.__dict__.get("fit")
        if inspect.isfunction(fn) and not core.is_patched(fn):
            core.patch(FLAVOR, cls, "fit", wrap_fit)


def _sklearn_classes() -> list[type]:
    import xgboost.sklearn

    out = []
    for obj in vars(xgboost.sklearn).values():
        if isinstance(obj, type) and issubclass(obj, xgboost.sklearn.XGBModel):
            out.append(obj)
    return out


# ---------------------------------------------------------------------- xgboost.train


def _wrap_train(original: Any) -> Any:
    def train(*args: Any, **kwargs: Any) -> Any:
        session = core.current_session()
        if session is not None:
            # Inside XGBModel.fit: log params and rounds into its run, nothing else.
            if session.flavor == FLAVOR and session.extra.get("sklearn_api"):
                session.extra["sklearn_api"] = False  # once
                return _train_logged(session, original, args, kwargs, inner=True)
            return original(*args, **kwargs)

        def run_train(*a: Any, **k: Any) -> Any:
            s = core.current_session()
            if s is None:  # logging could not start: just train
                return original(*a, **k)
            return _train_logged(s, original, a, k, inner=False)

        return core.call_logged(FLAVOR, run_train, args, kwargs, None, None)

    return train


def _bound(original: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    sig = inspect.signature(original)
    bound = sig.bind(*args, **kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)


def _train_logged(
    s: core.Session, original: Any, args: tuple[Any, ...], kwargs: dict[str, Any], inner: bool
) -> Any:
    import xgboost

    cfg = s.config
    try:
        arguments = _bound(original, args, kwargs)
    except TypeError:
        return original(*args, **kwargs)  # the original will say what is wrong
    booster_params = arguments.get("params") or {}
    fn_params = {k: v for k, v in arguments.items() if k not in _UNLOGGED}
    if isinstance(booster_params, dict):
        core.safely(cfg, "could not log params", s.run.log_params, str_params(booster_params))
    core.safely(cfg, "could not log params", s.run.log_params, str_params(fn_params))

    dtrain = arguments.get("dtrain")
    if cfg.log_datasets and not inner:
        core.safely(cfg, "could not hash the training data", _log_dmatrices, s, arguments)

    results: list[dict[str, float]] = []
    callback = _callback_class()(s, results)
    callbacks = list(arguments.get("callbacks") or [])
    arguments["callbacks"] = [*callbacks, callback]
    model = original(**arguments)

    if not inner and cfg.log_models:
        core.safely(cfg, "could not log the model", _log_booster, s, model, dtrain)
    if arguments.get("early_stopping_rounds"):
        core.safely(cfg, "could not log early stopping", _log_early_stop, s, model, results)
    for kind in cfg.importance_types:
        booster = model if isinstance(model, xgboost.Booster) else model.get_booster()
        core.safely(cfg, "could not log feature importance", _log_importance, s, booster, kind)
    return model


def _callback_class() -> type:
    import xgboost

    class RunsiteAutologCallback(xgboost.callback.TrainingCallback):
        """Logs each round's evaluation results; a logging failure warns once."""

        def __init__(self, session: core.Session, results: list[dict[str, float]]) -> None:
            self.session = session
            self.results = results
            self.failed = False

        def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
            point = {
                f"{data}-{metric.replace('@', '_at_')}": float(values[-1])
                for data, metrics in evals_log.items()
                for metric, values in metrics.items()
            }
            self.results.append(point)
            if point and not self.failed:
                try:
                    self.session.run.log_metrics(point, step=epoch)
                except Exception as exc:
                    self.failed = True
                    core.warn(self.session.config, "could not log eval metrics", exc)
            return False

    return RunsiteAutologCallback


def _dmatrix_data(d: Any) -> tuple[Any, Any]:
    data = d.get_data()
    label = d.get_label()
    return data, (label if len(label) else None)


def _log_dmatrices(s: core.Session, arguments: dict[str, Any]) -> None:
    dtrain = arguments.get("dtrain")
    if dtrain is not None:
        x, y = _dmatrix_data(dtrain)
        s.extra["input"] = log_data(s.run, x, y, "dataset", "train")
    for d, name in arguments.get("evals") or ():
        x, y = _dmatrix_data(d)
        log_data(s.run, x, y, str(name), "eval")


def _log_booster(s: core.Session, model: Any, dtrain: Any) -> None:
    import xgboost

    x = None
    if dtrain is not None:
        x = core.safely(s.config, "could not infer the model signature", dtrain.get_data)
    log_fitted_model(
        s, model, x, "model", FLAVOR, predict=lambda rows: model.predict(xgboost.DMatrix(rows))
    )


def _log_early_stop(s: core.Session, model: Any, results: list[dict[str, float]]) -> None:
    extra = len(results)
    best = int(model.best_iteration)
    s.run.log_metrics({"stopped_iteration": extra - 1, "best_iteration": best})
    if 0 <= best < extra and results[best]:
        s.run.log_metrics(results[best], step=extra)


def _log_importance(s: core.Session, booster: Any, kind: str) -> None:
    scores = booster.get_score(importance_type=kind)
    if scores:
        s.run.log_text(json.dumps(scores), f"feature_importance_{kind}.json")


# ---------------------------------------------------------------------- XGBModel.fit


def _before_fit(s: core.Session, call: FitCall) -> None:
    s.extra["sklearn_api"] = True
    if s.config.log_datasets and call.x is not None:
        arguments = _bound(call.original, (call.est, *call.args), call.kwargs)
        for i, pair in enumerate(arguments.get("eval_set") or ()):
            core.safely(
                s.config,
                "could not hash an eval set",
                log_data,
                s.run,
                pair[0],
                pair[1] if len(pair) > 1 else None,
                f"validation_{i}",
                "eval",
            )


def _after_fit(s: core.Session, call: FitCall) -> None:
    if s.config.log_models:
        log_fitted_model(s, call.est, call.x, "model", FLAVOR)
