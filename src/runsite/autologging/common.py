"""What the flavors' autologgers share: the wrapper of a scikit-learn-style ``fit``
(reading X, y and sample weights as MLflow does, logging the data), params as MLflow
strings them, data inputs, the fitted model with its signature."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from runsite import validate
from runsite.autologging import core
from runsite.autologging.core import INPUT_EXAMPLE_ROWS, Session, warn
from runsite.run import Run, record_input


@dataclass
class FitCall:
    """One call of a patched ``fit``-like method: the estimator, the original method,
    its arguments, and X, y, sample weight as MLflow reads them."""

    est: Any
    original: Any
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    x: Any = None
    y: Any = None
    weight: Any = None


def method_wrapper(
    flavor: str,
    before: Callable[[Session, FitCall], None] | None,
    after: Callable[[Session, FitCall], None],
) -> Callable[[Any], Any]:
    """``make`` for ``core.patch`` on a ``fit``-like method: each call goes through
    ``core.call_logged``. Before the fit, X, y and the weight are read from the call,
    the data is hashed as the run's training input (``log_datasets``), then
    ``before(session, call)``; after it, ``after(session, call)``."""

    def make(original: Any) -> Any:
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            call = FitCall(self, original, args, kwargs)

            def start(s: Session) -> None:
                call.x, call.y, call.weight = x_y_weight(original, args, kwargs)
                if s.config.log_datasets and call.x is not None:
                    s.extra["input"] = core.safely(
                        s.config,
                        "could not hash the training data",
                        log_data,
                        s.run,
                        call.x,
                        call.y,
                    )
                if before is not None:
                    before(s, call)

            return core.call_logged(
                flavor, original, (self, *args), kwargs, start, lambda s, _r: after(s, call)
            )

        return wrapper

    return make


def x_y_weight(fit: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, Any, Any]:
    """(X, y, sample_weight) from a fit call, as MLflow reads them."""
    names = [p for p in inspect.signature(fit).parameters if p != "self"]
    x_name, y_name = [*names, "X", "y"][:2]
    if len(args) >= 2:
        x, y = args[0], args[1]
    elif len(args) == 1:
        x, y = args[0], kwargs.get(y_name)
    else:
        x, y = kwargs.get(x_name), kwargs.get(y_name)
    weight = None
    if "sample_weight" in names:
        i = names.index("sample_weight")
        weight = args[i] if len(args) > i else kwargs.get("sample_weight")
    return x, y, weight


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


def log_fitted_model(
    s: Session,
    model: Any,
    x: Any,
    name: str,
    flavor: str,
    predict: Callable[[Any], Any] | None = None,
    output: Any = None,
) -> None:
    """Log ``model`` as ``name``; signature from a few training rows and what
    ``predict`` (default: the model's ``predict`` or ``transform``) makes of them, or
    ``output`` when that is already known (and the rows themselves as the input example
    with ``log_input_examples``)."""
    cfg = s.config
    example = signature = None
    if x is not None and (cfg.log_input_examples or cfg.log_model_signatures):
        try:
            example = head(x)
            if cfg.log_model_signatures:
                from runsite.models.signature import infer_signature

                if output is None:
                    predict = predict or getattr(model, "predict", None) or model.transform
                    output = predict(head(x))
                signature = infer_signature(example, output)
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
