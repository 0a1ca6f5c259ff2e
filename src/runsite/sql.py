"""The store as data: SQL views over runs, params, tags, metrics, inputs and registry
versions (``runsite sql``), and the same tables exported as Parquet for other engines.

::

    from runsite import sql

    table = sql.query("SELECT key, avg(value) FROM latest_metrics GROUP BY key", "runs")
    sql.export_parquet("exported/", "runs")   # exported/runs.parquet, params.parquet, …

The views answer what ``search_runs`` answers — same runs, same values: params and tags
are the strings search compares (MLflow's derived ``mlflow.*`` tags included),
``latest_metrics.value`` is the value ``metrics.<key>`` means in a filter — and a query
builds only the views it names. The full metric history (``metrics``) is read by DuckDB
straight from each closed run's ``metrics.parquet``. Times are milliseconds since the
epoch, as in the store (``epoch_ms(start_time)`` gives a timestamp). Needs
``pip install 'runsite[sql]'`` (DuckDB).
"""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runsite import arrowio, duckio, record, validate
from runsite.cache import JsonCache, store_cache_dir
from runsite.errors import InvalidInput
from runsite.store import RunRecord, Store

__all__ = ["VIEWS", "MetricCache", "export_parquet", "query", "sources"]

log = logging.getLogger("runsite")

# name -> (what one row is, column -> type). docs/storage.md documents each (a test checks).
VIEWS: dict[str, tuple[str, dict[str, str]]] = {
    "experiments": (
        "an experiment folder",
        {
            "experiment_id": "string",
            "name": "string",
            "description": "string",
            "key_metric": "string",
        },
    ),
    "runs": (
        "a run",
        {
            "run_id": "string",
            "run_name": "string",
            "experiment_id": "string",
            "experiment": "string",
            "status": "string",
            "start_time": "int64",
            "end_time": "int64",
            "duration_ms": "int64",
            "user": "string",
            "host": "string",
            "parent_run_id": "string",
            "git_commit": "string",
            "git_branch": "string",
            "git_dirty": "bool",
        },
    ),
    "params": ("a param of a run", {"run_id": "string", "key": "string", "value": "string"}),
    "tags": (
        "a tag of a run (with MLflow's derived mlflow.* tags)",
        {"run_id": "string", "key": "string", "value": "string"},
    ),
    "latest_metrics": (
        "a metric of a run, summarised",
        {
            "run_id": "string",
            "key": "string",
            "value": "float64",
            "min": "float64",
            "max": "float64",
            "count": "int64",
            "last_step": "int64",
        },
    ),
    "metrics": (
        "a metric point (the full history)",
        {
            "run_id": "string",
            "key": "string",
            "step": "int64",
            "timestamp": "int64",
            "value": "float64",
        },
    ),
    "inputs": (
        "a data input of a run",
        {
            "run_id": "string",
            "name": "string",
            "path": "string",
            "context": "string",
            "kind": "string",
            "hash": "string",
            "size": "int64",
            "format": "string",
            "rows": "int64",
        },
    ),
    "artifacts": (
        "an artifact file of a run",
        {
            "run_id": "string",
            "path": "string",
            "size": "int64",
            "sha256": "string",
            "url": "string",
        },
    ),
    "model_versions": (
        "a registered model version",
        {
            "name": "string",
            "version": "int64",
            "stage": "string",
            "aliases": "list<string>",
            "run_id": "string",
            "artifact": "string",
            "hash": "string",
            "registered": "string",
            "description": "string",
            "tags": "map<string,string>",
        },
    ),
}


