"""MLflow's custom Python models: a ``PythonModel`` subclass with ``load_context`` and
``predict(context, model_input, params=None)``, saved with the files it names
(``artifacts=``) and handed a ``PythonModelContext`` when it is loaded.

The model object is pickled with cloudpickle when it is installed (as MLflow does, so a
class defined in a notebook travels with the model), else with pickle. Either way the
pickle is scanned before loading like every other (docs/security.md): a class defined
in an importable module passes (the python flavor's "own package" rule); a class pickled
by value (defined in ``__main__``) is code in the pickle and loads only with
``trust=True``. The artifact files are checked against their hashes and copied into a
private temporary folder, whose paths the context gives: the bytes the model reads are
the bytes that were checked.
"""

from __future__ import annotations

import inspect
import logging
import os
import shutil
import tempfile
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runsite import validate
from runsite.errors import InvalidInput

if TYPE_CHECKING:
    from runsite.models.manifest import ModelReader, ModelWriter

log = logging.getLogger("runsite")

FILE = "python_model.pkl"
ARTIFACTS = "artifacts"


class PythonModel:
    """Base class of a custom model (MLflow's ``mlflow.pyfunc.PythonModel``)::

        class AddN(runsite.pyfunc.PythonModel):
            def __init__(self, n):
                self.n = n

            def load_context(self, context):
                self.table = pd.read_csv(context.artifacts["table"])

            def predict(self, context, model_input, params=None):
                return model_input["x"] + self.n

    ``predict(self, model_input, params=None)`` without ``context`` works too.
    """

    def load_context(self, context: PythonModelContext) -> None:
        """Called once when the model is loaded, before any ``predict``."""

    def predict(self, context: PythonModelContext, model_input: Any, params: Any = None) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define predict()")


class PythonModelContext:
    """What ``load_context`` and ``predict`` get: ``artifacts`` maps each name given to
    ``log_model(artifacts=...)`` to the local path of its (checked) copy;
    ``model_config`` is ``None`` (MLflow's ``model_config=`` is not supported)."""

    def __init__(self, artifacts: dict[str, str], model_config: Any = None) -> None:
        self.artifacts = artifacts
        self.model_config = model_config

    def __repr__(self) -> str:
        return f"PythonModelContext(artifacts={self.artifacts!r})"


def is_python_model(obj: Any) -> bool:
    return isinstance(obj, PythonModel) or (
        callable(getattr(obj, "predict", None)) and callable(getattr(obj, "load_context", None))
    )


def dumps(obj: Any) -> bytes:
    """The model object's pickle: cloudpickle when installed, else pickle."""
    try:
        import cloudpickle
    except ImportError:
        import pickle

        if type(obj).__module__ == "__main__":
            raise InvalidInput(
                f"python_model {type(obj).__qualname__} is defined in __main__ (a script or "
                "notebook): it can be loaded elsewhere only when pickled by value. Install "
                "cloudpickle (pip install cloudpickle) or define the class in a module."
            ) from None
        try:
            return pickle.dumps(obj, protocol=4)
        except Exception as exc:
            raise InvalidInput(f"cannot pickle python_model {type(obj).__name__}: {exc}") from None
    try:
        return bytes(cloudpickle.dumps(obj, protocol=4))
    except Exception as exc:
        raise InvalidInput(f"cannot pickle python_model {type(obj).__name__}: {exc}") from None


def _local_path(key: str, value: Any) -> Path:
    text = os.fspath(value) if isinstance(value, str | os.PathLike) else None
    if text is None:
        raise InvalidInput(f"artifacts[{key!r}] must be a path, got {type(value).__name__}")
    if text.startswith("file:"):
        from runsite.location import path_from_uri

        return Path(path_from_uri(text))
    if "://" in text or text.startswith(("runs:/", "models:/")):
        raise InvalidInput(
            f"artifacts[{key!r}] = {text!r}: only local files and folders are supported; "
            "download it first (runsite.artifacts.download_artifacts)"
        )
    return Path(text)


def write_artifacts(artifacts: Mapping[str, Any], out: ModelWriter) -> dict[str, str]:
    """Copy each named file or folder into ``artifacts/`` of the model folder (hashed as
    the model's other files); returns name → path inside the folder."""
    if not isinstance(artifacts, Mapping):
        raise InvalidInput(f"artifacts must be a dict of name → path, got {type(artifacts)}")
    placed: dict[str, str] = {}
    for key, value in artifacts.items():
        validate.check_key(key, "artifact name")
        src = _local_path(key, value)
        if src.is_symlink() or not src.exists():
            raise InvalidInput(f"artifacts[{key!r}]: {src} is not a file or folder")
        rel = f"{ARTIFACTS}/{src.name}"
        if rel in placed.values():
            raise InvalidInput(f"artifacts[{key!r}]: a second artifact named {src.name!r}")
        if src.is_dir():
            for path in sorted(src.rglob("*")):
                if path.is_symlink():
                    raise InvalidInput(f"artifacts[{key!r}]: {path} is a symlink; refused")
                if path.is_file():
                    name = f"{rel}/{path.relative_to(src).as_posix()}"
                    (out.folder / name).parent.mkdir(parents=True, exist_ok=True)
                    out.write_bytes(name, path.read_bytes())
        else:
            (out.folder / rel).parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(rel, src.read_bytes())
        placed[str(key)] = rel
    return placed


