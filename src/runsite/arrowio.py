"""Everything that touches pyarrow: metric tables, compaction to Parquet, data schemas.

Imported only when a feature needs it, so ``import runsite`` and ``log_metric`` never
pay for pyarrow.
"""

from __future__ import annotations

import array
import io
import math
import os
from pathlib import Path
from typing import Any, TypeAlias

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson
import pyarrow.parquet as pq

from runsite import record
from runsite.errors import StoreFormatError

# For annotations elsewhere: ``if TYPE_CHECKING: from runsite.arrowio import Table``.
Table: TypeAlias = pa.Table

METRIC_SCHEMA = pa.schema(
    [
        ("key", pa.string()),
        ("step", pa.int64()),
        ("timestamp", pa.int64()),
        ("value", pa.float64()),
    ]
)
_JSONL_SCHEMA = pa.schema(
    [
        ("k", pa.string()),
        ("v", pa.float64()),
        ("s", pa.int64()),
        ("t", pa.int64()),
        ("x", pa.string()),
    ]
)


def _empty(schema: pa.Schema) -> pa.Table:
    # (not ``schema.empty_table()``: that, like ``pa.array`` of a list, imports pandas)
    return pa.Table.from_arrays([pa.nulls(0, f.type) for f in schema], schema=schema)


def empty_metrics() -> pa.Table:
    return _empty(METRIC_SCHEMA)


def _from_points(points: list[tuple[str, float, int, int]]) -> pa.Table:
    keys, values, steps, stamps = zip(*points, strict=True) if points else ((), (), (), ())
    return pa.table(
        {"key": list(keys), "step": list(steps), "timestamp": list(stamps), "value": list(values)},
        schema=METRIC_SCHEMA,
    )


