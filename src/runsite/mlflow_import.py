"""Import an MLflow store (an ``mlruns/`` folder or a ``sqlite:///…`` database) into a
runsite store: ``runsite import mlflow SOURCE`` (docs/migrate.md).

The source is read through MLflow's own public client (``MlflowClient``,
``mlflow.artifacts``), so this module, and only this one, needs MLflow installed
(``pip install 'runsite[mlflow-import]'``). Nothing from the source is unpickled: model
files are copied and hashed, and MLflow's ``MLmodel`` (YAML, read safely) becomes the
model's ``model.yaml``. Each run is written to a hidden folder and renamed into place,
so an interrupted import leaves no half run; the MLflow run id is kept as the tag
``mlflow_run_id``, which is how a second import knows what is already there.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from runsite import record, validate
from runsite.errors import InvalidInput, NotFound, RunsiteError
from runsite.ids import new_run_id
from runsite.store import Store

# The tag that keeps the MLflow run id (searchable: tags.mlflow_run_id = '<id>').
RUN_ID_TAG = "mlflow_run_id"

# MLflow system tags runsite derives from the run header (store.system_tags): they go
# into the header (or a note) and are not stored twice.
_DERIVED = {
    "mlflow.runName",
    "mlflow.parentRunId",
    "mlflow.user",
    "mlflow.source.name",
    "mlflow.source.git.commit",
    "mlflow.source.git.branch",
    "mlflow.source.git.repoURL",
    "mlflow.note.content",
}
_STAGES = {"none": "none", "staging": "staging", "production": "production", "archived": "archived"}


class MlflowMissing(RunsiteError):
    """MLflow is not installed (it is needed only to import an MLflow store)."""


@dataclass
class ImportReport:
    """What an import did, and everything it could not map (``problems``)."""

    experiments: int = 0
    runs_imported: int = 0
    runs_skipped: int = 0
    models_converted: int = 0
    versions_imported: int = 0
    versions_skipped: int = 0
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.experiments} experiments; runs: {self.runs_imported} imported, "
            f"{self.runs_skipped} already there; models converted: {self.models_converted}; "
            f"registry versions: {self.versions_imported} imported, "
            f"{self.versions_skipped} already there"
        )


Progress = Callable[[int, int], None]


def _mlflow() -> Any:
    import warnings

    try:
        with warnings.catch_warnings():
            # runsite warns when the real MLflow is imported next to it (a script that
            # meant `import runsite as mlflow`); here reading MLflow is the point.
            warnings.filterwarnings("ignore", message="the real mlflow package")
            import mlflow
    except ImportError:
        raise MlflowMissing(
            "importing an MLflow store reads it with MLflow's own client: "
            "pip install 'runsite[mlflow-import]' (or pip install mlflow)"
        ) from None
    return mlflow


def tracking_uri(source: str) -> str:
    """MLflow's tracking URI for SOURCE: ``sqlite:///…`` as given (the file must exist),
    a folder path or ``file:`` URI of an ``mlruns/`` folder."""
    if source.startswith("sqlite:///"):
        db = Path(source[len("sqlite:///") :])
        if not db.is_file():
            raise NotFound(f"no MLflow database at {db} (from {source!r})")
        return f"sqlite:///{db.resolve()}"
    if "://" in source and not source.startswith("file:"):
        raise InvalidInput(
            f"cannot import {source!r}: give an mlruns/ folder or a sqlite:///path/mlflow.db "
            "(a tracking server can be exported with MLflow first)"
        )
    path = Path(source.removeprefix("file://").removeprefix("file:"))
    if not path.is_dir():
        raise NotFound(f"no MLflow store folder at {path}")
    if not (path / "0").is_dir() and not any(path.glob("*/meta.yaml")):
        raise InvalidInput(f"{path} does not look like an MLflow mlruns/ folder (no meta.yaml)")
    return path.resolve().as_uri()


@contextmanager
def _file_store_allowed() -> Iterator[None]:
    # MLflow 3.x put the file store into maintenance mode: it refuses to open one unless
    # told to. Reading it for a migration is exactly what that mode is for.
    old = os.environ.get("MLFLOW_ALLOW_FILE_STORE")
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("MLFLOW_ALLOW_FILE_STORE", None)
        else:
            os.environ["MLFLOW_ALLOW_FILE_STORE"] = old


def _paged(call: Callable[..., Any], **kwargs: Any) -> list[Any]:
    out: list[Any] = []
    token = None
    while True:
        page = call(page_token=token, **kwargs)
        out.extend(page)
        token = getattr(page, "token", None)
        if not token:
            return out


def import_mlflow(
    source: str,
    store: str | os.PathLike[str] | None = None,
    *,
    artifact_root: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import the MLflow store at ``source`` into ``store`` (default: the active store).

    ``source`` is an ``mlruns/`` folder (or its ``file:`` URI) or ``sqlite:///path.db``;
    ``artifact_root`` replaces the artifact root the source recorded (for a store that
    was moved). Experiments, runs (params, every metric point, tags, status, times,
    parents, artifacts, datasets, logged models) and the registry (models, versions,
    stages, aliases, descriptions, tags) are imported; what is already imported is
    skipped. ``progress(done, total)`` is called as runs are imported. Returns an
    ``ImportReport`` whose ``problems`` list what could not be mapped."""
    mlflow = _mlflow()
    uri = tracking_uri(source)
    root = Path(store) if store is not None else _active_store()
    root.mkdir(parents=True, exist_ok=True)
    with _file_store_allowed():
        client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
        job = _Import(mlflow, client, root, artifact_root, progress)
        job.run()
    return job.report


