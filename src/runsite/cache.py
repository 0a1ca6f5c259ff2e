"""Where runsite keeps derived, disposable data (hash and read caches).

Outside the store on purpose: nothing in a cloned repository can plant a cache entry,
and losing the folder only costs time. ``RUNSITE_CACHE_DIR`` moves it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def cache_root() -> Path:
    env = os.environ.get("RUNSITE_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "runsite"


def store_cache_dir(store_root: Path) -> Path:
    """A cache folder private to one store (keyed by its resolved path)."""
    digest = hashlib.sha256(str(store_root.resolve()).encode()).hexdigest()[:16]
    return cache_root() / "stores" / digest