def context_for(reader: ModelReader, artifacts: Mapping[str, Any]) -> PythonModelContext:
    """A context whose artifact paths are copies of checked bytes in a temporary folder,
    removed when the context is no longer used."""
    if not artifacts:
        return PythonModelContext({})
    tmp = Path(tempfile.mkdtemp(prefix="runsite-pyfunc-"))
    paths: dict[str, str] = {}
    for key, rel in artifacts.items():
        rel = validate.safe_relpath(str(rel), "artifact path")
        names = [n for n in reader.files if n == rel or n.startswith(rel + "/")]
        if not names:
            shutil.rmtree(tmp, ignore_errors=True)
            raise InvalidInput(f"{reader.folder}: artifact {key!r} ({rel}) is not in the model")
        for name in names:
            dest = tmp / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(reader.read_bytes(name))
        paths[str(key)] = str(tmp / rel)
    context = PythonModelContext(paths)
    weakref.finalize(context, shutil.rmtree, tmp, True)
    return context


_contexts: weakref.WeakKeyDictionary[Any, PythonModelContext] = weakref.WeakKeyDictionary()


def loaded(obj: Any, context: PythonModelContext) -> Any:
    """Call ``load_context`` and remember the context for ``predict``."""
    obj.load_context(context)
    _contexts[obj] = context
    return obj


def _scalar(name: str, value: Any, kind: str) -> Any:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    ok = {
        "double": number,
        "float": number,
        "long": number and isinstance(value, int),
        "integer": number and isinstance(value, int),
        "boolean": isinstance(value, bool),
        "string": isinstance(value, str),
    }.get(kind, True)
    if not ok:
        raise InvalidInput(f"param {name!r} must be of type {kind}, got {value!r}")
    return float(value) if kind in ("double", "float") else value


def _param_value(name: str, value: Any, spec: Mapping[str, Any]) -> Any:
    kind = str(spec.get("type"))
    if spec.get("shape") is not None:
        if not isinstance(value, list | tuple):
            raise InvalidInput(f"param {name!r} must be a list of {kind}, got {value!r}")
        return [_scalar(name, v, kind) for v in value]
    return _scalar(name, value, kind)


def enforce_params(params: Any, signature: Mapping[str, Any] | None) -> Any:
    """The params a model's ``predict`` gets, as MLflow enforces them: with a params
    schema, unknown keys dropped, values checked, defaults filled in; without one, given
    params are ignored with a warning (``{}``)."""
    schema = (signature or {}).get("params")
    if not schema:
        if params in (None, {}):
            return params
        log.warning(
            "runsite: params given to predict are ignored: the model's signature defines "
            "no params (infer_signature(..., params=...))"
        )
        return {}
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        raise InvalidInput(f"params must be a dict, got {type(params).__name__}")
    specs = {str(p["name"]): p for p in schema}
    unknown = sorted(set(map(str, params)) - set(specs))
    if unknown:
        log.warning("runsite: params %s are not in the model's signature; ignored", unknown)
    out = {}
    for name, spec in specs.items():
        if name in params:
            out[name] = _param_value(name, params[name], spec)
        else:
            out[name] = spec.get("default")
    return out


def predict(obj: Any, data: Any, params: Any) -> Any:
    """Call the model's ``predict`` as MLflow does: with the context when its signature
    takes one (a parameter named ``context``, or two besides ``params``), ``params`` when
    it accepts them."""
    parameters = inspect.signature(obj.predict).parameters
    kwargs = {"params": params} if "params" in parameters else {}
    if "context" in parameters or len([p for p in parameters if p not in ("self", "params")]) == 2:
        return obj.predict(_contexts.get(obj) or PythonModelContext({}), data, **kwargs)
    return obj.predict(data, **kwargs)


def params_schema(params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``infer_signature(..., params=...)``: name, type, default (and shape for lists)."""

    def kind(v: Any) -> str:
        if isinstance(v, bool):
            return "boolean"
        if isinstance(v, int):
            return "long"
        if isinstance(v, float):
            return "double"
        if isinstance(v, str):
            return "string"
        raise InvalidInput(f"param default {v!r}: use a bool, int, float or str (or a list)")

    out = []
    for name, value in params.items():
        if isinstance(value, list | tuple):
            types = {kind(v) for v in value}
            if len(types) != 1:
                raise InvalidInput(f"param {name!r}: a list needs values of one type")
            spec: dict[str, Any] = {"name": str(name), "type": types.pop(), "default": list(value)}
            spec["shape"] = [-1]
            out.append(spec)
        else:
            out.append({"name": str(name), "type": kind(value), "default": value, "shape": None})
    return out