def _active_store() -> Path:
    from runsite.location import get_store_path

    return get_store_path()


def _iso(ms: int | None) -> str | None:
    if not ms:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sha256(path: Path) -> str:
    from runsite.hashing import sha256_file

    return sha256_file(path)


class _Import:
    def __init__(
        self,
        mlflow: Any,
        client: Any,
        root: Path,
        artifact_root: str | os.PathLike[str] | None,
        progress: Progress | None,
    ) -> None:
        self.mlflow = mlflow
        self.client = client
        self.root = root
        self.artifact_root = Path(artifact_root).resolve() if artifact_root else None
        self.progress = progress
        self.report = ImportReport()
        self.ids: dict[str, str] = {}  # MLflow run id → runsite run id
        self.folders: dict[str, Path] = {}  # runsite run id → run folder
        # MLflow logged-model id → (runsite run id, artifact path of the model folder)
        self.models: dict[str, tuple[str, str]] = {}
        # (MLflow run id, artifact path) of MLflow-2 style models inside run artifacts
        self.run_models: set[tuple[str, str]] = set()

    def problem(self, text: str) -> None:
        self.report.problems.append(text)

    # ------------------------------------------------------------------ runs

    def run(self) -> None:
        view_all = self.mlflow.entities.ViewType.ALL
        existing = self._existing()
        plan: list[tuple[Any, Any, str]] = []  # (experiment, run, slug)
        for exp in _paged(self.client.search_experiments, view_type=view_all, max_results=1000):
            if exp.lifecycle_stage == "deleted":
                self.problem(f"experiment {exp.name!r} is deleted in MLflow; not imported")
                continue
            runs = _paged(
                self.client.search_runs,
                experiment_ids=[exp.experiment_id],
                run_view_type=view_all,
                max_results=10_000,
                order_by=["attributes.start_time ASC"],
            )
            if not runs and exp.experiment_id == "0":
                continue  # MLflow's empty "Default" experiment
            slug = self._experiment(exp)
            if slug is None:
                continue
            self.report.experiments += 1
            deleted = [r for r in runs if r.info.lifecycle_stage == "deleted"]
            if deleted:
                self.problem(
                    f"experiment {exp.name!r}: {len(deleted)} runs deleted in MLflow were "
                    "not imported"
                )
            plan.extend((exp, r, slug) for r in runs if r.info.lifecycle_stage != "deleted")
        for _exp, r, _slug in plan:
            mid = r.info.run_id
            self.ids[mid] = existing.get(mid) or new_run_id(r.info.start_time or None)
        total = len(plan)
        if self.progress:
            self.progress(0, total)
        logged = self._logged_models([e.experiment_id for e, _, _ in plan])
        for done, (exp, r, slug) in enumerate(plan, 1):
            rid = self.ids[r.info.run_id]
            if r.info.run_id in existing:
                self.report.runs_skipped += 1
                self.folders[rid] = self.root / slug / rid
                self._remember_models(r, rid, logged.get(r.info.run_id, []))
            else:
                self._import_run(exp, r, slug, rid, logged.get(r.info.run_id, []))
                self.report.runs_imported += 1
            if self.progress:
                self.progress(done, total)
        self._registry()

    def _existing(self) -> dict[str, str]:
        st = Store(self.root)
        out = {}
        for rec in st.runs():
            mid = rec.tags.get(RUN_ID_TAG)
            if mid:
                out[mid] = rec.run_id
        return out

    def _experiment(self, exp: Any) -> str | None:
        try:
            name = validate.check_name(exp.name, "experiment name")
            slug = validate.slugify(name)
        except InvalidInput as exc:
            self.problem(f"experiment {exp.name!r}: {exc}; its runs were not imported")
            return None
        folder = self.root / slug
        if folder.is_dir() and any(
            (p / record.RUN_JSON).is_file() for p in folder.iterdir() if p.is_dir()
        ):
            have = Store(self.root).experiment(slug).name
            if have != name:
                self.problem(
                    f"experiment {exp.name!r} would share the folder {folder} with the "
                    f"existing experiment {have!r}; its runs were not imported (rename one "
                    "of them in MLflow first)"
                )
                return None
        folder.mkdir(parents=True, exist_ok=True)
        tags = dict(exp.tags or {})
        note = tags.pop("mlflow.note.content", None)
        if note:
            st = Store(self.root)
            if not st.experiment(slug).description:
                st.update_experiment(slug, description=note)
        other = sorted(k for k in tags if not k.startswith("mlflow."))
        if other:
            self.problem(
                f"experiment {exp.name!r}: tags {', '.join(other)} not imported "
                "(experiment.yaml tags are written by people)"
            )
        return slug

    def _logged_models(self, experiment_ids: list[str]) -> dict[str, list[Any]]:
        """MLflow 3's logged models (kept outside the run's artifacts), by source run."""
        out: dict[str, list[Any]] = {}
        search = getattr(self.client, "search_logged_models", None)
        if search is None or not experiment_ids:
            return out
        ids = list(dict.fromkeys(experiment_ids))
        for i in range(0, len(ids), 100):
            for lm in _paged(search, experiment_ids=ids[i : i + 100], max_results=100):
                if lm.source_run_id:
                    out.setdefault(lm.source_run_id, []).append(lm)
                else:
                    self.problem(
                        f"logged model {lm.model_id} ({lm.name}) has no source run; "
                        "not imported (runsite keeps models inside runs)"
                    )
        return out

    def _artifact_uri(self, uri: str) -> str:
        """The artifact URI to read: the source's, or under ``artifact_root`` when the
        store was moved (``<root>/<experiment id>/…`` keeps its tail)."""
        if self.artifact_root is None or not uri:
            return uri
        parts = uri.rstrip("/").split("/")
        for n in range(len(parts), 0, -1):
            tail = parts[-n:]
            candidate = self.artifact_root.joinpath(*tail)
            if candidate.exists():
                return str(candidate)
        return uri

    def _import_run(self, exp: Any, r: Any, slug: str, rid: str, logged: list[Any]) -> None:
        info, data = r.info, r.data
        tags = dict(data.tags or {})
        mid = info.run_id
        parent = tags.get("mlflow.parentRunId")
        parent_id = self.ids.get(parent) if parent else None
        if parent and parent_id is None:
            self.problem(
                f"run {mid}: its parent {parent} is not in the import (deleted?); "
                "imported as a top-level run with the tag mlflow_parent_run_id"
            )
            tags["mlflow_parent_run_id"] = parent
        git = {
            "commit": tags.get("mlflow.source.git.commit"),
            "branch": tags.get("mlflow.source.git.branch"),
            "remote": tags.get("mlflow.source.git.repoURL"),
            "dirty": None,
            "dirty_files": None,
        }
        start = int(info.start_time or 0)
        header = {
            "format": record.FORMAT_VERSION,
            "run_id": rid,
            "run_name": info.run_name or tags.get("mlflow.runName") or mid,
            "experiment": validate.check_name(exp.name, "experiment name"),
            "experiment_id": slug,
            "start_time": start,
            "parent_run_id": parent_id,
            "user": info.user_id or tags.get("mlflow.user"),
            "host": None,
            "pid": None,
            "command": None,
            "entry_point": tags.get("mlflow.source.name"),
            "python": None,
            "git": git if any(git.values()) else None,
            "runsite_version": _version(),
            "packages": None,
            "imported_from": {"mlflow_run_id": mid, "mlflow_experiment_id": exp.experiment_id},
        }
        exp_dir = self.root / slug
        tmp = exp_dir / f".import-{rid}"
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        try:
            record.write_json_atomic(tmp / record.RUN_JSON, header)
            lines = self._events(r, tags, start)
            lines.extend(self._artifacts(r, rid, tmp, logged, start))
            points = self._points(r)
            end = info.end_time
            status = (info.status or "").upper()
            if status in record.END_STATUSES:
                from runsite import arrowio

                summary = arrowio.write_points(tmp, points)
                lines.append(
                    record.event_at(
                        "status",
                        int(end or start),
                        status=status,
                        end_time=int(end) if end else None,
                        metrics=record.encode_summary(summary),
                    )
                )
            else:
                self.problem(
                    f"run {mid} is {status or 'without a status'} in MLflow: imported "
                    "without an end (it shows as UNFINISHED)"
                )
                with (tmp / record.METRICS_JSONL).open("w", encoding="utf-8") as f:
                    f.writelines(record.metric_line(*p) for p in points)
            with (tmp / record.EVENTS).open("w", encoding="utf-8") as f:
                f.writelines(lines)
            os.replace(tmp, exp_dir / rid)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self.folders[rid] = exp_dir / rid

    def _events(self, r: Any, tags: dict[str, str], start: int) -> list[str]:
        mid = r.info.run_id
        lines = []
        for key, value in sorted((r.data.params or {}).items()):
            try:
                validate.check_key(key, "param key")
                lines.append(record.event_at("param", start, key=key, value=str(value)))
            except InvalidInput as exc:
                self.problem(f"run {mid}: param {key!r} not imported: {exc}")
        note = tags.get("mlflow.note.content")
        if note:
            lines.append(record.event_at("note", start, text=note))
        tags[RUN_ID_TAG] = mid
        for key, value in sorted(tags.items()):
            if key in _DERIVED or (key == "mlflow.source.type" and value == "LOCAL"):
                continue
            try:
                validate.check_key(key, "tag key")
                if len(value) > validate.MAX_TAG_VALUE_LENGTH:
                    raise InvalidInput(
                        f"{len(value)} characters; the limit is {validate.MAX_TAG_VALUE_LENGTH}"
                    )
                lines.append(record.event_at("tag", start, key=key, value=value))
            except InvalidInput as exc:
                self.problem(f"run {mid}: tag {key!r} not imported: {exc}")
        for ds_input in getattr(r.inputs, "dataset_inputs", None) or []:
            ds = ds_input.dataset
            context = next((t.value for t in ds_input.tags if t.key == "mlflow.data.context"), None)
            lines.append(
                record.event_at(
                    "input",
                    start,
                    name=ds.name,
                    path=ds.source if isinstance(ds.source, str) else None,
                    context=context,
                    kind="dataset",
                    digest=ds.digest,
                    source_type=ds.source_type,
                )
            )
        return lines

    def _points(self, r: Any) -> list[tuple[str, float, int, int]]:
        points: list[tuple[str, float, int, int]] = []
        for key in sorted(r.data.metrics or {}):
            try:
                validate.check_key(key, "metric key")
            except InvalidInput as exc:
                self.problem(f"run {r.info.run_id}: metric {key!r} not imported: {exc}")
                continue
            for m in self.client.get_metric_history(r.info.run_id, key):
                points.append((key, float(m.value), int(m.step or 0), int(m.timestamp or 0)))
        return points

    # ------------------------------------------------------------------ artifacts, models

    def _download(self, uri: str, dst: Path) -> Path:
        return Path(
            self.mlflow.artifacts.download_artifacts(
                artifact_uri=self._artifact_uri(uri), dst_path=str(dst)
            )
        )

    def _artifacts(self, r: Any, rid: str, tmp: Path, logged: list[Any], start: int) -> list[str]:
        mid = r.info.run_id
        art = tmp / record.ARTIFACTS
        lines: list[str] = []
        # listed by the run's artifact URI: the client's list_artifacts(run_id) first
        # reads the whole run again (in a file store, every metric file)
        root = self._artifact_uri(r.info.artifact_uri)
        if self.mlflow.artifacts.list_artifacts(artifact_uri=root):
            with tempfile.TemporaryDirectory(dir=tmp) as scratch:
                got = self._download(r.info.artifact_uri, Path(scratch))
                shutil.copytree(got, art, symlinks=True, dirs_exist_ok=True)
        for lm in logged:
            name = lm.name or lm.model_id
            try:
                rel = validate.safe_relpath(name, "model name")
            except InvalidInput:
                rel = lm.model_id
            if (art / rel).exists():
                rel = f"{rel}-{lm.model_id}"
            with tempfile.TemporaryDirectory(dir=tmp) as scratch:
                try:
                    got = self._download(lm.artifact_location, Path(scratch))
                except Exception as exc:
                    self.problem(f"run {mid}: logged model {lm.model_id} not copied: {exc}")
                    continue
                art.mkdir(exist_ok=True)
                shutil.copytree(got, art / rel, symlinks=True)
            self.models[lm.model_id] = (rid, rel)
        if not art.is_dir():
            return lines
        model_dirs = sorted(
            p.parent for p in art.rglob("MLmodel") if p.is_file() and not p.is_symlink()
        )
        models: list[tuple[str, dict[str, Any], str]] = []
        for folder in model_dirs:
            rel = folder.relative_to(art).as_posix()
            converted = self._convert_model(folder, rid, mid, rel)
            if converted is not None:
                models.append((rel, *converted))
                self.run_models.add((mid, rel))
                self.report.models_converted += 1
        for path in sorted(art.rglob("*")):
            if path.is_symlink():
                self.problem(f"run {mid}: artifact {path.relative_to(art)} is a symlink; dropped")
                path.unlink()
                continue
            if path.is_file():
                rel = path.relative_to(art).as_posix()
                lines.append(
                    record.event_at(
                        "artifact", start, path=rel, size=path.stat().st_size, sha256=_sha256(path)
                    )
                )
        for rel, manifest, digest in models:
            lines.append(
                record.event_at(
                    "model",
                    start,
                    name=rel,
                    flavor=manifest["flavor"],
                    hash=digest,
                    size=manifest["size_bytes"],
                )
            )
        return lines

    def _remember_models(self, r: Any, rid: str, logged: list[Any]) -> None:
        """For a run imported before: where its models went (the registry needs it)."""
        folder = self.folders[rid]
        for lm in logged:
            for cand in (lm.name, f"{lm.name}-{lm.model_id}", lm.model_id):
                man = folder / record.ARTIFACTS / str(cand) / "model.yaml"
                if man.is_file() and lm.model_id in man.read_text("utf-8"):
                    self.models[lm.model_id] = (rid, str(cand))
                    break

    def _convert_model(
        self, folder: Path, rid: str, mid: str, rel: str
    ) -> tuple[dict[str, Any], str] | None:
        """Write ``model.yaml`` for an MLflow model folder (from its ``MLmodel``, read as
        YAML: nothing is unpickled). Returns (manifest, model hash), or ``None``."""
        from runsite import yamlio
        from runsite.models.manifest import MANIFEST, write_manifest

        where = f"run {mid}: model {rel or '.'}"
        try:
            mlmodel = yamlio.loads((folder / "MLmodel").read_text("utf-8"), folder / "MLmodel")
        except Exception as exc:
            self.problem(f"{where}: MLmodel cannot be read ({exc}); files copied, no model")
            return None
        if not isinstance(mlmodel, dict):
            self.problem(f"{where}: MLmodel is not a mapping; files copied, no model")
            return None
        if (folder / MANIFEST).exists():
            self.problem(f"{where}: already has a model.yaml; left as it is")
            return None
        flavors = mlmodel.get("flavors") or {}
        conf: dict[str, Any]
        if "xgboost" in flavors:
            x = flavors["xgboost"] or {}
            flavor = "xgboost"
            conf = {
                "file": str(x.get("data", "model.xgb")),
                "format": str(x.get("model_format", "xgb")),
                "class": str(x.get("model_class", "xgboost.core.Booster")),
            }
        elif "sklearn" in flavors:
            s = flavors["sklearn"] or {}
            flavor = "sklearn"
            file = str(s.get("pickled_model", "model.pkl"))
            fmt = str(s.get("serialization_format", "cloudpickle"))
            conf = {
                "file": file,
                "serialization": "skops" if fmt == "skops" else "pickle",
                "class": _model_class(folder / file, fmt),
            }
            if conf["class"] is None:
                del conf["class"]
        else:
            names = ", ".join(flavors) or "none"
            self.problem(
                f"{where}: flavors {names} are not mapped (runsite loads scikit-learn and "
                "XGBoost models); its files were copied as plain artifacts"
            )
            return None
        pyfunc = flavors.get("python_function") or {}
        files: dict[str, str] = {}
        size = 0
        for p in sorted(folder.rglob("*")):
            if p.is_file() and not p.is_symlink():
                files[p.relative_to(folder).as_posix()] = _sha256(p)
                size += p.stat().st_size
        if conf["file"] not in files:
            self.problem(f"{where}: its model file {conf['file']} is missing; no model")
            return None
        manifest: dict[str, Any] = {
            "format": 1,
            "name": rel,
            "flavor": flavor,
            "flavors": {flavor: conf},
            "python_version": pyfunc.get("python_version"),
            "libraries": _requirements(folder / "requirements.txt"),
        }
        if "requirements.txt" in files:
            manifest["requirements"] = "requirements.txt"
        example = _input_example(folder, mlmodel)
        if example is not None:
            (folder / "input_example.runsite.json").write_text(json.dumps(example), "utf-8")
            p = folder / "input_example.runsite.json"
            files[p.name] = _sha256(p)
            size += p.stat().st_size
            manifest["input_example"] = p.name
        signature = _signature(mlmodel.get("signature"))
        if signature is not None:
            manifest["signature"] = signature
        manifest["files"] = files
        manifest["size_bytes"] = size
        created = str(mlmodel.get("utc_time_created") or "")
        manifest["created"] = created[:19].replace(" ", "T") + "Z" if created else None
        manifest["run_id"] = rid
        manifest["imported_from"] = {
            "mlflow_run_id": mid,
            "mlflow_model_id": mlmodel.get("model_id"),
            "mlflow_version": mlmodel.get("mlflow_version"),
        }
        manifest = {k: v for k, v in manifest.items() if v is not None}
        digest = write_manifest(folder, manifest)
        return manifest, digest

    # ------------------------------------------------------------------ registry

    def _registry(self) -> None:
        from runsite.models.manifest import model_hash
        from runsite.registry.manifest import FILENAME, Manifest, check_alias, check_model_name

        search = self.client.search_registered_models
        try:
            models = _paged(search, max_results=1000)
        except Exception as exc:
            self.problem(f"the registry could not be read: {exc}")
            return
        if not models:
            return
        m = Manifest.load(self.root / FILENAME)
        m.require_valid()
        changed = False
        for rm in models:
            try:
                check_model_name(rm.name)
            except InvalidInput as exc:
                self.problem(f"registered model {rm.name!r} not imported: {exc}")
                continue
            have = m.models().get(rm.name)
            versions = sorted(
                _paged(self.client.search_model_versions, filter_string=f"name='{_q(rm.name)}'"),
                key=lambda v: int(v.version),
            )
            added = []
            for mv in versions:
                number = int(mv.version)
                where = f"{rm.name} v{number}"
                target = self._version_target(mv)
                if target is None:
                    self.problem(
                        f"{where}: its model ({mv.source}) is not among the imported runs' "
                        "models; not imported"
                    )
                    continue
                rid, artifact = target
                old = have.version(number) if have else None
                if old is not None:
                    if (old.run_id, old.artifact) != (rid, artifact):
                        self.problem(
                            f"{where}: registry.yaml already has a version {number} from "
                            f"another run ({old.run_id}); left as it is"
                        )
                    self.report.versions_skipped += 1
                    continue
                folder = self.folders[rid] / record.ARTIFACTS / artifact
                stage = _STAGES.get(str(mv.current_stage or "none").lower(), "none")
                m.add_version(
                    rm.name,
                    {
                        "run": rid,
                        "artifact": artifact,
                        "hash": model_hash(folder),
                        "registered": _iso(mv.creation_timestamp),
                        "stage": stage,
                        "description": mv.description or None,
                        "tags": dict(mv.tags or {}) or None,
                    },
                    number=number,
                )
                added.append(number)
                self.report.versions_imported += 1
                changed = True
            if not added and have is None:
                continue
            node = m.model_node(rm.name)
            if rm.description and not node.get("description"):
                node.insert(0, "description", rm.description)
                changed = True
            for key, value in (rm.tags or {}).items():
                if key not in (node.get("tags") or {}):
                    m.set_map_value(node, "tags", key, str(value))
                    changed = True
            aliases = rm.aliases or {}
            for alias, version in aliases.items():
                try:
                    check_alias(alias)
                except InvalidInput as exc:
                    self.problem(f"{rm.name}: alias {alias!r} not imported: {exc}")
                    continue
                if int(version) in added and alias not in (node.get("aliases") or {}):
                    m.set_map_value(node, "aliases", alias, int(version))
                    changed = True
            changed |= self._limit_production(m, rm.name, added)
        if changed:
            problems = m.problems()
            if problems:
                raise RunsiteError(
                    "the imported registry would not be valid; nothing written: "
                    + "; ".join(p.format() for p in problems[:5])
                )
            m.save()

    def _version_target(self, mv: Any) -> tuple[str, str] | None:
        model_id = getattr(mv, "model_id", None)
        if model_id and model_id in self.models:
            return self.models[model_id]
        source = str(mv.source or "")
        if source.startswith("models:/m-") and source[len("models:/") :] in self.models:
            return self.models[source[len("models:/") :]]
        rid = self.ids.get(mv.run_id or "")
        if rid is None:
            return None
        rel = None
        if source.startswith("runs:/"):
            rel = source.split("/", 2)[2] if source.count("/") >= 2 else None
        elif "/artifacts/" in source:
            rel = source.split("/artifacts/", 1)[1]
        if rel and (mv.run_id, rel.strip("/")) in self.run_models:
            return rid, rel.strip("/")
        return None

    def _limit_production(self, m: Any, name: str, added: list[int]) -> bool:
        """MLflow allows any number of Production versions; the registry policy (what
        ``runsite models check`` enforces) allows ``max_production_versions``: the newest
        stay in production, the older imported ones are archived (reported)."""
        model = m.models()[name]
        limit = int(model.policy.get("max_production_versions") or 1)
        prod = sorted(v.version for v in model.in_stage("production"))
        extra = [v for v in prod[: max(0, len(prod) - limit)] if v in added]
        for number in extra:
            m.version_node(name, number)["stage"] = "archived"
            self.problem(
                f"{name} v{number} was in Production in MLflow; imported as archived, since "
                f"the registry policy allows {limit} production version(s) "
                f"(newest kept: v{prod[-1]})"
            )
        return bool(extra)


