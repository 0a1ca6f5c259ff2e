"""Writing a file so a reader never sees half of it: the bytes go to a temporary file
beside it (``.<name>.<pid>.tmp``), which then replaces it in one ``os.replace``.

Foundation layer: the run record, the store's read cache, the registry manifest, YAML
edits, artifacts, object-storage pointers and the site's page cache all write this way.
"""

from __future__ import annotations

import os
from pathlib import Path


def temp_path(path: Path) -> Path:
    """The temporary file beside ``path`` that :func:`write_atomic` writes first."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def write_atomic(path: Path, data: bytes | str, *, mkdir: bool = True) -> int:
    """Replace ``path`` with ``data`` (``str`` is written as UTF-8) in one step; the
    parent folder is created unless ``mkdir`` is false. Returns the bytes written."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if mkdir:
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path)
    try:
        tmp.write_bytes(raw)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return len(raw)
