"""Themes: a search path of template and static folders.

A theme is a folder with ``templates/`` and ``static/``. A user theme overrides single
files and falls back to the default theme for the rest; a template can extend the one it
overrides with ``{% extends "default:run.html" %}``. Only this module touches jinja2.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2

from runsite.errors import InvalidInput


def default_theme_dir() -> Path:
    """``themes/default``: inside the installed package (wheel), or the source tree."""
    here = Path(__file__).resolve()
    for candidate in (
        here.parent.parent / "themes" / "default",
        here.parents[3] / "themes" / "default",
    ):
        if (candidate / "templates").is_dir():
            return candidate
    raise InvalidInput("runsite's default theme is missing from this installation")


def resolve_theme(theme: str | None) -> list[Path]:
    """The theme folders to search, most specific first."""
    default = default_theme_dir()
    if not theme or theme == "default":
        return [default]
    path = Path(theme)
    if not path.is_dir():
        named = default.parent / theme
        if named.is_dir():
            path = named
        else:
            raise InvalidInput(
                f"theme {theme!r}: no such folder (and no built-in theme of that name)"
            )
    if not (path / "templates").is_dir() and not (path / "static").is_dir():
        raise InvalidInput(f"theme {path} has neither templates/ nor static/")
    return [path, default]


def environment(dirs: list[Path], filters: dict[str, Callable[..., Any]]) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = [
        jinja2.FileSystemLoader(str(d / "templates")) for d in dirs if (d / "templates").is_dir()
    ]
    loaders.append(
        jinja2.PrefixLoader(
            {"default": jinja2.FileSystemLoader(str(dirs[-1] / "templates"))}, delimiter=":"
        )
    )
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        auto_reload=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(filters)
    return env


def static_files(dirs: list[Path]) -> dict[str, Path]:
    """Relative path → file; a file in a more specific theme wins."""
    out: dict[str, Path] = {}
    for d in reversed(dirs):
        static = d / "static"
        if not static.is_dir():
            continue
        for p in sorted(static.rglob("*")):
            if p.is_file() and not p.name.startswith("."):
                out[p.relative_to(static).as_posix()] = p
    return out


def fingerprint(dirs: list[Path]) -> str:
    """Changes when any template or static file changes (invalidates cached pages)."""
    h = hashlib.sha256()
    for d in dirs:
        for p in sorted(d.rglob("*")):
            if p.is_file():
                st = p.stat()
                h.update(f"{p}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]
