"""Running real MLflow (the test oracle) in a subprocess with a clean environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def mlflow_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any ``MLFLOW_*`` or ``RUNSITE_*`` variable (one
    left by another test, e.g. ``mlflow.set_experiment``'s ``MLFLOW_EXPERIMENT_ID``, makes
    MLflow refuse an unknown experiment), with telemetry off, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "RUNSITE_"))}
    env |= {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
    return env | dict(extra or {})


def run_mlflow(args: Sequence[str], cwd: Path, extra_env: Mapping[str, str] | None = None) -> Any:
    """``python ARGS`` in ``cwd`` under :func:`mlflow_env`; the last line it prints, as
    JSON. A failure shows the end of its stderr."""
    proc = subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=mlflow_env(extra_env),
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])
