"""``log_model`` and ``load_model``: a model folder in a run's artifacts, and back."""

from __future__ import annotations

import functools
import logging
import os
import platform
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runsite import hooks, record, validate
from runsite import run as run_mod
from runsite.errors import InvalidInput, NotFound, RunsiteError
from runsite.models import flavors
from runsite.models import signature as sig
from runsite.models.manifest import (
    FORMAT_VERSION,
    MANIFEST,
    ModelReader,
    ModelWriter,
    open_model,
    remove_tree,
    write_manifest,
)

if TYPE_CHECKING:
    from runsite.run import Run

log = logging.getLogger("runsite")

REQUIREMENTS = "requirements.txt"
INPUT_EXAMPLE = "input_example.json"
PREPROCESSOR = "preprocessor.pkl"
PREPROCESSOR_SKOPS = "preprocessor.skops"


class LibraryVersionWarning(UserWarning):
    """A model is loaded with other library versions than it was logged with."""


@dataclass(frozen=True)
class ModelInfo:
    """What ``log_model`` returns (MLflow's shape: ``model_uri``, ``run_id`` …)."""

    model_uri: str
    run_id: str
    name: str
    flavor: str
    hash: str
    size_bytes: int
    path: str


@functools.cache  # the version a process imported does not change under it
def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _preprocessor_input(pre: Any, example: Any) -> str:
    """How ``predict`` must hand data to the preprocessor: as records (list of dicts, for
    a ``DictVectorizer``) or as given."""
    if type(pre).__name__ in ("DictVectorizer",):
        return "records"
    if example is not None and (sig.is_records(example) or sig.is_frame(example)):
        try:
            pre.transform(sig.to_records(example))
            return "records"
        except Exception:
            pass
    return "native"


def _requirements(libraries: dict[str, str | None], extra: Sequence[str] | str | None) -> str:
    lines = [f"{name}=={ver}" for name, ver in libraries.items() if ver]
    if isinstance(extra, str | os.PathLike):
        path = Path(extra)
        if not path.is_file():
            raise NotFound(f"requirements file {path} does not exist")
        extra = [ln.strip() for ln in path.read_text().splitlines()]
    for line in extra or []:
        if line and not line.startswith("#") and line not in lines:
            lines.append(line)
    return "\n".join(lines) + "\n"


def save_model(
    model: Any,
    folder: Path,
    *,
    flavor: str | None = None,
    preprocessor: Any = None,
    input_example: Any = None,
    signature: dict[str, Any] | None = None,
    requirements: Sequence[str] | str | None = None,
    run_id: str | None = None,
    name: str | None = None,
    serialization_format: str | None = None,
    artifacts: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], str]:
    """Write a model folder (it must not exist). Returns its manifest and its hash.

    ``serialization_format`` (MLflow's name): ``"pickle"`` (default) or ``"skops"``,
    which saves a scikit-learn model and any preprocessor in skops' format: no pickle in
    the folder, and loading builds only scikit-learn, numpy and scipy types (no trust
    needed). XGBoost models are UBJSON either way. ``artifacts`` (name → local file or
    folder) go into the folder of a ``python_model`` and reach it as
    ``context.artifacts``."""
    from runsite.models.schema import as_dict

    signature = as_dict(signature)
    serialization = flavors.check_serialization(serialization_format)
    fl = flavors.get(flavor) if flavor else flavors.detect(model)
    if flavor and not fl.matches(model):
        raise InvalidInput(f"a {flavors.qualname(model)} cannot be saved with the {fl.name} flavor")
    if preprocessor is not None and not callable(getattr(preprocessor, "transform", None)):
        raise InvalidInput(
            f"preprocessor {flavors.qualname(preprocessor)} has no transform() method"
        )
    example_doc = sig.example_to_json(input_example) if input_example is not None else None
    folder.mkdir(parents=True)
    try:
        out = ModelWriter(folder)
        conf = fl.save(model, out, serialization)
        if artifacts:
            if fl.name != "python_model":
                raise InvalidInput(
                    f"artifacts= is for python_model (a runsite.pyfunc.PythonModel); a "
                    f"{flavors.qualname(model)} is saved with the {fl.name} flavor"
                )
            from runsite.models import pythonmodel

            conf["artifacts"] = pythonmodel.write_artifacts(artifacts, out)
        manifest: dict[str, Any] = {
            "format": FORMAT_VERSION,
            "name": name or folder.name,
            "flavor": fl.name,
            "flavors": {fl.name: conf},
        }
        libs = fl.libraries(model)
        if preprocessor is not None:
            pre_conf: dict[str, Any] = {
                "file": PREPROCESSOR,
                "class": flavors.qualname(preprocessor),
                "input": _preprocessor_input(preprocessor, input_example),
            }
            if serialization == flavors.SKOPS:
                pre_conf["file"] = PREPROCESSOR_SKOPS
                pre_conf["serialization"] = flavors.SKOPS
                flavors.write_skops(preprocessor, out, PREPROCESSOR_SKOPS)
            else:
                out.write_pickle(PREPROCESSOR, preprocessor)
            manifest["preprocessor"] = pre_conf
            libs += [x for x in flavors.libraries_of(preprocessor) if x not in libs]
        if skops_of(manifest):
            libs.append("skops")
        versions = {name: _version(name) for name in dict.fromkeys(libs)}
        manifest["python_version"] = platform.python_version()
        manifest["libraries"] = {k: v for k, v in versions.items() if v}
        out.write_bytes(REQUIREMENTS, _requirements(versions, requirements).encode())
        manifest["requirements"] = REQUIREMENTS
        if example_doc is not None:
            import json

            out.write_bytes(INPUT_EXAMPLE, json.dumps(example_doc, default=str).encode())
            manifest["input_example"] = INPUT_EXAMPLE
        if signature is None and input_example is not None:
            signature = _infer(fl, model, preprocessor, manifest, input_example)
        if signature is not None:
            manifest["signature"] = signature
        manifest["files"] = dict(out.files)
        manifest["size_bytes"] = out.size
        manifest["created"] = record.now_iso()
        if run_id:
            manifest["run_id"] = run_id
        manifest_hash = write_manifest(folder, manifest)
    except BaseException:
        remove_tree(folder)
        raise
    return manifest, manifest_hash


