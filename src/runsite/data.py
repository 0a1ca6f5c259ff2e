"""``runsite.data`` (as ``mlflow.data``): in-memory datasets a run records as inputs.

``from_pandas(df, source=, name=, targets=)`` and ``from_numpy(features, source=,
targets=)`` give objects with MLflow's attributes (``name``, ``digest``, ``source``,
``source_type``, ``schema``, ``profile``, ``to_dict()``, ``to_json()``) for
``runsite.log_input(dataset, context=..., tags=...)``. The ``digest`` is MLflow's own
(an 8-character md5 over the first 10,000 rows, the row count and the column names),
so ``datasets.digest = '…'`` finds the same runs in both; runsite records besides it the
sha256 of the whole data (``hash``), as for a logged file, because MLflow's digest does
not see rows past the 10,000th.

Example::

    dataset = runsite.data.from_pandas(df, source="data/train.parquet", name="train")
    runsite.log_input(dataset, context="training")
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from runsite.errors import InvalidInput

# MLflow's digest_utils.MAX_ROWS: the digest reads this many rows (or array elements).
MAX_ROWS = 10000

_SCHEMES = {"s3": "s3", "gs": "gcs", "http": "http", "https": "http", "hf": "hugging_face"}


class DatasetSource:
    """Where a dataset came from: a path or URL (``uri``), or the code that built it
    (``source_type == "code"``, with the run's source tags)."""

    def __init__(self, uri: str | None = None, tags: Mapping[str, str] | None = None) -> None:
        self.uri = uri
        self._tags = dict(tags or {})

    @property
    def url(self) -> str | None:  # MLflow's HTTPDatasetSource names it so
        return self.uri

    def _get_source_type(self) -> str:
        if self.uri is None:
            return "code"
        scheme = self.uri.split("://", 1)[0].lower() if "://" in self.uri else ""
        if scheme == "file" or not scheme:
            return "local"
        return _SCHEMES.get(scheme, scheme)

    def to_dict(self) -> dict[str, Any]:
        if self.uri is None:
            return {"tags": self._tags}
        if self._get_source_type() == "http":
            return {"url": self.uri}
        return {"uri": self.uri}

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def __repr__(self) -> str:
        return f"<DatasetSource {self._get_source_type()}: {self.to_json()}>"


def _source(source: str | DatasetSource | Any | None) -> DatasetSource:
    import os

    if isinstance(source, DatasetSource):
        return source
    if source is None:
        import sys

        from runsite.capture import entry_point, user_name

        # As MLflow's CodeDatasetSource: the tags of the code that is running.
        return DatasetSource(
            tags={
                "mlflow.user": user_name(),
                "mlflow.source.name": entry_point() or (sys.argv[0] if sys.argv else ""),
                "mlflow.source.type": "LOCAL",
            }
        )
    if isinstance(source, str | os.PathLike):
        return DatasetSource(os.fspath(source))
    raise InvalidInput(
        f"dataset source must be a path, a URI or a DatasetSource, got {type(source).__name__}"
    )


class Schema:
    """The columns (or tensors) of a dataset, as MLflow's ``Schema`` prints them."""

    def __init__(self, kind: str, specs: Any) -> None:
        self.kind = kind  # "colspec" or "tensorspec"
        self._specs = specs

    def to_dict(self) -> Any:
        return self._specs

    def input_names(self) -> list[str]:
        if self.kind == "colspec":
            return [c["name"] for c in self._specs]
        return sorted(self._specs)

    def __repr__(self) -> str:
        if self.kind == "colspec":
            return repr([f"{c['name']!r}: {c['type']} (required)" for c in self._specs])
        return repr(self._specs)


class Dataset:
    """What MLflow's ``Dataset`` offers; subclasses know their data."""

    def __init__(self, source: DatasetSource, name: str | None, digest: str | None) -> None:
        self._source = source
        self._name = name
        self._digest = digest or self._compute_digest()

    def _compute_digest(self) -> str:
        raise NotImplementedError

    @property
    def name(self) -> str:
        return self._name if self._name is not None else "dataset"

    @property
    def digest(self) -> str:
        return self._digest

    @property
    def source(self) -> DatasetSource:
        return self._source

    @property
    def source_type(self) -> str:
        return self._source._get_source_type()

    @property
    def schema(self) -> Schema | None:
        raise NotImplementedError

    @property
    def profile(self) -> dict[str, Any] | None:
        raise NotImplementedError

    def _schema_json(self) -> str | None:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """MLflow's string dictionary: name, digest, source, source_type, schema, profile."""
        return {
            "name": self.name,
            "digest": self.digest,
            "source": self._source.to_json(),
            "source_type": self.source_type,
            "schema": self._schema_json(),
            "profile": json.dumps(self.profile),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def _content_hash(self) -> dict[str, Any]:
        raise NotImplementedError

    def _runsite_input(
        self, name: str | None, context: str | None, tags: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """The record ``log_input`` writes: MLflow's fields and the sha256 of all the data
        (the same hash autolog records for in-memory training data)."""
        info: dict[str, Any] = {
            "name": name or self.name,
            "context": context,
            "kind": "dataset",
            **self._content_hash(),
            "digest": self.digest,
            "source": self._source.to_json(),
            "source_type": self.source_type,
            "dataset_schema": self._schema_json(),
            "profile": json.dumps(self.profile),
        }
        if context is None:
            del info["context"]
        if tags:
            info["tags"] = {str(k): str(v) for k, v in tags.items()}
        return info

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} digest={self.digest!r}>"


def _md5_8(elements: list[Any]) -> str:
    # MLflow's get_normalized_md5_digest
    if not elements:
        raise InvalidInput("nothing to compute a dataset digest from")
    md5 = hashlib.md5(usedforsecurity=False)
    for e in elements:
        md5.update(e)
    return md5.hexdigest()[:8]


def pandas_digest(df: Any) -> str:
    """MLflow's ``compute_pandas_digest``: string and numeric columns of the first 10,000
    rows, the row count and every column name."""
    import numpy as np
    import pandas as pd

    trimmed = df.head(MAX_ROWS)
    mapper = df.map if hasattr(df, "map") else df.applymap
    # MLflow's test, kept exactly: a column of str values only (not subclasses)
    strings = trimmed.columns[(mapper(type) == str).all(axis=0)]  # noqa: E721
    numbers = trimmed.select_dtypes(include=[np.number]).columns
    trimmed = trimmed[strings.union(numbers)]
    return _md5_8(
        [pd.util.hash_pandas_object(trimmed).values, np.int64(len(df))]
        + [str(c).encode() for c in df.columns]
    )


def numpy_digest(features: Any, targets: Any = None) -> str:
    """MLflow's ``compute_numpy_digest``: the first 10,000 elements of each array (by key
    for a dict of arrays) and their shapes."""
    import numpy as np
    import pandas as pd

    elements: list[Any] = []

    def add(array: Any) -> None:
        flat = array.flatten()[:MAX_ROWS]
        try:
            elements.append(pd.util.hash_array(flat))
        except TypeError:
            elements.append(np.int64(flat.size))
        elements.extend(np.int64(x) for x in array.shape)

    for item in (features, targets):
        if item is None:
            continue
        if isinstance(item, Mapping):
            for key in sorted(item):
                add(item[key])
        else:
            add(item)
    return _md5_8(elements)


class PandasDataset(Dataset):
    """A pandas DataFrame as a dataset (``runsite.data.from_pandas``)."""

    def __init__(
        self,
        df: Any,
        source: DatasetSource,
        targets: str | None = None,
        name: str | None = None,
        digest: str | None = None,
        predictions: str | None = None,
    ) -> None:
        for role, column in (("targets", targets), ("predictions", predictions)):
            if column is not None and column not in df.columns:
                raise InvalidInput(f"{role} column {column!r} is not in the DataFrame")
        self._df = df
        self._targets = targets
        self._predictions = predictions
        super().__init__(source, name, digest)

    def _compute_digest(self) -> str:
        return pandas_digest(self._df)

    @property
    def df(self) -> Any:
        return self._df

    @property
    def targets(self) -> str | None:
        return self._targets

    @property
    def predictions(self) -> str | None:
        return self._predictions

    @property
    def profile(self) -> dict[str, Any]:
        return {"num_rows": len(self._df), "num_elements": int(self._df.size)}

    @property
    def schema(self) -> Schema:
        from runsite.models.signature import describe

        cols = describe(self._df)["columns"]
        return Schema(
            "colspec", [{"type": c["type"], "name": c["name"], "required": True} for c in cols]
        )

    def _schema_json(self) -> str:
        return json.dumps({"mlflow_colspec": self.schema.to_dict()})

    def _content_hash(self) -> dict[str, Any]:
        # Every row (pandas' 64-bit row hashes, index included), the column names and
        # dtypes: a change anywhere in the frame changes it.
        import pandas as pd

        h = hashlib.sha256()
        for name, dtype in self._df.dtypes.items():
            h.update(f"{name}\0{dtype}\0".encode())
        h.update(pd.util.hash_pandas_object(self._df, index=True).values.tobytes())
        return {
            "hash": f"sha256:{h.hexdigest()}",
            "size": int(self._df.memory_usage(index=False, deep=True).sum()),
            "rows": len(self._df),
        }


class NumpyDataset(Dataset):
    """NumPy arrays (or dicts of them) as a dataset (``runsite.data.from_numpy``)."""

    def __init__(
        self,
        features: Any,
        source: DatasetSource,
        targets: Any = None,
        name: str | None = None,
        digest: str | None = None,
    ) -> None:
        self._features = features
        self._targets = targets
        super().__init__(source, name, digest)

    def _compute_digest(self) -> str:
        return numpy_digest(self._features, self._targets)

    @property
    def features(self) -> Any:
        return self._features

    @property
    def targets(self) -> Any:
        return self._targets

    @property
    def profile(self) -> dict[str, Any]:
        def attr(data: Any, name: str) -> Any:
            if isinstance(data, Mapping):
                return {k: _plain(getattr(a, name)) for k, a in data.items()}
            return _plain(getattr(data, name))

        attrs = ("shape", "size", "nbytes")
        out = {f"features_{a}": attr(self._features, a) for a in attrs}
        if self._targets is not None:
            out.update({f"targets_{a}": attr(self._targets, a) for a in attrs})
        return out

    @property
    def schema(self) -> Schema:
        def spec(data: Any) -> Any:
            if isinstance(data, Mapping):
                return [_tensor_spec(a, k) for k, a in data.items()]
            return [_tensor_spec(data)]

        specs = {
            "features": json.dumps(spec(self._features)),
            "targets": None if self._targets is None else json.dumps(spec(self._targets)),
        }
        return Schema("tensorspec", specs)

    def _schema_json(self) -> str:
        return json.dumps({"mlflow_tensorspec": self.schema.to_dict()})

    def _content_hash(self) -> dict[str, Any]:
        # The bytes of every array (dicts key by key, in key order), their dtypes and shapes.
        import numpy as np
        import pandas as pd

        h = hashlib.sha256()
        size = 0
        rows = None
        for role, data in (("features", self._features), ("targets", self._targets)):
            if data is None:
                continue
            parts = sorted(data.items()) if isinstance(data, Mapping) else [("", data)]
            for key, array in parts:
                h.update(f"{role}\0{key}\0{array.dtype}\0{array.shape}\0".encode())
                if array.dtype.kind == "O":  # objects have no stable bytes: their hashes
                    h.update(pd.util.hash_array(np.ravel(array)).tobytes())
                else:
                    h.update(np.ascontiguousarray(array).tobytes())
                size += int(array.nbytes)
                if rows is None and array.ndim:
                    rows = int(array.shape[0])
        return {"hash": f"sha256:{h.hexdigest()}", "size": size, "rows": rows}


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else int(value)


def _tensor_spec(array: Any, name: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {} if name is None else {"name": name}
    spec["type"] = "tensor"
    spec["tensor-spec"] = {"dtype": str(array.dtype), "shape": [-1, *list(array.shape)[1:]]}
    return spec


def from_pandas(
    df: Any,
    source: str | DatasetSource | None = None,
    targets: str | None = None,
    name: str | None = None,
    digest: str | None = None,
    predictions: str | None = None,
) -> PandasDataset:
    """MLflow's ``mlflow.data.from_pandas``: ``source`` is a path or URI (default: the
    code that is running)."""
    if not (hasattr(df, "columns") and hasattr(df, "head")):
        raise InvalidInput(f"from_pandas takes a pandas DataFrame, got {type(df).__name__}")
    return PandasDataset(df, _source(source), targets, name, digest, predictions)


def from_numpy(
    features: Any,
    source: str | DatasetSource | None = None,
    targets: Any = None,
    name: str | None = None,
    digest: str | None = None,
) -> NumpyDataset:
    """MLflow's ``mlflow.data.from_numpy``: arrays or dicts of arrays."""
    for role, data in (("features", features), ("targets", targets)):
        if data is None and role == "targets":
            continue
        parts = data.values() if isinstance(data, Mapping) else [data]
        if not parts or not all(hasattr(a, "flatten") and hasattr(a, "dtype") for a in parts):
            raise InvalidInput(
                f"from_numpy: {role} must be a NumPy array or a dict of arrays, "
                f"got {type(data).__name__}"
            )
    return NumpyDataset(features, _source(source), targets, name, digest)


class _ForeignDataset:
    """A dataset object of the real MLflow (``mlflow.data``): recorded from its
    ``to_dict()`` (no sha256: runsite does not read its data)."""

    def __init__(self, fields: Mapping[str, Any]) -> None:
        self._fields = fields

    def _runsite_input(
        self, name: str | None, context: str | None, tags: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        f = self._fields
        info: dict[str, Any] = {
            "name": name or f.get("name") or "dataset",
            "kind": "dataset",
            "digest": f.get("digest"),
            "source": f.get("source"),
            "source_type": f.get("source_type"),
            "dataset_schema": f.get("schema"),
            "profile": f.get("profile"),
        }
        if context is not None:
            info["context"] = context
        if tags:
            info["tags"] = {str(k): str(v) for k, v in tags.items()}
        return info


def as_dataset(obj: Any) -> Any:
    """``obj`` as something ``Run.log_input`` records as a dataset, or None for a path."""
    import os

    if isinstance(obj, str | os.PathLike):
        return None
    if callable(getattr(obj, "_runsite_input", None)):
        return obj
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict) and hasattr(obj, "digest") and hasattr(obj, "source"):
        fields = to_dict()
        if isinstance(fields, Mapping) and "digest" in fields:
            return _ForeignDataset(fields)
    return None


def get_source(dataset: Dataset) -> DatasetSource:
    """MLflow's ``mlflow.data.get_source``."""
    return dataset.source


__all__ = [
    "Dataset",
    "DatasetSource",
    "NumpyDataset",
    "PandasDataset",
    "Schema",
    "from_numpy",
    "from_pandas",
    "get_source",
    "numpy_digest",
    "pandas_digest",
]
