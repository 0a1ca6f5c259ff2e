"""The model folder: ``model.yaml`` and the files it lists with their hashes.

Writing streams every file through sha256; reading checks every hash before a byte of
it is unpickled, so a tampered pickle never runs.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
from pathlib import Path
from typing import IO, Any

from runsite import record, validate
from runsite.errors import InvalidInput, NotFound, StoreFormatError, UnsafePickle

MANIFEST = record.MODEL_YAML
FORMAT_VERSION = 1
PICKLE_PROTOCOL = 5


class _HashingFile:
    def __init__(self, f: IO[bytes]) -> None:
        self._f = f
        self.sha = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        return self._f.write(data)


class ModelWriter:
    """Writes the files of a model folder, hashing them on the way."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files: dict[str, str] = {}
        self.size = 0

    def _path(self, name: str) -> Path:
        if name in self.files:
            raise ValueError(f"model file {name} written twice")
        return self.folder / name

    def write_bytes(self, name: str, data: bytes | bytearray) -> None:
        path = self._path(name)
        path.write_bytes(data)
        self.files[name] = hashlib.sha256(data).hexdigest()
        self.size += len(data)

    def write_pickle(self, name: str, obj: Any) -> None:
        path = self._path(name)
        try:
            with path.open("wb") as f:
                out = _HashingFile(f)
                pickle.dump(obj, out, protocol=PICKLE_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise InvalidInput(
                f"cannot pickle {type(obj).__name__}: {exc}. Define its class in an importable "
                "module (not in __main__ or a notebook cell) so it can be loaded later."
            ) from None
        self.files[name] = out.sha.hexdigest()
        self.size += path.stat().st_size


class ModelReader:
    """Reads the files of a model folder, refusing any whose hash is not the recorded one.

    A file's bytes are read once and hashed once: what was verified is what gets scanned
    and unpickled (reading the file again would let it change between the check and the
    use), so the verified bytes are kept and handed out again. A file kept in object
    storage is read from the local cache once, in place, and verified the same way. Every
    pickle is scanned first (``models/pickle_scan.py``), once, unless ``trust`` is set."""

    def __init__(
        self,
        folder: Path,
        files: dict[str, str],
        blobs: dict[str, bytes] | None = None,
        flavor: str = "python",
        model_class: str | None = None,
        trust: bool = False,
        store_root: Path | None = None,
    ) -> None:
        self.folder = folder
        self.store_root = store_root
        self.manifest_bytes = b""
        self.files = files
        self._blobs = blobs
        self.flavor = flavor
        self.model_class = model_class
        self.trust = trust
        self._verified: dict[str, bytes] = {}  # name → bytes whose hash was checked
        self._scanned: set[str] = set()

    def _raw(self, rel: str) -> bytes:
        if self._blobs is not None:
            data = self._blobs.get(rel)
            if data is None:
                return self._remote_bytes(self.folder / rel)
            return data
        path = validate.confined(self.folder, rel, "model file")
        if not path.exists() and not path.is_symlink():
            return self._remote_bytes(path)
        return read_regular(path)

    def _remote_bytes(self, path: Path) -> bytes:
        """The bytes of a file kept in object storage (``<file>.pointer``); they are
        checked against the file's hash in ``model.yaml`` like any other."""
        from runsite import objstore

        pointer = objstore.pointer_path(path)
        if not pointer.is_file() or pointer.is_symlink():
            raise NotFound(f"model file {path} is missing") from None
        local = objstore.open_pointer(self.store_root or _store_of(self.folder), pointer, str(path))
        return local.read_bytes()

    def write_to(self, out: Path) -> None:
        """The manifest and every file, each checked against its hash, into the folder
        ``out`` (which exists): a copy of verified bytes, with no pointers."""
        (out / MANIFEST).write_bytes(self.manifest_bytes)
        for name in self.files:
            dest = out / validate.safe_relpath(name, "model file")
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(self.read_bytes(name))

    def read_bytes(self, name: str) -> bytes:
        done = self._verified.get(name)
        if done is not None:  # the same immutable bytes that were hashed: no re-read
            return done
        expected = self.files.get(name)
        if expected is None:
            raise StoreFormatError(f"{self.folder / MANIFEST} does not list the file {name}")
        rel = validate.safe_relpath(name, f"file name in {self.folder / MANIFEST}")
        data = self._raw(rel)
        actual = hashlib.sha256(data).hexdigest()
        if actual != expected:
            raise StoreFormatError(
                f"model file {self.folder / rel} does not match the hash recorded when it was "
                f"logged (expected sha256 {str(expected)[:16]}…, found {actual[:16]}…); "
                "refusing to load it"
            )
        self._verified[name] = data
        return data

    def scan_pickle(self, name: str, model_class: str | None = None) -> None:
        """Refuse (``UnsafePickle``) a pickle that imports what its flavor does not need."""
        from runsite.models.pickle_scan import scan

        key = f"{name}\0{model_class or self.model_class}"
        if key in self._scanned:  # these bytes (kept, verified) passed already
            return
        result = scan(self.read_bytes(name), self.flavor, model_class or self.model_class)
        if result.ok:
            self._scanned.add(key)
        else:
            raise UnsafePickle(
                f"{self.folder / name}: {result.describe()}, which a {self.flavor} model does "
                "not need: loading it could run code. Refused. If you made this file and "
                "trust it, load it with trust=True (CLI: --trust-pickle)."
            )

    def read_pickle(self, name: str, model_class: str | None = None) -> Any:
        if not self.trust:
            self.scan_pickle(name, model_class)
        return pickle.loads(self.read_bytes(name))

    def verify_all(self) -> None:
        """Check every listed file before any is used (reading the folder once)."""
        if self._blobs is None:
            self._blobs = read_folder(self.folder)
        for name in self.files:
            self.read_bytes(name)


def read_regular(path: Path) -> bytes:
    """A regular file's bytes, never through a symlink (refused, naming the path)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        raise NotFound(f"model file {path} is missing") from None
    except OSError as exc:
        if path.is_symlink():
            raise InvalidInput(f"model file {path} is a symlink; refused") from None
        raise StoreFormatError(f"cannot read {path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise InvalidInput(f"model file {path} is not a regular file; refused")
        return f.read()


def read_folder(folder: Path) -> dict[str, bytes]:
    """Every file of a model folder, read once (relative posix path → bytes). A symlink
    or anything else that is not a regular file or folder is refused, naming it."""
    if folder.is_symlink():
        raise InvalidInput(f"model folder {folder} is a symlink; refused")
    if not folder.is_dir():
        raise NotFound(f"no model at {folder}")
    out: dict[str, bytes] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        base = Path(dirpath)
        for name in dirnames:
            if (base / name).is_symlink():
                raise InvalidInput(f"model folder {folder} holds a symlink {base / name}; refused")
        for name in filenames:
            path = base / name
            if path.is_symlink():
                raise InvalidInput(f"model folder {folder} holds a symlink {path}; refused")
            out[path.relative_to(folder).as_posix()] = read_regular(path)
    return out


def digest_of(blobs: dict[str, bytes], folder: Path) -> str:
    """The model hash (see ``model_hash``) of files already read; a file kept in object
    storage counts with the hash its pointer records (its bytes are checked on load)."""
    from runsite import objstore
    from runsite.hashing import folder_digest

    hashes: dict[str, str] = {}
    for rel, data in blobs.items():
        if rel.endswith(objstore.POINTER_SUFFIX):
            try:
                hashes[rel[: -len(objstore.POINTER_SUFFIX)]] = objstore.read_pointer(
                    folder / rel
                ).sha256
                continue
            except StoreFormatError:
                pass
        hashes[rel] = hashlib.sha256(data).hexdigest()
    return "sha256:" + folder_digest(hashes)


def open_model(
    folder: Path,
    expected_hash: str | None = None,
    trust: bool = False,
    store_root: Path | None = None,
) -> tuple[dict[str, Any], ModelReader]:
    """Read a model folder once: its manifest and a reader over the bytes just read.

    With ``expected_hash`` (the registry's), the whole folder must hash to it, computed
    from those bytes: no cache is trusted for this, so a file swapped behind a cache
    entry is caught."""
    blobs = read_folder(folder)
    if MANIFEST not in blobs:
        raise NotFound(f"{folder} is not a model folder: {MANIFEST} is missing")
    if expected_hash is not None:
        actual = digest_of(blobs, folder)
        if actual != expected_hash:
            raise StoreFormatError(
                f"hash {expected_hash} does not match the model folder {folder} "
                f"(it hashes to {actual}): it does not match the hash in the registry; "
                "refusing to use it"
            )
    manifest = parse_manifest(blobs[MANIFEST].decode("utf-8", "replace"), folder / MANIFEST)
    flavor = str(manifest.get("flavor"))
    conf = (manifest.get("flavors") or {}).get(flavor)
    cls = conf.get("class") if isinstance(conf, dict) else None
    reader = ModelReader(
        folder,
        manifest["files"],
        blobs,
        flavor=flavor,
        model_class=cls if isinstance(cls, str) else None,
        trust=trust,
        store_root=store_root,
    )
    reader.verify_all()
    reader.manifest_bytes = blobs[MANIFEST]
    return manifest, reader


def write_manifest(folder: Path, manifest: dict[str, Any]) -> str:
    """Write ``model.yaml``; returns the model's hash (see ``model_hash``), computed from
    the hashes already known instead of reading every file again."""
    from runsite import yamlio
    from runsite.hashing import folder_digest

    data = yamlio.dump(manifest).encode("utf-8")
    (folder / MANIFEST).write_bytes(data)
    files = {**manifest["files"], MANIFEST: hashlib.sha256(data).hexdigest()}
    return "sha256:" + folder_digest(files)


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not path.is_file():
        if not folder.exists():
            raise NotFound(f"no model at {folder}")
        raise NotFound(f"{folder} is not a model folder: {MANIFEST} is missing")
    if path.is_symlink() or folder.is_symlink():
        raise InvalidInput(f"{path} is reached through a symlink; refused")
    return parse_manifest(read_regular(path).decode("utf-8", "replace"), path)


def parse_manifest(text: str, path: Path) -> dict[str, Any]:
    from runsite import yamlio

    data = yamlio.loads(text, path)
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        raise StoreFormatError(f"{path} is not a runsite model manifest")
    version = data.get("format", 1)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise StoreFormatError(
            f"{path} uses model format {version!r}; this runsite reads up to {FORMAT_VERSION}"
        )
    return data


def model_hash(folder: Path) -> str:
    """The content hash of a whole model folder, manifest included (what the registry
    records): ``sha256:`` + the folder hash of docs/format.md. Always computed from the
    bytes (never from the hash cache): registering and checking are trust decisions."""
    if not folder.is_dir():
        raise FileNotFoundError(folder)
    return digest_of(read_folder(folder), folder)


def _store_of(folder: Path) -> Path:
    """The store a model folder lies in: ``<store>/<experiment>/<run>/artifacts/…``."""
    for parent in folder.parents:
        if parent.name == "artifacts" and (parent.parent / "run.json").is_file():
            return parent.parent.parent.parent
    return Path(os.environ.get("RUNSITE_STORE") or "runs")


def remove_tree(folder: Path) -> None:
    for root, dirs, files in os.walk(folder, topdown=False):
        for name in files:
            os.unlink(os.path.join(root, name))
        for name in dirs:
            os.rmdir(os.path.join(root, name))
    os.rmdir(folder)
