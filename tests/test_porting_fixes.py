"""porting.md rows fixed in behaviour: log_table's null, MLflow's "latest" tie-break."""

from __future__ import annotations

import json
import math
from pathlib import Path

import runsite


def test_log_table_writes_null_for_nan(store: Path) -> None:
    with runsite.start_run(log_git=False) as r:
        runsite.log_table({"a": [1.0, math.nan], "b": [math.inf, 2]}, "t.json")
    text = (r.artifacts_dir / "t.json").read_text()
    assert json.loads(text) == {"columns": ["a", "b"], "data": [[1.0, None], [None, 2]]}
    assert "NaN" not in text and "Infinity" not in text


def test_latest_at_one_step_is_the_largest_timestamp(store: Path) -> None:
    with runsite.start_run(log_git=False) as r:
        runsite.log_metric("m", 1.0, step=5, timestamp=2_000)
        runsite.log_metric("m", 2.0, step=5, timestamp=1_000)  # logged later, older time
        runsite.log_metric("m", 0.5, step=4, timestamp=9_000)
    assert runsite.get_run(r.run_id).data.metrics == {"m": 1.0}
    steps = runsite.get_run(r.run_id).metric_history("m").to_pylist()
    assert [(p["step"], p["value"]) for p in steps] == [(4, 0.5), (5, 2.0), (5, 1.0)]
