"""runsite.mlflow: MLflow's search_runs defaults, the explicit install, the loud warning."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import runsite
import runsite.mlflow as rmlflow


def test_search_runs_mlflow_defaults(store: Path) -> None:
    runsite.set_experiment("a")
    with runsite.start_run(run_name="in-a", log_git=False):
        runsite.log_metric("rmse", 1.0)
    runsite.set_experiment("b")
    with runsite.start_run(run_name="in-b", log_git=False):
        runsite.log_metric("rmse", 2.0)
    frame = rmlflow.search_runs()  # the active experiment, as a DataFrame
    assert frame["tags.mlflow.runName"].tolist() == ["in-b"]
    assert rmlflow.search_runs(experiment_ids=["a"])["metrics.rmse"].tolist() == [1.0]
    assert len(rmlflow.search_runs(experiment_ids="nope")) == 0
    assert len(rmlflow.search_runs(search_all_experiments=True)) == 2
    listed = rmlflow.search_runs(experiment_names=["a", "b"], output_format="list")
    assert sorted(r.run_name for r in listed) == ["in-a", "in-b"]


def test_install_and_python_m(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(
        "import sys, mlflow, mlflow.sklearn\n"
        "from mlflow.tracking import MlflowClient\n"
        "assert mlflow.__name__ == 'runsite.mlflow', mlflow\n"
        "mlflow.set_tracking_uri(sys.argv[1])\n"
        "with mlflow.start_run(run_name='zero-line'):\n"
        "    mlflow.log_metric('m', 1.0)\n"
        "print(MlflowClient().search_runs('Default')[0].info.run_name)\n"
    )
    out = subprocess.run(
        [sys.executable, "-m", "runsite.mlflow", str(script), str(tmp_path / "runs")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "zero-line"


def test_real_mlflow_after_runsite_warns() -> None:
    code = "import runsite as mlflow\nimport mlflow.entities\n"
    out = subprocess.run(
        [sys.executable, "-W", "always", "-c", code], capture_output=True, text=True, check=True
    )
    assert "real mlflow package is being imported in a process that uses runsite" in out.stderr
    quiet = subprocess.run(
        [sys.executable, "-W", "always", "-c", "import runsite.mlflow as m; m.install()\n" + code],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "real mlflow" not in quiet.stderr
