"""scikit-learn autologging (``runsite.sklearn.autolog``), as MLflow's ``mlflow.sklearn``:

- params: ``estimator.get_params(deep=True)`` (``deep=False`` for a parameter search),
  plus ``best_<param>`` for a search;
- tags: ``estimator_name``, ``estimator_class``;
- metrics on the training data: ``training_score`` and, for a classifier,
  ``training_accuracy_score``, ``training_precision_score``, ``training_recall_score``,
  ``training_f1_score`` (weighted), ``training_log_loss`` and ``training_roc_auc`` (with
  ``predict_proba``); for a regressor ``training_mean_squared_error``,
  ``training_root_mean_squared_error``, ``training_mean_absolute_error``,
  ``training_r2_score``; ``best_cv_score`` for a search;
- the training data as an input (context ``train``), the fitted model (``model``, and
  ``best_estimator`` for a search) with its signature, ``estimator.html``, and for a
  search ``cv_results.csv`` plus one child run per candidate (the ``max_tuning_runs``
  best by rank) with the candidate's params and its ``mean_*``/``std_*``/``rank_*``
  scores.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterable
from typing import Any

from runsite.autologging import core
from runsite.autologging.common import FitCall, head, log_fitted_model, method_wrapper, str_params

FLAVOR = "sklearn"
_METHODS = ("fit", "fit_transform", "fit_predict")


def autolog(
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    log_datasets: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    silent: bool = False,
    max_tuning_runs: int | None = 5,
    pos_label: Any = None,
    registered_model_name: str | None = None,
    extra_tags: dict[str, Any] | None = None,
    log_post_training_metrics: bool = True,
    serialization_format: str | None = None,
    disable_for_unsupported_versions: bool = False,
) -> None:
    """Log every scikit-learn ``fit`` (and ``fit_transform``/``fit_predict``) into a
    run: params, training metrics, data hash, the model. Switches as MLflow's
    ``mlflow.sklearn.autolog``; ``disable=True`` puts the original methods back.
    ``log_post_training_metrics``, ``serialization_format`` and
    ``disable_for_unsupported_versions`` are accepted for MLflow scripts and change
    nothing (docs/porting.md)."""
    core.configure(FLAVOR, _install, locals())


# Data-manipulation routines MLflow does not autolog on their own (inside a Pipeline
# they are part of the logged fit).
_EXCLUDED_MODULES = (
    "sklearn.preprocessing",
    "sklearn.impute",
    "sklearn.feature_extraction",
    "sklearn.feature_selection",
)
_EXCLUDED_CLASSES = ("sklearn.compose._column_transformer.ColumnTransformer",)
# sklearn.model_selection helpers whose inner fits MLflow does not autolog.
_UNLOGGED_HELPERS = (
    "cross_validate",
    "cross_val_predict",
    "cross_val_score",
    "learning_curve",
    "permutation_test_score",
    "validation_curve",
)


def estimator_classes() -> list[type]:
    """What MLflow patches: sklearn's own estimators plus the meta-estimators, less the
    preprocessing ones."""
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
    from sklearn.pipeline import Pipeline
    from sklearn.utils import all_estimators

    classes = [cls for _, cls in all_estimators()]
    for meta in (GridSearchCV, RandomizedSearchCV, Pipeline):
        if meta not in classes:
            classes.append(meta)
    return [
        cls
        for cls in classes
        if not cls.__module__.startswith(_EXCLUDED_MODULES)
        and f"{cls.__module__}.{cls.__name__}" not in _EXCLUDED_CLASSES
    ]


def _install() -> None:
    import sklearn.model_selection

    for helper in _UNLOGGED_HELPERS:
        if inspect.isfunction(getattr(sklearn.model_selection, helper, None)):
            core.patch(FLAVOR, sklearn.model_selection, helper, _wrap_unlogged)
    wrap = method_wrapper(FLAVOR, _before, _after)
    for cls in estimator_classes():
        for name in _METHODS:
            raw = inspect.getattr_static(cls, name, None)
            if inspect.isfunction(raw):
                if not core.is_patched(raw):
                    core.patch(FLAVOR, cls, name, wrap)
            # sklearn's available_if(...) descriptor (Pipeline.fit_transform): wrap the
            # function inside it so hasattr() answers stay the library's.
            elif _is_available_if(raw) and not core.is_patched(raw.fn):
                core.patch(FLAVOR, raw, "fn", wrap)


def _is_available_if(raw: Any) -> bool:
    return inspect.isfunction(getattr(raw, "fn", None)) and hasattr(raw, "check")


def _wrap_unlogged(original: Any) -> Any:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with core.suppressed():
            return original(*args, **kwargs)

    return wrapper


def is_search(est: Any) -> bool:
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

    return isinstance(est, GridSearchCV | RandomizedSearchCV)


def estimator_tags(est: Any) -> dict[str, str]:
    cls = type(est)
    return {"estimator_name": cls.__name__, "estimator_class": f"{cls.__module__}.{cls.__name__}"}


def _before(s: core.Session, call: FitCall) -> None:
    est = call.est
    s.run.log_params(str_params(est.get_params(deep=not is_search(est))))
    s.run.set_tags(estimator_tags(est))


def _after(s: core.Session, call: FitCall) -> None:
    cfg, run, est = s.config, s.run, call.est
    x, y, weight = call.x, call.y, call.weight
    if x is not None and y is not None:
        metrics = core.safely(
            cfg, "could not compute training metrics", training_metrics, s, est, x, y, weight
        )
        if metrics:
            run.log_metrics(metrics)
    if cfg.log_models:
        # the signature's output from the training predictions the metrics made (the
        # same dtype and columns as ``predict`` of the first rows, without the call)
        pred = s.extra.pop("train_pred", None)
        output = None if pred is None else head(pred)
        core.safely(
            cfg,
            "could not log the model",
            log_fitted_model,
            s,
            est,
            x,
            "model",
            FLAVOR,
            output=output,
        )
    core.safely(cfg, "could not log estimator.html", _log_html, run, est)
    if is_search(est):
        _after_search(s, est, x)


def training_metrics(
    s: core.Session, est: Any, x: Any, y: Any, weight: Any, prefix: str = "training_"
) -> dict[str, float]:
    """MLflow's training metrics, the same numbers for less work: each prediction on the
    training data is made once (``score`` reuses it where it is the scikit-learn mixin's,
    a forest's labels come from its probabilities) and precision, recall and F1 come
    from one ``precision_recall_fscore_support``, which their three functions call."""
    from sklearn import metrics as skm
    from sklearn.base import is_classifier, is_regressor

    out: dict[str, float] = {}

    def put(name: str, fn: Any, **kw: Any) -> None:
        try:
            out[prefix + name] = float(fn(**kw))
        except Exception as exc:
            core.warn(s.config, f"metric {prefix + name} not logged", exc)

    pred = None
    if is_classifier(est) and hasattr(est, "predict"):
        pred, proba = _predictions(est, x)
        pos = s.config.pos_label
        common = {"y_true": y, "y_pred": pred, "sample_weight": weight}
        try:
            prf = skm.precision_recall_fscore_support(
                **common, pos_label=pos, average="weighted" if pos is None else "binary"
            )
            for name, value in zip(("precision", "recall", "f1"), prf[:3], strict=True):
                out[f"{prefix}{name}_score"] = float(value)
        except Exception as exc:
            core.warn(s.config, f"metrics {prefix}precision/recall/f1_score not logged", exc)
        put("accuracy_score", skm.accuracy_score, normalize=True, **common)
        if hasattr(est, "predict_proba"):
            if proba is None:
                proba = est.predict_proba(x)
            put("log_loss", lambda: skm.log_loss(y, proba, sample_weight=weight))
            score = proba[:, 1] if proba.shape[1] == 2 else proba
            put(
                "roc_auc",
                skm.roc_auc_score,
                y_true=y,
                y_score=score,
                average="weighted",
                sample_weight=weight,
                multi_class="ovo",
            )
    elif is_regressor(est) and hasattr(est, "predict"):
        pred = est.predict(x)
        common = {"y_true": y, "y_pred": pred, "sample_weight": weight}
        put("mean_squared_error", skm.mean_squared_error, multioutput="uniform_average", **common)
        put("mean_absolute_error", skm.mean_absolute_error, multioutput="uniform_average", **common)
        put("r2_score", skm.r2_score, multioutput="uniform_average", **common)
        if prefix + "mean_squared_error" in out:
            out[prefix + "root_mean_squared_error"] = math.sqrt(out[prefix + "mean_squared_error"])
    if pred is not None and prefix == "training_":
        s.extra["train_pred"] = pred
    if hasattr(est, "score"):
        same = _mixin_score(est) if pred is not None else None
        if same is not None and prefix + same in out:
            # ``score`` is that metric of ``predict(x)``, called the same way
            out[prefix + "score"] = out[prefix + same]
        else:
            put("score", lambda: _score(est, x, y, weight, pred))
    return out


def _predictions(est: Any, x: Any) -> tuple[Any, Any]:
    """A classifier's ``predict(x)``, and ``predict_proba(x)`` when it was needed for it:
    a scikit-learn forest's ``predict`` is the argmax of its ``predict_proba``, so its
    labels are taken from the probabilities (the same labels, half the work)."""
    try:
        from sklearn.ensemble._forest import ForestClassifier
    except ImportError:  # another layout of scikit-learn: predict as it is
        return est.predict(x), None
    if type(est).predict is ForestClassifier.predict and getattr(est, "n_outputs_", 0) == 1:
        import numpy as np

        proba = est.predict_proba(x)
        return est.classes_.take(np.argmax(proba, axis=1), axis=0), proba
    return est.predict(x), None


def _mixin_score(est: Any) -> str | None:
    """The metric ``est.score`` is, where it is scikit-learn's classifier or regressor
    mixin's: ``accuracy_score`` or ``r2_score`` of ``predict(x)`` with the sample weight
    (and those functions' defaults, as the training metrics call them)."""
    from sklearn.base import ClassifierMixin, RegressorMixin

    method = type(est).score
    if method is ClassifierMixin.score:
        return "accuracy_score"
    if method is RegressorMixin.score:
        return "r2_score"
    return None


def _score(est: Any, x: Any, y: Any, weight: Any, pred: Any) -> float:
    """``est.score(x, y[, weight])``, from the prediction already made where ``score`` is
    scikit-learn's mixin's."""
    from sklearn import metrics as skm

    same = _mixin_score(est) if pred is not None else None
    if same == "accuracy_score":
        return float(skm.accuracy_score(y, pred, sample_weight=weight))
    if same == "r2_score":
        return float(skm.r2_score(y, pred, sample_weight=weight))
    if "sample_weight" in inspect.signature(est.score).parameters:
        return float(est.score(x, y, weight))
    return float(est.score(x, y))


def _log_html(run: Any, est: Any) -> None:
    doc = (
        '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="UTF-8"/></head>\n'
        f"<body>\n{estimator_html(est)}\n</body>\n</html>\n"
    )
    run.log_text(doc, "estimator.html")


def estimator_html(est: Any) -> str:
    """scikit-learn's ``estimator_html_repr(est)`` (what MLflow logs), each fitted
    property computed once instead of twice.

    Its fitted-attributes table calls ``inspect.getmembers(est)``, which lists names with
    ``dir(est)`` and then ``getattr``s each; ``BaseEstimator.__dir__`` keeps only the
    names ``hasattr`` accepts, so every property is computed twice (a forest's
    ``estimators_samples_`` regenerates every tree's bootstrap sample each time). The
    HTML is made from a view of ``est``: the same ``__dict__`` as an instance of a
    subclass (same name, module and docstring) whose ``__dir__`` is ``object``'s, unfiltered.
    ``getmembers`` skips a name whose ``getattr`` raises ``AttributeError`` as
    ``__dir__`` dropped it, so the HTML is the same (tests/test_autolog.py compares)."""
    from sklearn.utils import estimator_html_repr

    view = _html_view(est)
    if view is not est:
        try:
            return str(estimator_html_repr(view))
        except Exception:  # the library's own call says what is wrong, if anything
            pass
    return str(estimator_html_repr(est))


def _html_view(est: Any) -> Any:
    from sklearn.base import BaseEstimator

    cls = type(est)
    if getattr(cls, "__dir__", None) is not BaseEstimator.__dir__:
        return est
    try:
        view: Any = object.__new__(_view_class(cls))
        view.__dict__ = est.__dict__
    except Exception:  # __slots__, a metaclass that refuses: the estimator as it is
        return est
    return view


_VIEW_CLASSES: dict[type, type] = {}


def _view_class(cls: type) -> type:
    if cls in _VIEW_CLASSES:
        return _VIEW_CLASSES[cls]
    namespace = {
        "__dir__": _unfiltered_dir,
        "__module__": cls.__module__,
        "__qualname__": cls.__qualname__,
        "__doc__": cls.__doc__,
    }
    view_cls: type = type(cls)(cls.__name__, (cls,), namespace)
    _VIEW_CLASSES[cls] = view_cls
    return view_cls


def _unfiltered_dir(self: Any) -> Iterable[str]:
    return object.__dir__(self)


def _after_search(s: core.Session, est: Any, x: Any) -> None:
    cfg, run = s.config, s.run
    if hasattr(est, "best_estimator_") and cfg.log_models:
        core.safely(
            cfg,
            "could not log the best estimator",
            log_fitted_model,
            s,
            est.best_estimator_,
            x,
            "best_estimator",
            FLAVOR,
        )
    if hasattr(est, "best_score_"):
        run.log_metrics({"best_cv_score": float(est.best_score_)})
    if hasattr(est, "best_params_"):
        run.log_params(str_params({f"best_{k}": v for k, v in est.best_params_.items()}))
    if hasattr(est, "cv_results_"):
        core.safely(cfg, "could not log cv_results.csv", _log_cv_results, run, est)
        core.safely(cfg, "could not create the child runs", _child_runs, s, est)


def _log_cv_results(run: Any, est: Any) -> None:
    import pandas as pd

    run.log_text(pd.DataFrame.from_dict(est.cv_results_).to_csv(index=False), "cv_results.csv")


def _child_runs(s: core.Session, est: Any) -> None:
    """One nested run per candidate, as MLflow's: the seed estimator's params updated
    with the candidate's, and the candidate's aggregate scores (no per-split ones)."""
    from numbers import Number

    import pandas as pd

    from runsite.run import Run, record_input

    cfg, parent = s.config, s.run
    seed = est.estimator
    base = seed.get_params(deep=not is_search(seed))
    frame = pd.DataFrame.from_dict(est.cv_results_)
    if cfg.max_tuning_runs is not None:
        rank = "rank_test_score"
        if rank not in frame.columns:
            rank = next((c for c in frame.columns if "rank_test_" in c), rank)
        frame = frame.nsmallest(cfg.max_tuning_runs, rank)
    data_input = s.extra.get("input")
    tags = {core.AUTOLOGGING_TAG: FLAVOR, **cfg.extra_tags, **estimator_tags(seed)}
    for _, row in frame.iterrows():
        with Run(
            parent.store_root,
            parent.experiment,
            tags=tags,
            parent_run_id=parent.run_id,
            capture_git=False,
        ) as child:
            child.log_params(str_params({**base, **row.get("params", {})}))
            child.log_metrics(
                {
                    str(k): float(v)  # type: ignore[arg-type]
                    for k, v in row.items()
                    if not str(k).startswith(("param", "split"))
                    and isinstance(v, Number)
                    and not isinstance(v, bool)
                }
            )
            if data_input:
                record_input(child, data_input)
