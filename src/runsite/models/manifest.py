"""The model folder: ``model.yaml`` and the files it lists with their hashes.

Writing streams every file through sha256; reading checks every hash before a byte of
it is unpickled, so a tampered pickle never runs.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path
from typing import IO, Any

from runsite.errors import InvalidInput, NotFound, StoreFormatError

MANIFEST = "model.yaml"
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

    A file's bytes are read once: what was verified is what gets unpickled (reading the
    file again would let it change between the check and the use)."""

    def __init__(self, folder: Path, files: dict[str, str], store_root: Path | None = None) -> None:
        self.folder = folder
        self.store_root = store_root
        self.files = files
        self._verified: dict[str, bytes] = {}

    def read_bytes(self, name: str) -> bytes:
        if name in self._verified:
            return self._verified.pop(name)  # handed over once; not kept in memory
        expected = self.files.get(name)
        if expected is None:
            raise StoreFormatError(f"{self.folder / MANIFEST} does not list the file {name}")
        path = self.folder / name
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            data = self._remote_bytes(path)
        actual = hashlib.sha256(data).hexdigest()
        if actual != expected:
            raise StoreFormatError(
                f"model file {path} does not match the hash recorded when it was logged "
                f"(expected sha256 {expected[:16]}…, found {actual[:16]}…); refusing to load it"
            )
        return data

    def _remote_bytes(self, path: Path) -> bytes:
        """The bytes of a file kept in object storage (``<file>.pointer``)."""
        from runsite import objstore

        pointer = objstore.pointer_path(path)
        if not pointer.is_file():
            raise NotFound(f"model file {path} is missing") from None
        local = objstore.open_pointer(self.store_root or _store_of(self.folder), pointer, str(path))
        return local.read_bytes()

    def read_pickle(self, name: str) -> Any:
        return pickle.loads(self.read_bytes(name))

    def verify_all(self) -> None:
        """Check every file before any is used; keep the bytes for ``read_bytes``."""
        for name in self.files:
            self._verified[name] = self.read_bytes(name)


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
    from runsite import yamlio

    path = folder / MANIFEST
    if not path.is_file():
        if not folder.exists():
            raise NotFound(f"no model at {folder}")
        raise NotFound(f"{folder} is not a model folder: {MANIFEST} is missing")
    data = yamlio.load_safe(path)
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
    records): ``sha256:`` + the folder hash of docs/format.md. A file kept in object
    storage counts with the hash its pointer records (its bytes are checked on load)."""
    from runsite import objstore
    from runsite.hashing import folder_digest, sha256_file

    if not folder.is_dir():
        raise FileNotFoundError(folder)
    return "sha256:" + folder_digest(objstore.file_hashes(folder, sha256_file))


def _store_of(folder: Path) -> Path:
    """The store a model folder lies in: ``<store>/<experiment>/<run>/artifacts/…``."""
    for parent in folder.parents:
        if parent.name == "artifacts" and (parent.parent / "run.json").is_file():
            return parent.parent.parent.parent
    return Path(os.environ.get("RUNSITE_STORE") or "runs")


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def remove_tree(folder: Path) -> None:
    for root, dirs, files in os.walk(folder, topdown=False):
        for name in files:
            os.unlink(os.path.join(root, name))
        for name in dirs:
            os.rmdir(os.path.join(root, name))
    os.rmdir(folder)
