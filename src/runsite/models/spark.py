"""Batch scoring on Spark: the one module that imports PySpark (``runsite[spark]``).

``udf`` ships one verified copy of a model folder to the executors with
``SparkContext.addFile``; each Python worker extracts and loads it once (the folder hash
checked again before anything is unpickled) and keeps it for every later batch, as
MLflow's ``spark_udf`` does. Predictions are turned into the requested Spark type with
MLflow's rules (the leftmost column that fits, every column for an array type).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from runsite.errors import InvalidInput, RunsiteError
from runsite.models.manifest import model_hash, open_model

# model hash -> the Model, per Python worker process (Spark reuses workers between tasks)
_LOADED: dict[str, Any] = {}
_LOCK = threading.Lock()


def _pyspark() -> Any:
    try:
        import pyspark.sql.functions
        import pyspark.sql.types
    except ImportError:
        raise RunsiteError(
            "runsite.pyfunc.spark_udf needs PySpark, which is not installed: "
            "pip install 'runsite[spark]'"
        ) from None
    return pyspark


def verified_copy(folder: Path, expected_hash: str | None, store_root: Path | None) -> Path:
    """Write the model's verified bytes (files kept in object storage fetched and checked)
    into a new temporary folder; returns it."""
    _, reader = open_model(folder, expected_hash, store_root=store_root)
    out = Path(tempfile.mkdtemp(prefix="runsite-spark-")) / "model"
    out.mkdir()
    reader.write_to(out)
    return out


def _result_type(spark_types: Any, result_type: Any) -> Any:
    if result_type is None:
        return spark_types.DoubleType()
    if isinstance(result_type, str):
        from pyspark.sql.types import _parse_datatype_string

        try:
            result_type = _parse_datatype_string(result_type)
        except Exception as exc:
            raise InvalidInput(
                f"spark_udf: result_type {result_type!r} is not a type: {exc}"
            ) from None
    elem = (
        result_type.elementType if isinstance(result_type, spark_types.ArrayType) else result_type
    )
    primitive = (
        spark_types.IntegerType,
        spark_types.LongType,
        spark_types.FloatType,
        spark_types.DoubleType,
        spark_types.BooleanType,
        spark_types.StringType,
    )
    if type(elem) not in primitive:
        raise InvalidInput(
            f"spark_udf: result_type {result_type.simpleString()} is not supported; use int, "
            "long, float, double, boolean, string or an array of one of them"
        )
    return result_type


def _worker_model(archive: str, digest: str) -> Any:
    """The model in this Python worker: extracted and loaded on first use, the folder
    hash checked against the driver's before anything is unpickled."""
    with _LOCK:
        if digest in _LOADED:
            return _LOADED[digest]
        from pyspark import SparkFiles

        from runsite.models.api import load_folder

        path = Path(SparkFiles.get(archive))
        target = Path(
            tempfile.mkdtemp(prefix=f"runsite-model-{digest[7:19]}-{os.getpid()}-", dir=path.parent)
        )
        with zipfile.ZipFile(path) as zf:
            zf.extractall(target)
        _LOADED[digest] = load_folder(target, expected_hash=digest)
        return _LOADED[digest]


