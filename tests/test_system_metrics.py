"""System metrics: a real run sampled by the real psutil at a short interval, the opt-in
switches, and a process where psutil cannot be imported (one warning, the run is fine)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import runsite
from runsite import system_metrics

pytest.importorskip("psutil")

MLFLOW_NAMES = {
    "system/cpu_utilization_percentage",
    "system/system_memory_usage_megabytes",
    "system/system_memory_usage_percentage",
    "system/disk_usage_percentage",
    "system/disk_usage_megabytes",
    "system/disk_available_megabytes",
    "system/network_receive_megabytes",
    "system/network_transmit_megabytes",
}


@pytest.fixture(autouse=True)
def _defaults(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in (
        "ENABLE_SYSTEM_METRICS_LOGGING",
        "SYSTEM_METRICS_SAMPLING_INTERVAL",
        "SYSTEM_METRICS_SAMPLES_BEFORE_LOGGING",
    ):
        monkeypatch.delenv(f"RUNSITE_{name}", raising=False)
        monkeypatch.delenv(f"MLFLOW_{name}", raising=False)
    yield
    system_metrics._enabled = None
    runsite.set_system_metrics_sampling_interval(None)
    runsite.set_system_metrics_samples_before_logging(None)


def _busy(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        sum(range(1000))


def test_a_run_gets_system_metrics(store: Path) -> None:
    runsite.set_system_metrics_sampling_interval(0.1)
    with runsite.start_run(log_system_metrics=True, log_git=False) as run:
        runsite.log_metric("loss", 1.0)
        _busy(1.5)  # ~15 samples on an idle machine, at least 2 on a busy one
    rec = runsite.get_run(run.run_id)
    assert rec.status == "FINISHED"
    assert set(rec.data.metrics) >= MLFLOW_NAMES
    assert "loss" in rec.data.metrics
    history = rec.metric_history("system/system_memory_usage_megabytes").to_pylist()
    assert len(history) >= 2
    assert [p["step"] for p in history] == list(range(len(history)))
    assert all(p["value"] > 0 for p in history)
    assert 0 <= rec.data.metrics["system/cpu_utilization_percentage"] <= 100
    # the sampler stopped with the run
    assert not any(t.name.endswith(run.run_id) for t in __import__("threading").enumerate())


def test_samples_before_logging_averages(store: Path) -> None:
    runsite.set_system_metrics_sampling_interval(0.05)
    runsite.set_system_metrics_samples_before_logging(4)
    with runsite.start_run(log_system_metrics=True, log_git=False) as run:
        _busy(0.7)
    history = runsite.get_run(run.run_id).metric_history("system/disk_usage_megabytes")
    # about 14 samples → 3 averaged points, plus the partial batch flushed at the end
    assert 1 <= history.num_rows <= 6


def test_off_by_default_and_the_switches(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runsite.set_system_metrics_sampling_interval(0.05)

    def sampled() -> bool:
        with runsite.start_run(log_git=False) as run:
            _busy(0.3)
        return any(k.startswith("system/") for k in runsite.get_run(run.run_id).data.metrics)

    assert not sampled()
    runsite.enable_system_metrics_logging()
    assert sampled()
    with runsite.start_run(log_system_metrics=False, log_git=False) as run:
        _busy(0.2)
    assert not runsite.get_run(run.run_id).data.metrics
    runsite.disable_system_metrics_logging()
    assert not sampled()
    system_metrics._enabled = None
    monkeypatch.setenv("MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING", "true")
    assert sampled()
    monkeypatch.delenv("MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING")
    monkeypatch.setenv("RUNSITE_ENABLE_SYSTEM_METRICS_LOGGING", "1")
    assert sampled()


def test_bad_settings_are_refused() -> None:
    with pytest.raises(runsite.InvalidInput, match="interval"):
        runsite.set_system_metrics_sampling_interval(0)
    with pytest.raises(runsite.InvalidInput, match="samples"):
        runsite.set_system_metrics_samples_before_logging(0)


_NO_PSUTIL = """
import sys
class _Block:
    def find_spec(self, name, path=None, target=None):
        if name == "psutil" or name.startswith("psutil."):
            raise ImportError("psutil blocked for this test")
        return None
sys.meta_path.insert(0, _Block())
"""

_SCRIPT = """
import json, runsite
runsite.set_store("runs")
runsite.set_system_metrics_sampling_interval(0.05)
ids = []
for _ in range(2):
    with runsite.start_run(log_system_metrics=True, log_git=False) as run:
        runsite.log_metric("loss", 0.5)
    ids.append(run.run_id)
recs = [runsite.get_run(i) for i in ids]
print(json.dumps([[r.status, sorted(r.data.metrics)] for r in recs]))
"""


def test_without_psutil_one_warning_and_the_run_is_fine(tmp_path: Path) -> None:
    # A sitecustomize on PYTHONPATH blocks `import psutil` in the child, as an install
    # without the system-metrics extra would.
    (tmp_path / "site_dir").mkdir()
    (tmp_path / "site_dir" / "sitecustomize.py").write_text(_NO_PSUTIL)
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site_dir")}
    out = subprocess.run(
        [sys.executable, "-c", _SCRIPT],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    runs = json.loads(out.stdout.strip().splitlines()[-1])
    assert runs == [["FINISHED", ["loss"]], ["FINISHED", ["loss"]]]
    warnings = [line for line in out.stderr.splitlines() if "psutil" in line]
    assert len(warnings) == 1, out.stderr
    assert "runsite[system-metrics]" in warnings[0]
