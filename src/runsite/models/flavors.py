"""Model flavors: how each kind of model is saved, loaded and asked to predict.

scikit-learn models are pickled, or saved in skops' format when asked
(``serialization_format="skops"``: no pickle, loading builds only allowed types);
plain Python objects are pickled; XGBoost models are saved in XGBoost's own UBJSON
format, so they load across XGBoost versions without pickle.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from typing import Any

from runsite.errors import InvalidInput, RunsiteError, StoreFormatError
from runsite.models.manifest import ModelReader, ModelWriter


class MissingLibrary(RunsiteError):
    """A flavor's library is not installed."""


PICKLE = "pickle"
SKOPS = "skops"
SERIALIZATIONS = (PICKLE, SKOPS)  # MLflow's ``serialization_format`` values runsite writes


def check_serialization(value: str | None) -> str:
    """``serialization_format`` as given to ``log_model`` (default ``pickle``)."""
    if value is None:
        return PICKLE
    if value not in SERIALIZATIONS:
        hint = " (runsite writes plain pickle)" if value == "cloudpickle" else ""
        raise InvalidInput(
            f"serialization_format {value!r}: use {' or '.join(map(repr, SERIALIZATIONS))}{hint}"
        )
    return value


def _skops_io(what: str) -> Any:
    try:
        import skops.io as sio
    except ImportError:
        raise MissingLibrary(f"{what} needs skops: pip install 'runsite[skops]'") from None
    return sio


def skops_refused(data: bytes, where: str) -> list[str]:
    """The types a skops file would build that a scikit-learn model does not need (the
    pickle scanner's allowlist), read from its schema: nothing is loaded."""
    from runsite.models.pickle_scan import allowed

    sio = _skops_io(f"{where} (skops' format)")
    try:
        wanted = sio.get_untrusted_types(data=data)
    except Exception as exc:  # not a zip, no schema …: not a file runsite can vouch for
        raise StoreFormatError(f"{where} is not a readable skops file ({exc})") from None
    return [t for t in wanted if not allowed(t, "sklearn")]


def check_skops(reader: ModelReader, name: str) -> None:
    """Refuse (``UnsafePickle``) a skops file that builds types beyond the allowlist."""
    from runsite.errors import UnsafePickle

    refused = skops_refused(reader.read_bytes(name), str(reader.folder / name))
    if refused:
        raise UnsafePickle(
            f"{reader.folder / name}: the skops file builds {', '.join(refused)}, which a "
            "scikit-learn model does not need. Refused. If you trust it, load it with "
            "trust=True (CLI: --trust-pickle)."
        )


def write_skops(obj: Any, out: ModelWriter, name: str) -> None:
    """Save ``obj`` in skops' format, refusing (``InvalidInput``) what could not be loaded
    back without trust: the check happens when logging, not on someone else's machine."""
    sio = _skops_io("serialization_format='skops'")
    try:
        data = sio.dumps(obj)
    except Exception as exc:
        raise InvalidInput(
            f"cannot save {qualname(obj)} in skops' format: {exc}. "
            "Use serialization_format='pickle'."
        ) from None
    refused = skops_refused(data, f"{qualname(obj)} in skops' format")
    if refused:
        raise InvalidInput(
            f"{qualname(obj)} in skops' format needs {', '.join(refused)}, which runsite "
            "does not load without trust=True (only scikit-learn, numpy and scipy types "
            "are allowed). Use serialization_format='pickle' (its pickle is scanned the "
            "same way), or keep to those libraries' types."
        )
    out.write_bytes(name, data)


def read_skops(reader: ModelReader, name: str) -> Any:
    """Load a skops file whose bytes were verified; the types it builds are checked first
    (``check_skops``) unless the reader is trusted."""
    if not reader.trust:
        check_skops(reader, name)
    sio = _skops_io(str(reader.folder / name))
    data = reader.read_bytes(name)
    return sio.loads(data, trusted=sio.get_untrusted_types(data=data))


def qualname(obj: Any) -> str:
    t = type(obj)
    return f"{t.__module__}.{t.__qualname__}"


