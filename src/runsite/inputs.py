"""``log_input``: what a run records about a data file or folder it used."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from runsite import hashing
from runsite.errors import NotFound

log = logging.getLogger("runsite")


def display_path(path: Path) -> str:
    """The path as it should be remembered: relative to the git work tree or the current
    folder when inside them (so two machines agree), else absolute."""
    resolved = path.resolve()
    for base in (_work_tree(resolved), Path.cwd().resolve()):
        if base is None:
            continue
        try:
            return resolved.relative_to(base).as_posix()
        except ValueError:
            continue
    return resolved.as_posix()


def _work_tree(path: Path) -> Path | None:
    for parent in [path, *path.parents]:
        if (parent / ".git").exists():
            return parent
    return None


def describe_input(path: Path, name: str | None, context: str) -> dict[str, Any]:
    if not path.exists():
        raise NotFound(f"cannot log input: {path} does not exist")
    digest, size, files = hashing.hash_path(path)
    info: dict[str, Any] = {
        "name": name or path.name,
        "path": display_path(path),
        "context": context,
        "kind": "folder" if path.is_dir() else "file",
        "hash": f"sha256:{digest}",
        "size": size,
        "files": files,
    }
    if path.is_file() and path.suffix.lower() in (".csv", ".tsv", ".parquet"):
        info.update(_table_info(path, digest))
    return info


def _table_info(path: Path, digest: str) -> dict[str, Any]:
    cache = hashing.default_cache()
    cached = cache.get_info(digest)
    if cached is not None:
        return cached
    try:
        from runsite import arrowio

        info = arrowio.table_info(path) or {}
    except Exception as exc:  # an odd CSV must not stop training
        log.warning("runsite: could not read the schema of %s: %s", os.fspath(path), exc)
        return {}
    cache.put_info(digest, info)
    return info


def describe_data(
    features: Any, targets: Any = None, name: str = "dataset", context: str = "train"
) -> dict[str, Any]:
    """What a run records about in-memory training data (a NumPy array, a pandas
    DataFrame or Series, a SciPy sparse matrix, a list): the sha256 of its bytes
    (features then targets), its size, row count and schema. Used by autolog."""
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
