"""The course script gives the same results with real MLflow and with runsite."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pytest

from mlflow_course.week2 import run_course

pytestmark = pytest.mark.slow


def _with_mlflow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    import mlflow  # a test dependency: the oracle
    import mlflow.pyfunc
    import mlflow.sklearn
    from mlflow.entities import ViewType
    from mlflow.tracking import MlflowClient

    # A local sqlite store, no telemetry: the MLflow run never touches the network.
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("DO_NOT_TRACK", "true")
    # mlflow.set_experiment exports MLFLOW_EXPERIMENT_ID into os.environ: snapshot the
    # MLflow variables so monkeypatch restores them for the tests that follow.
    for name in [k for k in os.environ if k.startswith("MLFLOW_")] + [
        "MLFLOW_EXPERIMENT_ID",
        "MLFLOW_EXPERIMENT_NAME",
        "MLFLOW_TRACKING_URI",
        "MLFLOW_RUN_ID",
    ]:
        monkeypatch.setenv(name, "")  # records the old value (or its absence) for undo
        monkeypatch.delenv(name)
    work = tmp_path / "mlflow"
    work.mkdir()
    monkeypatch.chdir(work)
    try:
        return run_course(mlflow, MlflowClient, ViewType, f"sqlite:///{work}/mlflow.db", work)
    finally:
        mlflow.set_tracking_uri("")  # leave no global state for other tests


def _with_runsite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    import runsite as mlflow
    from runsite.entities import ViewType
    from runsite.tracking import MlflowClient

    work = tmp_path / "runsite"
    work.mkdir()
    monkeypatch.chdir(work)
    return run_course(mlflow, MlflowClient, ViewType, str(work / "runs"), work)


def test_course_script_same_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from runsite import client

    caplog.set_level(logging.WARNING, logger="runsite")
    monkeypatch.setattr(client, "_warned_registry_write", False)  # once per process
    ours = _with_runsite(tmp_path, monkeypatch)
    assert any("registry.yaml" in r.getMessage() for r in caplog.records)  # said once
    theirs = _with_mlflow(tmp_path, monkeypatch)
    for key in ("production_predictions", "champion_predictions"):
        np.testing.assert_allclose(ours.pop(key), theirs.pop(key), rtol=1e-9)
    assert ours == theirs
    assert ours["stages"] == {1: "Archived", 2: "Production"}
    assert ours["chosen"][0][0] == "0.01"
