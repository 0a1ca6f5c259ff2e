"""Reading a store back: experiments, runs, params, metrics, artifacts, search.

Readers accept every store the writer can produce, including runs that crashed (no
end event, metrics still in JSONL, a torn last line): problems become ``warnings``,
never exceptions. Per-run summaries are cached outside the store, keyed by the size
and mtime of the run's record files, so reading 10,000 unchanged runs costs a few
``stat`` calls each.
"""

from __future__ import annotations

import gc
import logging
import os
import socket
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from runsite import attributes, location, record, validate
from runsite.cache import store_cache_dir
from runsite.entities import Experiment, RunData, RunInfo, RunInputs, run_info
from runsite.errors import InvalidInput, NotFound, StoreFormatError
from runsite.runindex import FILE_NAME, IndexFileError, RunIndex, quick_stamp

if TYPE_CHECKING:
    from runsite.arrowio import Table
    from runsite.run import Run

log = logging.getLogger("runsite")

# Records this process has read, per store folder: run key → (stamp, record). A search
# over 100,000 unchanged runs then costs two stat calls a run, not a reload of the cache
# file. Records are shared between Store objects: treat them as read-only.
_MEMO: dict[str, dict[str, tuple[Any, RunRecord]]] = {}
_MEMO_MAX = 500_000
# The run index of each cache file this process has used (runsite.runindex): rows are
# validated by the stamps of the run's files before each use.
_INDEXES: dict[str, RunIndex] = {}
# The run folders of a store this process listed (Store._listing): (store, experiment
# folders) -> (modification times, [(folder, key)], warnings of the listing).
_LISTINGS: dict[tuple[str, tuple[str, ...]], tuple[tuple[int, ...], list[Any], list[str]]] = {}


_OPEN_STAMPED = (record.RUN_JSON, record.EVENTS, record.METRICS_JSONL, record.METRICS_PARQUET)
_ENDED_STAMPED = (record.RUN_JSON, record.EVENTS)


_METRIC_FILES = (record.METRICS_JSONL, record.METRICS_PARQUET)


def run_stamp(run_dir: str, ended: bool, metric_files_only: bool = False) -> list[Any]:
    """[size, mtime] of each record file of a run (None: missing): run.json and
    events.jsonl for an ended run, those and the metric files for an open one; or only
    the metric files."""
    out: list[Any] = []
    names = _METRIC_FILES if metric_files_only else _ENDED_STAMPED if ended else _OPEN_STAMPED
    for name in names:
        try:
            st = os.stat(f"{run_dir}/{name}")
            out.append([st.st_size, st.st_mtime_ns])
        except FileNotFoundError:
            out.append(None)
    return out


def _memo_stamp(run_dir: str, ended: bool) -> Any:
    if not ended:
        return run_stamp(run_dir, False)
    return quick_stamp(run_dir)


def _pid_alive(host: str | None, pid: Any) -> bool:
    if host != socket.gethostname() or not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_summary(run_dir: Path) -> dict[str, Any]:
    """Everything about a run except its package list and metric history."""
    header = record.read_header(run_dir)
    events = record.read_jsonl(run_dir / record.EVENTS)
    warnings = list(events.warnings)
    state = record.fold_events(events.records, warnings, run_dir / record.EVENTS)
    metrics = state.pop("metrics")
    if metrics is None:  # still open, or crashed: summarise the raw points
        from runsite import arrowio

        metrics = arrowio.summarize(arrowio.read_metrics(run_dir, warnings))
    header.pop("packages", None)
    return {"header": header, **state, "metrics": metrics, "warnings": warnings}


def system_tags(rec: RunRecord) -> dict[str, str]:
    """MLflow's ``mlflow.*`` system tags, derived from the run header (never stored):
    ``run.data.tags``, search and the pandas frame answer them. A tag the run set itself
    under the same key wins."""
    h = rec._s["header"]
    out = {"mlflow.runName": rec.run_name, "mlflow.source.type": "LOCAL"}
    if rec.user:
        out["mlflow.user"] = rec.user
    if rec.parent_run_id:
        out["mlflow.parentRunId"] = rec.parent_run_id
    source = h.get("entry_point") or (h.get("command") or [None])[0]
    if source:
        out["mlflow.source.name"] = str(source)
    git = rec.git or {}
    for key, tag in (("commit", "commit"), ("branch", "branch"), ("remote", "repoURL")):
        if git.get(key):
            out[f"mlflow.source.git.{tag}"] = str(git[key])
    if rec.notes:
        out["mlflow.note.content"] = str(rec.notes[0].get("text", ""))
    return out


