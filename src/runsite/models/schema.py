"""MLflow's signature objects — ``ModelSignature``, ``Schema``, ``ColSpec``,
``TensorSpec``, ``ParamSchema``, ``ParamSpec`` — for scripts that build a signature by
hand; ``to_dict()`` gives runsite's signature dict, which is what ``log_model`` stores
(``infer_signature`` returns that dict directly)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from runsite.errors import InvalidInput

# MLflow's column types (mlflow.types.DataType)
COLUMN_TYPES = ("boolean", "integer", "long", "float", "double", "string", "binary", "datetime")


def _type_name(value: Any) -> str:
    name = getattr(value, "name", value)  # a DataType member or its name
    name = str(name).lower()
    if name not in COLUMN_TYPES:
        raise InvalidInput(f"column type {value!r}: one of {', '.join(COLUMN_TYPES)}")
    return name


@dataclass(frozen=True, init=False)
class ColSpec:
    """A column: ``ColSpec("double", "distance")`` (MLflow's argument order)."""

    type: str
    name: str | None = None
    required: bool = True

    def __init__(self, type: Any, name: str | None = None, required: bool = True) -> None:
        object.__setattr__(self, "type", _type_name(type))
        object.__setattr__(self, "name", None if name is None else str(name))
        object.__setattr__(self, "required", bool(required))


@dataclass(frozen=True, init=False)
class TensorSpec:
    """A tensor: ``TensorSpec(np.dtype("float32"), (-1, 28, 28))``."""

    type: str
    shape: tuple[int, ...]
    name: str | None = None

    def __init__(self, type: Any, shape: Sequence[int], name: str | None = None) -> None:
        object.__setattr__(self, "type", str(type))
        object.__setattr__(self, "shape", tuple(int(n) for n in shape))
        object.__setattr__(self, "name", name)


class Schema:
    """An input or output schema: a list of ``ColSpec`` or of one ``TensorSpec``."""

    def __init__(self, inputs: Iterable[ColSpec | TensorSpec]) -> None:
        self.inputs = list(inputs)
        kinds = {type(s) for s in self.inputs}
        if not self.inputs or len(kinds) > 1 or not kinds <= {ColSpec, TensorSpec}:
            raise InvalidInput("a Schema is a list of ColSpec, or of TensorSpec, not both")
        if kinds == {TensorSpec} and len(self.inputs) > 1:
            raise InvalidInput("runsite takes one TensorSpec per Schema")

    def input_names(self) -> list[str | None]:
        return [s.name for s in self.inputs]

    def to_dict(self) -> dict[str, Any]:
        first = self.inputs[0]
        if isinstance(first, TensorSpec):
            return {"type": "tensor", "dtype": first.type, "shape": list(first.shape)}
        columns = []
        for s in self.inputs:
            col: dict[str, Any] = {"type": s.type}
            if s.name is not None:
                col = {"name": s.name, "type": s.type}
            if isinstance(s, ColSpec) and not s.required:
                col["required"] = False
            columns.append(col)
        return {"type": "columns", "columns": columns}

    def __repr__(self) -> str:
        return f"Schema({self.inputs!r})"


@dataclass(frozen=True)
class ParamSpec:
    """An inference parameter: ``ParamSpec("temperature", "double", 0.7)``."""

    name: str
    dtype: Any
    default: Any
    shape: tuple[int, ...] | None = None


class ParamSchema:
    def __init__(self, params: Iterable[ParamSpec]) -> None:
        self.params = list(params)

    def to_list(self) -> list[dict[str, Any]]:
        return [
            {
                "name": p.name,
                "type": _type_name(p.dtype),
                "default": p.default,
                "shape": list(p.shape) if p.shape is not None else None,
            }
            for p in self.params
        ]


class ModelSignature:
    """MLflow's ``ModelSignature(inputs=Schema([...]), outputs=..., params=...)``; pass it
    as ``log_model(signature=...)``."""

    def __init__(
        self,
        inputs: Schema | None = None,
        outputs: Schema | None = None,
        params: ParamSchema | None = None,
    ) -> None:
        self.inputs, self.outputs, self.params = inputs, outputs, params

    def to_dict(self) -> dict[str, Any]:
        """runsite's signature dict (``model.yaml``'s ``signature``)."""
        out: dict[str, Any] = {}
        if self.inputs is not None:
            out["inputs"] = self.inputs.to_dict()
        if self.outputs is not None:
            out["outputs"] = self.outputs.to_dict()
        if self.params is not None:
            out["params"] = self.params.to_list()
        return out

    def __repr__(self) -> str:
        return f"ModelSignature(inputs={self.inputs!r}, outputs={self.outputs!r})"


def as_dict(signature: Any) -> dict[str, Any] | None:
    """A signature given to ``log_model``: runsite's dict, or a ``ModelSignature``."""
    if signature is None or isinstance(signature, dict):
        return signature
    if isinstance(signature, ModelSignature):
        return signature.to_dict()
    raise InvalidInput(
        f"signature must be a dict (runsite.infer_signature) or a runsite ModelSignature, "
        f"got {type(signature).__name__}"
    )