def _int(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _str(v: Any) -> str | None:
    return None if v is None else str(v)


def _float(v: Any) -> float | None:
    if isinstance(v, int | float) and not isinstance(v, bool):
        return float(v)
    return record.decode_float(v) if isinstance(v, str) else None


def _build(name: str, rows: list[tuple[Any, ...]]) -> Any:
    types = VIEWS[name][1]
    columns = {c: [r[i] for r in rows] for i, c in enumerate(types)}
    return arrowio.columns_table(columns, types)


class _Tables:
    """Builds each view on first use from one read of the store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._runs: list[RunRecord] | None = None

    def runs_(self) -> list[RunRecord]:
        if self._runs is None:
            self._runs = self.store.runs()
        return self._runs

    def experiments(self) -> Any:
        rows = [
            (e.experiment_id, e.name, e.description, e.key_metric) for e in self.store.experiments()
        ]
        return _build("experiments", rows)

    def runs(self) -> Any:
        rows = []
        for r in self.runs_():
            git = r.git or {}
            rows.append(
                (
                    r.run_id,
                    r.run_name,
                    r.experiment_id,
                    r.experiment,
                    r.status,
                    r.start_time,
                    r.end_time,
                    r.duration,
                    r.user or None,
                    r.host or None,
                    r.parent_run_id,
                    _str(git.get("commit")),
                    _str(git.get("branch")),
                    git.get("dirty") if isinstance(git.get("dirty"), bool) else None,
                )
            )
        return _build("runs", rows)

    def params(self) -> Any:
        rows = [
            (r.run_id, k, validate.canonical_str(v))
            for r in self.runs_()
            for k, v in r.params.items()
        ]
        return _build("params", rows)

    def tags(self) -> Any:
        rows = [(r.run_id, k, v) for r in self.runs_() for k, v in r.all_tags.items()]
        return _build("tags", rows)

    def latest_metrics(self) -> Any:
        rows = [
            (
                r.run_id,
                k,
                _float(m.get("last")),
                _float(m.get("min")),
                _float(m.get("max")),
                _int(m.get("count")),
                _int(m.get("last_step")),
            )
            for r in self.runs_()
            for k, m in r.metrics.items()
        ]
        return _build("latest_metrics", rows)

    def metrics(self) -> duckio.MetricFiles:
        """Closed runs' ``metrics.parquet`` files (through the consolidated cache, see
        ``MetricCache``) and the points of every other run, read into memory."""
        wanted: dict[str, str] = {}  # MetricCache entry -> metrics.parquet
        loose: list[str] = []  # metrics.parquet of runs still open: never consolidated
        open_points = []

        def points(rec: RunRecord | None) -> None:
            if rec is not None:
                open_points.append(arrowio.with_run_id(rec.metrics_table(), rec.run_id))

        scan = self.store.scan()
        run_ids = scan.index.values("a:run_id", scan.positions)
        name, jsonl, regular = record.METRICS_PARQUET, record.METRICS_JSONL, stat.S_ISREG
        for folder, key, run_id in zip(scan.folders, scan.keys, run_ids, strict=True):
            parquet = f"{folder}/{name}"
            try:
                st = os.stat(parquet)
            except FileNotFoundError:
                if os.path.isfile(f"{folder}/{jsonl}"):
                    points(self.store.record_at(folder))
                continue
            # (the run id is the folder's name: DuckDB and the parts take it from there)
            if run_id == key[key.rfind("/") + 1 :] and regular(st.st_mode):
                wanted[f"{key} {st.st_size}:{st.st_mtime_ns}"] = parquet
            else:
                points(self.store.record_at(folder))
        for _, r in scan.others:
            parquet = os.path.join(r.path, record.METRICS_PARQUET)
            if r.run_id == r.path.name and os.path.isfile(parquet):
                loose.append(parquet)
            elif r.metrics or os.path.isfile(os.path.join(r.path, record.METRICS_JSONL)):
                points(r)
        scan.save()
        parts, files = MetricCache(self.store).files(wanted)
        empty = arrowio.with_run_id(arrowio.empty_metrics(), "")
        return duckio.MetricFiles(files + loose, arrowio.concat(open_points, empty), parts=parts)

    def inputs(self) -> Any:
        rows = [
            (
                r.run_id,
                _str(i.get("name")),
                _str(i.get("path")),
                _str(i.get("context")),
                _str(i.get("kind")),
                _str(i.get("hash")),
                _int(i.get("size")),
                _str(i.get("format")),
                _int(i.get("rows")),
            )
            for r in self.runs_()
            for i in r.inputs
        ]
        return _build("inputs", rows)

    def artifacts(self) -> Any:
        rows = [
            (
                r.run_id,
                _str(a.get("path")),
                _int(a.get("size")),
                _str(a.get("sha256")),
                _str(a.get("url")),
            )
            for r in self.runs_()
            for a in r.artifacts
        ]
        return _build("artifacts", rows)

    def model_versions(self) -> Any:
        from runsite.registry.api import Registry

        reg = Registry(self.store)
        rows = []
        if reg.path.is_file():
            for m in reg.list_models():
                for v in m.versions:
                    rows.append(
                        (
                            v.name,
                            v.version,
                            v.stage,
                            list(v.aliases),
                            v.run_id,
                            v.artifact,
                            v.hash,
                            v.registered,
                            v.description,
                            list(v.tags.items()),
                        )
                    )
        return _build("model_versions", rows)


class MetricCache:
    """The metric history of closed runs consolidated into a few Parquet files in the
    store's cache folder (``metrics-v2/``: ``part-*.parquet`` with a run_id column, and
    ``manifest.json``: part → its row count and the runs it holds), so DuckDB scans one
    dataset instead of a file per run. Brought up to date before each use: a part that
    holds a run that changed or is gone is rewritten without it, and runs not in a part
    yet go into a new one. What cannot be written (a read-only cache) is read from the
    runs' own files, so the answer never depends on the cache.

    A run is listed as an *entry*, ``"<experiment folder>/<run folder> <size>:<mtime_ns>"``
    of its ``metrics.parquet`` (the run folder is named by the run id). A part is used
    while every entry it lists is one of the entries asked for: one set comparison per
    part, not a Python call per run (this runs for 100,000 runs per query)."""

    DIR = "metrics-v2"  # v2: the entries listed per part (v1: a dict of runs)
    FORMAT = 2
    PART_RUNS = 5000  # runs per new part: a later rewrite of one part stays small
    KEEP_ORPHANS_S = 600  # parts no manifest names yet may be another process's, mid-write

    def __init__(self, store: Store) -> None:
        self.dir = store_cache_dir(store.root) / self.DIR
        self.manifest = JsonCache(self.dir / "manifest.json", "metric cache")

    def files(self, wanted: dict[str, str]) -> tuple[list[str], list[str]]:
        """(parts, loose files) that together hold exactly the points of ``wanted``
        (entry → that run's metrics.parquet)."""
        parts = self._parts()
        used, covered = self._usable(parts, wanted)
        if len(used) < len(parts) or len(covered) < len(wanted):
            try:
                self._update(parts, wanted, used, covered)
            except OSError as exc:
                log.debug("runsite: the metric cache %s is not updated: %s", self.dir, exc)
            used, covered = self._usable(parts, wanted)
        # (the parts used list only entries of ``wanted``: equal counts, nothing loose)
        loose = (
            [f for e, f in wanted.items() if e not in covered] if len(covered) < len(wanted) else []
        )
        return [str(self.dir / p) for p in sorted(used)], loose

    def _parts(self) -> dict[str, dict[str, Any]]:
        """The manifest's parts (name → {"rows", "runs"}); none when it is not one this
        version wrote, or when two parts list one entry (its points would count twice)."""
        data = self.manifest.data
        parts = data.get("parts") if data.get("format") == self.FORMAT else None
        try:
            if not isinstance(parts, dict) or not all(
                type(p) is dict and type(p.get("rows")) is int and type(p.get("runs")) is list
                for p in parts.values()
            ):
                raise TypeError
            runs = [p["runs"] for p in parts.values()]
            for listed in runs:
                "".join(listed)  # (every entry a string: join says so without a loop of ours)
            if len(set().union(*runs)) != sum(map(len, runs)):
                raise TypeError
        except TypeError:
            parts = {}
        data.clear()
        data["format"], data["parts"] = self.FORMAT, parts
        return parts

    def _usable(
        self, parts: dict[str, dict[str, Any]], wanted: dict[str, str]
    ) -> tuple[set[str], set[str]]:
        """The parts that list only entries asked for and are whole (the footer's row
        count as written: a part replaced or cut is not used), and the entries they list."""
        used: set[str] = set()
        covered: set[str] = set()
        for name, p in parts.items():
            runs = set(p["runs"])
            if wanted.keys() >= runs and arrowio.parquet_rows(self.dir / name) == p["rows"]:
                used.add(name)
                covered |= runs
        return used, covered

    def _update(
        self,
        parts: dict[str, dict[str, Any]],
        wanted: dict[str, str],
        used: set[str],
        covered: set[str],
    ) -> None:
        """Rewrite the parts not ``used`` without the runs not ``wanted`` and put the
        runs not ``covered`` into new parts (``parts`` follows)."""
        stale = [name for name in parts if name not in used]
        self.dir.mkdir(parents=True, exist_ok=True)
        for name in stale:
            p = parts.pop(name)
            self.manifest.dirty = True
            keep = [e for e in p["runs"] if e in wanted]
            if keep and arrowio.parquet_rows(self.dir / name) == p["rows"]:
                drop = [self.run_id(e) for e in p["runs"] if e not in wanted]
                new = self._part_name()
                rows = duckio.consolidate([], self.dir / new, str(self.dir / name), drop)
                parts[new] = {"rows": rows, "runs": keep}
                covered.update(keep)
        todo = [e for e in wanted if e not in covered]  # (in the listing's order)
        for i in range(0, len(todo), self.PART_RUNS):
            chunk = todo[i : i + self.PART_RUNS]
            new = self._part_name()
            parts[new] = {
                "rows": duckio.consolidate([wanted[e] for e in chunk], self.dir / new),
                "runs": chunk,
            }
            self.manifest.dirty = True
        self.manifest.save()
        self._remove_orphans(set(parts))

    @staticmethod
    def run_id(entry: str) -> str:
        """The run id of an entry: its run folder's name."""
        key = entry.rpartition(" ")[0]
        return key[key.rfind("/") + 1 :]

    def _part_name(self) -> str:
        return f"part-{time.time_ns():x}-{os.getpid()}.parquet"

    def _remove_orphans(self, used: set[str]) -> None:
        now = time.time()
        for path in self.dir.glob("part-*.parquet"):
            try:
                if path.name not in used and now - path.stat().st_mtime > self.KEEP_ORPHANS_S:
                    path.unlink()
            except OSError:
                pass


def _store(store: str | os.PathLike[str] | Store | None) -> Store:
    st = store if isinstance(store, Store) else Store(store)
    if not st.root.is_dir():
        raise InvalidInput(f"no store at {st.root} (give --store PATH)")
    return st


def sources(store: str | os.PathLike[str] | Store | None = None) -> dict[str, Callable[[], Any]]:
    """View name → a function building it (each reads the store at most once)."""
    tables = _Tables(_store(store))
    return {name: getattr(tables, name) for name in VIEWS}


def query(sql: str, store: str | os.PathLike[str] | Store | None = None) -> Any:
    """The result of ``sql`` over the store's views, as a pyarrow Table.

    Example: ``query("SELECT run_id FROM latest_metrics WHERE key = 'rmse' AND value < 6")``
    answers what ``search_runs("metrics.rmse < 6")`` answers.
    """
    return duckio.query(sql, sources(store))


def export_parquet(
    out_dir: str | os.PathLike[str], store: str | os.PathLike[str] | Store | None = None
) -> dict[str, int]:
    """Write every view as ``<out_dir>/<view>.parquet`` (Spark, pandas, Polars, another
    DuckDB read them); returns the row count of each. The folder may not be inside the
    store."""
    st = _store(store)
    out = Path(out_dir)
    if validate.inside(st.root, out) or out.resolve() == st.root.resolve():
        raise InvalidInput(f"export folder {out} is inside the store {st.root}: choose another")
    return duckio.export_parquet(sources(st), out)


def rows(table: Any) -> list[dict[str, Any]]:
    """A query result as a list of dicts (maps as dicts)."""
    return arrowio.table_rows(table)