def read_metrics_jsonl(path: Path, warnings: list[str]) -> pa.Table:
    """Read ``metrics.jsonl`` into a table; a torn last line is skipped and reported."""
    try:
        data = record.read_run_file(path, 1 << 62)  # (a regular file; any size)
    except FileNotFoundError:
        return empty_metrics()
    except StoreFormatError as exc:
        warnings.append(f"{exc}; not read")
        return empty_metrics()
    cut = data.rfind(b"\n") + 1
    if data[cut:].strip():
        warnings.append(
            f"{path}: last line is incomplete (the process was probably killed while "
            f"writing it); skipped {len(data) - cut} bytes"
        )
    body = data[:cut]
    if not body.strip():
        return empty_metrics()
    try:
        raw = pajson.read_json(
            io.BytesIO(body),
            parse_options=pajson.ParseOptions(
                explicit_schema=_JSONL_SCHEMA, unexpected_field_behavior="ignore"
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # A damaged line somewhere: the slow path reads line by line and reports it.
        return _from_points(list(record.iter_metric_points(path, warnings)))
    values = raw.column("v")
    special = raw.column("x")
    if special.null_count < len(special):
        # "NaN" / "Infinity" / "-Infinity": Arrow's string cast reads exactly these.
        # (Compute kernels only: building arrays from Python lists would import pandas,
        # which fails when the exit hook ends a run during interpreter shutdown.)
        try:
            values = pc.if_else(pc.is_null(special), values, pc.cast(special, pa.float64()))
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # an "x" that is not one of those
            return _from_points(list(record.iter_metric_points(path, warnings)))
    ts = raw.column("t")
    span = pc.min_max(ts).as_py()  # (no Python scalars in kernels: they import pandas)
    if (span["min"] is not None and span["min"] < record.MIN_TIME_MS) or (
        span["max"] is not None and span["max"] > record.MAX_TIME_MS
    ):  # a time out of range somewhere: the slow path skips and reports it
        return _from_points(list(record.iter_metric_points(path, warnings)))
    invalid = pc.or_(
        pc.or_(pc.is_null(raw.column("k")), pc.is_null(raw.column("s"))), pc.is_null(values)
    )
    bad = pc.sum(invalid).as_py()
    table = pa.table(
        {
            "key": raw.column("k"),
            "step": raw.column("s"),
            "timestamp": ts,
            "value": values,
        },
    )
    if bad:
        warnings.append(f"{path}: {bad} records are not metric points; skipped")
        table = table.filter(pc.invert(invalid))
    return table.cast(METRIC_SCHEMA)


def sort_metrics(table: pa.Table) -> pa.Table:
    """Order by key, step, timestamp, then value (so the last point of a key is MLflow's
    "latest": the largest step, timestamp and value, in that order)."""
    if table.num_rows == 0:
        return table
    keys = [(k, "ascending") for k in ("key", "step", "timestamp", "value")]
    return table.take(pc.sort_indices(table, sort_keys=keys))


def summarize(table: pa.Table, presorted: bool = False) -> dict[str, dict[str, Any]]:
    """Per key: last (highest step, then largest timestamp, then largest value), min, max
    (NaN skipped), count, last_step.

    Plain compute kernels over the key runs of the sorted table (no ``group_by``: its
    Acero engine cannot start while the interpreter shuts down, where the exit hook
    ends a forgotten run)."""
    if table.num_rows == 0:
        return {}
    t = table if presorted else sort_metrics(table)
    keys = t["key"].combine_chunks()
    values = t["value"].combine_chunks()
    steps = t["step"].combine_chunks()
    n = len(keys)
    changes = pc.indices_nonzero(pc.not_equal(keys.slice(1), keys.slice(0, n - 1))).to_pylist()
    starts = [0] + [i + 1 for i in changes]
    ends = [*starts[1:], n]
    out: dict[str, dict[str, Any]] = {}
    for start, end in zip(starts, ends, strict=True):
        segment = values.slice(start, end - start)
        mm = pc.min_max(segment).as_py()  # skips NaN; None when every value is NaN
        out[keys[start].as_py()] = {
            "last": values[end - 1].as_py(),
            "min": mm["min"] if mm["min"] is not None else math.nan,
            "max": mm["max"] if mm["max"] is not None else math.nan,
            "count": end - start,
            "last_step": steps[end - 1].as_py(),
        }
    return out


def write_metrics_parquet(table: pa.Table, path: Path) -> None:
    """Write compacted metrics: zstd, steps and times delta-encoded, values byte-split.

    Byte-stream-split puts the exponent and high mantissa bytes of neighbouring points
    together so zstd finds the repetition in smooth training curves.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        _write_parquet(table, tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)  # (disk full: give the space back; JSONL is kept)
        raise
    os.replace(tmp, path)


def _write_parquet(table: pa.Table, tmp: Path) -> None:
    pq.write_table(
        table,
        tmp,
        compression="zstd",
        compression_level=9,
        use_dictionary=["key"],
        column_encoding={
            "step": "DELTA_BINARY_PACKED",
            "timestamp": "DELTA_BINARY_PACKED",
            "value": "BYTE_STREAM_SPLIT",
        },
        write_statistics=["key", "step"],
        row_group_size=1 << 20,
    )


def compact(run_dir: Path, warnings: list[str]) -> dict[str, dict[str, Any]]:
    """Turn ``metrics.jsonl`` into ``metrics.parquet``; returns the metric summary.

    Nothing is lost: lines that are not metric points (damaged, torn, of a newer format)
    are kept verbatim in ``metrics.rejected.jsonl`` before ``metrics.jsonl`` goes, and a
    warning says how many; any failure on the way raises with ``metrics.jsonl`` kept."""
    jsonl = run_dir / record.METRICS_JSONL
    if jsonl.is_symlink() or not jsonl.is_file():  # (never written by runsite: left alone)
        return {}
    seen = len(warnings)
    table = read_metrics_jsonl(jsonl, warnings)
    if len(warnings) > seen:  # something was skipped: split line by line, keep the rest
        points, rejected = record.split_metric_lines(record.read_run_file(jsonl, 1 << 62))
        table = _from_points(points)
        if rejected:
            from runsite.atomic import write_atomic

            kept = run_dir / record.METRICS_REJECTED
            old = kept.read_bytes() if kept.is_file() and not kept.is_symlink() else b""
            write_atomic(kept, old + b"".join(rejected), mkdir=False)
            warnings.append(
                f"{jsonl}: {len(rejected)} lines are not metric points; kept verbatim in "
                f"{kept} ({len(points)} points went to {record.METRICS_PARQUET})"
            )
    table = sort_metrics(table)
    if table.num_rows:
        write_metrics_parquet(table, run_dir / record.METRICS_PARQUET)
    summary = summarize(table, presorted=True)
    jsonl.unlink()
    return summary


def write_points(run_dir: Path, points: list[tuple[str, float, int, int]]) -> dict[str, Any]:
    """Write the points of a closed run straight to ``metrics.parquet`` (an imported run:
    nothing was appended while it ran); returns the metric summary."""
    table = sort_metrics(_from_points(points))
    if table.num_rows:
        write_metrics_parquet(table, run_dir / record.METRICS_PARQUET)
    return summarize(table, presorted=True)


def read_metrics(run_dir: Path, warnings: list[str]) -> pa.Table:
    """The full metric history of a run, whichever form it is in."""
    parquet = run_dir / record.METRICS_PARQUET
    if parquet.is_symlink() or (parquet.exists() and not parquet.is_file()):
        warnings.append(f"{parquet} is not a regular file; not read")
    elif parquet.exists():
        try:
            return pq.ParquetFile(parquet).read().cast(METRIC_SCHEMA)
        except (pa.ArrowInvalid, OSError) as exc:
            warnings.append(f"{parquet}: cannot be read ({exc}); trying metrics.jsonl")
    return read_metrics_jsonl(run_dir / record.METRICS_JSONL, warnings)


def table_info(path: Path) -> dict[str, Any] | None:
    """Schema and row count of a CSV or Parquet file, or ``None`` for other files."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        meta = pq.ParquetFile(path).metadata
        schema = meta.schema.to_arrow_schema()
        return {"format": "parquet", "rows": meta.num_rows, "schema": _schema_dict(schema)}
    if suffix in (".csv", ".tsv"):
        import pyarrow.csv as pacsv

        parse = pacsv.ParseOptions(delimiter="\t" if suffix == ".tsv" else ",")
        reader = pacsv.open_csv(path, parse_options=parse)
        rows = 0
        for batch in reader:
            rows += batch.num_rows
        return {"format": suffix[1:], "rows": rows, "schema": _schema_dict(reader.schema)}
    return None


def _schema_dict(schema: pa.Schema) -> dict[str, str]:
    return {f.name: str(f.type) for f in schema}


def read_data(path: Path) -> pa.Table:
    """A CSV, TSV or Parquet data file as a table; anything else is refused clearly."""
    from runsite.errors import InvalidInput, NotFound

    suffix = path.suffix.lower()
    if not path.is_file():
        raise NotFound(f"data file {path} does not exist")
    if suffix not in (".csv", ".tsv", ".parquet"):
        raise InvalidInput(
            f"{path} is not tabular data runsite reads: give a .csv, .tsv or .parquet file"
        )
    try:
        if suffix == ".parquet":
            return pq.read_table(path)
        import pyarrow.csv as pacsv

        parse = pacsv.ParseOptions(delimiter="\t" if suffix == ".tsv" else ",")
        return pacsv.read_csv(path, parse_options=parse)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInput(f"{path} cannot be read as {suffix[1:]}: {exc}") from None


def table_columns(table: pa.Table) -> dict[str, Any]:
    """Column name → numpy array (numbers) or list (anything else)."""
    out: dict[str, Any] = {}
    for name in table.column_names:
        col = table.column(name)
        if pa.types.is_integer(col.type) or pa.types.is_floating(col.type):
            if col.null_count and pa.types.is_integer(col.type):
                col = col.cast(pa.float64())
            out[name] = col.to_numpy()
        else:
            out[name] = col.to_pylist()
    return out


def table_records(table: pa.Table) -> list[dict[str, Any]]:
    return table.to_pylist()


def table_frame(table: pa.Table) -> Any:
    return table.to_pandas()


def metric_rows(table: pa.Table, key: str) -> pa.Table:
    """The points of one metric ``key`` in a metric table (order kept)."""
    return table.filter(pc.equal(table["key"], key))


def metrics_by_key(table: pa.Table) -> list[tuple[str, pa.Table]]:
    """Each metric key of a metric table (sorted) with its points (order kept)."""
    if table.num_rows == 0:
        return []
    keys = sorted(pc.unique(table["key"]).to_pylist())
    return [(key, metric_rows(table, key)) for key in keys]


def parquet_bytes(columns: dict[str, list[Any]]) -> bytes:
    """A Parquet file of these columns, as bytes (``log_table(..., "x.parquet")``)."""
    out = io.BytesIO()
    pq.write_table(pa.table(columns), out)
    return out.getvalue()


def parquet_columns(data: bytes) -> dict[str, list[Any]]:
    """The columns of a Parquet file's bytes (a table ``log_table`` appends to)."""
    return pq.read_table(io.BytesIO(data)).to_pydict()


# ---------------------------------------------------------------------- the store as tables

_TYPES: dict[str, Any] = {
    "string": pa.string(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
    "list<string>": pa.list_(pa.string()),
    "map<string,string>": pa.map_(pa.string(), pa.string()),
}


def columns_table(columns: dict[str, list[Any]], types: dict[str, str]) -> pa.Table:
    """A table from Python columns with the named types (``string``, ``int64``,
    ``float64``, ``bool``, ``list<string>``, ``map<string,string>``)."""
    schema = pa.schema([(name, _TYPES[t]) for name, t in types.items()])
    arrays = [pa.array(columns[name], type=_TYPES[t]) for name, t in types.items()]
    return pa.Table.from_arrays(arrays, schema=schema)


def with_run_id(table: pa.Table, run_id: str) -> pa.Table:
    """Metric points of one run with a leading ``run_id`` column."""
    n = table.num_rows
    ids = pa.array([run_id] * n, type=pa.string()) if n else pa.nulls(0, pa.string())
    return pa.Table.from_arrays([ids, *table.columns], names=["run_id", *table.column_names])


def concat(tables: list[pa.Table], schema_of: pa.Table) -> pa.Table:
    if not tables:
        return _empty(schema_of.schema)
    return pa.concat_tables(tables)


def write_parquet(table: pa.Table, path: Path) -> None:
    """An exported table: zstd, written through a temporary file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)


def table_rows(table: pa.Table) -> list[dict[str, Any]]:
    """Rows as dicts; a map value becomes a dict."""
    rows = table.to_pylist()
    maps = [f.name for f in table.schema if pa.types.is_map(f.type)]
    for row in rows if maps else ():
        for name in maps:
            if row[name] is not None:
                row[name] = dict(row[name])
    return rows


def predictions_table(preds: Any) -> pa.Table:
    """Model output as a table: a DataFrame keeps its columns, a 1-D result is the column
    ``prediction``, a 2-D one ``prediction_0``, ``prediction_1``, …"""
    if hasattr(preds, "columns") and hasattr(preds, "to_dict"):  # a pandas DataFrame
        return pa.Table.from_pandas(preds, preserve_index=False)
    if hasattr(preds, "to_numpy"):  # a pandas Series
        preds = preds.to_numpy()
    ndim = getattr(preds, "ndim", None)  # a numpy array (pyarrow reads it as it is)
    if ndim == 2:
        return pa.table({f"prediction_{i}": preds[:, i] for i in range(preds.shape[1])})
    if ndim is not None and ndim > 2:
        return pa.table({"prediction": [row.tolist() for row in preds]})
    return pa.table({"prediction": preds if ndim == 1 else list(preds)})


def write_table(table: pa.Table, path: Path) -> None:
    """A table as ``.parquet`` (zstd) or ``.csv``, written through a temporary file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    if path.suffix.lower() == ".csv":
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, tmp)
    else:
        pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)


# ---------------------------------------------------------------------- vectorised filters
# The column algebra ``search.evaluate_columns`` evaluates a filter with (one boolean
# array per condition, null = UNKNOWN, Kleene AND/OR as in search's three-valued logic),
# and the run index's columnar cache file (``runindex``).

Array: TypeAlias = pa.Array
_COMPARE_KERNELS = {
    "=": pc.equal,
    "!=": pc.not_equal,
    "<": pc.less,
    "<=": pc.less_equal,
    ">": pc.greater,
    ">=": pc.greater_equal,
}


def column_array(values: list[Any], type_name: str) -> pa.Array:
    """A column of ``string``, ``float64``, ``int64`` or ``bool`` values (None: null).
    Raises ``ValueError`` for a value Arrow cannot hold (e.g. a lone surrogate)."""
    try:
        return pa.array(values, type=_TYPES[type_name])
    except (pa.ArrowException, UnicodeError, OverflowError, TypeError) as exc:
        raise ValueError(str(exc)) from None


def table_of(columns: dict[str, pa.Array]) -> pa.Table:
    return pa.table(columns)


def concat_promoting(tables: list[pa.Table]) -> pa.Table:
    """Tables with different columns stacked; a column a table lacks is null there."""
    return pa.concat_tables(tables, promote_options="default")


def read_parquet_table(path: Path) -> pa.Table:
    """A whole Parquet file; raises ``OSError``/``ValueError`` when it cannot be read.
    (``ParquetFile``, not ``read_table``: that one imports pyarrow.dataset, and pandas.)"""
    return read_columns(open_parquet(path), None)


def open_parquet(path: Path) -> Any:
    """A Parquet file kept open to read columns from (``read_columns``)."""
    try:
        return pq.ParquetFile(path)
    except pa.ArrowException as exc:
        raise ValueError(str(exc)) from None


def parquet_info(handle: Any) -> tuple[list[str], dict[str, str]]:
    """Column names and key-value metadata of an open Parquet file."""
    schema = handle.schema_arrow
    meta = schema.metadata or {}
    decoded = {k.decode(errors="replace"): v.decode(errors="replace") for k, v in meta.items()}
    return list(schema.names), decoded


def read_columns(handle: Any, columns: list[str] | None) -> pa.Table:
    """Some columns (None: all) of an open Parquet file, without its metadata."""
    try:
        return handle.read(columns=columns).replace_schema_metadata(None)
    except pa.ArrowException as exc:
        raise ValueError(str(exc)) from None


def parquet_rows(path: Path) -> int | None:
    """The row count in a Parquet file's footer; None when it cannot be read as Parquet."""
    try:
        return int(pq.ParquetFile(path).metadata.num_rows)
    except (OSError, pa.ArrowException):
        return None


def schema_metadata(table: pa.Table) -> dict[str, str]:
    meta = table.schema.metadata or {}
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, v in meta.items()}


