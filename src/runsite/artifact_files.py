"""Copying files into a run's ``artifacts/`` folder without ever writing outside it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from runsite.atomic import temp_path, write_atomic
from runsite.errors import InvalidInput, NotFound
from runsite.validate import inside, safe_relpath


def destination(artifacts_root: Path, rel: str) -> Path:
    """The path ``rel`` inside ``artifacts_root``; refuses anything that would leave it,
    including through a symlink already inside the folder."""
    rel = safe_relpath(rel)
    if not rel:
        raise InvalidInput("artifact path must name a file, not the artifacts folder itself")
    dest = artifacts_root / rel
    # Check the deepest existing ancestor: a symlink planted in artifacts/ must not
    # redirect the write elsewhere.
    probe = dest
    while not probe.exists() and probe != artifacts_root:
        probe = probe.parent
    if probe.is_symlink() or not inside(artifacts_root, probe):
        raise InvalidInput(f"artifact path {rel!r} leads outside the run's artifacts folder")
    if dest.is_symlink():
        raise InvalidInput(f"artifact path {rel!r} is a symlink; refusing to write through it")
    return dest


def join(artifact_path: str | None, name: str) -> str:
    base = safe_relpath(artifact_path) if artifact_path else ""
    return f"{base}/{name}" if base else name


def source_file(local_path: str | os.PathLike[str]) -> Path:
    src = Path(local_path)
    if not src.exists():
        raise NotFound(f"cannot log artifact: {src} does not exist")
    if not src.is_file():
        raise InvalidInput(
            f"cannot log artifact: {src} is not a file (use log_artifacts for folders)"
        )
    return src


def plan_folder(local_dir: str | os.PathLike[str]) -> list[tuple[str, Path]]:
    """Files to copy from ``local_dir`` as (relative path, source). Checks everything first,
    so a refused folder copies nothing: a symlink that points outside the folder would
    publish a file the user never meant to log (``~/.ssh/id_rsa``)."""
    root = Path(local_dir)
    if not root.exists():
        raise NotFound(f"cannot log artifacts: {root} does not exist")
    if not root.is_dir():
        raise InvalidInput(f"cannot log artifacts: {root} is not a folder (use log_artifact)")
    plan: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        base = Path(dirpath)
        for name in sorted(dirnames) + sorted(filenames):
            p = base / name
            if p.is_symlink() and not inside(root, p):
                raise InvalidInput(
                    f"cannot log artifacts: {p} is a symlink to {os.readlink(p)}, outside {root}"
                )
            if name in filenames and p.is_file():
                plan.append((p.relative_to(root).as_posix(), p))
    return plan


def copy(src: Path, dest: Path) -> int:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(dest)
    shutil.copyfile(src, tmp)
    os.replace(tmp, dest)
    return dest.stat().st_size


def write_bytes(dest: Path, data: bytes) -> int:
    return write_atomic(dest, data)