def _infer(
    fl: flavors.Flavor, model: Any, pre: Any, manifest: dict[str, Any], example: Any
) -> dict[str, Any]:
    signature = sig.infer_signature(example)
    if fl.name == "python_model":  # its predict needs load_context first: inputs only
        return signature
    try:
        out = _predict(fl, model, pre, manifest, example)
        signature["outputs"] = sig.describe(out)
    except Exception as exc:  # the example may not suit predict; inputs are still useful
        log.warning("runsite: could not infer the output signature: %s", exc)
    return signature


def _prepare(pre: Any, manifest: dict[str, Any], data: Any) -> Any:
    """The model's input from the caller's data: signature enforced, preprocessor applied."""
    data = sig.enforce_signature(data, manifest.get("signature"))
    if pre is not None:
        if manifest.get("preprocessor", {}).get("input") == "records":
            data = sig.to_records(data)
        return pre.transform(data)
    return sig.to_table(data, manifest.get("signature"))


def _predict(fl: flavors.Flavor, native: Any, pre: Any, manifest: dict[str, Any], data: Any) -> Any:
    return fl.predict(native, _prepare(pre, manifest, data))


class Model:
    """A loaded model: ``predict`` applies the preprocessor, then the model.

    ``native`` is the underlying object (the estimator, the Booster); ``metadata`` the
    manifest; ``preprocessor`` the fitted preprocessor or ``None``. Loaded through the
    registry (``models:/…``), ``registered_name``, ``version`` and ``stage`` say which
    registered version it is (else they are ``None``)."""

    def __init__(
        self, path: Path, metadata: dict[str, Any], native: Any, preprocessor: Any
    ) -> None:
        self.path = path
        self.metadata = metadata
        self.native = native
        self.preprocessor = preprocessor
        self.flavor = flavors.get(metadata["flavor"])
        self.registered_name: str | None = None
        self.version: int | None = None
        self.stage: str | None = None
        self.aliases: list[str] = []

    def __repr__(self) -> str:
        if self.registered_name is not None:
            return (
                f"<runsite Model {self.registered_name} v{self.version} ({self.stage}) "
                f"flavor={self.flavor.name}>"
            )
        name = self.metadata.get("name")
        return f"<runsite Model {name!r} flavor={self.flavor.name} at {self.path}>"

    @property
    def size_bytes(self) -> int:
        return int(self.metadata.get("size_bytes") or 0)

    @property
    def signature(self) -> dict[str, Any] | None:
        return self.metadata.get("signature")

    @property
    def input_example(self) -> Any:
        name = self.metadata.get("input_example")
        if not name:
            return None
        import json

        reader = ModelReader(self.path, self.metadata["files"])
        return sig.example_from_json(json.loads(reader.read_bytes(name)))

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """Predict on a DataFrame, a list of dicts (or one dict) or an array. A logged
        signature is enforced first (``runsite.models.signature.enforce_signature``):
        missing columns or types that cannot be converted safely are an error.
        ``params`` reach a ``python_model``'s ``predict`` as MLflow passes them (checked
        against the signature's params, defaults filled in); other models take none
        (given ones are ignored with a warning, as in MLflow)."""
        from runsite.models import pythonmodel

        params = pythonmodel.enforce_params(params, self.signature)
        if self.flavor.name == "python_model":
            prepared = _prepare(self.preprocessor, self.metadata, data)
            return pythonmodel.predict(self.native, prepared, params)
        return _predict(self.flavor, self.native, self.preprocessor, self.metadata, data)

    def unwrap_python_model(self) -> Any:
        """The ``PythonModel`` object of a python_model (MLflow's name; ``.native``)."""
        if self.flavor.name != "python_model":
            raise InvalidInput(f"{self!r} is not a python_model")
        return self.native

    @property
    def has_predict_proba(self) -> bool:
        return callable(getattr(self.native, "predict_proba", None))

    def predict_proba(self, data: Any) -> Any:
        """Class probabilities, for a model that gives them (a scikit-learn classifier)."""
        if not self.has_predict_proba:
            raise InvalidInput(f"{self!r} gives no probabilities (it has no predict_proba)")
        return self.native.predict_proba(_prepare(self.preprocessor, self.metadata, data))


