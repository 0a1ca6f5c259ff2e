"""What every ``runsite`` command group shares: error handling, ``--store``, ``--json``
and table / JSON output. Kept apart from cli.py so command modules never import it."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from runsite.errors import RunsiteError

F = TypeVar("F", bound=Callable[..., Any])


class Group(click.Group):
    """Turns a ``RunsiteError`` from any command into one line on stderr, exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RunsiteError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)


def store_option(f: F) -> F:
    return click.option(
        "--store",
        envvar="RUNSITE_STORE",
        default="runs",
        show_default=True,
        type=click.Path(file_okay=False),
        help="The store folder (also $RUNSITE_STORE).",
    )(f)


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(f)


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
