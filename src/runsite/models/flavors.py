"""Model flavors: how each kind of model is saved, loaded and asked to predict.

scikit-learn and plain Python objects are pickled; XGBoost models are saved in
XGBoost's own UBJSON format, so they load across XGBoost versions without pickle.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from typing import Any

from runsite.errors import InvalidInput, RunsiteError
from runsite.models.manifest import ModelReader, ModelWriter


class MissingLibrary(RunsiteError):
    """A flavor's library is not installed."""


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


_distributions: tuple[tuple[str, ...], dict[str, list[str]]] | None = None


def _module_distributions() -> dict[str, list[str]]:
    """Top-level module → distributions, computed once per ``sys.path``: it scans every
    installed package's file list (~70 ms)."""
    global _distributions
    from importlib import metadata

    key = tuple(sys.path)
    if _distributions is None or _distributions[0] != key:
        _distributions = (key, dict(metadata.packages_distributions()))
    return _distributions[1]


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

    def save(self, obj: Any, out: ModelWriter) -> dict[str, Any]:
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

    def save(self, obj: Any, out: ModelWriter) -> dict[str, Any]:
        out.write_pickle("model.pkl", obj)
        return {"file": "model.pkl", "serialization": "pickle", "class": qualname(obj)}

    def load(self, reader: ModelReader, conf: dict[str, Any]) -> Any:
        self.require()
        if conf.get("serialization") == "skops":
            return _load_skops(reader, conf["file"])
        return reader.read_pickle(conf["file"])

    def libraries(self, obj: Any) -> list[str]:
        return [*libraries_of(obj), "numpy", "scipy"]


def _load_skops(reader: ModelReader, name: str) -> Any:
    """A scikit-learn model in skops' format (what MLflow 3 writes by default; an imported
    MLflow model keeps it). skops builds only the types it is told to trust: those are the
    types the pickle scanner allows a scikit-learn model, checked before loading."""
    try:
        import skops.io as sio
    except ImportError:
        raise MissingLibrary(
            f"{reader.folder / name} is in skops' format (a model imported from MLflow): "
            "pip install skops"
        ) from None
    from runsite.errors import UnsafePickle
    from runsite.models.pickle_scan import allowed

    data = reader.read_bytes(name)
    wanted = sio.get_untrusted_types(data=data)
    refused = [t for t in wanted if not allowed(t, "sklearn")]
    if refused and not reader.trust:
        raise UnsafePickle(
            f"{reader.folder / name}: the skops file builds {', '.join(refused)}, which a "
            "scikit-learn model does not need. Refused. If you trust it, load it with "
            "trust=True (CLI: --trust-pickle)."
        )
    return sio.loads(data, trusted=wanted)


class XGBoostFlavor(Flavor):
    def matches(self, obj: Any) -> bool:
        return type(obj).__module__.startswith("xgboost.")

    def _booster(self, obj: Any) -> Any:
        return obj if type(obj).__name__ == "Booster" else obj.get_booster()

    def save(self, obj: Any, out: ModelWriter) -> dict[str, Any]:
        if not hasattr(obj, "save_raw") and not hasattr(obj, "get_booster"):
            raise InvalidInput(f"{qualname(obj)} is not an XGBoost Booster or estimator")
        out.write_bytes("model.ubj", self._booster(obj).save_raw("ubj"))
        return {"file": "model.ubj", "format": "ubj", "class": qualname(obj)}

    def load(self, reader: ModelReader, conf: dict[str, Any]) -> Any:
        xgb = self.require()
        raw = bytearray(reader.read_bytes(conf["file"]))
        cls_name = str(conf.get("class", "xgboost.core.Booster")).rsplit(".", 1)[-1]
        cls = getattr(xgb, cls_name, None)
        if cls is None:
            raise RunsiteError(f"xgboost {xgb.__version__} has no class {cls_name}")
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

    def save(self, obj: Any, out: ModelWriter) -> dict[str, Any]:
        out.write_pickle("model.pkl", obj)
        return {"file": "model.pkl", "serialization": "pickle", "class": qualname(obj)}

    def load(self, reader: ModelReader, conf: dict[str, Any]) -> Any:
        return reader.read_pickle(conf["file"])


FLAVORS: dict[str, Flavor] = {
    f.name: f
    for f in (
        XGBoostFlavor("xgboost", "xgboost", "xgboost"),
        SklearnFlavor("sklearn", "sklearn", "sklearn"),
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
