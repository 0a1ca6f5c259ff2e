"""The module-level logging API (``runsite.log_metric`` & co.), shaped like MLflow's.

Process-wide state: the store, the current experiment and a stack of active runs
(shared by all threads, so worker threads log into the run the main thread started).
Libraries that want no global state use ``Store(path).start_run()`` instead.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runsite import location, record, run, system_metrics, validate
from runsite.entities import Experiment
from runsite.errors import InvalidInput, RunStateError
from runsite.location import get_store_path
from runsite.run import Run

log = logging.getLogger("runsite")

DEFAULT_EXPERIMENT = "Default"

_experiment: str | None = None
_stack: list[Run] = []
_stack_lock = threading.RLock()
_previous_sigterm: Any = None
_sigterm_installed = False


# ---------------------------------------------------------------------- store


def set_store(path: str | os.PathLike[str]) -> None:
    """Use the store at ``path`` (a directory; created when the first run starts)."""
    location.set_store(path)


def set_tracking_uri(uri: str | os.PathLike[str]) -> None:
    """MLflow's name for ``set_store``; accepts a path or a ``file:`` URI."""
    location.set_store(location.path_from_uri(os.fspath(uri)))


def get_tracking_uri() -> str:
    return get_store_path().resolve().as_uri()


# ---------------------------------------------------------------------- experiments


def is_tracking_uri_set() -> bool:
    """Whether a store was chosen (``set_tracking_uri``/``set_store`` or
    ``$RUNSITE_STORE``) rather than the default ``./runs`` (MLflow's name)."""
    return location.store_is_set()


def set_registry_uri(uri: str | os.PathLike[str]) -> None:
    """Accepted when it names the current store: runsite's registry is that store's
    ``registry.yaml``. Any other URI raises ``InvalidInput``."""
    check_registry_uri(uri, get_store_path())


def get_registry_uri() -> str:
    """The registry's URI: the store's, as ``registry.yaml`` lives in it."""
    return get_tracking_uri()


def check_registry_uri(uri: str | os.PathLike[str] | None, store: Path) -> None:
    if uri is None:
        return
    try:
        given: Path | None = location.path_from_uri(os.fspath(uri))
    except InvalidInput:  # a server or database URI
        given = None
    if given is None or given.resolve() != Path(store).resolve():
        raise InvalidInput(
            f"registry URI {os.fspath(uri)!r}: runsite's registry is registry.yaml in the "
            f"tracking store ({store}); a separate registry is not supported"
        )


def set_experiment(
    experiment_name: str | None = None, experiment_id: str | None = None
) -> Experiment:
    """Make ``experiment_name`` the experiment new runs go to (its folder is created)."""
    global _experiment
    name = experiment_name if experiment_name is not None else experiment_id
    name = validate.check_name(name, "experiment name")
    slug = validate.slugify(name)
    folder = get_store_path() / slug
    _refuse_shared_folder(name, folder)
    folder.mkdir(parents=True, exist_ok=True)
    _experiment = name
    return Experiment(experiment_id=slug, name=name, path=str(folder))


def _refuse_shared_folder(name: str, folder: Path) -> None:
    """Two names with one slug (``"NYC Taxi"``, ``"nyc-taxi"``) would merge their runs
    into one folder without a word: refuse the second, naming the first."""
    if not folder.is_dir():
        return
    recorded = (folder / record.EXPERIMENT_YAML).is_file() or any(
        (p / record.RUN_JSON).is_file() for p in folder.iterdir() if p.is_dir()
    )
    if not recorded:
        return
    from runsite.store import Store

    existing = Store(folder.parent).experiment(folder.name).name
    if existing != name:
        raise InvalidInput(
            f"experiment name {name!r} would share the folder {folder} with the existing "
            f"experiment {existing!r}; use {existing!r} or a name that differs in more "
            "than case or punctuation"
        )


def update_experiment(
    experiment_name: str | None = None,
    *,
    description: str | None = None,
    key_metric: str | None = None,
) -> Experiment:
    """Set an experiment's description (markdown) and/or key metric (the one the site
    ranks runs by), in ``<store>/<experiment>/experiment.yaml``::

        runsite.update_experiment("nyc-taxi", description="Trip durations.", key_metric="rmse")

    The experiment defaults to the active one and is created when missing. The file
    keeps its comments and other keys; an empty string removes a key. Writing what is
    already there leaves the file untouched, so a training script may call it on every
    branch without making a merge conflict.
    """
    from runsite.store import Store

    if description is None and key_metric is None:
        raise InvalidInput("update_experiment: give a description or a key_metric")
    name = validate.check_name(
        experiment_name if experiment_name is not None else get_experiment_name(),
        "experiment name",
    )
    slug = validate.slugify(name)
    folder = get_store_path() / slug
    _refuse_shared_folder(name, folder)
    folder.mkdir(parents=True, exist_ok=True)
    # a new file keeps a display name the folder's slug would lose
    fresh = not (folder / record.EXPERIMENT_YAML).exists() and name != slug
    return Store(folder.parent).update_experiment(
        slug,
        description=description,
        key_metric=key_metric,
        display_name=name if fresh else None,
    )


