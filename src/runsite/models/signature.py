"""Model signatures (the columns or tensor a model takes and returns) and the input
conversions ``Model.predict`` applies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from runsite.errors import InvalidInput
from runsite.models.schema import ModelSignature as ModelSignature  # mlflow.models.signature's

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


def infer_signature(
    model_input: Any, model_output: Any = None, params: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """MLflow's ``infer_signature``: the schema of an example input (and output), and of
    the inference ``params`` a ``python_model`` takes (their values are the defaults)."""
    sig: dict[str, Any] = {"inputs": describe(model_input)}
    if model_output is not None:
        sig["outputs"] = describe(model_output)
    if params:
        from runsite.models.pythonmodel import params_schema

        sig["params"] = params_schema(params)
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


# ---------------------------------------------------------------------- enforcement

# actual type → the declared types it may be given as (MLflow's safe conversions, numpy's
# safe casts: integer → long or double, float → double; a long is not a double, which
# cannot hold every 64-bit integer, and nothing narrows).
_WIDENS = {
    "integer": {"integer", "long", "double"},
    "long": {"long"},
    "float": {"float", "double"},
    "double": {"double"},
    "boolean": {"boolean"},
    "string": {"string"},
    "binary": {"binary"},
    "datetime": {"datetime"},
}
_FLOATS = {"float", "double"}


def input_columns(signature: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """(name, type) of every input column of a column-based signature, else []."""
    inputs = (signature or {}).get("inputs") or {}
    if not isinstance(inputs, Mapping) or inputs.get("type") != "columns":
        return []
    return [
        (str(c.get("name")), str(c.get("type")))
        for c in inputs.get("columns") or []
        if isinstance(c, Mapping) and c.get("name") is not None
    ]


def _compatible(actual: str, declared: str) -> bool:
    return declared in _WIDENS.get(actual, {actual})


def _type_error(name: str, actual: str, declared: str) -> InvalidInput:
    return InvalidInput(
        f"input column {name!r} is {actual} but the model's signature declares {declared}; "
        f"{actual} cannot be converted to {declared} safely"
    )


def _missing_error(missing: list[str], extra: list[str]) -> InvalidInput:
    note = f" (the data also has columns the model does not take: {extra})" if extra else ""
    return InvalidInput(f"the model is missing input columns {missing}{note}")


def enforce_signature(data: Any, signature: Mapping[str, Any] | None) -> Any:
    """Check ``data`` against the input signature and return it in the declared shape,
    as MLflow's schema enforcement does: a missing column or a type that cannot be
    converted safely is an error naming the column; 32-bit integers given for a long or
    double column and 32-bit floats for a double are converted, 64-bit integers (pandas'
    and Python's default) for a float column are refused, as MLflow refuses them (a
    double cannot hold every 64-bit integer); columns the model does not take are
    dropped. Data for a model without a column signature is returned unchanged.

    Accepts a DataFrame, a list of dicts or one dict (returned as a list of dicts), or a
    2-D array (only its width can be checked)."""
    columns = input_columns(signature)
    if not columns:
        return data
    names = [n for n, _ in columns]
    if is_frame(data):
        have = [str(c) for c in data.columns]
        missing = [n for n in names if n not in have]
        if missing:
            raise _missing_error(missing, [c for c in have if c not in names])
        out = data[names] if have != names else data
        converted = False
        for name, declared in columns:
            actual = _dtype_name(out[name].dtype)
            if actual == declared:
                continue
            if actual == "string" and out[name].dtype.kind == "O":
                kinds = {_kind(v) for v in out[name] if v is not None}
                if kinds <= {"string"}:
                    continue
                actual = "/".join(sorted(kinds))
            if not _compatible(actual, declared):
                raise _type_error(name, actual, declared)
            if declared in _FLOATS:
                if not converted:
                    out = out.copy()
                    converted = True
                out[name] = out[name].astype("float64" if declared == "double" else "float32")
        return out
    if isinstance(data, Mapping):
        data = [data]
    if is_records(data):
        return _enforce_records(data, columns)
    shape = getattr(data, "shape", None)
    if shape is not None and len(shape) == 2 and shape[1] != len(names):
        raise InvalidInput(
            f"the input has {shape[1]} columns but the model's signature has {len(names)}: {names}"
        )
    return data


def _plain_kinds(rows: Sequence[Mapping[str, Any]], names: list[str]) -> dict[str, set[str]] | None:
    """The kinds per column when every record has exactly the signature's keys and only
    plain Python values (the common case: a JSON request), computed column by column;
    ``None`` sends the caller to the record-by-record walk that names what is wrong."""
    keys = set(names)
    if any(not isinstance(r, dict) or r.keys() != keys for r in rows):
        return None
    kinds: dict[str, set[str]] = {}
    for name in names:
        found = {_PY_TYPES.get(t) for t in {type(r[name]) for r in rows}}
        if None in found:  # None values, numpy scalars …
            return None
        kinds[name] = found  # type: ignore[assignment]
    return kinds


def _to_widen(columns: list[tuple[str, str]], kinds: Mapping[str, set[str]]) -> list[str]:
    """The float columns whose values include ints (to be made floats); raises on a kind
    the declared type does not take."""
    widen = []
    for name, declared in columns:
        for actual in sorted(kinds[name]):
            if actual != declared and not _compatible(actual, declared):
                raise _type_error(name, actual, declared)
        if declared in _FLOATS and kinds[name] - _FLOATS:
            widen.append(name)
    return widen


def _enforce_records(rows: Sequence[Mapping[str, Any]], columns: list[tuple[str, str]]) -> Any:
    names = [n for n, _ in columns]
    plain = _plain_kinds(rows, names) if rows else None
    if plain is not None:
        widen = _to_widen(columns, plain)
        if not widen:
            return rows
        return [{k: (float(v) if k in widen else v) for k, v in row.items()} for row in rows]
    present: dict[str, int] = dict.fromkeys(names, 0)
    kinds: dict[str, set[str]] = {n: set() for n in names}
    extra: dict[str, None] = {}
    for row in rows:
        for key, value in row.items():
            if key in present:
                if value is not None:
                    present[key] += 1
                    kinds[key].add(_kind(value))
            else:
                extra[str(key)] = None
    missing = [n for n in names if present[n] == 0]
    if missing:
        raise _missing_error(missing, list(extra))
    partial = [n for n in names if present[n] < len(rows)]
    if partial:
        first = next(i for i, r in enumerate(rows) if r.get(partial[0]) is None)
        raise InvalidInput(
            f"input column {partial[0]!r} is missing or empty in record {first + 1} "
            f"of {len(rows)} (the model's signature requires it in every record)"
        )
    widen = _to_widen(columns, kinds)
    if not widen and not extra:
        return rows
    keep = set(names)
    return [
        {k: (float(v) if k in widen else v) for k, v in row.items() if k in keep} for row in rows
    ]
