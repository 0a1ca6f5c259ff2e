"""``runsite.mlflow``: MLflow's shapes and defaults where runsite's own differ on purpose,
and the explicit opt-in that makes ``import mlflow`` mean runsite for one process.

``import runsite.mlflow as mlflow`` gives every runsite call plus:

- ``search_runs`` returning a pandas DataFrame (when pandas is installed; a list
  otherwise), searching the *active* experiment by default, taking ``experiment_ids=``
  and giving an empty result for an unknown experiment, as MLflow does.

For code that cannot be edited (a library calling ``mlflow.*``): ``install()`` makes
``import mlflow`` (and ``mlflow.sklearn``, ``mlflow.tracking`` …) resolve to runsite in
this process, and ``python -m runsite.mlflow train.py ARGS`` runs a script that way.
Nothing happens implicitly.
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

_SUBMODULES = ("sklearn", "xgboost", "pyfunc", "models", "tracking", "client", "entities")


def __getattr__(name: str) -> Any:
    # Every other runsite call, unchanged.
    if name in _SUBMODULES:
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
    from runsite.fluent import get_experiment_name
    from runsite.store import Store

    store = Store()
    if search_all_experiments and not experiment_ids and not experiment_names:
        wanted: list[str] | None = None
    else:
        ids = [experiment_ids] if isinstance(experiment_ids, str) else list(experiment_ids or [])
        wanted = ids + list(experiment_names or [])
        if not wanted:
            wanted = [get_experiment_name()]
        known = {e.experiment_id for e in store.experiments()} | {
            e.name for e in store.experiments()
        }
        wanted = [w for w in wanted if w in known]
    runs = (
        []
        if wanted == [] or run_view_type == ViewType.DELETED_ONLY
        else store.search_runs(filter_string, order_by, wanted, max_results)
    )
    if output_format == "list":
        return runs
    if output_format != "pandas":
        raise InvalidInput(f"output_format must be 'pandas' or 'list', got {output_format!r}")
    from runsite.frames import have_pandas, runs_frame

    return runs_frame(runs) if have_pandas() else runs


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
    for name in _SUBMODULES:
        sys.modules[f"mlflow.{name}"] = importlib.import_module(f"runsite.{name}")


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
