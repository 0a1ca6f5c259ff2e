"""MLflow's scoring protocol without a web framework: request bodies in, model input out,
predictions back to JSON.

Accepted bodies (``POST /invocations``), as ``mlflow models serve`` accepts them:

- ``application/json`` with one of ``dataframe_split`` (``{"columns": [...], "data":
  [[...]]}``), ``dataframe_records`` (``[{...}, ...]``), ``instances`` (rows: dicts or
  lists) or ``inputs`` (columns ``{"col": [...]}`` or rows); an optional ``params`` object
  is handed to the model's ``predict`` (a ``PythonModel`` takes it; other models ignore
  it with a warning, as MLflow's pyfunc models do);
- ``text/csv`` with a header row.

Everything here is pure Python and raises :class:`PayloadError` with the HTTP status and
MLflow's error code; nothing here touches the model.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
CONTENT_TYPES = ("application/json", "text/csv")


class PayloadError(Exception):
    """A request the server answers with a 4xx: ``status``, MLflow's ``code``, a message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _malformed(message: str) -> PayloadError:
    return PayloadError(400, "MALFORMED_REQUEST", message)


def _reject_constant(token: str) -> float:
    # NaN and ±Infinity are not JSON; Python's parser accepts them unless told otherwise.
    return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[token]


def parse_request(
    body: bytes, content_type: str, columns: Mapping[str, str] | None = None
) -> tuple[Any, dict[str, Any] | None]:
    """The model input a request body carries (see ``parse``) and the JSON body's
    ``params`` object (``None`` when there is none, and for CSV)."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "text/csv":
        return _parse_csv(body, columns or {}), None
    if media != "application/json":
        shown = media or "none"
        raise PayloadError(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            f"content type {shown!r} is not supported: send one of {', '.join(CONTENT_TYPES)}",
        )
    try:
        doc = json.loads(body, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise _malformed(f"the request body is not valid JSON: {exc}") from None
    data = parse_json(doc)
    params = doc.get("params")
    if params is not None and not isinstance(params, dict):
        raise _malformed("params must be an object of name → value")
    return data, params


def parse(body: bytes, content_type: str, columns: Mapping[str, str] | None = None) -> Any:
    """The model input a request body carries: a list of row dicts (records) for tabular
    formats, or a list of rows / values for tensor-style ``instances`` / ``inputs``.

    ``columns`` (name → signature type) lets CSV cells become numbers where the model's
    signature says so; without it a cell that reads as a number becomes one."""
    return parse_request(body, content_type, columns)[0]


def parse_json(doc: Any) -> Any:
    if not isinstance(doc, dict):
        raise _malformed(
            f"the JSON body must be an object with one of the keys {', '.join(FORMATS)}"
        )
    keys = [k for k in FORMATS if k in doc]
    unknown = sorted(set(doc) - set(FORMATS) - {"params"})
    if len(keys) != 1 or unknown:
        found = ", ".join(sorted(doc)) or "none"
        raise _malformed(
            f"the JSON body must have exactly one of the keys {', '.join(FORMATS)} "
            f"(and optionally params); found: {found}"
        )
    key = keys[0]
    value = doc[key]
    if key == "dataframe_split":
        return _split(value)
    if key == "dataframe_records":
        return _records(value, key)
    if key == "inputs" and isinstance(value, dict):
        return _columns(value)
    if not isinstance(value, list):
        raise _malformed(f"{key} must be a list of rows")
    if value and all(isinstance(r, dict) for r in value):
        return _records(value, key)
    return value


def _split(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, dict) or not isinstance(value.get("data"), list):
        raise _malformed('dataframe_split must be {"columns": [...], "data": [[...], ...]}')
    data = value["data"]
    columns = value.get("columns")
    if columns is None:
        width = len(data[0]) if data and isinstance(data[0], list) else 0
        columns = [str(i) for i in range(width)]
    if not isinstance(columns, list) or not all(isinstance(c, str | int) for c in columns):
        raise _malformed("dataframe_split.columns must be a list of column names")
    names = [str(c) for c in columns]
    rows = []
    for i, row in enumerate(data):
        if not isinstance(row, list) or len(row) != len(names):
            raise _malformed(
                f"dataframe_split.data row {i} must be a list of {len(names)} values "
                f"(one per column)"
            )
        rows.append(dict(zip(names, row, strict=True)))
    return rows


def _records(value: Any, key: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        raise _malformed(f"{key} must be a list of objects, one per row")
    return value


def _columns(value: dict[str, Any]) -> list[dict[str, Any]]:
    lists = {str(k): v if isinstance(v, list) else [v] for k, v in value.items()}
    lengths = {len(v) for v in lists.values()}
    if len(lengths) > 1:
        detail = ", ".join(f"{k}: {len(v)}" for k, v in lists.items())
        raise _malformed(f"inputs columns must all have the same length ({detail})")
    n = lengths.pop() if lengths else 0
    return [{k: v[i] for k, v in lists.items()} for i in range(n)]


_NUMERIC = {"double": float, "float": float, "long": int, "integer": int}


def _cell(text: str, kind: str | None) -> Any:
    if text == "":
        return None
    conv = _NUMERIC.get(kind or "")
    if conv is not None:
        try:
            return conv(text)
        except ValueError:
            if conv is int:
                try:
                    return float(text)  # reported as a type mismatch by the schema check
                except ValueError:
                    return text
            return text
    if kind in ("string", "binary"):
        return text
    if kind == "boolean":
        low = text.lower()
        return True if low == "true" else False if low == "false" else text
    for conv2 in (int, float):
        try:
            return conv2(text)
        except ValueError:
            continue
    return text


def _parse_csv(body: bytes, columns: Mapping[str, str]) -> list[dict[str, Any]]:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _malformed(f"the CSV body is not UTF-8: {exc}") from None
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise _malformed("the CSV body is empty: send a header row and data rows") from None
    except csv.Error as exc:
        raise _malformed(f"the CSV body cannot be read: {exc}") from None
    kinds = [columns.get(name) for name in header]
    rows = []
    try:
        for line, cells in enumerate(reader, start=2):
            if not cells:
                continue
            if len(cells) != len(header):
                raise _malformed(
                    f"CSV line {line} has {len(cells)} cells; the header has {len(header)}"
                )
            rows.append({h: _cell(c, k) for h, c, k in zip(header, cells, kinds, strict=True)})
    except csv.Error as exc:
        raise _malformed(f"the CSV body cannot be read: {exc}") from None
    return rows


def _plain(value: Any) -> Any:
    """Predictions as JSON values: arrays to lists, numpy scalars to numbers, NaN to null."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def predictions_json(predictions: Any) -> bytes:
    """``{"predictions": [...]}`` — MLflow 2+'s response body."""
    if hasattr(predictions, "to_dict") and hasattr(predictions, "columns"):
        predictions = predictions.to_dict(orient="records")
    elif hasattr(predictions, "tolist"):
        predictions = predictions.tolist()
    try:
        return json.dumps({"predictions": predictions}, allow_nan=False).encode()
    except (TypeError, ValueError):
        return json.dumps({"predictions": _plain(predictions)}, default=str).encode()


def error_json(code: str, message: str) -> bytes:
    return json.dumps({"error_code": code, "message": message}).encode()


def rows_of(data: Any) -> int:
    return len(data) if isinstance(data, Sequence) else 1
