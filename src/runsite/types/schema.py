"""``runsite.types.schema``: ``from mlflow.types.schema import Schema, ColSpec`` ports."""

from __future__ import annotations

from runsite.models.schema import ColSpec, ParamSchema, ParamSpec, Schema, TensorSpec

__all__ = ["ColSpec", "ParamSchema", "ParamSpec", "Schema", "TensorSpec"]
