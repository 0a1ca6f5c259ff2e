"""Everything that touches DuckDB: SQL over Arrow tables and the store's Parquet files.

DuckDB is optional (``pip install 'runsite[sql]'``) and imported only here, only when a
query runs. The database is in memory and holds nothing but views: a query reads the
store and can change nothing in it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runsite.errors import InvalidInput, RunsiteError


@dataclass
class MetricFiles:
    """Metric points kept in ``metrics.parquet`` files (read by DuckDB directly, the run
    id taken from the folder name) plus points of open runs already in memory."""

    files: list[str]
    extra: Any = None  # a pyarrow Table with run_id, key, step, timestamp, value
    columns: list[str] = field(default_factory=lambda: ["key", "step", "timestamp", "value"])
    # Parquet files that already hold a run_id column (the consolidated metric cache)
    parts: list[str] = field(default_factory=list)


Source = Callable[[], Any]  # returns a pyarrow Table or MetricFiles
# <store>/<experiment>/<run-id>/metrics.parquet: the run folder is named by its id
_RUN_ID_OF_FILE = "regexp_extract(filename, '([^/\\\\]+)[/\\\\][^/\\\\]+$', 1)"


def _duckdb() -> Any:
    try:
        import duckdb
    except ImportError:
        raise RunsiteError(
            "runsite sql needs DuckDB, which is not installed: pip install 'runsite[sql]'"
        ) from None
    return duckdb


def _needed(duckdb: Any, sql: str, sources: Mapping[str, Source]) -> list[str]:
    """The views a query names (so a query over ``runs`` never reads a metric file);
    every view when the statement cannot be parsed on its own."""
    try:
        named = {n.lower() for n in duckdb.get_table_names(sql)}
    except duckdb.Error:
        return list(sources)
    return [name for name in sources if name in named]


def _register(con: Any, name: str, source: Any) -> None:
    if not isinstance(source, MetricFiles):
        con.register(name, source)
        return
    parts = []
    cols = ", ".join(f'"{c}"' for c in source.columns)
    if source.parts:
        con.register(f"_{name}_parts", con.read_parquet(source.parts))
        parts.append(f'SELECT "run_id", {cols} FROM _{name}_parts')
    if source.files:
        files = con.read_parquet(source.files, filename=True)
        con.register(f"_{name}_files", files)
        parts.append(f"SELECT {_RUN_ID_OF_FILE} AS run_id, {cols} FROM _{name}_files")
    if source.extra is not None:
        con.register(f"_{name}_open", source.extra)
        parts.append(f"SELECT * FROM _{name}_open")
    con.sql(f"CREATE VIEW {name} AS " + " UNION ALL BY NAME ".join(parts))


def connect(sql: str, sources: Mapping[str, Source]) -> Any:
    """An in-memory DuckDB connection with the views ``sql`` needs registered."""
    duckdb = _duckdb()
    con = duckdb.connect(":memory:")
    for name in _needed(duckdb, sql, sources):
        _register(con, name, sources[name]())
    return con


def _error(exc: Exception, sources: Mapping[str, Source]) -> InvalidInput:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    views = ", ".join(sources)
    return InvalidInput(f"SQL error: {first} (views: {views}; see docs/storage.md#sql)")


def query(sql: str, sources: Mapping[str, Source]) -> Any:
    """Run ``sql`` over the views ``sources`` names; the result as a pyarrow Table."""
    if not sql.strip():
        raise InvalidInput("SQL error: the query is empty")
    duckdb = _duckdb()
    try:
        con = connect(sql, sources)
        try:
            result = con.sql(sql)
            if result is None:  # a statement without rows (SET, CREATE VIEW …)
                from runsite import arrowio

                return arrowio.columns_table({}, {})
            return result.to_arrow_table()
        finally:
            con.close()
    except duckdb.Error as exc:
        raise _error(exc, sources) from None


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def export_parquet(sources: Mapping[str, Source], out_dir: Path) -> dict[str, int]:
    """Write every view as ``<out_dir>/<name>.parquet`` (zstd); returns rows per view.
    DuckDB streams each one, so the full metric history never has to fit in memory."""
    duckdb = _duckdb()
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    try:
        con = duckdb.connect(":memory:")
        try:
            for name, source in sources.items():
                _register(con, name, source())
                target = out_dir / f"{name}.parquet"
                tmp = out_dir / f".{name}.parquet.{os.getpid()}.tmp"
                con.sql(
                    f"COPY (SELECT * FROM {name}) TO {_literal(tmp)} "
                    "(FORMAT parquet, COMPRESSION zstd)"
                )
                os.replace(tmp, target)
                row = con.sql(f"SELECT count(*) FROM {name}").fetchall()[0]
                counts[name] = int(row[0]) if row else 0
        finally:
            con.close()
    except duckdb.Error as exc:
        raise _error(exc, sources) from None
    return counts


def consolidate(
    files: list[str], out: Path, drop_from: str | None = None, drop_ids: list[str] | None = None
) -> int:
    """Write one Parquet file (run_id, key, step, timestamp, value; zstd) holding the points
    of run ``files`` (``metrics.parquet`` files, the run id taken from the folder) and, with
    ``drop_from``, the rows of that earlier such file except runs ``drop_ids``.
    Written through a temporary file; returns its row count."""
    duckdb = _duckdb()
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    cols = '"key", "step", "timestamp", "value"'
    try:
        con = duckdb.connect(":memory:")
        try:
            selects = []
            if drop_from is not None:
                con.register("_dropped", _id_table(drop_ids or []))
                con.register("_earlier", con.read_parquet([drop_from]))
                selects.append(
                    f'SELECT "run_id", {cols} FROM _earlier '
                    'WHERE "run_id" NOT IN (SELECT "run_id" FROM _dropped)'
                )
            if files:
                con.register("_files", con.read_parquet(files, filename=True))
                selects.append(f"SELECT {_RUN_ID_OF_FILE} AS run_id, {cols} FROM _files")
            con.sql(
                "COPY (" + " UNION ALL ".join(selects) + f") TO {_literal(tmp)} "
                "(FORMAT parquet, COMPRESSION zstd)"
            )
            row = con.sql(f"SELECT count(*) FROM read_parquet({_literal(tmp)})").fetchall()[0]
        finally:
            con.close()
        os.replace(tmp, out)
        return int(row[0])
    except duckdb.Error as exc:
        raise OSError(f"could not write {out}: {exc}") from None
    finally:
        tmp.unlink(missing_ok=True)


def _id_table(ids: list[str]) -> Any:
    from runsite import arrowio

    return arrowio.columns_table({"run_id": ids}, {"run_id": "string"})
