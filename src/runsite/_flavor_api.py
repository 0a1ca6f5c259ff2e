"""The shared body of ``runsite.sklearn`` / ``runsite.xgboost``: MLflow-shaped flavor
modules whose ``load_model`` returns the native object."""

from __future__ import annotations

import os
from typing import Any


def log_model(flavor: str, model: Any, name: str, **kwargs: Any) -> Any:
    from runsite import fluent

    if "artifact_path" in kwargs:
        name = kwargs.pop("artifact_path")
    return fluent.current_run().log_model(model, name, flavor=flavor, **kwargs)


def load_native(flavor: str, uri: str | os.PathLike[str], store: Any = None) -> Any:
    from runsite.errors import InvalidInput
    from runsite.models.api import load_model

    model = load_model(uri, store)
    if model.flavor.name != flavor:
        raise InvalidInput(
            f"model {os.fspath(uri)!r} has the {model.flavor.name} flavor, not {flavor}; "
            "use runsite.pyfunc.load_model() or runsite.load_model()"
        )
    return model.native


def save_model(flavor: str, model: Any, path: str | os.PathLike[str], **kwargs: Any) -> None:
    """MLflow's ``save_model``: a model folder at ``path``, outside any run (it must not
    exist, or be empty); load it back with ``load_model(path)``."""
    from pathlib import Path

    from runsite.errors import InvalidInput
    from runsite.models.api import save_model as _save

    folder = Path(path)
    if folder.exists():
        if not folder.is_dir() or any(folder.iterdir()):
            raise InvalidInput(f"save_model: {folder} already exists; choose a new folder")
        folder.rmdir()
    if "pip_requirements" in kwargs:  # MLflow's name for it
        kwargs["requirements"] = kwargs.pop("pip_requirements")
    _save(model, folder, flavor=flavor, **kwargs)
