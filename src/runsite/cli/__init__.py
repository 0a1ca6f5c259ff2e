"""The ``runsite`` command: a thin translation of the library into click commands.

One module per command group (``runs``: experiments and runs, ``models``: the registry,
``serve``: ``models serve``/``models dockerfile``, ``artifacts``: object-storage uploads,
``site``: build and serve, ``sql``: ``sql`` and ``export``, ``init``, ``imports``:
``import mlflow``, ``exec``: run a command with ``import mlflow`` meaning runsite);
``common`` holds the shared options, the JSON and table output and the one place where
library errors become a line on stderr.
Library errors (``RunsiteError``) become one line on stderr and exit code 1; usage
errors are click's (exit code 2). No traceback for a user's mistake. The commands call
only public library functions.
"""

from __future__ import annotations

import click

from runsite.cli.artifacts import artifacts
from runsite.cli.common import Group, remember_store
from runsite.cli.exec import exec_cmd
from runsite.cli.imports import import_group
from runsite.cli.init import init_cmd
from runsite.cli.models import models
from runsite.cli.runs import experiments, runs
from runsite.cli.serve import dockerfile_cmd
from runsite.cli.serve import serve_cmd as model_serve_cmd
from runsite.cli.site import build_cmd, serve_cmd
from runsite.cli.sql import export, sql_cmd
from runsite.version import __version__


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="runsite")
@click.option(
    "--store",
    type=click.Path(file_okay=False),
    expose_value=False,
    is_eager=True,
    callback=remember_store,
    help="The store folder for the command that follows (its own --store wins).",
)
def main() -> None:
    """runsite: experiment tracking and a model registry with no server."""


models.add_command(model_serve_cmd)
models.add_command(dockerfile_cmd)
for _command in (
    experiments,
    runs,
    models,
    artifacts,
    build_cmd,
    serve_cmd,
    init_cmd,
    sql_cmd,
    export,
    import_group,
    exec_cmd,
):
    main.add_command(_command)
main.add_command(serve_cmd, "ui")  # MLflow's `mlflow ui`

if __name__ == "__main__":  # pragma: no cover
    main()
