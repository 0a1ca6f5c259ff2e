"""What every ``runsite`` command group shares: error handling, ``--store``, ``--json``
and table / JSON output. Kept apart from cli.py so command modules never import it."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from runsite.errors import RunsiteError

F = TypeVar("F", bound=Callable[..., Any])


# What a terminal acts on instead of showing: C0 controls but newline and tab (ESC starts
# ANSI/OSC sequences; CR and backspace hide what came before), DEL, C1 controls (0x9b is
# an 8-bit CSI), bidi overrides and isolates, and lone surrogates (which cannot even be
# encoded). Values logged by anyone reach `runs show`: they are shown as \uXXXX.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def terminal_safe(text: str) -> str:
    """``text`` with every character a terminal would act on written as ``\\uXXXX``
    (valid inside JSON strings too, where it reads back as the same character)."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class _SafeStream:
    """A text stream that escapes ``terminal_safe`` characters on the way out: every
    command's output (tables, JSON, error lines) passes through it."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def write(self, text: str) -> int:
        self._inner.write(terminal_safe(text) if isinstance(text, str) else text)
        return len(text)

    def __getattr__(self, name: str) -> Any:
        if name == "buffer":  # (click writes bytes to it: keep every write in write())
            raise AttributeError(name)
        return getattr(self._inner, name)


class Group(click.Group):
    """Turns a ``RunsiteError`` from any command into one line on stderr, exit 1, and
    answers a mistyped command with the ones it may have meant."""

    def invoke(self, ctx: click.Context) -> Any:
        if ctx.parent is not None or isinstance(sys.stdout, _SafeStream):
            return self._invoke(ctx)
        out, err = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = _SafeStream(out), _SafeStream(err)
        try:
            return self._invoke(ctx)
        finally:
            sys.stdout, sys.stderr = out, err

    def _invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RunsiteError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError:
            import difflib

            name = args[0] if args else ""
            close = difflib.get_close_matches(name, self.list_commands(ctx), n=3, cutoff=0.5)
            if not close or name.startswith("-"):
                raise
            hint = " or ".join(repr(c) for c in close)
            raise click.UsageError(f"No such command {name!r}. Did you mean {hint}?", ctx) from None


_ROOT_STORE = "runsite.store"


def remember_store(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """``runsite --store PATH COMMAND``: the store for every command below (stored in
    ``ctx.meta``, which every sub-context shares)."""
    if value is not None:
        ctx.meta[_ROOT_STORE] = value


def store_default(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """A command's own ``--store`` (or STORE) wins; when it was not given on the command
    line, ``runsite --store PATH`` before the command beats ``$RUNSITE_STORE`` and the
    default."""
    from click.core import ParameterSource

    given = ctx.meta.get(_ROOT_STORE)
    if (
        given is not None
        and param.name
        and ctx.get_parameter_source(param.name)
        in (
            ParameterSource.ENVIRONMENT,
            ParameterSource.DEFAULT,
            ParameterSource.DEFAULT_MAP,
        )
    ):
        return given
    return value


def store_option(f: F) -> F:
    return click.option(
        "--store",
        envvar="RUNSITE_STORE",
        default="runs",
        show_default=True,
        type=click.Path(file_okay=False),
        callback=store_default,
        help="The store folder (also $RUNSITE_STORE, or `runsite --store PATH COMMAND`).",
    )(f)


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(f)


def key_values(items: Sequence[str], option: str) -> dict[str, str]:
    """``KEY=VALUE`` option values (``--tag a=1 --tag b=2``) as a dict."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint=option)
        out[key] = value
    return out


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], len(c))
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    return "\n".join(lines)


def echo_json(obj: Any) -> None:
    click.echo(json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False, default=str))
