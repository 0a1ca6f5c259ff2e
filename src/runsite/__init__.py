"""runsite: experiment tracking and a model registry with no server.

Runs are plain files in a folder committed to git; ``runsite build`` turns it into a
static site. The logging API mirrors MLflow's::

    import runsite

    runsite.set_experiment("nyc-taxi")
    with runsite.start_run(run_name="ridge"):
        runsite.log_param("alpha", 0.5)
        for epoch in range(10):
            runsite.log_metric("rmse", 6.1 - epoch * 0.1, step=epoch)

Importing runsite is cheap: pyarrow, GitPython and the rest load when a feature needs
them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

from runsite.entities import Experiment, RunData, RunInfo
from runsite.errors import (
    InvalidInput,
    NotFound,
    QueryError,
    RunsiteError,
    RunStateError,
    StoreFormatError,
)
from runsite.fluent import (
    active_run,
    add_note,
    delete_tag,
    end_run,
    get_experiment_name,
    get_store_path,
    get_tracking_uri,
    last_active_run,
    log_artifact,
    log_artifacts,
    log_dict,
    log_figure,
    log_input,
    log_metric,
    log_metrics,
    log_model,
    log_param,
    log_params,
    log_table,
    log_text,
    set_experiment,
    set_store,
    set_tag,
    set_tags,
    set_tracking_uri,
    start_run,
)
from runsite.run import Run

if TYPE_CHECKING:
    from runsite.store import RunRecord, Store

__all__ = [
    "Experiment",
    "InvalidInput",
    "NotFound",
    "QueryError",
    "Run",
    "RunData",
    "RunInfo",
    "RunRecord",
    "RunStateError",
    "RunsiteError",
    "Store",
    "StoreFormatError",
    "__version__",
    "active_run",
    "add_note",
    "autolog",
    "delete_model_alias",
    "delete_tag",
    "end_run",
    "get_experiment_name",
    "get_model_version",
    "get_store_path",
    "get_tracking_uri",
    "infer_signature",
    "last_active_run",
    "list_models",
    "load_model",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "log_table",
    "log_text",
    "register_model",
    "search_runs",
    "set_experiment",
    "set_model_alias",
    "set_model_stage",
    "set_store",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
]


_REGISTRY_API = (
    "register_model",
    "set_model_stage",
    "set_model_alias",
    "delete_model_alias",
    "get_model_version",
    "list_models",
)


def __getattr__(name: str) -> Any:
    # Loaded on first use so ``import runsite`` stays light.
    if name in ("Store", "RunRecord"):
        from runsite import store

        return getattr(store, name)
    if name in _REGISTRY_API:
        from runsite import registry

        return getattr(registry, name)
    if name == "models":
        import runsite.models

        return runsite.models
    raise AttributeError(f"module 'runsite' has no attribute {name!r}")


def autolog(**kwargs: Any) -> None:
    """Autolog every installed library runsite supports (scikit-learn, XGBoost):
    params, training metrics, data hashes and the fitted model of each ``fit`` go into
    the active run, or a run of their own. MLflow's switches (``log_models``,
    ``log_input_examples``, ``log_datasets``, ``disable``, ``silent``, …); see
    docs/autolog.md."""
    from runsite.autologging import autolog as _autolog

    _autolog(**kwargs)


def load_model(uri: str, store: str | None = None) -> Any:
    """Load a logged model as a ``Model`` with ``.predict()`` (``.native`` is the
    underlying object). ``uri``: ``runs:/<run-id>/<name>``, ``models:/<name>/<version>``,
    ``models:/<name>/<stage>``, ``models:/<name>@<alias>`` or a folder path. Every file
    hash is checked before anything is unpickled."""
    from runsite.models.api import load_model as _load

    return _load(uri, store)


def infer_signature(model_input: Any, model_output: Any = None) -> dict[str, Any]:
    """The signature (columns or tensor) of an example input and output."""
    from runsite.models.signature import infer_signature as _infer

    return _infer(model_input, model_output)


def search_runs(
    filter_string: str = "",
    order_by: list[str] | None = None,
    experiment_names: list[str] | None = None,
    max_results: int | None = None,
    output_format: str = "list",
    store: str | None = None,
) -> Any:
    """Runs matching an MLflow-style filter, with OR, NOT, parentheses and metric
    aggregates on top (grammar: docs/search.md)::

        runsite.search_runs("metrics.rmse.min < 6 and params.model = 'xgb'",
                            order_by=["metrics.rmse ASC"])

    ``output_format="list"`` (default) gives ``RunRecord`` objects (with MLflow's
    ``.info`` / ``.data``); ``"pandas"`` gives a DataFrame with MLflow's column names
    (``run_id``, ``status``, ``params.alpha``, ``metrics.rmse``, ``tags.x`` …).
    """
    from runsite.store import Store

    runs = Store(store).search_runs(filter_string, order_by, experiment_names, max_results)
    if output_format == "list":
        return runs
    if output_format == "pandas":
        from runsite.frames import runs_frame

        return runs_frame(runs)
    raise InvalidInput(f"output_format must be 'list' or 'pandas', got {output_format!r}")
