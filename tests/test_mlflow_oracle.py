"""Rows of porting.md marked "same", checked against real MLflow (a test dependency)."""

from __future__ import annotations

from pathlib import Path

import pytest

import runsite
from mlflow_support import run_mlflow

pytestmark = pytest.mark.slow

_MLFLOW = """
import json, os, sys
import mlflow
mlflow.set_tracking_uri(f"sqlite:///{sys.argv[1]}/m.db")
with mlflow.start_run(run_name="p", description="d") as p:
    with mlflow.start_run(run_name="c", nested=True) as c:
        pass
tags = {r.info.run_name: mlflow.get_run(r.info.run_id).data.tags for r in (p, c)}
print(json.dumps({name: {k: v for k, v in t.items() if k.startswith("mlflow.")}
                  for name, t in tags.items()}))
"""


def test_system_tags_match_mlflow(tmp_path: Path, store: Path) -> None:

    theirs = run_mlflow(["-c", _MLFLOW, str(tmp_path)], tmp_path)
    with (
        runsite.start_run(run_name="p", description="d", log_git=False) as p,
        runsite.start_run(run_name="c", nested=True, log_git=False) as c,
    ):
        pass
    ours = {r.run_name: runsite.get_run(r.run_id).data.tags for r in (p, c)}
    for name in ("p", "c"):
        assert sorted(ours[name]) == sorted(theirs[name])
        for key in ("mlflow.runName", "mlflow.source.type", "mlflow.note.content"):
            assert ours[name].get(key) == theirs[name].get(key)
    assert ours["c"]["mlflow.parentRunId"] == p.run_id
