"""``runsite.pyfunc.PythonModel`` against real MLflow: the same custom models
(tests/pyfunc_models.py) logged with artifacts, a signature with params and a registered
name, loaded and asked to predict, give the same answers under both."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import runsite

HELPERS = Path(__file__).with_name("pyfunc_models.py")


def _mlflow(work: Path) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "RUNSITE_"))}
    env |= {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true", "PYFUNC_BASE": "mlflow"}
    env["PYTHONPATH"] = os.pathsep.join([str(HELPERS.parent), env.get("PYTHONPATH", "")])
    out = subprocess.run(
        [sys.executable, str(HELPERS), str(work)],
        capture_output=True,
        text=True,
        cwd=work,
        env=env,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_python_model_matches_mlflow(tmp_path: Path) -> None:
    from pyfunc_models import observe

    (tmp_path / "mlflow").mkdir()
    (tmp_path / "runsite").mkdir()
    theirs = _mlflow(tmp_path / "mlflow")
    runsite.set_store(tmp_path / "runsite" / "runs")
    ours = json.loads(json.dumps(observe(runsite, tmp_path / "runsite")))
    for key in theirs:
        assert ours[key] == theirs[key], key
    assert ours.keys() == theirs.keys()
    assert ours["predict_params"] == [7.0, 9.0, 11.0]  # (the scenario means something)
