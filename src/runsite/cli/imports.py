"""``runsite import mlflow``: bring an existing MLflow store into a runsite store
(docs/migrate.md)."""

from __future__ import annotations

import sys
from typing import Any

import click

from runsite.cli.common import store_option


@click.group("import")
def import_group() -> None:
    """Import runs and models from another tracker."""


@import_group.command("mlflow")
@click.argument("source")
@click.option(
    "--artifact-root",
    type=click.Path(exists=True, file_okay=False),
    help="Where the source's artifacts are now, if the store was moved.",
)
@store_option
def mlflow_cmd(source: str, artifact_root: str | None, store: str) -> None:
    """Import an MLflow store: SOURCE is an mlruns/ folder or sqlite:///path/mlflow.db.
    Re-running it skips what was imported before."""
    from runsite.mlflow_import import import_mlflow

    bar: Any = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=total, label="importing runs", file=sys.stderr)
            bar.__enter__()
        bar.update(done - bar.pos)

    try:
        report = import_mlflow(source, store, artifact_root=artifact_root, progress=progress)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    click.echo(report.summary())
    if report.problems:
        click.echo(f"\nnot mapped ({len(report.problems)}):")
        for p in report.problems:
            click.echo(f"  - {p}")
