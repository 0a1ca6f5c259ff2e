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
        wanted: dict[str, tuple[str, str, str]] = {}  # key -> (run_id, stamp, file)
        open_points = []

        def points(rec: RunRecord | None) -> None:
            if rec is not None:
                open_points.append(arrowio.with_run_id(rec.metrics_table(), rec.run_id))

        scan = self.store.scan()
        run_ids = scan.index.values("a:run_id", scan.positions)
        for folder, key, run_id in zip(scan.folders, scan.keys, run_ids, strict=True):
            parquet = os.path.join(folder, record.METRICS_PARQUET)
            try:
                st = os.stat(parquet)
            except FileNotFoundError:
                if os.path.isfile(os.path.join(folder, record.METRICS_JSONL)):
                    points(self.store.record_at(folder))
                continue
            if run_id == key[key.rfind("/") + 1 :] and stat.S_ISREG(st.st_mode):
                wanted[key] = (run_id, f"{st.st_size}:{st.st_mtime_ns}", parquet)
            else:
                points(self.store.record_at(folder))
        for _, r in scan.others:
            parquet = os.path.join(r.path, record.METRICS_PARQUET)
            if r.run_id == r.path.name and os.path.isfile(parquet):
                wanted[Store.folder_key(str(r.path))] = (r.run_id, "open", parquet)
            elif r.metrics or os.path.isfile(os.path.join(r.path, record.METRICS_JSONL)):
                points(r)
        scan.save()
        parts, files = MetricCache(self.store).files(wanted)
        empty = arrowio.with_run_id(arrowio.empty_metrics(), "")
        return duckio.MetricFiles(files, arrowio.concat(open_points, empty), parts=parts)

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
    store's cache folder (``metrics-v1/``: ``part-*.parquet`` with a run_id column, and
    ``manifest.json``: run → run id, stamp of its ``metrics.parquet``, part), so DuckDB
    scans one dataset instead of a file per run. Brought up to date before each use: a
    part that holds a run that changed or is gone is rewritten without it, and runs not
    in a part yet go into a new one. What cannot be written (a read-only cache) is read
    from the runs' own files, so the answer never depends on the cache."""

    DIR = "metrics-v1"
    PART_RUNS = 5000  # runs per new part: a later rewrite of one part stays small
    KEEP_ORPHANS_S = 600  # parts no manifest names yet may be another process's, mid-write

    def __init__(self, store: Store) -> None:
        self.dir = store_cache_dir(store.root) / self.DIR
        self.manifest = JsonCache(self.dir / "manifest.json", "metric cache")

    def files(self, wanted: dict[str, tuple[str, str, str]]) -> tuple[list[str], list[str]]:
        """(parts, loose files) that together hold exactly the points of ``wanted``
        (key → (run id, stamp, metrics.parquet)); stamp "open" is never consolidated."""
        runs = self._runs()
        sizes = self._sizes()
        exists: dict[str, bool] = {}

        def part_ok(part: str) -> bool:
            # (the footer's row count as written: a part replaced or cut is not used)
            if part not in exists:
                rows = arrowio.parquet_rows(self.dir / part) if part in sizes else None
                exists[part] = rows is not None and rows == sizes[part]
            return exists[part]

        def invalid() -> set[str]:
            # (one loop, no call per run: this runs for each of 100,000 runs per query)
            out = set()
            get = wanted.get
            for key, entry in runs.items():
                w = get(key)
                if w is None or w[0] != entry[0] or w[1] != entry[1] or not part_ok(entry[2]):
                    out.add(key)
            return out

        try:
            self._update(runs, sizes, wanted, invalid())
        except OSError as exc:
            log.debug("runsite: the metric cache %s is not updated: %s", self.dir, exc)
        exists.clear()
        bad = invalid()
        bad_parts = {runs[k][2] for k in bad}
        covered = {k for k, e in runs.items() if e[2] not in bad_parts} if bad_parts else runs
        loose = [w[2] for k, w in wanted.items() if k not in covered]
        parts = sorted({e[2] for e in runs.values()} - bad_parts)
        return [str(self.dir / p) for p in parts], loose

    def _runs(self) -> dict[str, list[Any]]:
        data = self.manifest.data
        runs, sizes = data.get("runs"), data.get("parts")
        if (
            not isinstance(runs, dict)
            or not isinstance(sizes, dict)
            or not all(
                type(e) is list
                and len(e) == 3
                and type(e[0]) is str
                and type(e[1]) is str
                and type(e[2]) is str
                for e in runs.values()
            )
            or not all(isinstance(n, int) for n in sizes.values())
        ):
            runs, sizes = {}, {}
        data.clear()
        data["runs"], data["parts"] = runs, sizes
        return runs

    def _sizes(self) -> dict[str, int]:
        sizes: dict[str, int] = self.manifest.data["parts"]
        return sizes

    def _update(
        self,
        runs: dict[str, list[Any]],
        sizes: dict[str, int],
        wanted: dict[str, tuple[str, str, str]],
        stale: set[str],
    ) -> None:
        new = [k for k, w in wanted.items() if w[1] != "open" and (k not in runs or k in stale)]
        if not stale and not new:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        by_part: dict[str, list[str]] = {}
        for k in [k for k in runs if k in stale]:  # (in the manifest's order)
            by_part.setdefault(runs[k][2], []).append(k)
        for part, keys in by_part.items():
            drop = set(keys)
            remaining = [k for k, e in runs.items() if e[2] == part and k not in drop]
            if remaining and os.path.isfile(self.dir / part):
                name = self._part_name()
                drop_ids = [runs[k][0] for k in keys]
                sizes[name] = duckio.consolidate(
                    [], self.dir / name, str(self.dir / part), drop_ids
                )
                for k in remaining:
                    runs[k][2] = name
            else:
                new += [k for k in remaining if k in wanted and wanted[k][1] != "open"]
            for k in keys:
                del runs[k]
            self.manifest.dirty = True
        new = list(dict.fromkeys(new))
        for i in range(0, len(new), self.PART_RUNS):
            chunk = new[i : i + self.PART_RUNS]
            name = self._part_name()
            sizes[name] = duckio.consolidate([wanted[k][2] for k in chunk], self.dir / name)
            for k in chunk:
                runs[k] = [wanted[k][0], wanted[k][1], name]
            self.manifest.dirty = True
        used = {e[2] for e in runs.values()}
        for name in list(sizes):
            if name not in used:
                del sizes[name]
        self.manifest.save()
        self._remove_orphans(used)

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