def with_schema_metadata(table: pa.Table, meta: dict[str, str] | None) -> pa.Table:
    return table.replace_schema_metadata(meta)


def write_parquet_fast(table: pa.Table, path: Path) -> None:
    """A cache file: light zstd, written through a temporary file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        pq.write_table(table, tmp, compression="zstd", compression_level=1)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def take(array: Any, positions: pa.Array) -> pa.Array:
    out = array.take(positions)
    return out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out


def positions(values: list[int]) -> pa.Array:
    # (from the bytes: ``pa.array`` of a list imports pandas, 0.2 s in a new process)
    data = array.array("q", values)
    return pa.Array.from_buffers(pa.int64(), len(data), [None, pa.py_buffer(data)])


def null_array(n: int, type_name: str) -> pa.Array:
    return pa.nulls(n, type=_TYPES[type_name])


def constant(n: int, value: bool) -> pa.Array:
    return pa.array([value], type=pa.bool_()).take(pa.array([0] * n, type=pa.int64()))


def is_null(array: pa.Array) -> pa.Array:
    return pc.is_null(array)


def is_valid(array: pa.Array) -> pa.Array:
    return pc.is_valid(array)


def compare(array: pa.Array, op: str, literal: Any) -> pa.Array:
    """``array <op> literal`` per row (IEEE for NaN); null where the value is null."""
    return _COMPARE_KERNELS[op](array, literal)


def member(array: pa.Array, values: tuple[Any, ...]) -> pa.Array:
    """True when the row's value is one of ``values``; null where the value is null."""
    if values and isinstance(values[0], str):
        found = pc.is_in(array, value_set=pa.array(list(values), type=pa.string()))
    else:  # (is_in hashes bits: -0.0 would not find 0.0, which Python's == does)
        numbers = pa.array([v + 0.0 for v in values], type=pa.float64())
        found = pc.is_in(pc.add(array, 0.0), value_set=numbers)
    return pc.if_else(pc.is_null(array), pa.scalar(None, pa.bool_()), found)


