"""Every row of docs/porting.md that claims sameness with MLflow is checked against real
MLflow (a test dependency).

``ORACLES`` maps each such row (by the start of its MLflow cell) to what checks it: a key
of tests/porting_scenario.py's observations (compared here, MLflow's run in a clean
subprocess against runsite's in this process) or an oracle test elsewhere.
``test_every_same_row_has_an_oracle`` parses porting.md, so a new "same" row without a
check, a check of a row that no longer exists, or a reference to a missing test fails.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mlflow_support import run_mlflow

ROOT = Path(__file__).resolve().parents[1]
PORTING = ROOT / "docs" / "porting.md"
SCENARIO = Path(__file__).with_name("porting_scenario.py")

COURSE = "tests/test_mlflow_course.py::test_course_script_same_results"
PAGING = "tests/test_mlflow_paging.py::test_registry_searches_and_pages_match_mlflow"
DATASETS = "tests/test_data.py::test_datasets_match_mlflow"
AUTOLOG = "tests/test_autolog_oracle.py::test_autolog_matches_mlflow"
SYSTEM_TAGS = "tests/test_mlflow_oracle.py::test_system_tags_match_mlflow"
DOWNLOADS = "tests/test_mlflow_gaps.py::test_download_artifacts_layouts_match_mlflow"
PYFUNC = "tests/test_pyfunc_oracle.py::test_python_model_matches_mlflow"

# start of the row's MLflow cell -> its checks ("scenario:<key>" or "tests/…::test")
ORACLES: dict[str, list[str]] = {
    "`mlflow.create_experiment(name, tags=": ["scenario:create_experiment"],
    "`mlflow.get_experiment(id)`": ["scenario:create_experiment"],
    "`except mlflow.MlflowException`": ["scenario:create_experiment"],
    "`MlflowClient().create_run(": ["scenario:client_run"],
    "`mlflow.set_experiment(name)`": [
        "scenario:set_experiment",
        "scenario:get_experiment_by_name_missing",
    ],
    "`mlflow.start_run(run_name=": [
        "scenario:start_run",
        "scenario:parent_run_id",
        "scenario:start_run_while_active",
        "scenario:tags",
        SYSTEM_TAGS,
    ],
    "`mlflow.end_run(status=…)`": ["scenario:end_run", "scenario:active_after"],
    "`mlflow.active_run()`": ["scenario:active_run"],
    "`mlflow.last_active_run()`": ["scenario:last_active_run"],
    "`mlflow.log_param(k, v)`": ["scenario:params", "scenario:relog_param"],
    "`mlflow.log_metric(k, v, step=…)`": [
        "scenario:metrics",
        "scenario:metric_history",
        "scenario:client_run",
    ],
    "`mlflow.set_tag(k, v)`": ["scenario:tags"],
    "MLflow's system tags": [SYSTEM_TAGS, "scenario:tags", "scenario:search_runs_frame"],
    "`mlflow.delete_tag(k)`": ["scenario:tags", "scenario:delete_tag_missing"],
    "`mlflow.log_text(text, file)`": ["scenario:files"],
    "`mlflow.log_dict(d, file)`": ["scenario:files"],
    "`mlflow.log_artifact(path, artifact_path)`": ["scenario:artifacts"],
    "`mlflow.log_figure(fig, file)`": ["scenario:artifacts"],
    "`mlflow.load_table(artifact_file": ["scenario:load_table"],
    "`mlflow.log_image(image, artifact_file)`": ["scenario:log_image", "scenario:artifacts"],
    "`mlflow.log_table(data, file)`": ["scenario:files", "scenario:table", "scenario:tags"],
    "`mlflow.log_input(dataset": [DATASETS, "scenario:dataset_inputs"],
    "`mlflow.log_inputs(datasets": ["scenario:dataset_inputs"],
    "`mlflow.search_experiments(": ["scenario:search_experiments"],
    "`mlflow.autolog()`": [AUTOLOG],
    "`mlflow.search_runs(experiment_ids": [PAGING, "scenario:search_runs_frame"],
    "`mlflow.sklearn`, `.xgboost`": ["scenario:submodules"],
    "`from mlflow.tracking import MlflowClient`": [COURSE],
    "`MlflowClient(tracking_uri=uri)`": [COURSE, "scenario:client_tracking_uri"],
    "`from mlflow.entities import ViewType`": ["scenario:view_type", COURSE],
    "`mlflow.get_run`, `get_experiment_by_name`": [
        "scenario:get_run_info",
        "scenario:set_experiment",
        "scenario:get_experiment_by_name_missing",
        "scenario:get_artifact_uri",
    ],
    "`MlflowClient().get_run(id)`": ["scenario:get_run_info", "scenario:params"],
    "`MlflowClient().search_runs(": [PAGING, COURSE],
    "`MlflowClient().get_metric_history(id, key)`": ["scenario:metric_history"],
    "`MlflowClient().download_artifacts(": [
        COURSE,
        DOWNLOADS,
        "scenario:artifacts",
        "scenario:artifacts_sub",
    ],
    "`mlflow.search_runs()` defaults": ["scenario:search_runs_frame"],
    "`mlflow.artifacts.download_artifacts(": [DOWNLOADS, "scenario:files"],
    "`mlflow.start_run(log_system_metrics=True)`": ["scenario:system_metrics"],
    "`mlflow.sklearn.log_model(m, name)`": ["scenario:sklearn_model", COURSE],
    "`mlflow.xgboost.log_model(m, name)`": ["scenario:xgboost_model"],
    "`mlflow.sklearn.save_model(m, path)`": ["scenario:save_model", PYFUNC],
    "`mlflow.get_parent_run(run_id)`": ["scenario:get_parent_run"],
    "`mlflow runs delete --run-id ID`": ["scenario:delete_run"],
    "`mlflow.sklearn.load_model(uri)`": [
        "scenario:sklearn_model",
        "scenario:xgboost_model",
        COURSE,
    ],
    "`mlflow.pyfunc.log_model(name, python_model=": [PYFUNC],
    "`mlflow.pyfunc.load_model(uri)`": [
        "scenario:model_uris",
        "scenario:pyfunc_model_type",
        COURSE,
        PYFUNC,
    ],
    "`mlflow.is_tracking_uri_set()`": ["scenario:uris"],
    "`runs:/<run-id>/<name>` URIs": ["scenario:model_uris", COURSE],
    "`models:/<name>/<version>`": ["scenario:model_uris", COURSE],
    "`MlflowClient().set_registered_model_alias(": ["scenario:model_uris", COURSE],
    "`MlflowClient().delete_registered_model_alias(": ["scenario:delete_alias"],
    "`MlflowClient().get_model_version(name, version)`": ["scenario:get_model_version", COURSE],
    "`MlflowClient().get_latest_versions(": [COURSE],
    "`mlflow.models.ModelSignature(": ["scenario:model_signature"],
    "`MlflowClient().delete_model_version(": ["scenario:registry_deletes"],
    "`MlflowClient().search_model_versions(": [PAGING],
    "`MlflowClient().search_registered_models(": [PAGING],
}


def _rows(text: str) -> Iterator[tuple[str, str]]:
    """(MLflow cell, notes cell) of every table row of porting.md."""
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if line.startswith("| ") and len(cells) == 3 and cells[0] not in ("MLflow", "---"):
            yield cells[0], cells[2]


def claims_sameness(notes: str) -> bool:
    text = notes.lower()
    return text.startswith(("same", "the same")) or "as in mlflow" in text


def _scenario_keys() -> set[str]:
    return set(re.findall(r'out\["(\w+)"\]', SCENARIO.read_text(encoding="utf-8")))


def _test_exists(ref: str) -> bool:
    file, name = ref.split("::")
    tree = ast.parse((ROOT / file).read_text(encoding="utf-8"))
    return any(isinstance(n, ast.FunctionDef) and n.name == name for n in tree.body)


def unmapped(text: str) -> tuple[list[str], list[str]]:
    """'Same' rows of ``text`` without exactly one ORACLES entry, and ORACLES entries that
    match no 'same' row or several."""
    matched: dict[str, list[str]] = {prefix: [] for prefix in ORACLES}
    missing = []
    for cell, notes in _rows(text):
        if not claims_sameness(notes):
            continue
        found = [p for p in ORACLES if cell.startswith(p)]
        if len(found) != 1:
            missing.append(cell)
        for p in found:
            matched[p].append(cell)
    return missing, [p for p, cells in matched.items() if len(cells) != 1]


def test_every_same_row_has_an_oracle() -> None:
    text = PORTING.read_text(encoding="utf-8")
    assert sum(claims_sameness(notes) for _, notes in _rows(text)) > 30, "did not parse"
    missing, stale = unmapped(text)
    assert not missing, f"'same' rows of porting.md without one oracle in ORACLES: {missing}"
    assert not stale, f"ORACLES entries matching no 'same' row (or several): {stale}"
    keys = _scenario_keys()
    for refs in ORACLES.values():
        for ref in refs:
            if ref.startswith("scenario:"):
                assert ref.removeprefix("scenario:") in keys, ref
            else:
                assert _test_exists(ref), f"{ref} does not exist"
    used = {r.removeprefix("scenario:") for refs in ORACLES.values() for r in refs}
    assert keys <= used, f"observations no row claims: {sorted(keys - used)}"


def test_the_check_sees_drift() -> None:
    text = PORTING.read_text(encoding="utf-8")
    new_row = "| `mlflow.log_stream(s, file)` | `runsite.log_stream(s, file)` | same. |"
    assert unmapped(text + "\n" + new_row + "\n") == (["`mlflow.log_stream(s, file)`"], [])
    gone = text.replace("| `mlflow.active_run()` |", "| `mlflow.current_run()` |")
    assert unmapped(gone) == (["`mlflow.current_run()`"], ["`mlflow.active_run()`"])
    differs = text.replace("| `runsite.last_active_run()` | same. |", "| x | differs: y |")
    assert unmapped(differs) == ([], ["`mlflow.last_active_run()`"])


def test_sameness_parser() -> None:
    assert claims_sameness("same: drop-in")
    assert claims_sameness("the same form.")
    assert claims_sameness("differs: … the largest timestamp, as in MLflow")
    assert not claims_sameness("differs: writes nothing")
    assert not claims_sameness("runsite-only: notes")


# ---------------------------------------------------------------- the observations


@pytest.fixture(scope="module")
def theirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("mlflow")
    return run_mlflow([str(SCENARIO), str(work)], work)


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    import runsite
    import runsite.entities
    import runsite.mlflow
    from conftest import module_env
    from porting_scenario import observe
    from runsite import system_metrics
    from runsite.tracking import MlflowClient

    work = tmp_path_factory.mktemp("runsite")
    with module_env(work):
        try:
            got = observe(
                runsite, runsite.mlflow, MlflowClient, runsite.entities, str(work / "runs"), work
            )
        finally:
            system_metrics.set_system_metrics_sampling_interval(None)
            system_metrics.set_system_metrics_samples_before_logging(None)
    return json.loads(json.dumps(got))  # the same JSON round trip as MLflow's


@pytest.mark.slow
@pytest.mark.parametrize("key", sorted(_scenario_keys()))
def test_same_as_mlflow(key: str, theirs: dict[str, Any], ours: dict[str, Any]) -> None:
    assert ours[key] == theirs[key]
