"""``log_table``: a dict of columns or a DataFrame written as JSON, CSV or Parquet."""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

from runsite.errors import InvalidInput


def _columns(data: Any) -> dict[str, list[Any]]:
    if hasattr(data, "to_dict") and hasattr(data, "columns"):  # a pandas DataFrame
        return {str(c): list(data[c].tolist()) for c in data.columns}
    if isinstance(data, dict):
        cols = {str(k): list(v) if not isinstance(v, str) else [v] for k, v in data.items()}
        lengths = {len(v) for v in cols.values()}
        if len(lengths) > 1:
            detail = ", ".join(f"{k}: {len(v)}" for k, v in cols.items())
            raise InvalidInput(f"log_table: columns have different lengths ({detail})")
        return cols
    raise InvalidInput(
        f"log_table needs a dict of columns or a pandas DataFrame, got {type(data).__name__}"
    )


def _json_value(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if hasattr(v, "item") and not isinstance(v, str | bytes):  # numpy scalars
        item = v.item()
        if isinstance(item, float) and not math.isfinite(item):
            return None
        return item
    return v


def _ext(artifact_file: str) -> str:
    return artifact_file.lower().rsplit(".", 1)[-1] if "." in artifact_file else ""


def decode_table(data: bytes, artifact_file: str) -> dict[str, list[Any]]:
    """The columns of a table file ``encode_table`` wrote (to append to it)."""
    ext = _ext(artifact_file)
    try:
        if ext == "json":
            doc = json.loads(data)
            names = [str(c) for c in doc["columns"]]
            return {n: [row[i] for row in doc["data"]] for i, n in enumerate(names)}
        if ext == "csv":
            rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
            return {n: [r[i] for r in rows[1:]] for i, n in enumerate(rows[0] if rows else [])}
        if ext == "parquet":
            from runsite import arrowio

            return arrowio.parquet_columns(data)
    except Exception as exc:
        raise InvalidInput(
            f"log_table: {artifact_file!r} exists and is not a table to append to ({exc})"
        ) from None
    raise InvalidInput(
        f"log_table: artifact_file {artifact_file!r} must end in .json, .csv or .parquet"
    )


def append_columns(old: dict[str, list[Any]], new: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """``new``'s rows after ``old``'s, columns united in order of appearance and missing
    cells ``None`` (what MLflow's ``pd.concat`` gives, NaN being written as null)."""
    n_old = len(next(iter(old.values()), []))
    n_new = len(next(iter(new.values()), []))
    names = list(dict.fromkeys([*old, *new]))
    return {n: list(old.get(n, [None] * n_old)) + list(new.get(n, [None] * n_new)) for n in names}


def encode_table(data: Any, artifact_file: str, existing: bytes | None = None) -> bytes:
    """The file's bytes for ``data``; with ``existing`` (the file already logged), the
    rows are appended to the ones it holds, as MLflow's ``log_table`` does."""
    cols = _columns(data)
    if existing is not None:
        cols = append_columns(decode_table(existing, artifact_file), cols)
    names = list(cols)
    rows = list(zip(*cols.values(), strict=True)) if cols else []
    ext = _ext(artifact_file)
    if ext == "json":
        # NaN and infinities become null, as MLflow writes them (a bare NaN is not JSON).
        data = [[_json_value(v) for v in r] for r in rows]
        payload = {"columns": names, "data": data}
        return json.dumps(payload, separators=(",", ":"), default=str, allow_nan=False).encode()
    if ext == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(names)
        writer.writerows(rows)
        return buf.getvalue().encode("utf-8")
    if ext == "parquet":
        from runsite import arrowio

        return arrowio.parquet_bytes(cols)
    raise InvalidInput(
        f"log_table: artifact_file {artifact_file!r} must end in .json, .csv or .parquet"
    )
