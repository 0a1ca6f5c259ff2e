"""What a run records about where it ran, in real git repositories."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

import runsite
from conftest import git


def header(run: runsite.Run) -> dict:
    return runsite.Store(run.store_root).run(run.run_id).header


def test_clean_checkout(repo: Path) -> None:
    git(repo, "remote", "add", "origin", "https://user:s3cret@github.com/acme/proj.git")
    runsite.set_store(repo / "runs")
    with runsite.start_run() as r:
        pass
    g = header(r)["git"]
    assert g["commit"] == git(repo, "rev-parse", "HEAD").strip()
    assert g["branch"] == "main"
    assert g["remote"] == "https://github.com/acme/proj.git"  # credentials never recorded
    assert g["dirty"] is False and g["dirty_files"] == []
    # Earlier runs (uncommitted, inside the store) do not make the next run dirty.
    with runsite.start_run() as r2:
        pass
    assert header(r2)["git"]["dirty"] is False


def test_dirty_checkout_saves_the_diff(repo: Path) -> None:
    (repo / "train.py").write_text("print('changed')\n")
    (repo / "new.py").write_text("x = 1\n")
    runsite.set_store(repo / "runs")
    with runsite.start_run() as r:
        pass
    rec = runsite.Store(repo / "runs").run(r.run_id)
    g = rec.header["git"]
    assert g["dirty"] is True
    assert sorted(g["dirty_files"]) == ["?? new.py", "M train.py"]
    patch = (r.path / "artifacts" / "git-diff.patch").read_text()
    assert "-print('train')" in patch and "+print('changed')" in patch
    assert any(a["path"] == "git-diff.patch" and a.get("system") for a in rec.artifacts)
    assert rec.dirty is True and rec.commit == g["commit"]


def test_store_outside_the_repo(repo: Path, tmp_path: Path) -> None:
    runsite.set_store(tmp_path / "elsewhere")
    with runsite.start_run() as r:
        pass
    assert header(r)["git"]["dirty"] is False


def test_detached_head_and_no_commits(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(repo, "checkout", "-q", "--detach")
    runsite.set_store(repo / "runs")
    with runsite.start_run() as r:
        pass
    g = header(r)["git"]
    assert g["branch"] is None and len(g["commit"]) == 40

    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    monkeypatch.chdir(empty)
    runsite.set_store(empty / "runs")
    with runsite.start_run() as r2:
        pass
    g2 = header(r2)["git"]
    assert g2["commit"] is None and g2["branch"] == "main"


def test_outside_git_warns_and_goes_on(store: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="runsite"), runsite.start_run() as r:
        runsite.log_metric("m", 1.0)
    assert "not inside a git repository" in caplog.text
    assert header(r)["git"] is None
    assert runsite.Store(store).run(r.run_id).status == "FINISHED"


def test_broken_git_never_kills_the_run(
    repo: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    (repo / ".git" / "HEAD").write_text("garbage\n")  # a corrupt repository
    runsite.set_store(repo / "runs")
    with caplog.at_level(logging.WARNING, logger="runsite"), runsite.start_run() as r:
        runsite.log_metric("m", 1.0)
    assert runsite.Store(repo / "runs").run(r.run_id).status == "FINISHED"
    assert "git" in caplog.text


def test_environment_fields(store: Path, quiet_git: None) -> None:
    with runsite.start_run() as r:
        pass
    h = header(r)
    assert h["python"]["version"] == ".".join(map(str, sys.version_info[:3]))
    assert h["command"] == sys.argv
    assert h["user"] and h["host"] and isinstance(h["pid"], int)
    assert h["runsite_version"] == runsite.__version__


def test_installed_packages_are_kept_per_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The package list is computed once per environment: a new process (the in-process
    copy dropped) reads it from the cache folder; installing into a ``sys.path`` folder
    (its modification time changes) or a corrupt cache file computes it again."""
    import os

    from runsite import capture

    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.setattr(sys, "path", [*sys.path, str(site)])
    calls: list[int] = []

    def compute() -> dict[str, str]:
        calls.append(1)
        return {"demo": str(len(calls))}

    def fresh_process() -> dict[str, str]:
        capture._installed.clear()
        return capture.installed("test-kind", compute)

    assert fresh_process() == {"demo": "1"}
    assert fresh_process() == {"demo": "1"} and len(calls) == 1  # read back, not computed
    (site / "demo-2.0.dist-info").mkdir()  # a package installed
    os.utime(site, ns=(0, os.stat(site).st_mtime_ns + 1_000_000))
    assert fresh_process() == {"demo": "2"}
    (cached,) = (Path(os.environ["RUNSITE_CACHE_DIR"]) / "environments").iterdir()
    cached.write_text("{not json")
    assert fresh_process() == {"demo": "3"}
    # no cache folder to be had (no home folder): computed, never an error
    import runsite.cache

    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    with monkeypatch.context() as mp:
        mp.setattr(runsite.cache, "cache_root", no_home)
        assert fresh_process() == {"demo": "4"}
    # the real list: what reading every distribution's metadata gives
    capture._installed.clear()
    assert capture.packages() == capture._read_packages()
    assert "pyarrow" in {k.lower() for k in capture.packages()}
