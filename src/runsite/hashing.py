"""Content hashes of data files and folders, with a cache so big files are hashed once.

A file's hash is the sha256 of its bytes. A folder's hash is the sha256 of the lines
``<relative posix path>\\0<file sha256>\\n`` over its files sorted by path, so the same
content under the same names gives the same hash on every machine. The cache is keyed
by (resolved path, size, mtime in ns): an unchanged file is never read again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

from runsite.cache import cache_root

log = logging.getLogger("runsite")
_lock = threading.Lock()


class HashCache:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or cache_root() / "hashes.sqlite"
        self._db: sqlite3.Connection | None = None

    def _conn(self) -> sqlite3.Connection | None:
        if self._db is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=10, check_same_thread=False)
                # A disposable cache: no fsync per entry (a crash only loses entries).
                db.execute("PRAGMA synchronous=OFF")
                db.execute(
                    "CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER,"
                    " mtime_ns INTEGER, sha256 TEXT)"
                )
                db.execute("CREATE TABLE IF NOT EXISTS infos (sha256 TEXT PRIMARY KEY, info TEXT)")
                self._db = db
            except (sqlite3.Error, OSError) as exc:  # a broken cache only costs time
                log.warning(
                    "runsite: hash cache %s unusable (%s); hashing without it", self.path, exc
                )
                return None
        return self._db

    def get(self, path: str, size: int, mtime_ns: int) -> str | None:
        db = self._conn()
        if db is None:
            return None
        try:
            row = db.execute(
                "SELECT sha256 FROM files WHERE path=? AND size=? AND mtime_ns=?",
                (path, size, mtime_ns),
            ).fetchone()
        except sqlite3.Error:
            return None
        return row[0] if row else None

    def put(self, path: str, size: int, mtime_ns: int, sha256: str) -> None:
        db = self._conn()
        if db is None:
            return
        try:
            with db:
                db.execute(
                    "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)",
                    (path, size, mtime_ns, sha256),
                )
        except sqlite3.Error as exc:
            log.debug("runsite: could not write hash cache: %s", exc)

    def get_info(self, sha256: str) -> dict[str, Any] | None:
        """Derived facts about a content hash (schema, rows), computed once per content."""
        db = self._conn()
        if db is None:
            return None
        try:
            row = db.execute("SELECT info FROM infos WHERE sha256=?", (sha256,)).fetchone()
            return json.loads(row[0]) if row else None
        except (sqlite3.Error, ValueError):
            return None

    def put_info(self, sha256: str, info: dict[str, Any]) -> None:
        db = self._conn()
        if db is None:
            return
        try:
            with db:
                db.execute("INSERT OR REPLACE INTO infos VALUES (?, ?)", (sha256, json.dumps(info)))
        except sqlite3.Error as exc:
            log.debug("runsite: could not write hash cache: %s", exc)


_cache: HashCache | None = None


def default_cache() -> HashCache:
    global _cache
    if _cache is None or _cache.path != cache_root() / "hashes.sqlite":
        _cache = HashCache()
    return _cache


def sha256_file(path: Path, cache: HashCache | None = None) -> str:
    """The sha256 of a file's bytes, read from the cache when the file is unchanged."""
    st = path.stat()
    key = str(path.resolve())
    with _lock:
        c = cache or default_cache()
        hit = c.get(key, st.st_size, st.st_mtime_ns)
    if hit:
        return hit
    with path.open("rb") as f:
        digest = hashlib.file_digest(f, "sha256").hexdigest()
    with _lock:
        c.put(key, st.st_size, st.st_mtime_ns, digest)
    return digest


def folder_files(root: Path) -> list[tuple[str, Path]]:
    """Regular files below ``root`` as (relative posix path, path), sorted by path.

    Symlinked folders are not followed, so a loop cannot hang the hash.
    """
    out: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        base = Path(dirpath)
        for name in filenames:
            p = base / name
            if p.is_file():
                out.append((p.relative_to(root).as_posix(), p))
    out.sort(key=lambda item: item[0])
    return out


def hash_path(path: Path, cache: HashCache | None = None) -> tuple[str, int, int]:
    """(sha256, total size in bytes, file count) of a file or a folder."""
    if path.is_file():
        return sha256_file(path, cache), path.stat().st_size, 1
    if path.is_dir():
        files = folder_files(path)
        digest = folder_digest({rel: sha256_file(p, cache) for rel, p in files})
        return digest, sum(p.stat().st_size for _, p in files), len(files)
    raise FileNotFoundError(path)


def folder_digest(file_hashes: dict[str, str]) -> str:
    """The folder hash from its files' hashes (relative posix path → sha256 hex)."""
    h = hashlib.sha256()
    for rel in sorted(file_hashes):
        h.update(f"{rel}\0{file_hashes[rel]}\n".encode())
    return h.hexdigest()
