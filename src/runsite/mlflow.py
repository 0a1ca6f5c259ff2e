"""``runsite.mlflow``: MLflow's shapes and defaults where runsite's own differ on purpose,
and the explicit opt-in that makes ``import mlflow`` mean runsite for one process.

``import runsite.mlflow as mlflow`` gives every runsite call plus:

- ``search_runs`` returning a pandas DataFrame (when pandas is installed; a list
  otherwise), searching the *active* experiment by default, taking ``experiment_ids=``
  and giving an empty result for an unknown experiment, as MLflow does.

For code that cannot be edited (a library calling ``mlflow.*``): ``install()`` makes
``import mlflow`` (and ``mlflow.sklearn``, ``mlflow.tracking`` …) resolve to runsite in
this process, ``python -m runsite.mlflow train.py ARGS`` runs a script that way, and
``run_with_mlflow(["python", "train.py"])`` (the CLI's ``runsite exec -- …``) runs any
command whose Python processes get runsite for ``import mlflow``. Nothing happens
implicitly.
"""

from __future__ import annotations

import importlib
import runpy
import sys
from collections.abc import Sequence
from typing import Any

import runsite
from runsite.entities import ViewType
from runsite.errors import InvalidInput


def __getattr__(name: str) -> Any:
    # Every other runsite call, unchanged.
    if name in runsite.MLFLOW_SUBMODULES:
        return importlib.import_module(f"runsite.{name}")
    return getattr(runsite, name)


def search_runs(
    experiment_ids: str | Sequence[str] | None = None,
    filter_string: str = "",
    run_view_type: int = ViewType.ACTIVE_ONLY,
    max_results: int = 100000,
    order_by: Sequence[str] | None = None,
    output_format: str = "pandas",
    search_all_experiments: bool = False,
    experiment_names: Sequence[str] | None = None,
) -> Any:
    """MLflow's ``mlflow.search_runs``: the active experiment unless ``experiment_ids``
    / ``experiment_names`` say otherwise (or ``search_all_experiments=True``); unknown
    experiments give no runs; a DataFrame unless ``output_format="list"``."""
    if output_format not in ("pandas", "list"):
        raise InvalidInput(f"output_format must be 'pandas' or 'list', got {output_format!r}")
    from runsite.frames import have_pandas

    if output_format == "pandas" and not have_pandas():
        output_format = "list"
    return runsite.search_runs(
        filter_string,
        list(order_by) if order_by else None,
        list(experiment_names) if experiment_names is not None else None,
        max_results,
        output_format,
        experiment_ids=experiment_ids
        if isinstance(experiment_ids, str | None)
        else list(experiment_ids),
        search_all_experiments=search_all_experiments,
        run_view_type=run_view_type,
    )


# ---------------------------------------------------------------------- the opt-in


def install() -> None:
    """Make ``import mlflow`` (and its submodules MLflow scripts use) resolve to runsite
    in this process. Call it before the code that imports mlflow; it is never done for
    you."""
    this = importlib.import_module("runsite.mlflow")
    real = sys.modules.get("mlflow")
    if real is not None and real is not this:
        raise InvalidInput(
            "the real mlflow is already imported in this process; call "
            "runsite.mlflow.install() before anything imports mlflow"
        )
    sys.modules["mlflow"] = this
    for name in runsite.MLFLOW_SUBMODULES:
        sys.modules[f"mlflow.{name}"] = importlib.import_module(f"runsite.{name}")


# Put first on PYTHONPATH by run_with_mlflow: the first ``import mlflow`` of the child
# process finds this package, which installs runsite in its place.
_SHIM = """\
import sys

del sys.modules["mlflow"]  # this shim; install() puts runsite.mlflow in its place
import runsite.mlflow

runsite.mlflow.install()
"""


def run_with_mlflow(command: Sequence[str], env: dict[str, str] | None = None) -> int:
    """Run ``command`` (e.g. ``["python", "train.py"]``) with ``import mlflow`` resolving
    to runsite in every Python process it starts (through a shim package put first on
    ``PYTHONPATH``); returns its exit code. The command runs as given, without a shell."""
    import os
    import subprocess
    import tempfile
    from pathlib import Path

    if not command:
        raise InvalidInput("run_with_mlflow: give a command to run, e.g. python train.py")
    with tempfile.TemporaryDirectory(prefix="runsite-mlflow-") as tmp:
        (Path(tmp) / "mlflow").mkdir()
        (Path(tmp) / "mlflow" / "__init__.py").write_text(_SHIM, "utf-8")
        child = dict(os.environ if env is None else env)
        child["PYTHONPATH"] = os.pathsep.join(p for p in (tmp, child.get("PYTHONPATH", "")) if p)
        try:
            return subprocess.call(list(command), env=child)
        except FileNotFoundError:
            raise InvalidInput(f"no such command: {command[0]!r}") from None


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m runsite.mlflow SCRIPT [ARGS]``: run SCRIPT with ``import mlflow``
    resolving to runsite."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        raise SystemExit("usage: python -m runsite.mlflow SCRIPT.py [ARGS...]")
    importlib.import_module("runsite.mlflow").install()
    sys.argv = args
    runpy.run_path(args[0], run_name="__main__")


if __name__ == "__main__":
    main()
