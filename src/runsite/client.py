"""``MlflowClient``: MLflow's client object over a runsite store (``runsite.client`` and
``runsite.tracking`` both export it, as MLflow's modules do).

Reads go to the store's files; registry writes edit ``registry.yaml`` in the store. They
are visible to this process at once (``models:/…`` loads read the file), but for the team
they take effect when the file is committed and merged: the first registry write of a
process says so once in the log.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from runsite import record, run, validate
from runsite.entities import Experiment, FileInfo, Metric, PagedList, ViewType, page
from runsite.errors import InvalidInput, NotFound, RunStateError
from runsite.registry import Registry
from runsite.registry.manifest import ModelVersion, RegisteredModel
from runsite.store import RunRecord, Store

log = logging.getLogger("runsite")

_warned_registry_write = False


class MlflowModelVersion(ModelVersion):
    """A ``ModelVersion`` whose ``current_stage`` is spelled as MLflow spells it
    (``Production``, ``Staging``, ``Archived``, ``None``)."""

    @property
    def current_stage(self) -> str:
        return self.stage.capitalize()

    @property
    def run_link(self) -> str:
        return ""


def _mlflow_version(mv: ModelVersion) -> MlflowModelVersion:
    return MlflowModelVersion(**{f: getattr(mv, f) for f in mv.__dataclass_fields__})


def _registry_write() -> None:
    global _warned_registry_write
    if not _warned_registry_write:
        _warned_registry_write = True
        log.warning(
            "runsite: MlflowClient registry writes edit registry.yaml in the store; they "
            "apply in this checkout now and for everyone once the file is committed and "
            "merged (review them in a pull request)"
        )


_EXPERIMENT_ORDER = ("name", "experiment_id", "creation_time", "last_update_time")
_ATTRIBUTE = re.compile(r"\battributes?\.(name)\b")
_ATTRIBUTE_PREFIX = re.compile(r"^attributes?\.")


def with_times(store: Store, exp: Experiment) -> Experiment:
    """``creation_time`` / ``last_update_time`` (ms) derived from the experiment's runs:
    the first start and the latest start or end (runsite keeps no experiment dates)."""
    runs = store.runs(exp.experiment_id)
    if not runs:
        return exp
    first = min(r.start_time for r in runs)
    last = max(max(r.start_time, r.end_time or 0) for r in runs)
    return dataclasses.replace(exp, creation_time=first, last_update_time=last)


def _unquoted(text: str, sub: Any) -> str:
    """Apply ``sub`` to the parts of a filter outside quoted strings."""
    parts = re.split(r"""('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|`[^`]*`)""", text)
    return "".join(p if i % 2 else sub(p) for i, p in enumerate(parts))


def search_experiments(
    store: Store, filter_string: str | None = None, order_by: Sequence[str] | None = None
) -> list[Experiment]:
    """The experiments ``MlflowClient.search_experiments`` pages through."""
    from runsite.registry.query import compile_filter

    if filter_string is not None and not isinstance(filter_string, str):
        raise InvalidInput(f"a filter must be a string, got {type(filter_string).__name__}")
    text = _unquoted(filter_string or "", lambda p: _ATTRIBUTE.sub(r"\1", p))
    test = compile_filter(text, ("name",))
    found = [with_times(store, e) for e in store.experiments() if test(e)]  # type: ignore[arg-type]
    clauses = []
    for clause in order_by or ["creation_time DESC", "experiment_id ASC"]:
        parts = str(clause).split()
        key = _ATTRIBUTE_PREFIX.sub("", parts[0].lower()) if parts else ""
        if (
            key not in _EXPERIMENT_ORDER
            or len(parts) > 2
            or (len(parts) == 2 and parts[1].upper() not in ("ASC", "DESC"))
        ):
            raise InvalidInput(
                f"order_by clause {clause!r}: one of {', '.join(_EXPERIMENT_ORDER)}, "
                "then ASC or DESC"
            )
        clauses.append((key, len(parts) == 2 and parts[1].upper() == "DESC"))
    for key, descending in reversed(clauses):
        found.sort(key=lambda e, k=key: _order_value(e, k), reverse=descending)  # type: ignore[misc]
    return found


def create_experiment(
    store: Store,
    name: str,
    artifact_location: str | None = None,
    tags: Mapping[str, Any] | None = None,
) -> str:
    if artifact_location is not None:
        raise InvalidInput("artifact_location is not supported: artifacts live in the run")
    name = validate.check_name(name, "experiment name")
    folder = store.root / validate.slugify(name)
    if folder.is_dir():
        existing = store.experiment(folder.name).name
        raise InvalidInput(f"experiment {existing!r} already exists ({folder})")
    folder.mkdir(parents=True)
    if name != folder.name:
        from runsite import yamlio

        yamlio.edit_mapping(folder / record.EXPERIMENT_YAML, {"name": name})
    if tags:
        set_experiment_tags(store, folder.name, tags)
    return folder.name


def set_experiment_tags(store: Store, experiment_id: str, tags: Mapping[str, Any]) -> None:
    """Merge ``tags`` into the ``tags`` mapping of the experiment's ``experiment.yaml``
    (a value of ``None`` removes the tag)."""
    from runsite import yamlio

    exp = store.experiment(experiment_id)
    merged = dict(exp.tags)
    for key, value in tags.items():
        key = validate.check_key(key, "experiment tag key")
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = str(value)
    yamlio.edit_mapping(Path(exp.path) / record.EXPERIMENT_YAML, {"tags": merged or None})


def delete_experiment_tag(store: Store, experiment_id: str, key: str) -> None:
    """Remove a tag from the experiment's ``experiment.yaml`` (``NotFound`` if it has none)."""
    exp = store.experiment(experiment_id)
    if key not in exp.tags:
        raise NotFound(f"experiment {exp.name!r} has no tag {key!r}")
    set_experiment_tags(store, experiment_id, {key: None})


def _order_value(exp: Experiment, key: str) -> Any:
    value = getattr(exp, key)
    return -1 if value is None else value


class MlflowClient:
    """MLflow's client over a store: ``MlflowClient(tracking_uri="runs")``."""

    def __init__(self, tracking_uri: str | None = None, registry_uri: str | None = None) -> None:
        from runsite import location

        # As in MLflow, a client's URI is its own: the process's active store stays.
        path = location.path_from_uri(os.fspath(tracking_uri)) if tracking_uri else None
        self._store = Store(path or location.get_store_path())
        from runsite.fluent import check_registry_uri

        check_registry_uri(registry_uri, self._store.root)
        self._registry = Registry(self._store)

    # ------------------------------------------------------------------ experiments

    def search_experiments(
        self,
        view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int | None = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        """Experiments matching MLflow's experiment filter (``name`` / ``attributes.name``
        and ``tags.<key>`` with ``=``, ``!=``, ``LIKE``, ``ILIKE``, joined by ``AND``),
        ordered as MLflow does (default ``creation_time DESC, experiment_id ASC``; also
        ``name``, ``last_update_time``), a page at a time (MLflow's ``PagedList``:
        ``.token`` is the next page's ``page_token``, ``None`` on the last)."""
        if view_type == ViewType.DELETED_ONLY:
            return PagedList([], None)  # runsite experiments are never soft-deleted
        found = search_experiments(self._store, filter_string, order_by)
        return page(found, max_results, page_token)

    def get_experiment(self, experiment_id: str) -> Experiment:
        return with_times(self._store, self._store.experiment(experiment_id))

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        try:
            return with_times(self._store, self._store.experiment(name))
        except NotFound:
            return None

    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> str:
        """Create an experiment (its folder, and ``experiment.yaml`` for a display name
        that differs from the folder name or for ``tags``); returns its id, the folder
        name. Raises ``InvalidInput`` when it exists, as MLflow does."""
        return create_experiment(self._store, name, artifact_location, tags)

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        """Set a tag in the experiment's ``experiment.yaml`` (commit it with the runs)."""
        set_experiment_tags(self._store, experiment_id, {key: value})

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        """Remove a tag from the experiment's ``experiment.yaml``."""
        delete_experiment_tag(self._store, experiment_id, key)

    # ------------------------------------------------------------------ runs

    def get_run(self, run_id: str) -> RunRecord:
        return self._store.run(run_id)

    def search_runs(
        self,
        experiment_ids: str | Sequence[str],
        filter_string: str = "",
        run_view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        """Runs of the given experiments (ids or names), a page of ``max_results`` at a
        time (``.token`` for the next, ``None`` on the last); an unknown id gives no runs."""
        ids = [experiment_ids] if isinstance(experiment_ids, str) else list(experiment_ids)
        known = [e for e in ids if self.get_experiment_by_name(str(e)) is not None]
        if not known or run_view_type == ViewType.DELETED_ONLY:  # never soft-deleted
            return page([], max_results, page_token)
        found = self._store.search_runs(filter_string, order_by, known, None)
        return page(found, max_results, page_token)

    def get_parent_run(self, run_id: str) -> RunRecord | None:
        parent = self._store.run(run_id).parent_run_id
        return self._store.run(parent) if parent else None

    def delete_run(self, run_id: str) -> None:
        """Remove the run's folder (see ``runsite.delete_run``)."""
        self._registry.delete_runs([run_id])

    def load_table(
        self,
        experiment_id: str,
        artifact_file: str,
        run_ids: Sequence[str] | None = None,
        extra_columns: Sequence[str] | None = None,
    ) -> Any:
        """MLflow's ``load_table``: the table ``artifact_file`` of every run of the
        experiment that logged it with ``log_table`` (or of ``run_ids``), as one
        DataFrame, newest run first; ``extra_columns`` (``run_id``, ``status``,
        ``tags.x`` … any column of ``search_runs``' frame) are added to each row."""
        import json

        from runsite.frames import runs_frame, tables_frame
        from runsite.run import LOGGED_ARTIFACTS
        from runsite.tables import decode_table

        entry = {"path": artifact_file, "type": "table"}

        def lists_it(r: RunRecord) -> bool:
            try:
                return entry in json.loads(r.tags.get(LOGGED_ARTIFACTS, "[]"))
            except ValueError:
                return False

        runs = [r for r in self._store.search_runs("", None, [experiment_id], None) if lists_it(r)]
        if run_ids:
            wanted = set(run_ids)
            runs = [r for r in runs if r.run_id in wanted]
            if len(runs) != len(wanted):
                log.warning("runsite: not every run given has the table %s; skipped", artifact_file)
        if not runs:
            raise NotFound(
                f"no run of experiment {experiment_id!r} has the table {artifact_file!r}"
            )
        parts = []
        for r in runs:
            path = r.artifacts_dir / validate.safe_relpath(artifact_file)
            if not path.is_file() or path.is_symlink():
                raise NotFound(f"run {r.run_id} has no artifact {artifact_file!r}")
            extra: dict[str, Any] = {}
            if extra_columns:
                row = runs_frame([r]).iloc[0]
                for column in extra_columns:
                    if column not in row:
                        raise InvalidInput(f"load_table: run {r.run_id} has no column {column!r}")
                    extra[column] = row[column]
            parts.append((decode_table(path.read_bytes(), artifact_file), extra))
        return tables_frame(parts)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        table = self._store.run(run_id).metric_history(key).to_pylist()
        return [Metric(r["key"], r["value"], r["timestamp"], r["step"]) for r in table]

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        root = self._store.run(run_id).artifacts_dir
        rel = validate.safe_relpath(path) if path else ""
        folder = root / rel if rel else root
        if not folder.is_dir():
            return []
        out = []
        for p in sorted(folder.iterdir()):
            if p.name.startswith(".") or p.is_symlink():
                continue
            out.append(
                FileInfo(
                    p.relative_to(root).as_posix(),
                    p.is_dir(),
                    None if p.is_dir() else p.stat().st_size,
                )
            )
        return out

    def download_artifacts(self, run_id: str, path: str, dst_path: str | None = None) -> str:
        """Copy an artifact file or folder of a run to ``dst_path`` (default: a new
        temporary folder); returns the local path of the copy. As in MLflow: a file or
        folder comes back as ``<dst_path>/<its name>``; the run's whole artifacts
        (``path`` empty) or a folder path ending in ``/`` as its contents in ``dst_path``."""
        import tempfile

        from runsite import objstore

        rec = self._store.run(run_id)
        rel = validate.safe_relpath(path) if path else ""
        src = rec.artifacts_dir / rel if rel else rec.artifacts_dir
        pointer = objstore.pointer_path(src)
        if rel and not src.exists() and pointer.is_file() and not pointer.is_symlink():
            src = pointer  # a file kept in object storage
        elif not src.exists() or src.is_symlink():
            raise NotFound(f"run {rec.run_id} has no artifact {path!r}")
        dst = Path(dst_path) if dst_path else Path(tempfile.mkdtemp(prefix="runsite-"))
        dst.mkdir(parents=True, exist_ok=True)
        if src.is_dir() and (not rel or str(path).endswith("/")):
            shutil.copytree(src, dst, dirs_exist_ok=True, symlinks=False)
            objstore.resolve_pointers(self._store.root, dst, src)
            return str(dst.resolve())
        target = dst / src.name
        if src.is_dir():
            shutil.copytree(src, target, dirs_exist_ok=True, symlinks=False)
        else:
            shutil.copyfile(src, target)
        # Files kept in object storage: fetched by hash, checked, then in place of the pointer.
        objstore.resolve_pointers(self._store.root, target, src)
        if target.name.endswith(objstore.POINTER_SUFFIX):
            target = target.with_name(target.name[: -len(objstore.POINTER_SUFFIX)])
        return str(target.resolve())

    def _open_run(self, run_id: str) -> run.Run:
        for r in run.open_runs():
            if r.run_id == run_id or r.run_id.startswith(str(run_id)):
                return r
        try:
            rec = self._store.run(run_id)
        except NotFound:
            raise
        raise RunStateError(
            f"run {rec.run_id} is {rec.status}: runsite can log only into a run open in this "
            "process (an ended run is immutable)"
        )

    def create_run(
        self,
        experiment_id: str,
        start_time: int | None = None,
        tags: Mapping[str, Any] | None = None,
        run_name: str | None = None,
    ) -> run.Run:
        """Start a run in the experiment, outside the fluent API's active run: log to
        it with this client's ``log_*`` (or the returned ``Run``'s methods) and end it
        with ``set_terminated``. ``start_time`` is refused (the run starts now)."""
        if start_time is not None:
            raise InvalidInput("create_run(start_time=...) is not supported: a run starts now")
        exp = self._store.experiment(experiment_id)
        return self._store.start_run(exp.name, run_name=run_name, tags=tags)

    def log_param(self, run_id: str, key: str, value: Any) -> Any:
        return self._open_run(run_id).log_param(key, value)

    def log_metric(
        self,
        run_id: str,
        key: str,
        value: float,
        timestamp: int | None = None,
        step: int | None = None,
    ) -> None:
        self._open_run(run_id).log_metric(key, value, step if step is not None else 0, timestamp)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Any] = (),
        tags: Sequence[Any] = (),
    ) -> None:
        r = self._open_run(run_id)
        for p in params:
            r.log_param(p.key, p.value)
        for m in metrics:
            r.log_metric(m.key, m.value, m.step, m.timestamp)
        for t in tags:
            r.set_tag(t.key, t.value)

    def set_tag(self, run_id: str, key: str, value: Any) -> None:
        self._open_run(run_id).set_tag(key, value)

    def delete_tag(self, run_id: str, key: str) -> None:
        self._open_run(run_id).delete_tag(key)

    def log_artifact(self, run_id: str, local_path: str, artifact_path: str | None = None) -> None:
        self._open_run(run_id).log_artifact(local_path, artifact_path)

    def log_artifacts(self, run_id: str, local_dir: str, artifact_path: str | None = None) -> None:
        self._open_run(run_id).log_artifacts(local_dir, artifact_path)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        self._open_run(run_id).log_text(text, artifact_file)

    def log_dict(self, run_id: str, dictionary: Any, artifact_file: str) -> None:
        self._open_run(run_id).log_dict(dictionary, artifact_file)

    def log_figure(self, run_id: str, figure: Any, artifact_file: str) -> None:
        self._open_run(run_id).log_figure(figure, artifact_file)

    def log_table(self, run_id: str, data: Any, artifact_file: str) -> None:
        self._open_run(run_id).log_table(data, artifact_file)

    def set_terminated(self, run_id: str, status: str = record.FINISHED) -> None:
        self._open_run(run_id).end(status)

    # ------------------------------------------------------------------ registry

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        """Models matching MLflow's filter (``name = 'taxi'``, ``name LIKE 'taxi%'``,
        ``tags.team = 'fraud'``), by name, a page at a time (``.token``)."""
        from runsite.registry.query import search_models

        found = search_models(self._registry.list_models(), filter_string, order_by)
        return page(found, max_results, page_token)

    def create_registered_model(
        self, name: str, tags: Mapping[str, Any] | None = None, description: str | None = None
    ) -> RegisteredModel:
        """Nothing to write: in runsite a model exists once it has a version
        (``create_model_version`` / ``register_model`` add it to registry.yaml)."""
        from runsite.registry.manifest import check_model_name

        check_model_name(name)
        return RegisteredModel(
            name, description or "", {k: str(v) for k, v in (tags or {}).items()}
        )

    def get_registered_model(self, name: str) -> RegisteredModel:
        return self._registry.get_model(name)

    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Mapping[str, Any] | None = None,
        description: str | None = None,
        **_: Any,
    ) -> MlflowModelVersion:
        _registry_write()
        ref = source if source.startswith("runs:/") or run_id is None else f"{run_id}/{source}"
        return _mlflow_version(self._registry.register_model(ref, name, description, tags))

    def get_model_version(self, name: str, version: int | str) -> MlflowModelVersion:
        return _mlflow_version(self._registry.get_model_version(name, version))

    def get_model_version_by_alias(self, name: str, alias: str) -> MlflowModelVersion:
        return _mlflow_version(self._registry.resolve(f"{name}@{alias}"))

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[MlflowModelVersion]:
        return [_mlflow_version(v) for v in self._registry.get_latest_versions(name, stages)]

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 10000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        """Versions matching MLflow's filter (``name``, ``run_id``, ``version_number``,
        ``tags.<key>``…), newest first, a page at a time (``.token``)."""
        found = self._registry.search_model_versions(filter_string, None, order_by)
        return page([_mlflow_version(v) for v in found], max_results, page_token)

    def transition_model_version_stage(
        self, name: str, version: int | str, stage: str, archive_existing_versions: bool = False
    ) -> MlflowModelVersion:
        _registry_write()
        current = self._registry.get_model_version(name, version)
        if current.stage != stage.lower():
            self._registry.set_model_stage(
                name, version, stage, archive_existing=archive_existing_versions
            )
        return self.get_model_version(name, version)

    def set_registered_model_alias(self, name: str, alias: str, version: int | str) -> None:
        _registry_write()
        if self._registry.get_model(name).aliases.get(alias) != int(version):
            self._registry.set_model_alias(name, alias, version)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        _registry_write()
        self._registry.set_model_alias(name, alias, None)

    def update_model_version(
        self, name: str, version: int | str, description: str | None = None
    ) -> MlflowModelVersion:
        _registry_write()
        if description is not None:
            self._registry.describe(name, description, version)
        return self.get_model_version(name, version)

    def update_registered_model(self, name: str, description: str | None = None) -> RegisteredModel:
        _registry_write()
        if description is not None:
            self._registry.describe(name, description)
        return self._registry.get_model(name)

    def set_model_version_tag(self, name: str, version: int | str, key: str, value: Any) -> None:
        _registry_write()
        self._registry.tag(name, key, str(value), version)

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        _registry_write()
        self._registry.tag(name, key, str(value))

    def delete_model_version_tag(self, name: str, version: int | str, key: str) -> None:
        _registry_write()
        self._registry.tag(name, key, None, version)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        _registry_write()
        self._registry.tag(name, key, None)

    def delete_model_version(self, name: str, version: int | str) -> None:
        """Remove the version (and the aliases pointing at it) from ``registry.yaml``; the
        run and its model folder stay. A model left without versions goes too."""
        _registry_write()
        self._registry.delete_version(name, version)

    def delete_registered_model(self, name: str) -> None:
        """Remove the model and all its versions from ``registry.yaml``."""
        _registry_write()
        self._registry.delete_model(name)

    def rename_registered_model(self, name: str, new_name: str) -> None:
        _registry_write()
        self._registry.rename_model(name, new_name)

    def __repr__(self) -> str:
        return f"<MlflowClient {os.fspath(self._store.root)}>"


__all__ = ["FileInfo", "Metric", "MlflowClient", "MlflowModelVersion"]