def _q(text: str) -> str:
    return text.replace("'", "\\'")


def _version() -> str:
    from runsite import __version__

    return __version__


def _model_class(path: Path, fmt: str) -> str | None:
    """The estimator's class, read without building anything: the first non-builtin
    global of a pickle, or the top object's class in a skops file's schema."""
    try:
        if fmt == "skops":
            with zipfile.ZipFile(path) as z:
                schema = json.loads(z.read("schema.json"))
            return f"{schema['__module__']}.{schema['__class__']}"
        from runsite.models.pickle_scan import SAFE_GLOBALS, pickle_globals

        for g in pickle_globals(path.read_bytes()):
            if g not in SAFE_GLOBALS and not g.startswith(("numpy.", "copyreg.", "builtins.")):
                return g
    except Exception:
        return None
    return None


def _requirements(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    if not path.is_file():
        return out
    for line in path.read_text("utf-8", "replace").splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, _, ver = line.partition("==")
            if name.strip() != "mlflow":
                out[name.strip()] = ver.strip()
    return out


def _input_example(folder: Path, mlmodel: dict[str, Any]) -> dict[str, Any] | None:
    info = mlmodel.get("saved_input_example_info") or {}
    path = folder / str(info.get("artifact_path", "input_example.json"))
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text("utf-8"))
    except ValueError:
        return None
    kind = info.get("type")
    if kind == "ndarray" and isinstance(data, list):
        return {"type": "array", "data": data}
    if kind == "dataframe" and isinstance(data, dict) and "columns" in data:
        cols = data["columns"]
        return {
            "type": "records",
            "data": [dict(zip(cols, row, strict=False)) for row in data["data"]],
        }
    return None


_MLFLOW_DTYPES = {"float64": "double", "float32": "float", "int64": "long", "int32": "integer"}


def _signature(sig: Any) -> dict[str, Any] | None:
    """MLflow's signature (JSON strings in MLmodel) in runsite's shape."""
    if not isinstance(sig, dict):
        return None
    out: dict[str, Any] = {}
    for part in ("inputs", "outputs"):
        text = sig.get(part)
        if not text:
            continue
        try:
            spec = json.loads(text)
        except (TypeError, ValueError):
            return None
        if spec and all(s.get("type") == "tensor" for s in spec) and len(spec) == 1:
            t = spec[0].get("tensor-spec", {})
            out[part] = {"type": "tensor", "dtype": t.get("dtype"), "shape": t.get("shape")}
        elif spec and all("name" in s for s in spec):
            out[part] = {
                "type": "columns",
                "columns": [{"name": s["name"], "type": s.get("type")} for s in spec],
            }
    return out or None
