"""Real file-system failures for tests: a tiny tmpfs (disk full), a read-only mount, and a
disk that dies (EIO: ext4 on a loop device, shut down by its ioctl).

The tests run as root (CI too), and root ignores permission bits, so `chmod` proves
nothing. A tmpfs mount is a real file system that fills up (ENOSPC) and can be remounted
read-only (EROFS); a path under a regular file fails with ENOTDIR for every user. Mounting
needs root (or CAP_SYS_ADMIN): without it the tests skip, or fail when ``CI`` is set, so a
skip is never counted as a pass there.
"""

from __future__ import annotations

import errno
import os
import shutil
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


@contextmanager
def dying_disk(image: Path, path: Path, size: str = "32M") -> Iterator[Path]:
    """``path`` as a real ext4 file system on a loop device (``mkfs.ext4`` over a file,
    ``losetup``, ``mount``), for :func:`fail_disk`. Needs root, loop devices and ext4:
    without them the test skips, or fails when ``CI`` is set."""
    for tool in ("losetup", "mkfs.ext4", "mount", "umount"):
        if shutil.which(tool) is None:
            _need_mount(f"{tool} is not installed")
    if os.geteuid() != 0:
        _need_mount(f"running as uid {os.geteuid()}")
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["truncate", "-s", size, str(image)], check=True)
    made = subprocess.run(["losetup", "-f", "--show", str(image)], capture_output=True, text=True)
    if made.returncode != 0:
        _need_mount(f"no loop device: {made.stderr.strip()}")
    device = made.stdout.strip()
    try:
        done = subprocess.run(["mkfs.ext4", "-q", "-F", device], capture_output=True, text=True)
        if done.returncode == 0:
            done = subprocess.run(["mount", device, str(path)], capture_output=True, text=True)
        if done.returncode != 0:
            _need_mount(done.stderr.strip() or "mkfs.ext4/mount failed")
        try:
            yield path
        finally:  # lazily: a failed test may leave files open on it
            subprocess.run(["umount", "-l", str(path)], capture_output=True)
    finally:
        subprocess.run(["losetup", "-d", device], capture_output=True)


EXT4_IOC_SHUTDOWN = 0x8004587D  # _IOR('X', 125, __u32), <linux/ext4.h>
EXT4_GOING_FLAGS_DEFAULT = 0  # write back what is cached, then go down


def fail_disk(path: Path) -> None:
    """The disk under ``path`` dies: ext4's shutdown ioctl (what xfstests' "godown" uses
    to simulate a failing device). What was written before is flushed to it first; from
    then on every read and write on that file system fails with EIO, in the kernel."""
    import fcntl
    import struct

    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.ioctl(fd, EXT4_IOC_SHUTDOWN, struct.pack("I", EXT4_GOING_FLAGS_DEFAULT))
    finally:
        os.close(fd)
    try:
        (path / ".eio-probe").write_text("x")
    except OSError as exc:
        if exc.errno == errno.EIO:
            return
        raise
    raise AssertionError(f"{path} still takes writes after the shutdown ioctl")


def remount(path: Path, image: Path) -> None:
    """Unmount the dead file system and mount its image again (a new device, as after a
    reboot): what was on the disk before it failed is readable again."""
    source = subprocess.run(
        ["findmnt", "-n", "-o", "SOURCE", str(path)], capture_output=True, text=True
    ).stdout.strip()
    subprocess.run(["umount", str(path)], check=True, capture_output=True)
    if source.startswith("/dev/loop"):
        subprocess.run(["losetup", "-d", source], capture_output=True)
    subprocess.run(["mount", "-o", "loop", str(image), str(path)], check=True, capture_output=True)
