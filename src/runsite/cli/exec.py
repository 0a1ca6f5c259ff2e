"""``runsite exec -- COMMAND``: run a command with ``import mlflow`` meaning runsite."""

from __future__ import annotations

import sys

import click


@click.command(
    "exec", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False}
)
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def exec_cmd(command: tuple[str, ...]) -> None:
    """Run COMMAND (e.g. `runsite exec -- python train.py`) with `import mlflow`
    resolving to runsite in its Python processes; exits with its exit code."""
    from runsite.mlflow import run_with_mlflow

    sys.exit(run_with_mlflow(list(command)))
