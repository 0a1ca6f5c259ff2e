"""Deleting runs: folders removed, registry references refused, nothing half-done."""

from __future__ import annotations

from pathlib import Path

import pytest
from sklearn.linear_model import Ridge

import runsite
from runsite import InvalidInput, NotFound, RunStateError, Store


def _run(name: str, model: bool = False) -> runsite.Run:
    with runsite.start_run(run_name=name) as run:
        runsite.log_metric("rmse", 1.0)
        if model:
            runsite.log_model(Ridge().fit([[0.0], [1.0]], [0.0, 1.0]), "model")
    return run


def test_delete_removes_the_folders(store: Path) -> None:
    runsite.set_experiment("e")
    a, b, keep = _run("a"), _run("b"), _run("keep")
    gone = runsite.delete_runs([a.run_id, b.run_id[:10]])
    assert sorted(r.run_id for r in gone) == sorted([a.run_id, b.run_id])
    assert not a.path.exists() and not b.path.exists()
    assert [r.run_id for r in Store(store).runs()] == [keep.run_id]


def test_dry_run_deletes_nothing(store: Path) -> None:
    a = _run("a")
    assert [r.run_id for r in runsite.delete_runs([a.run_id], dry_run=True)] == [a.run_id]
    assert a.path.is_dir()


def test_a_registered_run_is_refused_naming_the_version_and_nothing_is_deleted(
    store: Path,
) -> None:
    plain = _run("plain")
    used = _run("used", model=True)
    runsite.register_model(f"runs:/{used.run_id}/model", "taxi")
    runsite.set_model_stage("taxi", 1, "production")
    with pytest.raises(InvalidInput) as err:
        runsite.delete_runs([plain.run_id, used.run_id])
    assert f"run {used.run_id} is taxi v1 (production)" in str(err.value)
    assert plain.path.is_dir() and used.path.is_dir()


def test_unknown_ids_and_running_runs_are_refused(store: Path) -> None:
    a = _run("a")
    with pytest.raises(NotFound):
        runsite.delete_runs([a.run_id, "0000000000000000"])
    assert a.path.is_dir()
    live = runsite.start_run(run_name="live")
    with pytest.raises(RunStateError, match="running"):
        runsite.delete_runs([live.run_id])
    assert live.path.is_dir()
    runsite.end_run()
    with pytest.raises(InvalidInput, match="no run ids"):
        runsite.delete_runs([])