def _predict_batch(model: Any, args: tuple[Any, ...], names: list[str] | None, rtype: Any) -> Any:
    import numpy as np
    import pandas as pd
    from pyspark.sql import types as T

    if len(args) == 1 and isinstance(args[0], pd.DataFrame):
        frame = args[0]  # the UDF was called on struct(...): its field names
    else:
        cols = names if names is not None else [str(i) for i in range(len(args))]
        if len(args) < len(cols):
            raise InvalidInput(
                f"spark_udf: the model takes {len(cols)} input columns {cols}, got {len(args)} "
                "(unnamed columns are matched to the signature by position)"
            )
        frame = pd.DataFrame({cols[i]: a for i, a in enumerate(args[: len(cols)])}, columns=cols)
    result = model.predict(frame)
    if not isinstance(result, pd.DataFrame):
        result = pd.DataFrame(np.asarray(result) if not isinstance(result, pd.Series) else result)
    elem = rtype.elementType if isinstance(rtype, T.ArrayType) else rtype
    kind = type(elem)
    if kind is T.IntegerType:
        result = result.select_dtypes([np.byte, np.ubyte, np.short, np.ushort, np.int32])
        result = result.astype(np.int32)
    elif kind is T.LongType:
        result = result.select_dtypes([np.byte, np.ubyte, np.short, np.ushort, int]).astype(
            np.int64
        )
    elif kind is T.FloatType:
        result = result.select_dtypes(include=(np.number,)).astype(np.float32)
    elif kind is T.DoubleType:
        result = result.select_dtypes(include=(np.number,)).astype(np.float64)
    elif kind is T.BooleanType:
        result = result.select_dtypes([bool, np.bool_]).astype(bool)
    if len(result.columns) == 0:
        raise InvalidInput(
            f"spark_udf: the model gave no values of type {elem.simpleString()}; ask for "
            "result_type='string' or 'array<string>'"
        )
    if kind is T.StringType:
        result = result.map(str)
    if isinstance(rtype, T.ArrayType):
        return pd.Series(result.to_numpy().tolist())
    return result[result.columns[0]]


def _input_names(manifest: dict[str, Any]) -> list[str] | None:
    inputs = (manifest.get("signature") or {}).get("inputs") or {}
    if inputs.get("type") == "columns":
        return [str(c["name"]) for c in inputs.get("columns") or [] if c.get("name")]
    return None


def udf(
    spark: Any,
    folder: Path,
    expected_hash: str | None,
    store_root: Path | None,
    result_type: Any = None,
) -> Any:
    """A pandas UDF scoring with the model in ``folder`` (see ``runsite.pyfunc.spark_udf``)."""
    pyspark = _pyspark()
    T = pyspark.sql.types
    F = pyspark.sql.functions
    rtype = _result_type(T, result_type)
    copy = verified_copy(folder, expected_hash, store_root)
    digest = model_hash(copy)
    from runsite.models.manifest import read_manifest

    names = _input_names(read_manifest(copy))
    archive = copy.parent / f"runsite-model-{digest[7:23]}.zip"
    # The same bytes for the same model: Spark refuses a second addFile of one name
    # with other contents (a second UDF of the same model, another result_type).
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(copy.rglob("*")):
            if path.is_file():
                info = zipfile.ZipInfo(path.relative_to(copy).as_posix(), (1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, path.read_bytes())
    spark.sparkContext.addFile(str(archive))
    archive_name = archive.name
    shutil.rmtree(copy)

    def predict(iterator: Any) -> Any:
        model = _worker_model(archive_name, digest)
        for args in iterator:
            batch = args if isinstance(args, tuple) else (args,)
            yield _predict_batch(model, batch, names, rtype)

    import typing

    import pandas as pd

    # pandas_udf picks its kind (iterator of column tuples → iterator of series) from
    # these hints, and reads only typing's spellings of them
    predict.__annotations__ = {
        "iterator": Iterator[typing.Tuple[typing.Union[pd.Series, pd.DataFrame], ...]],  # noqa: UP006, UP007
        "return": Iterator[pd.Series],
    }
    predict = F.pandas_udf(rtype)(predict)

    def call(*cols: Any) -> Any:
        if not cols:
            if not names:
                raise InvalidInput(
                    "spark_udf: name the input columns (the model's signature has no column "
                    "names): udf('a', 'b') or udf(struct('a', 'b'))"
                )
            cols = tuple(names)
        return predict(*cols)

    call.__doc__ = f"Scores with model {digest}; call with columns, a struct, or nothing."
    call.model_hash = digest  # type: ignore[attr-defined]
    return call


__all__ = ["udf", "verified_copy"]
