"""``runsite import mlflow``: source stores built by real MLflow (file store and sqlite),
imported, then checked through runsite's own API against what MLflow recorded."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

import runsite
from mlflow_support import mlflow_env
from runsite.cli import main
from runsite.mlflow_import import RUN_ID_TAG, import_mlflow

pytestmark = pytest.mark.slow

# Builds the source store with MLflow and prints what the test compares against.
_BUILD = r"""
import json, sys
import numpy as np
import pandas as pd
import mlflow
from mlflow import MlflowClient
from sklearn.linear_model import Ridge

uri, out = sys.argv[1], sys.argv[2]
import sklearn
REQS = [f"scikit-learn=={sklearn.__version__}", "cloudpickle"]
mlflow.set_tracking_uri(uri)
exp = mlflow.set_experiment("NYC taxi")
mlflow.set_experiment_tag("mlflow.note.content", "Trip durations.")
rng = np.random.default_rng(0)
X = rng.random((30, 3)); y = X @ [1.0, 2.0, 3.0]
ids = {}
with mlflow.start_run(run_name="sweep", description="the sweep") as parent:
    mlflow.log_params({"alpha_grid": "0.1,1", "cv": 3})
    mlflow.set_tag("team", "pricing")
    for step in range(5):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step, timestamp=1_700_000_000_000 + step)
    mlflow.log_metric("loss", 0.1, step=4, timestamp=1_700_000_000_100)  # a tie at step 4
    mlflow.log_input(mlflow.data.from_pandas(pd.DataFrame(X, columns=list("abc")), name="train"),
                     context="training")
    for alpha in (0.1, 1.0):
        with mlflow.start_run(run_name=f"ridge-{alpha}", nested=True) as child:
            mlflow.log_param("alpha", alpha)
            m = Ridge(alpha=alpha).fit(X, y)
            mlflow.log_metric("rmse", float(np.sqrt(((m.predict(X) - y) ** 2).mean())))
            # requirements given: MLflow's inference runs a 5 s subprocess per model
            mlflow.sklearn.log_model(m, name="model", input_example=X[:2],
                                     registered_model_name="taxi", pip_requirements=REQS)
            mlflow.log_text("hello", "notes/readme.txt")
            ids[f"ridge-{alpha}"] = child.info.run_id
    # an MLflow 2 style model: a model folder inside the run's artifacts, pickled
    with mlflow.start_run(run_name="legacy", nested=True) as legacy:
        import tempfile, os
        d = os.path.join(tempfile.mkdtemp(), "m")
        mlflow.sklearn.save_model(Ridge(alpha=3.0).fit(X, y), d, pip_requirements=REQS,
                                  serialization_format="cloudpickle")
        mlflow.log_artifacts(d, "legacy_model")
        ids["legacy"] = legacy.info.run_id
    ids["sweep"] = parent.info.run_id
try:
    with mlflow.start_run(run_name="broken"):
        mlflow.log_param("x", 1)
        raise RuntimeError("boom")
except RuntimeError:
    pass
c = MlflowClient()
with mlflow.start_run(run_name="thrown away") as gone:
    pass
c.delete_run(gone.info.run_id)
c.transition_model_version_stage("taxi", 1, "Production")
c.transition_model_version_stage("taxi", 2, "Staging")
c.set_registered_model_alias("taxi", "champion", 1)
c.update_registered_model("taxi", description="taxi model")
c.update_model_version("taxi", 1, description="first")
c.set_model_version_tag("taxi", 1, "validated", "yes")
c.set_registered_model_tag("taxi", "owner", "pricing")
runs = {}
for r in c.search_runs([exp.experiment_id]):
    runs[r.info.run_id] = {
        "name": r.info.run_name, "status": r.info.status,
        "start": r.info.start_time, "end": r.info.end_time,
        "params": r.data.params, "metrics": r.data.metrics,
        "tags": {k: v for k, v in r.data.tags.items() if not k.startswith("mlflow.")},
        "parent": r.data.tags.get("mlflow.parentRunId"),
        "history": {k: [[m.value, m.step, m.timestamp]
                        for m in c.get_metric_history(r.info.run_id, k)]
                    for k in r.data.metrics},
    }
pred = mlflow.pyfunc.load_model("models:/taxi/Production").predict(X).tolist()
pred2 = mlflow.pyfunc.load_model("models:/taxi@champion").predict(X).tolist()
pred3 = mlflow.pyfunc.load_model(f"runs:/{ids['legacy']}/legacy_model").predict(X).tolist()
json.dump({"runs": runs, "ids": ids, "X": X.tolist(), "pred": pred, "pred_alias": pred2,
           "pred_legacy": pred3},
          open(out, "w"))
