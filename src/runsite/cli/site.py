"""``runsite build`` and ``runsite serve``."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import click

from runsite.cli.common import store_default


def _progress(message: str) -> None:
    click.echo(message, err=True)


def _build(store: str, out: str, theme: str | None, title: str | None, clean: bool) -> list[str]:
    from runsite.site import build

    result = build(store, out, theme=theme, title=title, clean=clean, progress=_progress)
    for w in result.warnings:
        click.echo(f"warning: {w}", err=True)
    click.echo(result.summary())
    return result.warnings


def site_options(f: Any) -> Any:
    """STORE, --out, --theme and --title: shared by build and serve."""
    for option in reversed(
        [
            click.argument(
                "store",
                default="runs",
                envvar="RUNSITE_STORE",
                type=click.Path(file_okay=False),
                callback=store_default,
            ),
            click.option(
                "--out",
                default="site",
                show_default=True,
                type=click.Path(file_okay=False),
                help="Output folder.",
            ),
            click.option(
                "--theme",
                help="A theme folder or built-in theme name; falls back to the default theme.",
            ),
            click.option("--title", help="Site title (default: site.yaml's, else 'runsite')."),
        ]
    ):
        f = option(f)
    return f


@click.command("build")
@site_options
@click.option("--strict", is_flag=True, help="Fail (exit 1) at the end if there were warnings.")
@click.option("--clean", is_flag=True, help="Delete the output folder first.")
def build_cmd(
    store: str, out: str, theme: str | None, title: str | None, strict: bool, clean: bool
) -> None:
    """Build the static site of STORE (default: runs) into --out."""
    warnings = _build(store, out, theme, title, clean)
    if strict and warnings:
        click.echo(f"Error: --strict: {len(warnings)} warnings", err=True)
        raise SystemExit(1)


@click.command("serve")
@site_options
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port on 127.0.0.1 (0: any free port).",
)
def serve_cmd(store: str, out: str, theme: str | None, title: str | None, port: int) -> None:
    """Build, serve on localhost and rebuild whenever the store changes (Ctrl-C stops).
    `runsite ui` is the same (MLflow's name)."""
    from runsite.site.serve import serve

    _build(store, out, theme, title, False)

    def rebuild() -> None:
        try:
            _build(store, out, theme, title, False)
        except Exception as exc:  # keep serving the last good site
            click.echo(f"rebuild failed: {exc}", err=True)

    with contextlib.suppress(KeyboardInterrupt):
        serve(Path(out), port, rebuild, Path(store), ready=lambda url: click.echo(f"serving {url}"))
