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

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runsite import hooks
from runsite.entities import Experiment, RunData, RunInfo
from runsite.errors import (
    InvalidInput,
    NotFound,
    QueryError,
    RunsiteError,
    RunStateError,
    StoreFormatError,
    WriteError,
)
from runsite.fluent import (
    active_run,
    add_note,
    delete_tag,
    end_run,
    get_experiment_name,
    get_registry_uri,
    get_store_path,
    get_tracking_uri,
    is_tracking_uri_set,
    last_active_run,
    log_artifact,
    log_artifacts,
    log_dict,
    log_figure,
    log_image,
    log_input,
    log_metric,
    log_metrics,
    log_model,
    log_param,
    log_params,
    log_table,
    log_text,
    set_experiment,
    set_registry_uri,
    set_store,
    set_tag,
    set_tags,
    set_tracking_uri,
    start_run,
    update_experiment,
)
from runsite.run import Run
from runsite.system_metrics import (
    disable_system_metrics_logging,
    enable_system_metrics_logging,
    set_system_metrics_samples_before_logging,
    set_system_metrics_sampling_interval,
)
from runsite.version import __version__

# MLflow's base exception (``except mlflow.MlflowException``): every runsite error.
MlflowException = RunsiteError
ActiveRun = Run  # what MLflow's start_run / active_run return: runsite's Run

if TYPE_CHECKING:
    from runsite.client import MlflowClient
    from runsite.store import RunRecord, Store

__all__ = [
    "ActiveRun",
    "Experiment",
    "InvalidInput",
    "MlflowClient",
    "MlflowException",
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
    "WriteError",
    "__version__",
    "active_run",
    "add_note",
    "autolog",
    "create_experiment",
    "delete_experiment_tag",
    "delete_model_alias",
    "delete_run",
    "delete_runs",
    "delete_tag",
    "disable_system_metrics_logging",
    "enable_system_metrics_logging",
    "end_run",
    "evaluate",
    "get_artifact_uri",
    "get_experiment",
    "get_experiment_by_name",
    "get_experiment_name",
    "get_latest_versions",
    "get_model_version",
    "get_parent_run",
    "get_registry_uri",
    "get_run",
    "get_store_path",
    "get_tracking_uri",
    "infer_signature",
    "is_tracking_uri_set",
    "last_active_run",
    "list_models",
    "load_model",
    "load_table",
    "log_artifact",
    "log_artifacts",
    "log_batch",
    "log_dict",
    "log_figure",
    "log_image",
    "log_input",
    "log_inputs",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "log_table",
    "log_text",
    "register_model",
    "search_experiments",
    "search_model_versions",
    "search_registered_models",
    "search_runs",
    "set_experiment",
    "set_experiment_tag",
    "set_experiment_tags",
    "set_model_alias",
    "set_model_stage",
    "set_registry_uri",
    "set_store",
    "set_system_metrics_samples_before_logging",
    "set_system_metrics_sampling_interval",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
    "update_experiment",
]


_REGISTRY_API = (
    "register_model",
    "set_model_stage",
    "set_model_alias",
    "delete_model_alias",
    "delete_runs",
    "get_model_version",
    "get_latest_versions",
    "list_models",
    "search_model_versions",
    "search_registered_models",
)


class _RealMlflowWarning:
    """A meta-path entry that never finds anything: it only says so, once, when the real
    ``mlflow`` package is imported in a process that imported runsite (a script that did
    ``import runsite as mlflow`` and then ``import mlflow.sklearn`` silently rebinds
    ``mlflow`` to MLflow, and its runs would go to MLflow's store)."""

    warned = False

    @classmethod
    def find_spec(cls, name: str, path: Any = None, target: Any = None) -> None:
        if name == "mlflow" and not cls.warned:
            cls.warned = True
            import warnings

            warnings.warn(
                "the real mlflow package is being imported in a process that uses runsite: "
                "`import mlflow…` now means MLflow, not runsite (runs logged through it go "
                "to MLflow's store). Import runsite's modules instead (runsite.sklearn, "
                "runsite.tracking …) or call runsite.mlflow.install() first.",
                RuntimeWarning,
                stacklevel=2,
            )
        return None


import sys as _sys  # noqa: E402