"""


def _build(kind: str, where: Path) -> tuple[str, dict[str, Any]]:
    where.mkdir()
    env = mlflow_env()
    if kind == "file":
        env["MLFLOW_ALLOW_FILE_STORE"] = "true"
        uri, source = (where / "mlruns").as_uri(), str(where / "mlruns")
    else:
        uri = source = f"sqlite:///{where / 'mlflow.db'}"
    out = where / "expected.json"
    proc = subprocess.run(
        [sys.executable, "-c", _BUILD, uri, str(out)],
        capture_output=True,
        text=True,
        cwd=where,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return source, json.loads(out.read_text())


@pytest.fixture(scope="module", params=["file", "sqlite"])
def source(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return _build(request.param, tmp_path_factory.mktemp(request.param) / "src")


def _by_mlflow_id(store: Path) -> dict[str, Any]:
    runsite.set_store(store)
    return {
        r.tags[RUN_ID_TAG]: r
        for r in runsite.search_runs("", max_results=1000, search_all_experiments=True)
    }


def test_import_matches_mlflow(source: tuple[str, dict[str, Any]], tmp_path: Path) -> None:
    src, want = source
    store = tmp_path / "runs"
    report = import_mlflow(src, store)
    assert report.runs_imported == 5 and report.runs_skipped == 0
    assert report.versions_imported == 2
    assert report.problems == ["experiment 'NYC taxi': 1 runs deleted in MLflow were not imported"]
    got = _by_mlflow_id(store)
    assert set(got) == set(want["runs"])
    for mid, w in want["runs"].items():
        r = got[mid]
        assert r.run_name == w["name"]
        assert r.status == w["status"]
        assert (r.start_time, r.end_time) == (w["start"], w["end"])
        assert r.params == w["params"]
        assert r.data.metrics == w["metrics"]  # MLflow's "latest" of a tie too
        assert {k: v for k, v in r.tags.items() if k != RUN_ID_TAG} == w["tags"]
        for key, points in w["history"].items():
            hist = runsite.MlflowClient().get_metric_history(r.run_id, key)
            assert sorted([m.value, m.step, m.timestamp] for m in hist) == sorted(points)
        if w["parent"]:
            assert r.parent_run_id == got[w["parent"]].run_id
    sweep = got[want["ids"]["sweep"]]
    assert sweep.data.tags["mlflow.note.content"] == "the sweep"
    assert sweep.inputs[0]["name"] == "train" and sweep.inputs[0]["context"] == "training"
    trained = runsite.search_runs(
        "datasets.name = 'train' and datasets.context = 'training'", search_all_experiments=True
    )
    assert [t.run_id for t in trained] == [sweep.run_id]
    children = runsite.search_runs(
        f"tags.mlflow.parentRunId = '{sweep.run_id}'", search_all_experiments=True
    )
    assert sorted(c.run_name for c in children) == ["legacy", "ridge-0.1", "ridge-1.0"]
    # the MLflow run id is searchable
    found = runsite.search_runs(
        f"tags.{RUN_ID_TAG} = '{want['ids']['sweep']}'", search_all_experiments=True
    )
    assert [f.run_id for f in found] == [sweep.run_id]
    child = got[want["ids"]["ridge-0.1"]]
    assert (child.artifacts_dir / "notes" / "readme.txt").read_text() == "hello"
    assert child.models and child.models[0]["flavor"] == "sklearn"
    assert runsite.get_experiment_by_name("NYC taxi").description == "Trip durations."

    v1 = runsite.get_model_version("taxi", 1)
    v2 = runsite.get_model_version("taxi", 2)
    assert (v1.stage, v2.stage) == ("production", "staging")
    assert v1.run_id == child.run_id and v2.run_id == got[want["ids"]["ridge-1.0"]].run_id
    assert v1.aliases == ["champion"] and v1.description == "first"
    assert v1.tags == {"validated": "yes"}
    model = runsite.registry.Registry(store).get_model("taxi")
    assert model.description == "taxi model" and model.tags == {"owner": "pricing"}

    X = np.array(want["X"])
    pred = runsite.pyfunc.load_model("models:/taxi/Production").predict(X)
    np.testing.assert_allclose(pred, want["pred"])
    np.testing.assert_allclose(
        runsite.load_model("models:/taxi@champion").predict(X), want["pred_alias"]
    )
    legacy = got[want["ids"]["legacy"]]
    assert [(m["name"], m["flavor"]) for m in legacy.models] == [("legacy_model", "sklearn")]
    by_run = runsite.load_model(f"runs:/{legacy.run_id}/legacy_model")
    np.testing.assert_allclose(by_run.predict(X), want["pred_legacy"])


def test_reimport_skips_everything(source: tuple[str, dict[str, Any]], tmp_path: Path) -> None:
    src, want = source
    store = tmp_path / "runs"
    import_mlflow(src, store)
    before = {p: p.read_bytes() for p in store.rglob("*") if p.is_file()}
    again = import_mlflow(src, store)
    assert again.runs_imported == 0 and again.runs_skipped == len(want["runs"])
    assert again.versions_imported == 0 and again.versions_skipped == 2
    after = {p: p.read_bytes() for p in store.rglob("*") if p.is_file()}
    assert after == before


def test_cli_progress_and_report(source: tuple[str, dict[str, Any]], tmp_path: Path) -> None:
    src, want = source
    store = tmp_path / "runs"
    res = CliRunner().invoke(main, ["import", "mlflow", src, "--store", str(store)])
    assert res.exit_code == 0, res.output
    assert f"runs: {len(want['runs'])} imported" in res.output
    assert "importing runs" in res.output  # click's progress bar
    assert "not mapped (1):\n  - experiment 'NYC taxi': 1 runs deleted" in res.output


def test_bad_sources_are_one_clean_line(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(main, ["import", "mlflow", f"sqlite:///{tmp_path}/none.db"])
    assert res.exit_code == 1 and "no MLflow database" in res.output
    assert not (tmp_path / "none.db").exists()  # MLflow was not allowed to create it
    (tmp_path / "plain").mkdir()
    res = runner.invoke(main, ["import", "mlflow", str(tmp_path / "plain")])
    assert res.exit_code == 1 and "does not look like an MLflow" in res.output
    res = runner.invoke(main, ["import", "mlflow", "http://mlflow.internal:5000"])
    assert res.exit_code == 1 and "sqlite:///" in res.output
