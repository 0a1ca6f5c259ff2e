"""``runsite.pyfunc.PythonModel`` against real MLflow: the same custom models
(tests/pyfunc_models.py) logged with artifacts, a signature with params and a registered
name, loaded and asked to predict, give the same answers under both."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

import runsite
from mlflow_support import run_mlflow

HELPERS = Path(__file__).with_name("pyfunc_models.py")


def _mlflow(work: Path) -> dict[str, Any]:
    path = os.pathsep.join([str(HELPERS.parent), os.environ.get("PYTHONPATH", "")])
    extra = {"PYFUNC_BASE": "mlflow", "PYTHONPATH": path}
    return run_mlflow([str(HELPERS), str(work)], work, extra)


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