if not any(isinstance(f, type) and f.__name__ == "_RealMlflowWarning" for f in _sys.meta_path):
    _sys.meta_path.insert(0, _RealMlflowWarning)


# The submodules MLflow scripts reach as attributes after a bare ``import mlflow``;
# runsite.mlflow.install() maps ``mlflow.<name>`` to them as well.
MLFLOW_SUBMODULES = (
    "sklearn",
    "xgboost",
    "pyfunc",
    "models",
    "tracking",
    "client",
    "entities",
    "artifacts",
    "data",
    "exceptions",
    "types",
    "types.schema",
    "models.signature",
)


def __getattr__(name: str) -> Any:
    # Loaded on first use so ``import runsite`` stays light.
    if name in ("Store", "RunRecord"):
        from runsite import store

        return getattr(store, name)
    if name in _REGISTRY_API:
        from runsite import registry

        return getattr(registry, name)
    if name in MLFLOW_SUBMODULES or name == "mlflow":
        import importlib

        return importlib.import_module(f"runsite.{name}")
    if name == "MlflowClient":
        from runsite.client import MlflowClient

        return MlflowClient
    raise AttributeError(f"module 'runsite' has no attribute {name!r}")


def autolog(**kwargs: Any) -> None:
    """Autolog every installed library runsite supports (scikit-learn, XGBoost):
    params, training metrics, data hashes and the fitted model of each ``fit`` go into
    the active run, or a run of their own. MLflow's switches (``log_models``,
    ``log_input_examples``, ``log_datasets``, ``disable``, ``silent``, …); see
    docs/autolog.md."""
    from runsite.autologging import autolog as _autolog

    _autolog(**kwargs)


# The package façade wires the layers together: ``Run.log_model`` (runs layer) and
# ``models:/`` URIs (models layer) reach the models and the registry through these, so no
# lower module imports a higher one. Loaded on first use, like the rest.


def _log_model(
    run: Run, model: Any, name: str, *, registered_model_name: str | None = None, **kwargs: Any
) -> Any:
    if registered_model_name is not None:
        from runsite.registry import log_registered_model

        return log_registered_model(run, model, name, registered_model_name, **kwargs)
    from runsite.models.api import log_model as _log

    return _log(run, model, name, **kwargs)


def _resolve_models_uri(uri: str, store: str | os.PathLike[str] | None) -> Path:
    from runsite.registry import resolve_model_uri

    return resolve_model_uri(uri, store)


def _resolve_models_version(uri: str, store: str | os.PathLike[str] | None) -> tuple[Path, Any]:
    from runsite.registry import resolve_model_version

    return resolve_model_version(uri, store)


hooks.set_model_logger(_log_model)
hooks.set_uri_resolver("models", _resolve_models_uri, _resolve_models_version)


def load_model(uri: str, store: str | None = None, trust: bool = False) -> Any:
    """Load a logged model as a ``Model`` with ``.predict()`` (``.native`` is the
    underlying object). ``uri``: ``runs:/<run-id>/<name>``, ``models:/<name>/<version>``,
    ``models:/<name>/<stage>``, ``models:/<name>@<alias>`` or a folder path. Every file
    hash is checked and every pickle scanned before anything is unpickled; a pickle that
    imports what its flavor does not need raises ``UnsafePickle`` unless ``trust=True``."""
    from runsite.models.api import load_model as _load

    return _load(uri, store, trust=trust)


def evaluate(
    model: str,
    data: Any,
    *,
    targets: str,
    model_type: str | None = None,
    evaluator_config: dict[str, Any] | None = None,
    store: str | None = None,
    experiment: str | None = None,
) -> Any:
    """Evaluate a registered version (``models:/NAME/VERSION``, a stage or ``@alias``) on
    a CSV/Parquet path or a DataFrame with a ``targets`` column, as
    ``mlflow.models.evaluate`` does; records one evaluation run (metrics, latency, size,
    drift against its training data) and returns a result with ``.metrics``."""
    from runsite.registry.evaluate import evaluate as _evaluate

    return _evaluate(
        model,
        data,
        targets=targets,
        model_type=model_type,
        evaluator_config=evaluator_config,
        store=store,
        experiment=experiment,
    )


