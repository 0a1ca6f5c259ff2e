"""Real file-system failures for tests: a tiny tmpfs (disk full) and a read-only mount.

The tests run as root (CI too), and root ignores permission bits, so `chmod` proves
nothing. A tmpfs mount is a real file system that fills up (ENOSPC) and can be remounted
read-only (EROFS); a path under a regular file fails with ENOTDIR for every user. Mounting
needs root (or CAP_SYS_ADMIN): without it the tests skip, or fail when ``CI`` is set, so a
skip is never counted as a pass there.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _need_mount(reason: str) -> None:
    msg = f"needs a tmpfs mount (root or CAP_SYS_ADMIN): {reason}"
    if os.environ.get("CI"):
        pytest.fail(msg)
    pytest.skip(msg)


@contextmanager
def tmpfs(path: Path, size: str = "1m") -> Iterator[Path]:
    """``path`` as a fresh tmpfs of ``size`` bytes (``mount -t tmpfs -o size=…``)."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        _need_mount(f"running as uid {os.geteuid()}")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        _need_mount(done.stderr.strip() or f"mount exited {done.returncode}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def remount_read_only(path: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True, capture_output=True)
    probe = path / ".write-probe"
    try:
        probe.write_text("x")
    except OSError:
        return
    probe.unlink()
    raise AssertionError(f"{path} is still writable after remount,ro")


def fill(path: Path) -> None:
    """Fill the file system holding ``path`` until a write fails with ENOSPC."""
    with open(path / ".filler", "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    # a little more, byte-sized, so even tiny writes fail
    with open(path / ".filler2", "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 512)
        except OSError:
            pass
