"""Themes: a search path of template and static folders.

A theme is a folder with ``templates/`` and ``static/``. A user theme overrides single
files and falls back to the default theme for the rest; a template can extend the one it
overrides with ``{% extends "default:run.html" %}``. Only this module touches jinja2.

Trust: the installed themes and a theme named by whoever runs the build (``--theme``,
``build(theme=...)``) are code, rendered by a plain environment. A theme named by the
store's ``site.yaml`` is data — anyone who can open a pull request can write it — so it
must be a folder inside the store without symlinks, and the whole search path (the
default theme's templates included, when it extends them) renders in jinja2's
``ImmutableSandboxedEnvironment``: no attribute starting with ``_``, no mutation of
values, no string or list blown up by ``*``. See docs/security.md.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import jinja2.sandbox
from markupsafe import Markup as Markup  # pages wraps trusted fragments in it

from runsite.errors import InvalidInput

MAX_SANDBOX_SEQUENCE = 1_000_000  # longest str/list a sandboxed template may make with *
MAX_SANDBOX_EXPONENT = 1_000


class ThemeError(InvalidInput):
    """A theme template that cannot be rendered (a syntax error, or a sandboxed template
    reaching for something it may not)."""


@dataclass(frozen=True)
class Theme:
    """The folders to search, most specific first, and whether they are trusted code."""

    dirs: list[Path]
    sandboxed: bool = False


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


def _builtin(name: str) -> Path | None:
    default = default_theme_dir()
    if "/" in name or "\\" in name or name in ("", ".", ".."):
        return None
    named = default.parent / name
    return named if (named / "templates").is_dir() or (named / "static").is_dir() else None


def _check_theme_folder(path: Path, what: str) -> None:
    if not (path / "templates").is_dir() and not (path / "static").is_dir():
        raise InvalidInput(f"{what} {path} has neither templates/ nor static/")


def resolve_theme(theme: str | None) -> list[Path]:
    """The folders of a theme named by whoever runs the build (a folder, or a built-in
    theme's name), most specific first, the default theme last."""
    default = default_theme_dir()
    if not theme or theme == "default":
        return [default]
    path = Path(theme)
    if not path.is_dir():
        named = _builtin(theme)
        if named is None:
            raise InvalidInput(
                f"theme {theme!r}: no such folder (and no built-in theme of that name)"
            )
        path = named
    _check_theme_folder(path, "theme")
    return [path, default]


def store_theme(store_root: Path, theme: str, source: str) -> Theme:
    """A theme named by the store's ``site.yaml`` (``source``): a built-in theme's name,
    or a folder relative to the store that stays inside it and holds no symlink.
    Rendered sandboxed unless it is a built-in theme."""
    default = default_theme_dir()
    if theme == "default":
        return Theme([default])
    named = _builtin(theme)
    if named is not None:
        return Theme([named, default])
    from runsite import validate

    what = f"{source}: theme"
    try:
        path = validate.confined(store_root, theme, what)
    except InvalidInput as exc:
        raise InvalidInput(
            f"{exc}. A theme named in site.yaml must be a folder inside the store (or a "
            "built-in theme's name); pass a theme from elsewhere with --theme"
        ) from None
    if not path.is_dir():
        raise InvalidInput(f"{what} {theme!r}: no folder {path} (and no built-in theme)")
    _check_theme_folder(path, what)
    links = [
        Path(top) / name
        for top, dirs, files in os.walk(path)
        for name in dirs + files
        if (Path(top) / name).is_symlink()
    ]
    if links:
        raise InvalidInput(
            f"{what} {theme!r} holds symlinks ({', '.join(str(p) for p in links[:3])}); a "
            "theme from the store may not link to files outside it"
        )
    return Theme([path, default], sandboxed=True)


class _Sandbox(jinja2.sandbox.ImmutableSandboxedEnvironment):
    """jinja2's immutable sandbox, and no str/list/number made huge by ``*`` or ``**``."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if (
                    isinstance(seq, str | list | tuple)
                    and isinstance(n, int)
                    and len(seq) * n > MAX_SANDBOX_SEQUENCE
                ):
                    raise jinja2.sandbox.SecurityError(
                        f"a sequence longer than {MAX_SANDBOX_SEQUENCE:,} items"
                    )
        if (
            operator == "**"
            and isinstance(right, int | float)
            and abs(right) > MAX_SANDBOX_EXPONENT
        ):
            raise jinja2.sandbox.SecurityError(f"an exponent above {MAX_SANDBOX_EXPONENT}")
        return super().call_binop(context, operator, left, right)


def environment(
    dirs: list[Path], filters: dict[str, Callable[..., Any]], sandboxed: bool = False
) -> jinja2.Environment:
    """The template environment of a search path; ``sandboxed`` for untrusted themes."""
    loaders: list[jinja2.BaseLoader] = [
        jinja2.FileSystemLoader(str(d / "templates")) for d in dirs if (d / "templates").is_dir()
    ]
    loaders.append(
        jinja2.PrefixLoader(
            {"default": jinja2.FileSystemLoader(str(dirs[-1] / "templates"))}, delimiter=":"
        )
    )
    cls = _Sandbox if sandboxed else jinja2.Environment
    env = cls(
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


def render(env: jinja2.Environment, template: str, context: dict[str, Any]) -> str:
    """``template`` rendered; a sandbox refusal or a template error is a ``ThemeError``
    naming the template (one clean line in the CLI, not a traceback)."""
    try:
        return env.get_template(template).render(**context)
    except jinja2.sandbox.SecurityError as exc:
        raise ThemeError(
            f"template {template}: refused by the sandbox ({exc}); a theme named in the "
            "store's site.yaml renders sandboxed (pass a trusted theme with --theme)"
        ) from None
    except jinja2.TemplateSyntaxError as exc:
        raise ThemeError(
            f"template {exc.name or template}, line {exc.lineno}: {exc.message}"
        ) from None
    except jinja2.TemplateNotFound as exc:
        raise ThemeError(f"template {template}: {exc.name} not found in the theme") from None


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