def _modules_of(obj: Any) -> set[str]:
    """Top-level modules of an object and, for estimators, of its nested parts."""
    mods = {type(obj).__module__.split(".")[0]}
    get_params = getattr(obj, "get_params", None)
    if callable(get_params):
        try:
            for value in get_params(deep=True).values():
                mods.add(type(value).__module__.split(".")[0])
        except Exception:
            pass
    return mods


def _module_distributions() -> dict[str, list[str]]:
    """Top-level module → distributions. It scans every installed package's file list
    (~0.1 s of CPU in a 150-package environment), so it is kept per environment
    (``capture.installed``)."""
    from importlib import metadata

    from runsite import capture

    return capture.installed("modules", lambda: dict(metadata.packages_distributions()))


def libraries_of(*objs: Any) -> list[str]:
    """Distribution names (``scikit-learn``) for the modules these objects come from."""
    mapping = _module_distributions()
    out: list[str] = []
    for obj in objs:
        if obj is None:
            continue
        for mod in sorted(_modules_of(obj)):
            for dist in mapping.get(mod, []):
                if dist not in out:
                    out.append(dist)
    return out


@dataclass(frozen=True)
class Flavor:
    name: str
    module: str  # the library to import
    extra: str  # pip extra that installs it

    def require(self) -> Any:
        try:
            return importlib.import_module(self.module)
        except ImportError:
            raise MissingLibrary(
                f"the {self.name} flavor needs {self.module}: pip install 'runsite[{self.extra}]'"
            ) from None

    def matches(self, obj: Any) -> bool:
        raise NotImplementedError

    def save(self, obj: Any, out: ModelWriter, serialization: str = PICKLE) -> dict[str, Any]:
        raise NotImplementedError

    def load(self, reader: ModelReader, conf: dict[str, Any]) -> Any:
        raise NotImplementedError

    def predict(self, native: Any, data: Any) -> Any:
        return native.predict(data)

    def libraries(self, obj: Any) -> list[str]:
        return libraries_of(obj)


class SklearnFlavor(Flavor):
    def matches(self, obj: Any) -> bool:
        return any(c.__module__.startswith("sklearn.") for c in type(obj).__mro__)

    def save(self, obj: Any, out: ModelWriter, serialization: str = PICKLE) -> dict[str, Any]:
        if serialization == SKOPS:  # MLflow 3 writes the same (``model.skops``)
            write_skops(obj, out, "model.skops")
            return {"file": "model.skops", "serialization": SKOPS, "class": qualname(obj)}
        out.write_pickle("model.pkl", obj)
        return {"file": "model.pkl", "serialization": PICKLE, "class": qualname(obj)}

    def load(self, reader: ModelReader, conf: dict[str, Any]) -> Any:
        self.require()
        if conf.get("serialization") == SKOPS:
            return read_skops(reader, conf["file"])
        return reader.read_pickle(conf["file"])

    def libraries(self, obj: Any) -> list[str]:
        return [*libraries_of(obj), "numpy", "scipy"]


class XGBoostFlavor(Flavor):
    def matches(self, obj: Any) -> bool:
        return type(obj).__module__.startswith("xgboost.")

    def _booster(self, obj: Any) -> Any:
        return obj if type(obj).__name__ == "Booster" else obj.get_booster()

    def save(self, obj: Any, out: ModelWriter, serialization: str = PICKLE) -> dict[str, Any]:
        # The model is UBJSON whatever ``serialization`` says (it applies to the
        # preprocessor): no pickle to begin with.
        if not hasattr(obj, "save_raw") and not hasattr(obj, "get_booster"):
            raise InvalidInput(f"{qualname(obj)} is not an XGBoost Booster or estimator")
        out.write_bytes("model.ubj", self._booster(obj).save_raw("ubj"))
        return {"file": "model.ubj", "format": "ubj", "class": qualname(obj)}

    def load(self, reader: ModelReader, conf: dict[str, Any]) -> Any:
        xgb = self.require()
        raw = bytearray(reader.read_bytes(conf["file"]))
        cls_name = str(conf.get("class", "xgboost.core.Booster")).rsplit(".", 1)[-1]
        cls = getattr(xgb, cls_name, None)
        if not (isinstance(cls, type) and issubclass(cls, (xgb.Booster, xgb.XGBModel))):
            # (the name comes from model.yaml: only a model class is ever called)
            raise RunsiteError(f"xgboost {xgb.__version__} has no model class {cls_name}")
        model = cls()
        model.load_model(raw)
        return model

    def predict(self, native: Any, data: Any) -> Any:
        if type(native).__name__ == "Booster":
            import xgboost as xgb

            return native.predict(xgb.DMatrix(data))
        return native.predict(data)

    def libraries(self, obj: Any) -> list[str]:
        libs = ["xgboost", "numpy"]
        return libs + (["scikit-learn"] if type(obj).__name__ != "Booster" else [])


