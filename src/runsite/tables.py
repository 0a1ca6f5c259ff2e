"""``log_table``: a dict of columns or a DataFrame written as JSON, CSV or Parquet."""

from __future__ import annotations

import csv
import io
import json
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


def encode_table(data: Any, artifact_file: str) -> bytes:
    cols = _columns(data)
    names = list(cols)
    rows = list(zip(*cols.values(), strict=True)) if cols else []
    ext = artifact_file.lower().rsplit(".", 1)[-1] if "." in artifact_file else ""
    if ext == "json":
        payload = {"columns": names, "data": [list(r) for r in rows]}
        return json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8")
    if ext == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(names)
        writer.writerows(rows)
        return buf.getvalue().encode("utf-8")
    if ext == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        out = io.BytesIO()
        pq.write_table(pa.table(cols), out)
        return out.getvalue()
    raise InvalidInput(
        f"log_table: artifact_file {artifact_file!r} must end in .json, .csv or .parquet"
    )
