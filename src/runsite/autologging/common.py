"""What the flavors' autologgers share: params as MLflow strings them, data inputs,
the fitted model with its signature."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runsite import validate
from runsite.autologging.core import INPUT_EXAMPLE_ROWS, Session, warn
from runsite.run import Run, record_input


def str_params(params: Mapping[str, Any]) -> dict[str, str]:
    """MLflow logs ``str(value)``, cut to the param length limit."""
    limit = validate.MAX_PARAM_VALUE_LENGTH
    return {str(k): str(v)[:limit] for k, v in params.items()}


def log_data(
    run: Run, features: Any, targets: Any = None, name: str = "dataset", context: str = "train"
) -> dict[str, Any]:
    """Hash in-memory data and record it as an input of ``run``."""
    info = describe_data(features, targets, name, context)
    record_input(run, info)
    return info


def head(data: Any, rows: int = INPUT_EXAMPLE_ROWS) -> Any:
    if hasattr(data, "iloc"):
        return data.iloc[:rows].copy()
    if hasattr(data, "tocsr"):
        return data.tocsr()[:rows].toarray()
    import copy

    return copy.deepcopy(data[:rows])


def log_fitted_model(s: Session, model: Any, x: Any, name: str, flavor: str) -> None:
    """Log ``model`` as ``name``; signature from a few training rows (and the rows
    themselves as the input example with ``log_input_examples``)."""
    cfg = s.config
    example = signature = None
    if x is not None and (cfg.log_input_examples or cfg.log_model_signatures):
        try:
            example = head(x)
            if cfg.log_model_signatures:
                from runsite.models.signature import infer_signature

                predict = getattr(model, "predict", None) or model.transform
                signature = infer_signature(example, predict(head(x)))
        except Exception as exc:
            warn(cfg, "could not infer the model signature", exc)
    s.run.log_model(
        model,
        name,
        flavor=flavor,
        input_example=example if cfg.log_input_examples else None,
        signature=signature,
        registered_model_name=cfg.registered_model_name if name == "model" else None,
    )


def describe_data(
    features: Any, targets: Any = None, name: str = "dataset", context: str = "train"
) -> dict[str, Any]:
    """What a run records about in-memory training data (a NumPy array, a pandas
    DataFrame or Series, a SciPy sparse matrix, a list): the sha256 of its bytes
    (features then targets), its size, row count and schema."""
    import hashlib

    h = hashlib.sha256()
    size = 0
    schema: dict[str, str] = {}
    rows = None
    for role, part in (("features", features), ("targets", targets)):
        if part is None:
            continue
        n, nbytes, part_schema = _hash_part(h, role, part)
        size += nbytes
        schema.update(part_schema)
        if rows is None:
            rows = n
    return {
        "name": name,
        "context": context,
        "kind": "memory",
        "hash": f"sha256:{h.hexdigest()}",
        "size": size,
        "rows": rows,
        "schema": schema,
    }


def _hash_part(h: Any, role: str, data: Any) -> tuple[int | None, int, dict[str, str]]:
    """Feed ``data`` into the hash ``h``; its rows, byte size and schema entries."""
    import numpy as np

    h.update(f"{role}\0{type(data).__name__}\0".encode())
    if hasattr(data, "dtypes") and hasattr(data, "columns"):  # a DataFrame
        import pandas as pd

        values = pd.util.hash_pandas_object(data, index=False).to_numpy()
        h.update("\0".join(map(str, data.columns)).encode("utf-8"))
        h.update(values.tobytes())
        schema = {str(c): str(t) for c, t in data.dtypes.items()}
        return len(data), int(data.memory_usage(index=False, deep=False).sum()), schema
    if hasattr(data, "to_numpy") and hasattr(data, "name"):  # a Series
        import pandas as pd

        values = pd.util.hash_pandas_object(data, index=False).to_numpy()
        h.update(values.tobytes())
        return len(data), int(data.memory_usage(index=False)), {role: str(data.dtype)}
    if hasattr(data, "tocsr") and hasattr(data, "nnz"):  # scipy.sparse
        csr = data.tocsr()
        nbytes = 0
        for arr in (csr.data, csr.indices, csr.indptr):
            a = np.ascontiguousarray(arr)
            h.update(a.tobytes())
            nbytes += a.nbytes
        h.update(repr(csr.shape).encode())
        return csr.shape[0], nbytes, {role: f"sparse {csr.dtype} {_shape(csr.shape)}"}
    arr = np.ascontiguousarray(np.asarray(data))
    h.update(f"{arr.dtype.str}{arr.shape}".encode())
    if arr.dtype.kind == "O":
        h.update(repr(arr.tolist()).encode("utf-8"))
    else:
        try:
            h.update(memoryview(arr).cast("B"))  # type: ignore[arg-type]
        except (TypeError, ValueError):  # dtypes the buffer protocol does not export
            h.update(arr.tobytes())
    rows = arr.shape[0] if arr.ndim else None
    return rows, int(arr.nbytes), {role: f"{arr.dtype} {_shape(arr.shape)}"}


def _shape(shape: tuple[int, ...]) -> str:
    return "[" + ", ".join(["-1", *map(str, shape[1:])]) + "]"
