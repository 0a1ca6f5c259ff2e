"""``runsite build`` and ``runsite serve``."""

from __future__ import annotations

import contextlib
import gc
from pathlib import Path
from typing import Any

import click

from runsite.cli.common import store_default


def _progress(message: str) -> None:
    click.echo(message, err=True)


def _build(store: str, out: str, clean: bool, **options: Any) -> list[str]:
    from runsite.site import build

    result = build(store, out, clean=clean, progress=_progress, **options)
    for w in result.warnings:
        click.echo(f"warning: {w}", err=True)
    click.echo(result.summary())
    return result.warnings


def site_options(f: Any) -> Any:
    """STORE, --out, --theme, --title and --registry-history: shared by build and serve."""
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
            click.option(
                "--registry-history",
                type=click.Path(dir_okay=False),
                help="Show this stage history (saved by `runsite models history --json`) "
                "instead of reading git history of registry.yaml: for a store built away from "
                "its repository, like the demo's.",
            ),
        ]
    ):
        f = option(f)
    return f


@click.command("build")
@site_options
@click.option("--strict", is_flag=True, help="Fail (exit 1) at the end if there were warnings.")
@click.option("--clean", is_flag=True, help="Delete the output folder first.")
def build_cmd(
    store: str,
    out: str,
    theme: str | None,
    title: str | None,
    registry_history: str | None,
    strict: bool,
    clean: bool,
) -> None:
    """Build the static site of STORE (default: runs) into --out."""
    warnings = _build(
        store, out, clean, theme=theme, title=title, registry_history=registry_history
    )
    # The process ends now. The run records this process read stay cached until then,
    # and the interpreter's last garbage collection would walk every one of them (1.6 s
    # at 100,000 runs); frozen, it does not (they are freed all the same).
    gc.freeze()
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
def serve_cmd(
    store: str,
    out: str,
    theme: str | None,
    title: str | None,
    registry_history: str | None,
    port: int,
) -> None:
    """Build, serve on localhost and rebuild whenever the store changes (Ctrl-C stops).
    `runsite ui` is the same (MLflow's name)."""
    from runsite.site.serve import serve

    options = {"theme": theme, "title": title, "registry_history": registry_history}
    _build(store, out, False, **options)

    def rebuild() -> None:
        try:
            _build(store, out, False, **options)
        except Exception as exc:  # keep serving the last good site
            click.echo(f"rebuild failed: {exc}", err=True)

    with contextlib.suppress(KeyboardInterrupt):
        serve(Path(out), port, rebuild, Path(store), ready=lambda url: click.echo(f"serving {url}"))
