"""``runsite.types``: MLflow's ``mlflow.types`` names for building a signature by hand."""

from __future__ import annotations

from runsite.models.schema import ColSpec, ParamSchema, ParamSpec, Schema, TensorSpec

__all__ = ["ColSpec", "ParamSchema", "ParamSpec", "Schema", "TensorSpec"]
