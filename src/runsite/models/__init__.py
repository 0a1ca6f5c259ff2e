"""Logged models: a folder with a manifest, flavors, and hash-verified loading."""

from __future__ import annotations

from runsite.models.api import LibraryVersionWarning, Model, ModelInfo, load_model, save_model
from runsite.models.flavors import FLAVORS, MissingLibrary
from runsite.models.schema import ModelSignature
from runsite.models.signature import infer_signature

__all__ = [
    "FLAVORS",
    "LibraryVersionWarning",
    "MissingLibrary",
    "Model",
    "ModelInfo",
    "ModelSignature",
    "infer_signature",
    "load_model",
    "save_model",
]