def regex_match(array: pa.Array, pattern: str) -> pa.Array:
    """RE2 ``pattern`` searched in each value; null where the value is null."""
    return pc.match_substring_regex(array, pattern=pattern)


def all_ascii(array: pa.Array) -> bool:
    return bool(pc.all(pc.string_is_ascii(array)).as_py() is not False)


def lower_ascii(array: pa.Array) -> pa.Array:
    return pc.ascii_lower(array)


def where(condition: pa.Array, array: pa.Array) -> pa.Array:
    """``array`` where ``condition`` is true, null elsewhere."""
    return pc.if_else(condition, array, pa.scalar(None, array.type))


def to_float(array: pa.Array) -> pa.Array:
    return pc.cast(array, pa.float64())


def kleene_and(arrays: list[pa.Array]) -> pa.Array:
    out = arrays[0]
    for a in arrays[1:]:
        out = pc.and_kleene(out, a)
    return out


def kleene_or(arrays: list[pa.Array]) -> pa.Array:
    out = arrays[0]
    for a in arrays[1:]:
        out = pc.or_kleene(out, a)
    return out


def negate(array: pa.Array) -> pa.Array:
    return pc.invert(array)


def true_positions(array: pa.Array) -> list[int]:
    """Indices of the rows that are true (null and false are dropped)."""
    return pc.indices_nonzero(pc.fill_null(array, False)).to_pylist()


def array_list(array: Any) -> list[Any]:
    return array.to_pylist()
