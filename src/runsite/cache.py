"""Where runsite keeps derived, disposable data (hash and read caches).

Outside the store on purpose: nothing in a cloned repository can plant a cache entry,
and losing the folder only costs time. ``RUNSITE_CACHE_DIR`` moves it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from runsite.atomic import write_atomic

log = logging.getLogger("runsite")


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


class JsonCache:
    """A dict kept in one JSON file of the cache (the store's read cache, the site's page
    cache). Read on first use; a missing or corrupt file is an empty cache. ``save()``
    writes it in one step when ``dirty``; failing to write is logged at debug level,
    since losing a cache only costs time."""

    def __init__(self, path: Path, what: str) -> None:
        self.path = path
        self.what = what
        self.dirty = False
        self._data: dict[str, Any] | None = None

    @property
    def data(self) -> dict[str, Any]:
        if self._data is None:
            try:
                loaded = json.loads(self.path.read_text("utf-8"))
                self._data = loaded if isinstance(loaded, dict) else {}
            except (OSError, ValueError):
                self._data = {}
        return self._data

    def save(self) -> None:
        if not self.dirty or self._data is None:
            return
        try:
            text = json.dumps(self._data, separators=(",", ":"), check_circular=False)
            write_atomic(self.path, text)
        except OSError as exc:
            log.debug("runsite: could not write the %s: %s", self.what, exc)
        self.dirty = False