class PythonFlavor(Flavor):
    def matches(self, obj: Any) -> bool:
        return callable(getattr(obj, "predict", None))

    def save(self, obj: Any, out: ModelWriter, serialization: str = PICKLE) -> dict[str, Any]:
        if serialization != PICKLE:
            raise InvalidInput(
                f"serialization_format={serialization!r} is for scikit-learn models (and "
                f"preprocessors); a {qualname(obj)} is saved with pickle"
            )
        out.write_pickle("model.pkl", obj)
        return {"file": "model.pkl", "serialization": PICKLE, "class": qualname(obj)}

    def load(self, reader: ModelReader, conf: dict[str, Any]) -> Any:
        return reader.read_pickle(conf["file"])


class PythonModelFlavor(Flavor):
    """MLflow's custom models (``mlflow.pyfunc.PythonModel``): the object pickled
    (cloudpickle when installed), its ``artifacts`` files in the folder, ``load_context``
    called on load, ``predict(context, model_input, params)``."""

    def matches(self, obj: Any) -> bool:
        from runsite.models import pythonmodel

        return pythonmodel.is_python_model(obj)

    def save(self, obj: Any, out: ModelWriter, serialization: str = PICKLE) -> dict[str, Any]:
        from runsite.models import pythonmodel

        if serialization != PICKLE:
            raise InvalidInput(
                f"serialization_format={serialization!r}: a python_model is saved with pickle"
            )
        out.write_bytes(pythonmodel.FILE, pythonmodel.dumps(obj))
        return {"file": pythonmodel.FILE, "serialization": PICKLE, "class": qualname(obj)}

    def load(self, reader: ModelReader, conf: dict[str, Any]) -> Any:
        from runsite.models import pythonmodel

        cls = conf.get("class")
        obj = reader.read_pickle(conf["file"], cls if isinstance(cls, str) else None)
        artifacts = conf.get("artifacts") or {}
        if not isinstance(artifacts, dict):
            raise StoreFormatError(f"{reader.folder}: the python_model's artifacts are not a map")
        return pythonmodel.loaded(obj, pythonmodel.context_for(reader, artifacts))

    def predict(self, native: Any, data: Any, params: Any = None) -> Any:
        from runsite.models import pythonmodel

        return pythonmodel.predict(native, data, params)

    def libraries(self, obj: Any) -> list[str]:
        libs = libraries_of(obj)
        return libs + ([] if importlib.util.find_spec("cloudpickle") is None else ["cloudpickle"])


FLAVORS: dict[str, Flavor] = {
    f.name: f
    for f in (
        XGBoostFlavor("xgboost", "xgboost", "xgboost"),
        SklearnFlavor("sklearn", "sklearn", "sklearn"),
        PythonModelFlavor("python_model", "pickle", "sklearn"),
        PythonFlavor("python", "pickle", "sklearn"),
    )
}


def get(name: str) -> Flavor:
    try:
        return FLAVORS[name]
    except KeyError:
        raise InvalidInput(
            f"unknown flavor {name!r}; known flavors: {', '.join(FLAVORS)}"
        ) from None


def detect(model: Any) -> Flavor:
    for flavor in FLAVORS.values():
        if flavor.matches(model):
            return flavor
    raise InvalidInput(
        f"cannot log a {qualname(model)}: it has no predict() method and is not a model of a "
        f"known flavor ({', '.join(FLAVORS)})"
    )
