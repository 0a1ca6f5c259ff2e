"""Checks on everything a user hands us before it reaches disk.

Keys follow MLflow's rules so ported code keeps working; anything that becomes a
path is checked so it can never leave the folder it belongs to.
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from pathlib import Path, PurePosixPath
from typing import Any

from runsite.errors import InvalidInput

MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
MAX_NAME_LENGTH = 250
MAX_NOTE_LENGTH = 100_000

# MLflow's key alphabet: letters, digits, underscore, dash, period, space, colon, slash.
_KEY_RE = re.compile(r"^[\w\-. :/]+$")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def check_unicode(text: str, what: str) -> str:
    """``text`` if it is valid Unicode (no lone surrogate, which cannot be written as
    UTF-8), else ``InvalidInput`` naming ``what`` and where."""
    if text.isascii():  # the usual case, answered in C
        return text
    bad = _SURROGATE_RE.search(text)
    if bad is not None:
        raise InvalidInput(
            f"{what} is not valid Unicode: it holds a lone surrogate U+{ord(bad.group()):04X} "
            f"at position {bad.start()} (text decoded with errors='surrogateescape'?)"
        )
    return text


def check_key(key: object, what: str = "key") -> str:
    """Return ``key`` if it is a valid param/metric/tag key, else raise ``InvalidInput``."""
    if not isinstance(key, str):
        raise InvalidInput(f"{what} must be a string, got {type(key).__name__}: {key!r}")
    check_unicode(key, what)
    if not key or not key.strip():
        raise InvalidInput(f"{what} must not be empty")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(
            f"{what} {key[:40]!r}... is {len(key)} characters long; the limit is {MAX_KEY_LENGTH}"
        )
    if not _KEY_RE.match(key):
        raise InvalidInput(
            f"{what} {key!r} has characters that are not allowed: use letters, digits, "
            "'_', '-', '.', ' ', ':' and '/'"
        )
    if key.startswith("/") or ".." in key.split("/"):
        raise InvalidInput(f"{what} {key!r} must not start with '/' or contain a '..' segment")
    return key


def check_text(value: str, limit: int, what: str) -> str:
    check_unicode(value, what)
    if len(value) > limit:
        raise InvalidInput(f"{what} is {len(value)} characters long; the limit is {limit}")
    return value


def param_value(key: str, value: Any) -> Any:
    """Normalise a param value: JSON scalars are kept, anything else becomes ``str(value)``."""
    if value is None or isinstance(value, bool | int | str):
        out: Any = value
    elif isinstance(value, float):
        out = value if math.isfinite(value) else str(value)
    else:
        out = str(value)
    if isinstance(out, str):
        check_unicode(out, f"value of param {key!r}")
    if len(str(out)) > MAX_PARAM_VALUE_LENGTH:
        raise InvalidInput(
            f"value of param {key!r} is {len(str(out))} characters long; "
            f"the limit is {MAX_PARAM_VALUE_LENGTH}"
        )
    return out


def canonical_str(value: Any) -> str:
    """The string form params and tags take in search and on the site (MLflow's ``str()``)."""
    return value if isinstance(value, str) else str(value)


def metric_value(key: str, value: Any) -> float:
    """Coerce a metric value to float; strings and other non-numbers are refused."""
    if isinstance(value, str | bytes):
        raise InvalidInput(f"metric {key!r} must be a number, got the string {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InvalidInput(
            f"metric {key!r} must be a number, got {type(value).__name__}: {value!r:.80}"
        ) from None


def metric_step(key: str, step: Any) -> int:
    if isinstance(step, bool):
        raise InvalidInput(f"step of metric {key!r} must be an integer, got {step!r}")
    try:
        return int(step.__index__())
    except (AttributeError, TypeError):
        raise InvalidInput(
            f"step of metric {key!r} must be an integer, got {type(step).__name__}: {step!r:.80}"
        ) from None


_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)?\s*", re.IGNORECASE)
_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}