def get_experiment_name() -> str:
    return _experiment or os.environ.get("RUNSITE_EXPERIMENT") or DEFAULT_EXPERIMENT


# ---------------------------------------------------------------------- runs


def start_run(
    run_name: str | None = None,
    experiment: str | None = None,
    tags: Mapping[str, Any] | None = None,
    description: str | None = None,
    nested: bool = False,
    *,
    run_id: str | None = None,
    experiment_id: str | None = None,
    parent_run_id: str | None = None,
    log_git: bool = True,
    log_system_metrics: bool | None = None,
) -> Run:
    """Start a run and make it the active one; use it as a context manager::

        with runsite.start_run(run_name="baseline") as run:
            runsite.log_param("alpha", 0.1)
            runsite.log_metric("rmse", 5.2)

    Leaving the ``with`` block normally ends the run FINISHED, an exception FAILED,
    Ctrl-C or SIGTERM KILLED. With ``nested=True`` the new run records the active run
    as its parent. ``log_system_metrics=True`` samples CPU, memory, disk, network and
    GPU into ``system/*`` metrics while the run is open (``None``: as
    ``enable_system_metrics_logging()`` or ``$RUNSITE_ENABLE_SYSTEM_METRICS_LOGGING`` /
    ``$MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING`` say; off by default).
    ``parent_run_id`` (MLflow's) nests the new run under that run of the store, which
    need not be open; with an active run it must be that run (and ``nested=True``).
    """
    if run_id is not None:
        raise InvalidInput(
            "start_run(run_id=...): runsite runs are immutable once ended and cannot be "
            "resumed; start a new run (set a tag or a param to link it to the earlier one)"
        )
    parent_id: str | None = None
    with _stack_lock:
        parent = _stack[-1] if _stack else None
        if parent is not None and not nested:
            raise RunStateError(
                f"run {parent.run_id} ({parent.run_name}) is already active; end it with "
                "runsite.end_run() or pass nested=True to start a child run"
            )
        if parent_run_id is not None:
            if parent is not None and parent_run_id != parent.run_id:
                raise InvalidInput(
                    f"start_run(parent_run_id={parent_run_id!r}): the active run is "
                    f"{parent.run_id}; a child of another run cannot start inside it"
                )
            if parent is None:
                from runsite.store import Store

                parent_id = Store(get_store_path()).run(parent_run_id).run_id  # NotFound
        exp = (
            experiment or experiment_id or (parent.experiment if parent else get_experiment_name())
        )
        new = Run(
            get_store_path(),
            exp,
            run_name=run_name,
            tags=tags,
            description=description,
            parent_run_id=parent.run_id if parent else parent_id,
            capture_git=log_git,
        )
        _stack.append(new)
    new.on_end(_forget)
    _install_sigterm()
    if system_metrics.enabled(log_system_metrics):
        system_metrics.start(new)
    return new


def active_run() -> Run | None:
    """The run that ``log_*`` functions write to, or ``None``."""
    with _stack_lock:
        return _stack[-1] if _stack else None


def last_active_run() -> Run | None:
    """The run most recently ended through the module-level API (MLflow's name)."""
    return _last_run


_last_run: Run | None = None


def end_run(status: str = record.FINISHED) -> None:
    """End the active run (FINISHED by default; FAILED and KILLED are the others)."""
    with _stack_lock:
        if not _stack:
            return
        current = _stack[-1]
    current.end(status)


def _forget(r: Run, status: str) -> None:
    """End hook of every run this module starts: however it ends (``end_run``, leaving
    ``with``, ``run.end()``), it stops being the active run."""
    global _last_run
    with _stack_lock:
        if r in _stack:
            _stack.remove(r)
    _last_run = r


def current_run() -> Run:
    """The active run; like MLflow, logging with no active run starts one."""
    with _stack_lock:
        if _stack:
            return _stack[-1]
    return start_run()


