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


def test_unicode_experiment_names(store: Path) -> None:
    exp = runsite.set_experiment("Эксперимент 1")
    assert exp.experiment_id == "эксперимент-1"
    with runsite.start_run(log_git=False) as r:
        pass
    assert runsite.get_run(r.run_id).info.experiment_name == "Эксперимент 1"
    assert runsite.get_experiment_by_name("Эксперимент 1").experiment_id == "эксперимент-1"
    assert runsite.set_experiment("实验").experiment_id == "实验"
    assert runsite.set_experiment("Café").experiment_id == "cafe"  # unchanged for Latin


def test_names_sharing_a_folder_are_refused(store: Path) -> None:
    import pytest

    runsite.set_experiment("NYC Taxi")
    with runsite.start_run(log_git=False):
        pass
    with pytest.raises(runsite.InvalidInput, match="existing experiment 'NYC Taxi'"):
        runsite.set_experiment("nyc-taxi")
    runsite.set_experiment("NYC Taxi")  # the same name again is fine


def test_server_uris_are_refused() -> None:
    import pytest

    for uri in ("databricks", "databricks-uc", "databricks://profile", "http://x:5000"):
        with pytest.raises(runsite.InvalidInput, match="no tracking server"):
            runsite.set_tracking_uri(uri)
