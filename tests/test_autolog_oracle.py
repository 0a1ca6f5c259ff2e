"""Autolog against real MLflow: the same fits (tests/autolog_oracle.py) under
``mlflow.autolog()`` and ``runsite.autolog()`` give runs with the same param names and
values, the same metric names and (except timings) values, the same estimator.html, the
same per-round XGBoost histories and the same nesting of a search's child runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mlflow_support import mlflow_env

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).with_name("autolog_oracle.py")
# What MLflow 3 logs that runsite does not (docs/porting.md, autolog rows): matplotlib
# plots. Models are MLflow 3 "logged models", not run artifacts, so they do not list.
MLFLOW_ONLY_ARTIFACTS = {
    "training_confusion_matrix.png",
    "training_precision_recall_curve.png",
    "training_roc_curve.png",
    "feature_importance_weight.png",
}
RUNSITE_ONLY_ARTIFACTS = {"model", "best_estimator", "git-diff.patch"}


def _start(which: str, work: Path) -> subprocess.Popen[str]:
    work.mkdir()
    env = mlflow_env({"RUNSITE_CACHE_DIR": str(work / "_cache")})
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), which, str(work)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=work,
        env=env,
    )


def _runs(proc: subprocess.Popen[str]) -> list[dict[str, Any]]:
    out, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, err[-3000:]
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def _tree(runs: list[dict[str, Any]]) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Top-level runs oldest first, each with its children ordered by params."""
    tops = sorted((r for r in runs if not r["parent"]), key=lambda r: r["start"])
    return [
        (
            top,
            sorted(
                (r for r in runs if r["parent"] == top["run_id"]),
                key=lambda r: json.dumps(r["params"], sort_keys=True),
            ),
        )
        for top in tops
    ]


def _same_run(theirs: dict[str, Any], ours: dict[str, Any]) -> None:
    label = theirs["tags"].get("estimator_name", theirs["tags"])
    assert ours["tags"] == theirs["tags"], label
    assert ours["params"] == theirs["params"], label
    assert sorted(ours["metrics"]) == sorted(theirs["metrics"]), label
    for key, value in theirs["metrics"].items():
        if key.endswith("_time"):  # fit/score timings of a search's candidates
            continue
        assert ours["metrics"][key] == pytest.approx(value, rel=1e-9, abs=1e-12), (label, key)
    assert ours["html"] == theirs["html"], label  # scikit-learn's estimator_html_repr
    assert sorted(ours["histories"]) == sorted(theirs["histories"]), label
    for key, points in theirs["histories"].items():
        assert [s for s, _ in ours["histories"][key]] == [s for s, _ in points], (label, key)
        assert [v for _, v in ours["histories"][key]] == pytest.approx(
            [v for _, v in points], rel=1e-6
        ), (label, key)
    assert set(theirs["artifacts"]) - MLFLOW_ONLY_ARTIFACTS == (
        set(ours["artifacts"]) - RUNSITE_ONLY_ARTIFACTS
    ), label


def test_autolog_matches_mlflow(tmp_path: Path) -> None:
    # both trackers at once (each in its own process: autolog patches process-wide)
    mlflow_proc = _start("mlflow", tmp_path / "mlflow")
    runsite_proc = _start("runsite", tmp_path / "runsite")
    theirs = _tree(_runs(mlflow_proc))
    ours = _tree(_runs(runsite_proc))
    assert [len(c) for _, c in ours] == [len(c) for _, c in theirs]
    # linear, logistic, pipeline, grid, random, XGBClassifier, train, forest
    assert len(ours) == 8
    for (their_top, their_children), (our_top, our_children) in zip(theirs, ours, strict=True):
        _same_run(their_top, our_top)
        assert "model" in our_top["artifacts"]
        for their_child, our_child in zip(their_children, our_children, strict=True):
            _same_run(their_child, our_child)
    # the searches' candidates are real child runs (3 + 3), XGBoost logs every round
    assert [len(c) for _, c in ours] == [0, 0, 0, 3, 3, 0, 0, 0]
    assert len(ours[6][0]["histories"]["val-logloss"]) >= 4