def infer_signature(
    model_input: Any, model_output: Any = None, params: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The signature (columns or tensor) of an example input and output, and of a
    python_model's inference ``params`` (their values are the defaults)."""
    from runsite.models.signature import infer_signature as _infer

    return _infer(model_input, model_output, params)


def search_runs(
    filter_string: str = "",
    order_by: list[str] | None = None,
    experiment_names: list[str] | None = None,
    max_results: int | None = None,
    output_format: str = "list",
    store: str | None = None,
    *,
    experiment_ids: str | list[str] | None = None,
    search_all_experiments: bool = False,
    run_view_type: int = 1,
) -> Any:
    """Runs matching an MLflow-style filter, with OR, NOT, parentheses and metric
    aggregates on top (grammar: docs/search.md)::

        runsite.search_runs("metrics.rmse.min < 6 and params.model = 'xgb'",
                            order_by=["metrics.rmse ASC"])

    As in MLflow, the active experiment is searched unless ``experiment_ids`` /
    ``experiment_names`` (ids are folder names; names work too) say otherwise or
    ``search_all_experiments=True``; unknown experiments give no runs.
    ``output_format="list"`` (default) gives ``RunRecord`` objects (with MLflow's
    ``.info`` / ``.data``); ``"pandas"`` gives a DataFrame with MLflow's column names
    (``run_id``, ``status``, ``params.alpha``, ``metrics.rmse``, ``tags.x`` …).
    """
    from runsite.entities import ViewType
    from runsite.store import Store

    if output_format not in ("list", "pandas"):
        raise InvalidInput(f"output_format must be 'list' or 'pandas', got {output_format!r}")
    st = Store(store)
    wanted: list[str] | None
    if experiment_ids is None and experiment_names is None and search_all_experiments:
        wanted = None
    else:
        ids = [experiment_ids] if isinstance(experiment_ids, str) else list(experiment_ids or [])
        wanted = ids + list(experiment_names or [])
        if experiment_ids is None and experiment_names is None:
            wanted = [get_experiment_name()]
        exps = st.experiments()
        known = {e.experiment_id for e in exps} | {e.name for e in exps}
        wanted = [w for w in wanted if w in known]
    runs = (
        []
        if wanted == [] or run_view_type == ViewType.DELETED_ONLY
        else st.search_runs(filter_string, order_by, wanted, max_results)
    )
    if output_format == "list":
        return runs
    from runsite.frames import runs_frame

    return runs_frame(runs)


def get_run(run_id: str) -> Any:
    """One run of the current store by id (MLflow's ``mlflow.get_run``): a ``RunRecord``
    with ``.info`` and ``.data``."""
    from runsite.store import Store

    return Store().run(run_id)


def search_experiments(
    view_type: int = 1,
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: list[str] | None = None,
) -> list[Experiment]:
    """Experiments of the current store (MLflow's ``mlflow.search_experiments``): MLflow's
    filter (``name``, ``tags.<key>``; ``=``, ``!=``, ``LIKE``, ``ILIKE``; ``AND``) and
    order (default: the newest first, ``creation_time`` being the first run's start)."""
    from runsite.client import MlflowClient

    return list(MlflowClient().search_experiments(view_type, max_results, filter_string, order_by))


def create_experiment(
    name: str, artifact_location: str | None = None, tags: dict[str, Any] | None = None
) -> str:
    """Create an experiment and return its id, the folder name (MLflow's
    ``mlflow.create_experiment``; ``InvalidInput`` when it exists). ``set_experiment``
    creates one when missing, too."""
    from runsite.client import MlflowClient

    return MlflowClient().create_experiment(name, artifact_location, tags)


def get_experiment(experiment_id: str) -> Experiment:
    """The experiment with this id (its folder name) or name; raises ``NotFound``."""
    from runsite.client import MlflowClient

    return MlflowClient().get_experiment(experiment_id)


def set_experiment_tag(key: str, value: Any) -> None:
    """Tag the active experiment (MLflow's ``mlflow.set_experiment_tag``): written to its
    ``experiment.yaml``, which you commit with the runs."""
    set_experiment_tags({key: value})


def delete_experiment_tag(key: str) -> None:
    """Remove a tag of the active experiment (MLflow's ``mlflow.delete_experiment_tag``)."""
    from runsite.client import delete_experiment_tag as _delete
    from runsite.store import Store

    _delete(Store(), set_experiment(get_experiment_name()).experiment_id, key)


def set_experiment_tags(tags: dict[str, Any]) -> None:
    """Several ``set_experiment_tag`` at once."""
    from runsite.client import set_experiment_tags as _set
    from runsite.store import Store

    _set(Store(), set_experiment(get_experiment_name()).experiment_id, tags)


def load_table(
    artifact_file: str,
    run_ids: list[str] | None = None,
    extra_columns: list[str] | None = None,
) -> Any:
    """MLflow's ``mlflow.load_table``: the table ``artifact_file`` of the active
    experiment's runs that logged it, as one pandas DataFrame (``MlflowClient.load_table``)."""
    from runsite.client import MlflowClient

    exp = set_experiment(get_experiment_name()).experiment_id
    return MlflowClient().load_table(exp, artifact_file, run_ids, extra_columns)


def delete_run(run_id: str) -> None:
    """MLflow's ``mlflow.delete_run``: removes the run's folder (``delete_runs``; what was
    committed stays in git history). Refuses a running run or one a registered version
    comes from."""
    from runsite.registry import delete_runs

    delete_runs([run_id])


def get_parent_run(run_id: str) -> Any:
    """The parent of a nested run (a ``RunRecord``), or ``None`` for a top-level run."""
    from runsite.store import Store

    store = Store()
    parent = store.run(run_id).parent_run_id
    return store.run(parent) if parent else None


def get_experiment_by_name(name: str) -> Experiment | None:
    """The experiment called ``name``, or ``None`` (as in MLflow)."""
    from runsite.client import MlflowClient

    return MlflowClient().get_experiment_by_name(name)


def get_artifact_uri(artifact_path: str | None = None) -> str:
    """The ``file:`` URI of the active run's artifacts folder (or of a path inside it)."""
    from runsite.fluent import current_run

    run = current_run()
    base = run.artifacts_dir.resolve()
    if artifact_path:
        from runsite.validate import safe_relpath

        base = base / safe_relpath(artifact_path)
    return base.as_uri()


def log_inputs(
    datasets: list[Any] | None = None,
    contexts: list[str | None] | None = None,
    tags_list: list[dict[str, str] | None] | None = None,
    models: list[Any] | None = None,
) -> None:
    """Several ``log_input`` calls at once (MLflow's ``mlflow.log_inputs``): the lists go
    together, position by position; ``None`` entries mean no dataset, context or tags."""
    if models:
        raise InvalidInput("log_inputs(models=...): logged-model inputs are not supported")
    datasets = list(datasets or [])
    contexts = list(contexts) if contexts is not None else [None] * len(datasets)
    tags_list = list(tags_list) if tags_list is not None else [None] * len(datasets)
    if not len(datasets) == len(contexts) == len(tags_list):
        raise InvalidInput(
            f"log_inputs: datasets, contexts and tags_list differ in length "
            f"({len(datasets)}, {len(contexts)}, {len(tags_list)})"
        )
    from runsite.fluent import current_run

    run = current_run()
    for ds, context, tags in zip(datasets, contexts, tags_list, strict=True):
        if ds is not None:
            run.log_input(ds, context=context, tags=tags)


def log_batch(
    metrics: Any = (), params: Any = (), tags: Any = (), *, step: int | None = None
) -> None:
    """Log params, metrics and tags into the active run at once. Each argument is a
    mapping, or a sequence of objects with ``.key`` / ``.value`` (MLflow's ``Metric``,
    ``Param``, ``RunTag``; a ``Metric``'s ``step`` and ``timestamp`` are kept)."""
    from runsite.fluent import current_run

    run = current_run()

    def items(arg: Any) -> list[Any]:
        if hasattr(arg, "items"):
            return [(k, v, None, None) for k, v in arg.items()]
        return [
            (x.key, x.value, getattr(x, "step", None), getattr(x, "timestamp", None)) for x in arg
        ]

    for k, v, _, _ in items(params):
        run.log_param(k, v)
    for k, v, s, t in items(metrics):
        run.log_metric(k, v, s if s is not None else step, t)
    for k, v, _, _ in items(tags):
        run.set_tag(k, v)
