"""Stage 3 of a build: put the rendered files on disk.

Every output is registered first; two outputs on one path are refused (a theme file
shadowing a page, two runs with one slug) instead of one silently winning. Files whose
bytes did not change are not touched, so their mtimes stay and an rsync or a Pages
deploy sees only what changed. Files a previous build wrote that this one does not are
removed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runsite.errors import RunsiteError

MANIFEST = ".runsite-build.json"  # what the last build wrote (path → [sha256, source stamp])


class BuildError(RunsiteError):
    """The build cannot go on (two outputs on one path, an unsafe output folder)."""


@dataclass
class Output:
    origin: str
    data: bytes | None = None
    source: Path | None = None
    digest: str | None = None  # keep(): the caller knows the file is unchanged


@dataclass
class WriteStats:
    written: int = 0
    unchanged: int = 0
    removed: int = 0
    files: int = 0
    bytes: int = 0
    changed: list[str] = field(default_factory=list)


class Writer:
    def __init__(self, out: Path) -> None:
        self.out = out
        self._outputs: dict[str, Output] = {}
        self._prev: dict[str, list[Any]] | None = None

    def _claim(self, rel: str, output: Output) -> None:
        rel = rel.replace("\\", "/").lstrip("/")
        if not rel or ".." in rel.split("/"):
            raise BuildError(f"refusing output path {rel!r}")
        other = self._outputs.get(rel)
        if other is not None:
            raise BuildError(f"two outputs for {rel}: {other.origin} and {output.origin}")
        self._outputs[rel] = output

    def add(self, rel: str, data: bytes | str, origin: str) -> None:
        payload = data.encode("utf-8") if isinstance(data, str) else data
        self._claim(rel, Output(origin, data=payload))

    def add_file(self, rel: str, source: Path, origin: str) -> None:
        self._claim(rel, Output(origin, source=source))

    def keep(self, rel: str, digest: str, origin: str) -> bool:
        """Claim ``rel`` as unchanged since the last build (content hash ``digest``),
        without its bytes. False when the last build did not write exactly that."""
        if self._previous().get(rel, [None])[0] != digest or not (self.out / rel).is_file():
            return False
        self._claim(rel, Output(origin, digest=digest))
        return True

    def __contains__(self, rel: str) -> bool:
        return rel in self._outputs

    def _previous(self) -> dict[str, list[Any]]:
        if self._prev is None:
            try:
                data = json.loads((self.out / MANIFEST).read_text("utf-8"))
                ok = isinstance(data, dict) and all(isinstance(v, list) for v in data.values())
                self._prev = data if ok else {}
            except (OSError, ValueError):
                self._prev = {}
        return self._prev

    def commit(self) -> WriteStats:
        """Write what changed; returns counts. The manifest records each file's sha256
        (and, for copied files, the source's size and mtime, so an unchanged source is
        not even read next time)."""
        stats = WriteStats()
        previous = self._previous()
        written: dict[str, list[Any]] = {}
        self.out.mkdir(parents=True, exist_ok=True)
        for rel in sorted(self._outputs):
            output = self._outputs[rel]
            dest = self.out / rel
            prev = previous.get(rel) or [None]
            stats.files += 1
            if output.digest is not None:
                written[rel] = prev
                stats.unchanged += 1
                continue
            stamp: list[int] | None = None
            if output.source is not None:
                st = output.source.stat()
                stamp = [st.st_size, st.st_mtime_ns]
                if prev[1:] == [stamp] and dest.is_file() and dest.stat().st_size == st.st_size:
                    written[rel] = prev
                    stats.unchanged += 1
                    stats.bytes += st.st_size
                    continue
                data = output.source.read_bytes()
            else:
                assert output.data is not None
                data = output.data
            digest = hashlib.sha256(data).hexdigest()
            written[rel] = [digest, stamp] if stamp else [digest]
            stats.bytes += len(data)
            if prev[0] == digest and dest.is_file() and dest.stat().st_size == len(data):
                stats.unchanged += 1
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            if dest.is_symlink() or dest.is_dir():
                _remove(dest)
            tmp = dest.with_name(f".{dest.name}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, dest)
            stats.written += 1
            stats.changed.append(rel)
        for rel in sorted(set(previous) - set(written)):
            stale = self.out / rel
            if stale.is_file() or stale.is_symlink():
                stale.unlink()
                stats.removed += 1
                _prune_empty(stale.parent, self.out)
        if written != previous:
            manifest = json.dumps(written, indent=0, sort_keys=True) + "\n"
            (self.out / MANIFEST).write_text(manifest, "utf-8")
        return stats


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def _prune_empty(folder: Path, root: Path) -> None:
    while folder != root and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def check_output_folder(out: Path, store_root: Path, clean: bool) -> None:
    """Refuse an output folder that would overwrite the store, or wipe a folder that is
    not a runsite site."""
    o, s = out.resolve(), store_root.resolve()
    if o == s or o in s.parents or s in o.parents:
        raise BuildError(
            f"the output folder {out} must be outside the store {store_root} and not contain it"
        )
    if clean and out.exists():
        if any(out.iterdir()) and not (out / MANIFEST).is_file():
            raise BuildError(
                f"--clean would delete {out}, which does not look like a runsite site "
                f"(no {MANIFEST}); remove it yourself or choose another --out"
            )
        shutil.rmtree(out)
