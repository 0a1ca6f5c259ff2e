"""``log_input``: what a run records about a data file or folder it used."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from runsite import hashing
from runsite.errors import NotFound

log = logging.getLogger("runsite")


def display_path(path: Path) -> str:
    """The path as it should be remembered: relative to the git work tree or the current
    folder when inside them (so two machines agree), else absolute."""
    resolved = path.resolve()
    for base in (_work_tree(resolved), Path.cwd().resolve()):
        if base is None:
            continue
        try:
            return resolved.relative_to(base).as_posix()
        except ValueError:
            continue
    return resolved.as_posix()


def _work_tree(path: Path) -> Path | None:
    for parent in [path, *path.parents]:
        if (parent / ".git").exists():
            return parent
    return None


def describe_input(path: Path, name: str | None, context: str) -> dict[str, Any]:
    if not path.exists():
        raise NotFound(f"cannot log input: {path} does not exist")
    digest, size, files = hashing.hash_path(path)
    info: dict[str, Any] = {
        "name": name or path.name,
        "path": display_path(path),
        "context": context,
        "kind": "folder" if path.is_dir() else "file",
        "hash": f"sha256:{digest}",
        "size": size,
        "files": files,
    }
    if path.is_file() and path.suffix.lower() in (".csv", ".tsv", ".parquet"):
        info.update(_table_info(path, digest))
    return info


def _table_info(path: Path, digest: str) -> dict[str, Any]:
    cache = hashing.default_cache()
    cached = cache.get_info(digest)
    if cached is not None:
        return cached
    try:
        from runsite import arrowio

        info = arrowio.table_info(path) or {}
    except Exception as exc:  # an odd CSV must not stop training
        log.warning("runsite: could not read the schema of %s: %s", os.fspath(path), exc)
        return {}
    cache.put_info(digest, info)
    return info