def _install_sigterm() -> None:
    global _previous_sigterm, _sigterm_installed
    if _sigterm_installed or threading.current_thread() is not threading.main_thread():
        return
    try:
        _previous_sigterm = signal.getsignal(signal.SIGTERM)
        signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError):  # not in the main interpreter
        return
    _sigterm_installed = True


def _on_sigterm(signum: int, frame: Any) -> None:
    # Do no work here: the handler runs between two bytecodes of whatever the main
    # thread was doing, possibly holding a run's lock. Raising unwinds it cleanly; the
    # ``with`` block (or the exit hook) then ends the runs KILLED.
    previous = _previous_sigterm
    if callable(previous):
        previous(signum, frame)  # the program's own handler decides
        return
    if previous == signal.SIG_IGN:
        return
    if _stack or run.any_open_runs():
        raise run.Terminated()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


# ---------------------------------------------------------------------- logging


def _target(run_id: str | None) -> Run:
    """The active run, or the open run ``run_id`` (MLflow's ``run_id=`` argument)."""
    if run_id is None:
        # The hot path: avoid current_run()'s lock when a run is active.
        return _stack[-1] if _stack else current_run()
    for r in run.open_runs():
        if r.run_id == run_id:
            return r
    raise RunStateError(
        f"run {run_id} is not open in this process: runsite logs only into runs open here "
        "(an ended run is immutable)"
    )


# ``synchronous`` (MLflow's async logging switch) is accepted and changes nothing: there is
# no server to wait for (params and tags are written at once, metric points buffered and
# appended within 0.25 s, as api.md says).


def log_param(key: str, value: Any, synchronous: bool | None = None) -> Any:
    return current_run().log_param(key, value)


def log_params(
    params: Mapping[str, Any], synchronous: bool | None = None, run_id: str | None = None
) -> None:
    _target(run_id).log_params(params)


def log_metric(
    key: str,
    value: float,
    step: int | None = None,
    synchronous: bool | None = None,
    timestamp: int | None = None,
    run_id: str | None = None,
) -> None:
    _target(run_id).log_metric(key, value, step, timestamp)


def log_metrics(
    metrics: Mapping[str, float],
    step: int | None = None,
    synchronous: bool | None = None,
    run_id: str | None = None,
    timestamp: int | None = None,
) -> None:
    _target(run_id).log_metrics(metrics, step, timestamp)


def set_tag(key: str, value: Any, synchronous: bool | None = None) -> None:
    current_run().set_tag(key, value)


def set_tags(tags: Mapping[str, Any], synchronous: bool | None = None) -> None:
    current_run().set_tags(tags)


def delete_tag(key: str) -> None:
    current_run().delete_tag(key)


def add_note(text: str) -> None:
    current_run().add_note(text)


def log_text(text: str, artifact_file: str) -> None:
    current_run().log_text(text, artifact_file)


def log_dict(dictionary: Any, artifact_file: str) -> None:
    current_run().log_dict(dictionary, artifact_file)


def log_artifact(local_path: str | os.PathLike[str], artifact_path: str | None = None) -> None:
    current_run().log_artifact(local_path, artifact_path)


def log_artifacts(local_dir: str | os.PathLike[str], artifact_path: str | None = None) -> None:
    current_run().log_artifacts(local_dir, artifact_path)


def log_figure(figure: Any, artifact_file: str) -> None:
    current_run().log_figure(figure, artifact_file)


def log_image(
    image: Any,
    artifact_file: str | None = None,
    key: str | None = None,
    step: int | None = None,
    timestamp: int | None = None,
    synchronous: bool | None = None,
) -> None:
    if artifact_file is None or key is not None or step is not None or timestamp is not None:
        raise InvalidInput(
            "log_image: pass artifact_file=; MLflow's image series (key=, step=) are not supported"
        )
    current_run().log_image(image, artifact_file)


def log_table(data: Any, artifact_file: str) -> None:
    current_run().log_table(data, artifact_file)


def log_input(
    path: str | os.PathLike[str] | Any,
    name: str | None = None,
    context: str | None = None,
    tags: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Record a data input of the active run: a file or folder (hashed), or an MLflow-style
    dataset from ``runsite.data`` (``log_input(dataset, context="training", tags={...})``,
    MLflow's call: its second positional argument is the context)."""
    from runsite.data import as_dataset

    dataset = as_dataset(path)
    if dataset is not None:
        return current_run().log_input(dataset, None, context or name, tags)
    return current_run().log_input(path, name, context or "training", tags)


def log_model(model: Any, name: str = "model", **kwargs: Any) -> Any:
    """Log a model into the active run; see ``runsite.models.api.log_model``."""
    return current_run().log_model(model, name, **kwargs)
