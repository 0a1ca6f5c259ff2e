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

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runsite import arrowio, duckio, record, validate
from runsite.errors import InvalidInput
from runsite.store import RunRecord, Store

__all__ = ["VIEWS", "export_parquet", "query", "sources"]

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
        files: list[str] = []
        open_points = []
        for r in self.runs_():
            parquet = os.path.join(r.path, record.METRICS_PARQUET)
            if r.run_id == r.path.name and os.path.isfile(parquet):
                files.append(parquet)
            elif r.metrics or os.path.isfile(os.path.join(r.path, record.METRICS_JSONL)):
                open_points.append(arrowio.with_run_id(r.metrics_table(), r.run_id))
        empty = arrowio.with_run_id(arrowio.empty_metrics(), "")
        return duckio.MetricFiles(files, arrowio.concat(open_points, empty))

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