def size_in_bytes(value: Any, what: str, examples: str = "10MB or 500KB") -> int:
    """``10MB``, ``512 KB``, ``1.5GB`` or a number of bytes (``site.yaml``, ``storage.yaml``)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    m = _SIZE.fullmatch(str(value))
    if not m:
        raise InvalidInput(f"{what} {value!r}: use a size such as {examples}")
    return int(float(m.group(1)) * _UNITS[(m.group(2) or "B").upper()])


def check_name(name: object, what: str) -> str:
    """A display name (experiment, run, model): any printable text, bounded length."""
    if not isinstance(name, str):
        raise InvalidInput(f"{what} must be a string, got {type(name).__name__}: {name!r}")
    check_unicode(name, what)
    stripped = name.strip()
    if not stripped:
        raise InvalidInput(f"{what} must not be empty")
    if len(stripped) > MAX_NAME_LENGTH:
        raise InvalidInput(
            f"{what} is {len(stripped)} characters long; the limit is {MAX_NAME_LENGTH}"
        )
    if any(unicodedata.category(c) == "Cc" for c in stripped):
        raise InvalidInput(f"{what} {name!r} contains control characters")
    return stripped


def slugify(name: str) -> str:
    """A path-safe folder name for an experiment: ``"NYC Taxi (v2)"`` → ``"nyc-taxi-v2"``.

    Latin letters lose their accents (``"Café"`` → ``"cafe"``, as always); a name in
    another script keeps its letters, case-folded (``"Эксперимент 1"`` →
    ``"эксперимент-1"``), so it is never refused or reduced to its digits."""
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    if bare.isascii():
        slug = re.sub(r"[^a-z0-9._]+", "-", bare.lower()).strip("-._")
    else:
        text = unicodedata.normalize("NFKC", name).casefold()
        slug = re.sub(r"[^\w.]+", "-", text).strip("-._")
    if not slug:
        raise InvalidInput(f"name {name!r} has no letters or digits to make a folder name from")
    return slug[:100]


def safe_relpath(path: object, what: str = "artifact path") -> str:
    """Return ``path`` as a normalised relative POSIX path that stays inside its folder.

    Refuses absolute paths, drive letters, backslashes and any ``..`` segment.
    """
    if not isinstance(path, str | os.PathLike):
        raise InvalidInput(f"{what} must be a string, got {type(path).__name__}")
    text = os.fspath(path)
    if not isinstance(text, str):
        raise InvalidInput(f"{what} must be a text path")
    check_unicode(text, what)
    if "\\" in text or "\x00" in text:
        raise InvalidInput(f"{what} {text!r} must use '/' separators and no NUL bytes")
    pure = PurePosixPath(text)
    if pure.is_absolute() or re.match(r"^[A-Za-z]:", text):
        raise InvalidInput(f"{what} {text!r} must be relative, not absolute")
    parts = [p for p in pure.parts if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise InvalidInput(f"{what} {text!r} must not contain '..'")
    return "/".join(parts)


def inside(root: Path, target: Path) -> bool:
    """True when ``target`` (symlinks resolved) lies within ``root`` (resolved)."""
    root_r = root.resolve()
    try:
        target.resolve().relative_to(root_r)
    except (ValueError, OSError, RuntimeError):  # RuntimeError: a symlink loop
        return False
    return True


def confined(root: Path, rel: object, what: str = "path") -> Path:
    """``root / rel`` for a path taken from a record, manifest or config, refused
    (``InvalidInput`` naming it) unless it stays inside ``root`` once every symlink is
    resolved. The one check every reader uses before it opens such a path."""
    clean = safe_relpath(rel, what)
    target = root / clean if clean else root
    if not inside(root, target):
        raise InvalidInput(f"{what} {clean!r} leads outside {root} (through a symlink); refused")
    return target


def regular_file(root: Path, path: Path, what: str = "file") -> Path:
    """``path`` if it is a regular file inside ``root`` that is not a symlink pointing
    out of it; ``InvalidInput`` naming it otherwise."""
    if path.is_symlink() and not inside(root, path):
        raise InvalidInput(f"{what} {path} is a symlink that leads outside {root}; refused")
    if not inside(root, path):
        raise InvalidInput(f"{what} {path} is outside {root}; refused")
    return path
