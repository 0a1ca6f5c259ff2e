"""Model signatures (the columns or tensor a model takes and returns) and the input
conversions ``Model.predict`` applies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from runsite.errors import InvalidInput

_PY_TYPES = {bool: "boolean", int: "long", float: "double", str: "string", bytes: "binary"}


def _kind(value: Any) -> str:
    for t, name in _PY_TYPES.items():
        if type(value) is t:
            return name
    dtype = getattr(value, "dtype", None)
    if dtype is not None:
        return _dtype_name(dtype)
    return type(value).__name__


def _dtype_name(dtype: Any) -> str:
    kind = getattr(dtype, "kind", "")
    if kind == "b":
        return "boolean"
    if kind in "iu":
        return "long" if getattr(dtype, "itemsize", 8) > 4 else "integer"
    if kind == "f":
        return "double" if getattr(dtype, "itemsize", 8) > 4 else "float"
    if kind in "OUS":
        return "string"
    if kind == "M":
        return "datetime"
    return str(dtype)


def is_frame(data: Any) -> bool:
    return hasattr(data, "columns") and hasattr(data, "dtypes") and hasattr(data, "to_dict")


def is_records(data: Any) -> bool:
    return isinstance(data, Sequence) and bool(data) and all(isinstance(r, Mapping) for r in data)


def describe(data: Any) -> dict[str, Any]:
    """The schema of an input or output: named columns, or a tensor of a dtype/shape."""
    if is_frame(data):
        return {
            "type": "columns",
            "columns": [{"name": str(c), "type": _dtype_name(t)} for c, t in data.dtypes.items()],
        }
    if isinstance(data, Mapping):
        data = [data]
    if is_records(data):
        columns: dict[str, str] = {}
        for row in data:
            for k, v in row.items():
                columns.setdefault(str(k), _kind(v))
        return {"type": "columns", "columns": [{"name": k, "type": t} for k, t in columns.items()]}
    shape = getattr(data, "shape", None)
    dtype = getattr(data, "dtype", None)
    if shape is not None and dtype is not None:
        return {"type": "tensor", "dtype": str(dtype), "shape": [-1, *list(shape)[1:]]}
    if isinstance(data, list | tuple) and data:
        first = data[0]
        if isinstance(first, list | tuple):
            return {"type": "tensor", "dtype": _kind(first[0]), "shape": [-1, len(first)]}
        return {"type": "tensor", "dtype": _kind(first), "shape": [-1]}
    raise InvalidInput(
        f"cannot infer a signature from {type(data).__name__}: give a DataFrame, a list of "
        "dicts or an array"
    )


def infer_signature(model_input: Any, model_output: Any = None) -> dict[str, Any]:
    """MLflow's ``infer_signature``: the schema of an example input (and output)."""
    sig: dict[str, Any] = {"inputs": describe(model_input)}
    if model_output is not None:
        sig["outputs"] = describe(model_output)
    return sig


def example_to_json(example: Any) -> Any:
    """An input example as JSON-ready data (records for tables, lists for arrays)."""
    if is_frame(example):
        return {"type": "records", "data": example.to_dict(orient="records")}
    if isinstance(example, Mapping):
        example = [example]
    if is_records(example):
        return {"type": "records", "data": [dict(r) for r in example]}
    if hasattr(example, "tolist"):
        return {"type": "array", "data": example.tolist()}
    if isinstance(example, list | tuple):
        return {"type": "array", "data": list(example)}
    raise InvalidInput(f"input_example of type {type(example).__name__} cannot be saved")


def example_from_json(doc: Mapping[str, Any]) -> Any:
    if doc.get("type") == "array":
        import numpy as np

        return np.asarray(doc["data"])
    return list(doc["data"])


def to_records(data: Any) -> list[dict[str, Any]]:
    if is_frame(data):
        return list(data.to_dict(orient="records"))
    if isinstance(data, Mapping):
        return [dict(data)]
    if is_records(data):
        return [dict(r) for r in data]
    raise InvalidInput(
        f"this model's preprocessor takes records (a list of dicts or a DataFrame), "
        f"got {type(data).__name__}"
    )


def to_table(data: Any, signature: Mapping[str, Any] | None) -> Any:
    """List-of-dicts input for a model that takes a table: a DataFrame in the signature's
    column order when pandas is there, else a 2-D array in that order."""
    if isinstance(data, Mapping):
        data = [data]
    if not is_records(data):
        return data
    inputs = (signature or {}).get("inputs") or {}
    names = (
        [c["name"] for c in inputs.get("columns", [])] if inputs.get("type") == "columns" else []
    )
    if not names:
        names = list(dict.fromkeys(k for row in data for k in row))
    try:
        import pandas as pd

        return pd.DataFrame.from_records(data, columns=names)
    except ImportError:
        import numpy as np

        return np.asarray([[row.get(n) for n in names] for row in data])
