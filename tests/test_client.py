"""MlflowClient and the one-import attributes (the course script is tests/test_mlflow_course.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import runsite
from runsite.errors import NotFound, RunStateError
from runsite.tracking import MlflowClient


def test_lazy_attributes_after_bare_import() -> None:
    code = (
        "import sys, runsite\n"
        "assert 'runsite.client' not in sys.modules and 'runsite.sklearn' not in sys.modules\n"
        "assert runsite.sklearn.log_model and runsite.xgboost.log_model\n"
        "assert runsite.pyfunc.load_model and runsite.models.infer_signature\n"
        "assert runsite.tracking.MlflowClient is runsite.client.MlflowClient\n"
        "assert runsite.MlflowClient is runsite.client.MlflowClient\n"
        "assert runsite.entities.ViewType.ACTIVE_ONLY == 1\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_client_logs_into_open_runs_only(store: Path) -> None:
    client = MlflowClient(tracking_uri=str(store))
    with runsite.start_run(run_name="open", log_git=False) as r:
        client.log_param(r.run_id, "alpha", 0.5)
        client.log_metric(r.run_id, "rmse", 2.0, step=3)
        client.set_tag(r.run_id, "team", "ops")
        runsite.log_text("hi", "notes/a.txt")
        assert runsite.get_artifact_uri("notes/a.txt").endswith("/artifacts/notes/a.txt")
    got = client.get_run(r.run_id)
    assert got.data.params["alpha"] == "0.5" and got.data.tags["team"] == "ops"
    (point,) = client.get_metric_history(r.run_id, "rmse")
    assert (point.key, point.value, point.step) == ("rmse", 2.0, 3)
    (entry,) = client.list_artifacts(r.run_id)
    assert (entry.path, entry.is_dir) == ("notes", True)
    (f,) = client.list_artifacts(r.run_id, "notes")
    assert (f.path, f.is_dir, f.file_size) == ("notes/a.txt", False, 2)
    with pytest.raises(RunStateError, match="immutable"):
        client.log_param(r.run_id, "beta", 1)
    with pytest.raises(NotFound):
        client.download_artifacts(r.run_id, "missing.txt")
    assert client.get_experiment_by_name("nope") is None
    assert runsite.get_experiment_by_name("Default").experiment_id == "default"
    assert client.search_runs(["nope"]) == []
    assert [x.run_id for x in client.search_runs("Default")] == [r.run_id]
    assert runsite.get_run(r.run_id).info.run_name == "open"
    assert [e.name for e in runsite.search_experiments()] == ["Default"]


def test_log_batch_takes_mappings_and_objects(store: Path) -> None:
    from runsite.client import Metric

    with runsite.start_run(log_git=False) as r:
        runsite.log_batch(
            metrics=[Metric("loss", 0.5, 1_700_000_000_000, 4)], params={"a": 1}, tags={"t": "x"}
        )
    rec = runsite.get_run(r.run_id)
    assert rec.data.metrics == {"loss": 0.5} and rec.data.params == {"a": "1"}
    assert rec.metrics["loss"]["last_step"] == 4


def test_system_tags_derived_and_searchable(store: Path) -> None:
    with runsite.start_run(run_name="sweep", description="the sweep", log_git=False) as parent:
        for i in range(2):
            with runsite.start_run(run_name=f"trial-{i}", nested=True, log_git=False):
                runsite.log_metric("rmse", float(i))
    with runsite.start_run(run_name="other", log_git=False):
        pass
    children = runsite.search_runs(f"tags.mlflow.parentRunId = '{parent.run_id}'")
    assert sorted(r.run_name for r in children) == ["trial-0", "trial-1"]
    tags = runsite.get_run(parent.run_id).data.tags
    assert tags["mlflow.runName"] == "sweep" and tags["mlflow.note.content"] == "the sweep"
    assert tags["mlflow.source.type"] == "LOCAL" and tags["mlflow.user"]
    assert "mlflow.source.name" in tags and "mlflow.parentRunId" not in tags
    assert (store / "default" / parent.run_id / "events.jsonl").read_text().count("mlflow.") == 0
    frame = runsite.search_runs("attributes.run_name = 'trial-0'", output_format="pandas")
    assert frame["tags.mlflow.parentRunId"].tolist() == [parent.run_id]