def _check_versions(manifest: dict[str, Any], path: Path) -> None:
    for name, recorded in (manifest.get("libraries") or {}).items():
        installed = _version(name)
        if installed is not None and installed != recorded:
            warnings.warn(
                f"model {path} was logged with {name} {recorded}; {name} {installed} is "
                "installed here. Predictions may differ: see its requirements.txt.",
                LibraryVersionWarning,
                stacklevel=3,
            )


def load_folder(
    path: Path,
    store_root: Path | None = None,
    expected_hash: str | None = None,
    trust: bool = False,
) -> Model:
    """Load a model folder: read once, every hash checked (the folder's against
    ``expected_hash`` too), every pickle scanned unless ``trust``, then unpickled."""
    manifest, reader = open_model(path, expected_hash, trust=trust, store_root=store_root)
    fl = flavors.get(str(manifest.get("flavor")))
    conf = (manifest.get("flavors") or {}).get(fl.name)
    if not isinstance(conf, dict):
        raise RunsiteError(f"{path / MANIFEST} has no settings for its flavor {fl.name}")
    pre_conf = manifest.get("preprocessor")
    if not trust:  # every pickle and skops file before any is loaded
        check_loadable(reader, manifest)
    _check_versions(manifest, path)
    native = fl.load(reader, conf)
    pre = None
    if isinstance(pre_conf, dict):
        pre_file = str(pre_conf.get("file"))
        if pre_conf.get("serialization") == flavors.SKOPS:
            pre = flavors.read_skops(reader, pre_file)
        else:
            pre = reader.read_pickle(pre_file, _str(pre_conf.get("class")))
    return Model(path, manifest, native, pre)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def pickles_of(manifest: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(file, class) of every pickle a model folder loads: the model (for its pickle
    flavors) and the preprocessor."""
    out: list[tuple[str, str | None]] = []
    conf = (manifest.get("flavors") or {}).get(str(manifest.get("flavor")))
    if isinstance(conf, dict) and conf.get("serialization") == flavors.PICKLE:
        out.append((str(conf.get("file")), _str(conf.get("class"))))
    pre = manifest.get("preprocessor")
    if isinstance(pre, dict) and pre.get("serialization") != flavors.SKOPS:
        out.append((str(pre.get("file")), _str(pre.get("class"))))
    return out


def skops_of(manifest: dict[str, Any]) -> list[str]:
    """Files of a model folder in skops' format: the model's, the preprocessor's."""
    out: list[str] = []
    conf = (manifest.get("flavors") or {}).get(str(manifest.get("flavor")))
    if isinstance(conf, dict) and conf.get("serialization") == flavors.SKOPS:
        out.append(str(conf.get("file")))
    pre = manifest.get("preprocessor")
    if isinstance(pre, dict) and pre.get("serialization") == flavors.SKOPS:
        out.append(str(pre.get("file")))
    return out


def check_loadable(reader: ModelReader, manifest: dict[str, Any]) -> None:
    """Refuse (``UnsafePickle``) a folder whose pickles import, or whose skops files
    build, what its flavor does not need; nothing is loaded."""
    for name, cls in pickles_of(manifest):
        reader.scan_pickle(name, cls)
    for name in skops_of(manifest):
        flavors.check_skops(reader, name)


def copy_model(
    folder: Path,
    out: Path,
    expected_hash: str | None = None,
    trust: bool = False,
    store_root: Path | None = None,
) -> dict[str, Any]:
    """Copy a model folder to ``out`` (new or empty) with only bytes that were verified:
    the folder is read once, checked against ``expected_hash`` and every file hash, its
    pickles scanned unless ``trust`` (``UnsafePickle`` names what is refused), then
    written. A file kept in object storage (a pointer) is fetched by hash and checked
    like the others, so the copy holds real bytes and no pointers. Nothing is unpickled.
    Returns the manifest."""
    manifest, reader = open_model(folder, expected_hash, trust=trust, store_root=store_root)
    if not trust:  # a copy is loaded somewhere next: refuse what loading would refuse
        check_loadable(reader, manifest)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InvalidInput(f"{out} is not an empty folder; choose an empty or new folder")
    out.mkdir(parents=True, exist_ok=True)
    reader.write_to(out)
    return manifest


def scan_model(folder: Path, expected_hash: str | None = None) -> list[str]:
    """Problems that would stop ``load_model`` (hashes, symlinks, unsafe pickles) without
    unpickling anything: what ``runsite models check`` runs on every version."""
    try:
        manifest, reader = open_model(folder, expected_hash)
        check_loadable(reader, manifest)
    except RunsiteError as exc:
        return [str(exc)]
    return []


def resolve(uri: str | os.PathLike[str], store: str | os.PathLike[str] | None = None) -> Path:
    """The folder a model URI names: ``runs:/<run-id>/<name>``, ``models:/…`` (registry)
    or a path."""
    text = os.fspath(uri)
    if text.startswith("runs:/"):
        rest = text[len("runs:/") :].strip("/")
        run_id, _, name = rest.partition("/")
        if not run_id or not name:
            raise InvalidInput(f"model URI {text!r} must look like runs:/<run-id>/<model name>")
        from runsite.store import Store

        rec = Store(store).run(run_id)
        return rec.artifacts_dir / validate.safe_relpath(name, "model name")
    if text.startswith("models:/"):
        resolver = hooks.uri_resolver("models")
        if resolver is None:
            raise InvalidInput(f"model URI {text!r}: no registry is installed to resolve it")
        return resolver(text, store)
    return Path(text)


def load_model(
    uri: str | os.PathLike[str],
    store: str | os.PathLike[str] | None = None,
    trust: bool = False,
) -> Model:
    """Load a logged model; its file hashes are checked and its pickles scanned before
    anything is unpickled. A pickle that imports what its flavor does not need raises
    ``UnsafePickle`` unless ``trust=True`` (for a file you made yourself)."""
    text = os.fspath(uri)
    root = Path(store) if store is not None else None
    if text.startswith("models:/"):
        resolver = hooks.version_resolver("models")
        if resolver is None:
            raise InvalidInput(f"model URI {text!r}: no registry is installed to resolve it")
        folder, mv = resolver(text, store)
        model = load_folder(folder, root, mv.hash, trust=trust)
        model.registered_name, model.version = mv.name, mv.version
        model.stage, model.aliases = mv.stage, list(mv.aliases)
        return model
    return load_folder(resolve(uri, store), root, trust=trust)


def log_model(
    run: Run,
    model: Any,
    name: str,
    *,
    flavor: str | None = None,
    preprocessor: Any = None,
    input_example: Any = None,
    signature: dict[str, Any] | None = None,
    requirements: Sequence[str] | str | None = None,
    serialization_format: str | None = None,
    pip_requirements: Sequence[str] | str | None = None,
    artifacts: Mapping[str, Any] | None = None,
) -> ModelInfo:
    if pip_requirements is not None:  # MLflow's name for it
        if requirements is not None:
            raise InvalidInput("log_model: give requirements= or pip_requirements=, not both")
        requirements = pip_requirements
    rel = validate.safe_relpath(name, "model name")
    if not rel:
        raise InvalidInput("a model needs a name")
    run_mod.check_open(run)
    dest = run.artifacts_dir / rel
    if dest.exists():
        raise InvalidInput(f"run {run.run_id} already has an artifact {rel!r}; choose another name")
    tmp = run.artifacts_dir / f".{dest.name}.{os.getpid()}.tmp"
    if tmp.exists():
        remove_tree(tmp)
    manifest, digest = save_model(
        model,
        tmp,
        flavor=flavor,
        preprocessor=preprocessor,
        input_example=input_example,
        signature=signature,
        requirements=requirements,
        run_id=run.run_id,
        name=rel,
        serialization_format=serialization_format,
        artifacts=artifacts,
    )
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, dest)
    run_mod.record_model(run, rel, manifest, digest)
    info = ModelInfo(
        model_uri=f"runs:/{run.run_id}/{rel}",
        run_id=run.run_id,
        name=rel,
        flavor=manifest["flavor"],
        hash=digest,
        size_bytes=int(manifest["size_bytes"]),
        path=str(dest),
    )
    return info