class RunRecord:
    """A run as recorded on disk. Cheap to create; the package list and metric history
    are read only when asked for."""

    def __init__(self, path: Path | str, summary: Mapping[str, Any]) -> None:
        # the run folder as a string; ``path`` is made from it when asked for (a Path
        # each is a tenth of the time it takes to read 100,000 runs)
        self.folder: str = os.fspath(path)
        if isinstance(path, Path):
            self.__dict__["path"] = path
        self._s = summary
        h = summary["header"]
        exp_folder, _, name = self.folder.rpartition(os.sep)
        self.experiment_id: str = exp_folder[exp_folder.rfind(os.sep) + 1 :]
        self.run_id: str = h.get("run_id") or name
        self.run_name: str = h.get("run_name") or self.run_id
        self.experiment: str = h.get("experiment") or self.experiment_id
        self.start_time: int = int(h.get("start_time") or 0)
        self.end_time: int | None = summary.get("end_time")
        self.user: str = h.get("user") or ""
        self.host: str = h.get("host") or ""
        self.parent_run_id: str | None = h.get("parent_run_id")
        self.git: dict[str, Any] | None = h.get("git")
        # The summary's own dicts and lists, not copies: nothing changes a record's in
        # place (the copies were 1.2 KB of a record's 7 KB, measured at 10,000 runs).
        self.params: dict[str, Any] = summary["params"]
        self.tags: dict[str, str] = summary["tags"]
        self.inputs: RunInputs = RunInputs(summary["inputs"])
        self.artifacts: list[dict[str, Any]] = summary["artifacts"]
        self.notes: list[dict[str, Any]] = summary["notes"]
        # A FAILED run's exception: {"exc_type", "message", "traceback"}, or None.
        self.error: dict[str, str] | None = summary.get("error")
        self.models: list[dict[str, Any]] = summary.get("models", [])
        self.metrics: dict[str, dict[str, Any]] = summary["metrics"]
        self.warnings: list[str] = summary["warnings"]
        self._recorded_status: str | None = summary.get("status")

    def __repr__(self) -> str:
        return f"<RunRecord {self.run_id} {self.run_name!r} in {self.experiment!r}: {self.status}>"

    @cached_property
    def path(self) -> Path:
        """The run folder."""
        return Path(self.folder)

    @property
    def status(self) -> str:
        """FINISHED, FAILED or KILLED once ended; RUNNING while its process (on this
        host) is alive; UNFINISHED for a run that stopped without ending (killed, crashed)."""
        if self._recorded_status:
            return self._recorded_status
        h = self._s["header"]
        return record.RUNNING if _pid_alive(h.get("host"), h.get("pid")) else record.UNFINISHED

    @property
    def all_tags(self) -> dict[str, str]:
        """The run's tags plus MLflow's derived system tags (``system_tags``)."""
        return {**system_tags(self), **self.tags}

    @property
    def datasets(self) -> list[dict[str, str | None]]:
        """The data inputs as MLflow's ``datasets.*`` filters see them: ``name``,
        ``digest`` (MLflow's digest of an imported dataset, else the content hash without
        its ``sha256:`` prefix) and ``context``."""
        out = []
        for i in self.inputs:
            digest = i.get("digest") or i.get("hash")
            if isinstance(digest, str):
                digest = digest.removeprefix("sha256:")
            out.append({"name": i.get("name"), "digest": digest, "context": i.get("context")})
        return out

    @property
    def duration(self) -> int | None:
        return self.end_time - self.start_time if self.end_time is not None else None

    @property
    def dirty(self) -> bool | None:
        return self.git.get("dirty") if self.git else None

    @property
    def commit(self) -> str | None:
        return self.git.get("commit") if self.git else None

    @cached_property
    def header(self) -> dict[str, Any]:
        """The full ``run.json`` (with the installed packages)."""
        return record.read_header(self.path)

    @property
    def packages(self) -> dict[str, str]:
        return dict(self.header.get("packages") or {})

    def metrics_table(self) -> Table:
        """Every metric point: columns key, step, timestamp (ms), value; sorted by key, step."""
        from runsite import arrowio

        warnings: list[str] = []
        table = arrowio.sort_metrics(arrowio.read_metrics(self.path, warnings))
        for w in warnings:
            log.warning("runsite: %s", w)
        return table

    def metric_history(self, key: str) -> Table:
        from runsite import arrowio

        return arrowio.metric_rows(self.metrics_table(), key)

    @property
    def artifacts_dir(self) -> Path:
        return self.path / record.ARTIFACTS

    @property
    def info(self) -> RunInfo:
        return run_info(self)

    @property
    def data(self) -> RunData:
        return RunData(
            params={k: validate.canonical_str(v) for k, v in self.params.items()},
            metrics={k: v["last"] for k, v in self.metrics.items()},
            tags=self.all_tags,
        )

    def to_row(self) -> dict[str, Any]:
        """The shape ``runsite.search`` filters (see docs/search.md); kept for an ended
        run (its status can no longer change)."""
        row = self.__dict__.get("_row")
        if row is not None:
            return row
        row = self._make_row()
        if self._recorded_status is not None:
            self._row = row
        return row

    def _make_row(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "attributes": attributes.values(self),  # the vocabulary: runsite.attributes
            "params": {k: validate.canonical_str(v) for k, v in self.params.items()},
            "tags": self.all_tags,
            "metrics": self.metrics,  # per key: last, min, max, count (and last_step)
            "datasets": self.datasets,
            "record": self,
        }

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (non-finite floats as "NaN"/"Infinity" strings)."""
        return {
            "run_id": self.run_id,
            "run_name": self.run_name,
            "experiment": self.experiment,
            "experiment_id": self.experiment_id,
            "status": self.status,
            "start_time": self.start_time,
            "end_time": self.end_time,
            "duration_ms": self.duration,
            "user": self.user,
            "host": self.host,
            "parent_run_id": self.parent_run_id,
            "git": self.git,
            "params": self.params,
            "tags": self.tags,
            "metrics": record.encode_summary(self.metrics),
            "inputs": self.inputs,
            "artifacts": self.artifacts,
            "notes": self.notes,
            "models": self.models,
            "error": self.error,
            "warnings": self.warnings,
            "path": str(self.path),
        }


@dataclass
class Scan:
    """The runs of a store as ``Store.scan`` found them: ended runs as rows of the run
    index (``positions``, with their ``folders`` and listing ``order``), every other run
    (still open, or not indexable) as a record in ``others``."""

    index: RunIndex
    positions: list[int] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)  # Store.folder_key of each folder
    order: list[int] = field(default_factory=list)
    others: list[tuple[int, RunRecord]] = field(default_factory=list)
    live: set[str] | None = None  # every run's key, after a scan of the whole store

    def save(self) -> None:
        """Write the index if the scan changed it."""
        self.index.save(self.live)


class Store:
    """A store on disk: ``Store("runs").runs("nyc-taxi")``.

    Also the way to log without global state: ``Store("runs").start_run(...)``.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        if path is None:
            path = location.get_store_path()
        self.root = Path(path)
        self.warnings: list[str] = []
        self._duplicates: dict[str, list[str]] | None = None
        self._listed: dict[str, tuple[list[str], set[str]]] | None = None  # (_folders)
        self._index: RunIndex | None = None
        self._memo = _MEMO.setdefault(os.path.abspath(self.root), {})

    def __repr__(self) -> str:
        return f"<Store {self.root}>"

    # ------------------------------------------------------------------ cache

    def _cache_path(self) -> Path:
        return store_cache_dir(self.root) / FILE_NAME

    def _run_index(self) -> RunIndex:
        if self._index is None:
            path = self._cache_path()
            index = _INDEXES.get(str(path))
            if index is None:
                index = _INDEXES[str(path)] = RunIndex(path)
            index.load()
            self._index = index
        return self._index

    def _save_cache(self, live: set[str] | None = None) -> None:
        if self._index is not None:
            self._index.save(live)

    @staticmethod
    def folder_key(run_dir: str) -> str:
        """``<experiment folder>/<run folder>``: how the caches name a run."""
        exp, _, name = run_dir.rpartition(os.sep)
        return exp[exp.rfind(os.sep) + 1 :] + "/" + name

    _key = folder_key

    def record_stamp(self, rec: RunRecord) -> str | None:
        """The sizes and mtimes of the record files ``rec`` was read from, as the run
        index took them (run.json and events.jsonl of an ended run, every record file of
        an open one); None when the index holds no row for its folder."""
        index = self._run_index()
        p = index.pos.get(self.folder_key(rec.folder))
        return index.stamps[p] if p is not None else None

    def record_at(self, run_dir: str) -> RunRecord | None:
        """The run in folder ``run_dir`` (one ``Store.scan`` listed), or None when it is
        not a readable run (the reason is in ``warnings``)."""
        return self._record(run_dir)

    def _record(self, run_dir: str) -> RunRecord | None:
        """The run in folder ``run_dir`` (a string path: this runs 100,000 times a search).

        First the records this process already read (keyed by the same stamp as the
        cache on disk, so a changed run is read again), then the cache on disk, then the
        run's files."""
        key = self._key(run_dir)
        memo = self._memo
        seen = memo.get(key)
        if seen is not None:
            # An ended run: run.json is written once and only events.jsonl could change
            # (by hand); an open one: every record file.
            if seen[0] == _memo_stamp(run_dir, seen[1]._recorded_status is not None):
                rec = seen[1]
                for w in rec.warnings:
                    self._warn(w)
                return rec
            del memo[key]
        index = self._run_index()
        # (a fresh row: run.json is there with the stamp it was read with; no other stat)
        p = index.fresh(key, run_dir)
        if p is None and not os.path.isfile(os.path.join(run_dir, record.RUN_JSON)):
            self._not_a_run(run_dir)
            return None
        cached = index.summary(p) if p is not None else None
        if cached is not None:
            rec = RunRecord(run_dir, cached)
        else:
            try:
                summary = read_summary(Path(run_dir))
            except StoreFormatError as exc:
                self._warn(str(exc))
                return None
            rec = RunRecord(Path(run_dir), summary)
            index.add(key, run_dir, summary, rec._make_row())  # (not kept on the record)
        return self._remember(key, run_dir, rec, index)

    def _remember(self, key: str, run_dir: str, rec: RunRecord, index: RunIndex) -> RunRecord:
        """Keep ``rec`` in this process's records (by the stamp it was read at) and pass
        on its warnings."""
        ended = rec._recorded_status is not None
        if len(self._memo) < _MEMO_MAX:
            # (an ended run's quick stamp: the one the index has just taken, if it has)
            quick = index.checked.get(key) if ended else None
            self._memo[key] = (quick if quick is not None else _memo_stamp(run_dir, ended), rec)
        for w in rec.warnings:
            self._warn(w)
        return rec

    def _warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    # ------------------------------------------------------------------ experiments

    def require_store(self) -> None:
        """Raise ``NotFound`` unless the root is a store: a folder holding a
        ``registry.yaml``, a ``site.yaml`` or at least one experiment (a folder with an
        ``experiment.yaml`` or a run). A mistyped ``--store`` must not check or publish
        nothing and call it a success."""
        root = self.root
        hint = "check --store (or $RUNSITE_STORE); `runsite init` makes a new store"
        if not root.exists():
            raise NotFound(f"{root}: no such folder, so not a runsite store; {hint}")
        if not root.is_dir():
            raise NotFound(f"{root} is not a folder, so not a runsite store; {hint}")
        if any((root / name).is_file() for name in (record.REGISTRY_YAML, "site.yaml")):
            return
        for exp in self._experiment_dirs():
            if (exp / record.EXPERIMENT_YAML).is_file():
                return
            with os.scandir(exp) as it:
                if any(os.path.isfile(os.path.join(e.path, record.RUN_JSON)) for e in it):
                    return
        raise NotFound(
            f"{root} is not a runsite store: it holds no {record.REGISTRY_YAML}, no site.yaml "
            f"and no experiment; {hint}"
        )

    def _experiment_dirs(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        out = []
        for p in sorted(self.root.iterdir()):
            if not p.is_dir() or p.name.startswith((".", "_")):
                continue
            if p.is_symlink() and not validate.inside(self.root, p):
                self._warn(f"{p}: a symlink that leads outside the store; skipped")
                continue
            out.append(p)
        return out

    def duplicate_ids(self) -> dict[str, list[str]]:
        """Run ids that more than one experiment holds a folder for (id → folders):
        such runs are rejected, since either could be an impostor."""
        if self._duplicates is None:
            listed = [(d.name, self._folders(d)[0]) for d in self._experiment_dirs()]
            self._duplicates = {}
            lists = [names for _, names in listed]
            if len(set().union(*lists)) != sum(map(len, lists)):  # (rare; no loop of ours)
                seen: dict[str, list[str]] = {}
                for exp, names in listed:
                    for name in names:
                        seen.setdefault(name, []).append(f"{exp}/{name}")
                self._duplicates = {k: v for k, v in seen.items() if len(v) > 1}
        return self._duplicates

    def _folders(self, exp_dir: Path) -> tuple[list[str], set[str]]:
        """The names of the folders of ``exp_dir`` not starting with '.', sorted, and
        which of them are symlinks: one ``scandir``, no ``stat`` per folder; during a
        ``_listing`` each experiment folder is read once (for the duplicates and for its
        runs)."""
        listed = self._listed.get(os.fspath(exp_dir)) if self._listed is not None else None
        if listed is None:
            with os.scandir(exp_dir) as it:
                entries = [e for e in it if e.name[:1] != "." and e.is_dir()]
            names = [e.name for e in entries]
            names.sort()
            listed = (names, {e.name for e in entries if e.is_symlink()})
            if self._listed is not None:
                self._listed[os.fspath(exp_dir)] = listed
        return listed

    def _run_folders(self, exp_dir: Path) -> list[str]:
        """The names of the folders of ``exp_dir`` that may hold a run (``_record`` says
        which do), as this runs for every run of a search."""
        names, links = self._folders(exp_dir)
        dups = self.duplicate_ids()
        if not dups and not links:
            return names
        out = []
        for name in names:
            path = os.path.join(exp_dir, name)
            if name in dups:
                self._warn(
                    f"run id {name} is claimed by {len(dups[name])} folders "
                    f"({', '.join(dups[name])}); a run id must be unique in the store, so "
                    "none of them is read"
                )
                continue
            if name in links and not validate.inside(exp_dir, Path(path)):
                self._warn(f"{path}: a symlink that leads outside its experiment; skipped")
                continue
            out.append(name)
        return out

    def _run_dirs(self, exp_dir: Path) -> list[str]:
        """The folders of ``exp_dir`` that may hold a run, as paths."""
        base = os.path.join(exp_dir, "")
        return [base + name for name in self._run_folders(exp_dir)]

    def _listing(self, dirs: list[Path]) -> list[tuple[str, str]]:
        """(folder, key) of every folder of the experiment folders ``dirs`` that may hold
        a run, in order. Kept in this process while the modification times of the store
        folder and of every experiment folder hold (adding, removing or renaming a run
        folder changes its experiment folder's), and only for folders last changed more
        than 2 s before they were listed: a change within the file system's timestamp
        granularity of a listing could otherwise go unseen (git's "racy" rule)."""
        every = self._experiment_dirs()
        try:
            stamps: tuple[int, ...] | None = tuple(
                os.stat(d).st_mtime_ns for d in [self.root, *every]
            )
        except OSError:
            stamps = None
        cache_key = (os.path.abspath(self.root), tuple(map(str, dirs)))
        hit = _LISTINGS.get(cache_key)
        if stamps is not None and hit is not None and hit[0] == stamps:
            for w in hit[2]:
                self._warn(w)
            return hit[1]
        saved, self.warnings = self.warnings, []
        self._listed = {}
        out: list[tuple[str, str]] = []
        try:
            for exp in dirs:
                base, exp_key = os.path.join(exp, ""), exp.name + "/"
                out += [(base + name, exp_key + name) for name in self._run_folders(exp)]
        finally:
            self._listed = None
            listed, self.warnings = self.warnings, saved
        for w in listed:
            self._warn(w)
        now = time.time_ns()
        if stamps is not None and all(now - m > 2_000_000_000 for m in stamps):
            _LISTINGS[cache_key] = (stamps, out, listed)
        return out

    def _not_a_run(self, path: str) -> None:
        # (An empty leftover, e.g. after a branch switch, is not worth a warning.)
        if any(f.is_file() for f in Path(path).rglob("*")):
            self._warn(f"{path}: folder without {record.RUN_JSON}; not a run, skipped")

    def _experiment(self, exp_dir: Path) -> Experiment:
        meta: dict[str, Any] = {}
        yml = exp_dir / record.EXPERIMENT_YAML
        if yml.is_file():
            from runsite import yamlio

            try:
                loaded = yamlio.load_safe(yml)
                meta = loaded if isinstance(loaded, dict) else {}
            except StoreFormatError as exc:
                self._warn(str(exc))
        name = meta.get("name")
        if not isinstance(name, str) or not name.strip():
            name = None
            for run_dir in self._run_dirs(exp_dir):
                rec = self._record(run_dir)
                if rec is not None:
                    name = rec.experiment
                    break
        tags = meta.get("tags") if isinstance(meta.get("tags"), dict) else {}
        return Experiment(
            experiment_id=exp_dir.name,
            name=name or exp_dir.name,
            path=str(exp_dir),
            description=str(meta.get("description") or ""),
            tags={str(k): str(v) for k, v in (tags or {}).items()},
            key_metric=meta.get("key_metric") if isinstance(meta.get("key_metric"), str) else None,
        )

    def experiments(self) -> list[Experiment]:
        """Every experiment (a folder in the store), sorted by folder name."""
        out = [self._experiment(d) for d in self._experiment_dirs()]
        self._save_cache()
        return out

    def _experiment_dirs_of(self, experiment: str | Iterable[str] | None) -> list[Path]:
        """The folders of one experiment, several, or (``None``) all."""
        if experiment is None:
            return self._experiment_dirs()
        if isinstance(experiment, str):
            return [self._experiment_dir(experiment)]
        return [self._experiment_dir(e) for e in experiment]

    def _experiment_dir(self, name: str) -> Path:
        for candidate in (name, _try_slug(name)):
            if candidate and (self.root / candidate).is_dir() and not candidate.startswith("."):
                return self.root / candidate
        known = ", ".join(d.name for d in self._experiment_dirs()) or "none"
        raise NotFound(f"no experiment {name!r} in store {self.root} (experiments: {known})")

    def experiment(self, name: str) -> Experiment:
        """An experiment by name or folder name."""
        return self._experiment(self._experiment_dir(name))

    def update_experiment(
        self,
        name: str,
        *,
        description: str | None = None,
        key_metric: str | None = None,
        display_name: str | None = None,
    ) -> Experiment:
        """Set the description (markdown) and/or the key metric of an existing experiment
        in its ``experiment.yaml``, keeping the file's comments and other keys. An empty
        string removes the key. Writing what is already there changes nothing on disk."""
        exp_dir = self._experiment_dir(name)
        changes: dict[str, Any] = {}
        if description is not None:
            if not isinstance(description, str):
                raise InvalidInput(
                    f"description must be a string, not {type(description).__name__}"
                )
            changes["description"] = (
                validate.check_text(description, 100_000, "description") or None
            )
        if key_metric is not None:
            changes["key_metric"] = (
                validate.check_key(key_metric, "key metric") if key_metric else None
            )
        if display_name is not None:
            changes["name"] = validate.check_name(display_name, "experiment name")
        if not changes:
            raise InvalidInput("nothing to change: give a description or a key metric")
        from runsite import yamlio

        yamlio.edit_mapping(exp_dir / record.EXPERIMENT_YAML, changes)
        return self._experiment(exp_dir)

    # ------------------------------------------------------------------ runs

    def runs(self, experiment: str | Iterable[str] | None = None) -> list[RunRecord]:
        """Runs of one experiment, several, or all; newest first."""
        dirs = self._experiment_dirs_of(experiment)
        out: list[RunRecord] = []
        live: set[str] | None = set() if experiment is None else None
        gc_was_enabled = gc.isenabled()
        gc.disable()  # tens of thousands of small dicts and no cycles: the GC only costs time
        listing = self._listing(dirs)
        index = self._run_index()
        try:
            memo = self._memo
            new = [(run_dir, key) for run_dir, key in listing if key not in memo]
            # the summaries of runs this process has not read yet, in one query; the
            # ended runs among them that the index holds unchanged, in one loop
            index.preload([key for _, key in new])
            rows = iter(zip(new, index.fresh_ended(new), strict=True))
            upcoming = next(rows, None)
            for run_dir, key in listing:
                rec = None
                if upcoming is not None and upcoming[0][1] == key:
                    p, upcoming = upcoming[1], next(rows, None)
                    summary = index.summary(p) if p is not None else None
                    if summary is not None:  # (what _record does for such a run)
                        rec = self._remember(key, run_dir, RunRecord(run_dir, summary), index)
                if rec is None:
                    rec = self._record(run_dir)
                if rec is not None:
                    out.append(rec)
                    if live is not None:
                        live.add(key)
            self._save_cache(live)
        finally:
            index.forget_preloaded()
            if gc_was_enabled:
                gc.enable()
        out.sort(key=lambda r: (r.start_time, r.run_id), reverse=True)
        return out

    def run(self, run_id: str) -> RunRecord:
        """One run by id (or an unambiguous prefix of at least 6 characters)."""
        if not isinstance(run_id, str) or len(run_id) < 6 or not run_id.isalnum():
            raise InvalidInput(f"{run_id!r} is not a run id (or a prefix of at least 6 characters)")
        run_id = run_id.lower()
        exact = [
            d / run_id for d in self._experiment_dirs() if (d / run_id / record.RUN_JSON).is_file()
        ]
        if len(exact) > 1:
            where = ", ".join(f"{p.parent.name}/{p.name}" for p in exact)
            raise StoreFormatError(
                f"run id {run_id} is claimed by {len(exact)} folders ({where}); a run id must "
                "be unique in the store, so neither is used"
            )
        matches = exact
        if not matches:
            for exp_dir in self._experiment_dirs():
                matches += [
                    p for p in exp_dir.glob(f"{run_id}*") if (p / record.RUN_JSON).is_file()
                ]
        if not matches:
            raise NotFound(f"no run {run_id!r} in store {self.root}")
        if len(matches) > 1:
            ids = ", ".join(sorted(p.name for p in matches)[:5])
            raise InvalidInput(f"run id prefix {run_id!r} is ambiguous: {ids}")
        if not validate.inside(self.root, matches[0]):
            raise StoreFormatError(
                f"run folder {matches[0]} is a symlink that leads outside the store; refused"
            )
        rec = self._record(str(matches[0]))
        self._save_cache()
        if rec is None:
            raise StoreFormatError(self.warnings[-1])
        return rec

    def search_runs(
        self,
        filter_string: str = "",
        order_by: Sequence[str] | None = None,
        experiment_names: Sequence[str] | None = None,
        max_results: int | None = None,
    ) -> list[RunRecord]:
        """Runs matching ``filter_string`` (grammar: docs/search.md), newest first
        unless ``order_by`` says otherwise.

        A filter is evaluated over the columns of the run index (docs/search.md,
        "Speed") when it can be, else run by run; the answer is the same."""
        from runsite import search

        # Bad input raises what the row evaluator raises, in the same order.
        search.search([], filter_string, order_by=order_by, max_results=max_results)
        query = filter_string or ""
        found = None
        if query.strip(" \t\n\r\f\v"):
            found = self._search_columns(query, experiment_names)
        if found is None:
            rows = [r.to_row() for r in self.runs(experiment_names)]
            found = search.filter_rows(rows, query)
        out = search.search(found, "", order_by=order_by, max_results=max_results)
        return [row["record"] for row in out]

    def scan(self, experiment: str | Sequence[str] | None = None) -> Scan:
        """Every run of the store (or of some experiments), checked against the run index
        without building a record for an ended run the index holds (what a filter over
        100,000 runs starts from); a run the index does not hold yet is read and added."""
        dirs = self._experiment_dirs_of(experiment)
        index = self._run_index()
        scan = Scan(index)
        live: set[str] | None = set() if experiment is None else None
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            listing = self._listing(dirs)
            rows = index.fresh_ended(listing)
            if None not in rows:  # (every run ended and unchanged: no loop of our own)
                scan.positions = cast(list[int], rows)
                scan.folders = [run_dir for run_dir, _ in listing]
                scan.keys = [key for _, key in listing]
                scan.order = list(range(1, len(listing) + 1))
                scan.live = set(scan.keys) if live is not None else None
                return scan
            order = 0
            for (run_dir, key), p in zip(listing, rows, strict=True):
                order += 1
                if p is None:
                    rec = self._record(run_dir)  # reads it (and indexes it) if needed
                    if rec is None:
                        continue
                    p = index.fresh(key, run_dir) if rec._recorded_status else None
                    if p is None or not index.ended[p]:
                        scan.others.append((order, rec))
                        if live is not None:
                            live.add(key)
                        continue
                if live is not None:
                    live.add(key)
                scan.positions.append(p)
                scan.folders.append(run_dir)
                scan.keys.append(key)
                scan.order.append(order)
            scan.live = live
        finally:
            if gc_was_enabled:
                gc.enable()
        return scan

    def _search_columns(
        self, query: str, experiment: Sequence[str] | None
    ) -> list[dict[str, Any]] | None:
        """The rows of the runs ``query`` keeps, newest first, evaluated over the index's
        columns for ended runs (open runs, whose status can change, go row by row); None
        when the filter needs the row evaluator."""
        from runsite import search

        scan = self.scan(experiment)
        index = scan.index
        try:
            kept = index.select(query, scan.positions)
        except IndexFileError as exc:  # (damaged under this process: it only costs time)
            log.debug("runsite: %s", exc)
            return None
        if kept is None:
            return None
        at = {p: i for i, p in enumerate(scan.positions)}
        found: list[tuple[int, RunRecord]] = []
        for p in kept:
            rec = self._record(scan.folders[at[p]])
            if rec is not None:
                found.append((scan.order[at[p]], rec))
        kept_set = set(kept)
        for p in index.has_warnings(scan.positions):
            if p not in kept_set:
                self._record(scan.folders[at[p]])  # (its warnings, as a full read reports)
        match = search.compile_filter(query)
        found += [(o, r) for o, r in scan.others if match(r.to_row())]
        self._save_cache(scan.live)
        found.sort(key=lambda item: item[0])
        records = [r for _, r in found]
        records.sort(key=lambda r: (r.start_time, r.run_id), reverse=True)
        return [r.to_row() for r in records]

    # ------------------------------------------------------------------ logging

    def start_run(
        self,
        experiment: str = "Default",
        run_name: str | None = None,
        tags: Mapping[str, Any] | None = None,
        description: str | None = None,
        parent_run_id: str | None = None,
        log_git: bool = True,
    ) -> Run:
        """Start a run in this store without touching runsite's global state (for
        libraries and threads): the returned ``Run`` has every ``log_*`` method."""
        from runsite.run import Run

        return Run(
            self.root,
            experiment,
            run_name=run_name,
            tags=tags,
            description=description,
            parent_run_id=parent_run_id,
            capture_git=log_git,
        )


def _try_slug(name: str) -> str | None:
    try:
        return validate.slugify(name)
    except InvalidInput:
        return None
