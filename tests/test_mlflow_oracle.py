"""Rows of porting.md marked "same", checked against real MLflow (a test dependency)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import runsite

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
    import json
    import os

    # A clean MLflow environment: no MLFLOW_* variable left by another test or the shell.
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env |= {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
    out = subprocess.run(
        [sys.executable, "-c", _MLFLOW, str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    theirs = json.loads(out.stdout.strip().splitlines()[-1])
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
