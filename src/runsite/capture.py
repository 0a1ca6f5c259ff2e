"""What a run records about where it ran: user, host, command, Python, packages, git.

Every probe is guarded: a failure becomes a warning in the log and a missing field,
never an exception in the training script.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import logging
import os
import platform
import socket
import sys
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

log = logging.getLogger("runsite")


def user_name() -> str:
    """The login name of who runs this process (``unknown`` when there is none)."""
    try:
        return getpass.getuser()
    except Exception:
        return os.environ.get("USER") or os.environ.get("USERNAME") or "unknown"


def packages() -> dict[str, str]:
    """Installed distributions (name → version). Reading every package's metadata costs
    ~0.1 s of CPU in a 150-package environment, so it is kept (``installed``)."""
    return dict(installed("packages", _read_packages))


_installed: dict[str, tuple[list[Any], Any]] = {}


def installed(kind: str, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``compute()`` — a mapping derived from the installed distributions — once per
    environment: kept in this process and in the cache folder (``cache.cache_root()``),
    one file per interpreter and ``sys.path``, valid while every ``sys.path`` entry keeps
    its modification time (installing, upgrading or removing a package adds or removes a
    ``*.dist-info`` folder in one of them). A fresh process of an unchanged environment
    reads it back instead of scanning every package again; a lost or unreadable cache
    file, or no cache folder at all (no home folder), means it is computed again."""
    from runsite.cache import JsonCache, cache_root

    stamp = _path_stamp()
    held = _installed.get(kind)
    if held is not None and held[0] == stamp:
        return held[1]
    cache: JsonCache | None = None
    try:
        ident = json.dumps([sys.executable, sys.path])
        name = hashlib.sha256(ident.encode("utf-8")).hexdigest()[:24]
        cache = JsonCache(cache_root() / "environments" / f"{name}.json", "environment cache")
        entry = cache.data.get(kind)
    except Exception as exc:  # e.g. Path.home() without a home folder
        log.debug("runsite: no environment cache: %s", exc)
        cache, entry = None, None
    if isinstance(entry, dict) and entry.get("stamp") == stamp:
        value = entry.get("value")
        if isinstance(value, dict):
            _installed[kind] = (stamp, value)
            return value
    value = compute()
    if cache is not None:
        cache.data[kind] = {"stamp": stamp, "value": value}
        cache.dirty = True
        cache.save()
    _installed[kind] = (stamp, value)
    return value


def _path_stamp() -> list[Any]:
    stamp: list[Any] = [sys.executable]
    for entry in sys.path:
        try:
            stamp.append([entry, os.stat(entry or ".").st_mtime_ns])
        except OSError:
            stamp.append([entry, None])
    return stamp


def _read_packages() -> dict[str, str]:
    out: dict[str, str] = {}
    for dist in metadata.distributions():
        try:
            name = dist.metadata["Name"]
        except Exception:
            continue
        if name:
            out[name] = dist.version
    return dict(sorted(out.items(), key=lambda kv: kv[0].lower()))


def entry_point() -> str | None:
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    return str(Path(path).resolve()) if path else None


def environment() -> dict[str, Any]:
    env: dict[str, Any] = {
        "user": user_name(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "command": list(sys.argv),
        "cwd": os.getcwd(),
        "entry_point": entry_point(),
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
            "platform": platform.platform(),
        },
    }
    try:
        env["packages"] = packages()
    except Exception as exc:
        log.warning("runsite: could not list installed packages: %s", exc)
        env["packages"] = {}
    return env


def _is_tool(script: Path) -> bool:
    """A console script of an installed package (pytest, jupyter), not the user's code."""
    return any(script.is_relative_to(Path(p).resolve()) for p in {sys.prefix, sys.base_prefix})


def git_state(store_root: Path) -> tuple[dict[str, Any] | None, str]:
    """(git info for the header, the diff when dirty). Never raises.

    The repository is the one holding the current folder, else the one holding the
    entry script (a script run from outside its project)."""
    ep = entry_point()
    starts = [Path.cwd()]
    if ep and not _is_tool(Path(ep)):
        starts.append(Path(ep).parent)
    info = None
    try:
        from runsite import gitio

        for start in starts:
            info = gitio.repo_info(start, exclude=store_root)
            if info is not None:
                break
    except ImportError as exc:
        log.warning("runsite: GitPython unavailable (%s); git state not recorded", exc)
        return None, ""
    except Exception as exc:
        log.warning("runsite: could not read git state (%s); git state not recorded", exc)
        return None, ""
    if info is None:
        log.warning(
            "runsite: %s is not inside a git repository; the run records no commit", starts[0]
        )
        return None, ""
    diff = info.pop("_diff", "")
    if ep:
        with contextlib.suppress(ValueError):
            info["entry_point"] = Path(ep).relative_to(info["root"]).as_posix()
    info.pop("root", None)
    return info, diff
