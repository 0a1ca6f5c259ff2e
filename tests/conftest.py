from __future__ import annotations

import logging
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import runsite
from runsite import fluent, location, run


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test gets its own cache folder and fresh global logging state."""
    monkeypatch.setenv("RUNSITE_CACHE_DIR", str(tmp_path / "_cache"))
    monkeypatch.chdir(tmp_path)  # never inside this project's own git checkout
    monkeypatch.delenv("RUNSITE_STORE", raising=False)
    monkeypatch.delenv("RUNSITE_EXPERIMENT", raising=False)
    location.set_store(None)
    fluent._experiment = None
    fluent._stack.clear()
    yield
    run.end_open_runs("KILLED")
    fluent._stack.clear()
    location.set_store(None)
    fluent._experiment = None


@contextmanager
def module_env(base: Path, cwd: Path | None = None) -> Iterator[pytest.MonkeyPatch]:
    """What ``_isolated`` gives a test, for a module-scoped fixture that logs runs: its own
    cache folder, no store or experiment from the environment, ``cwd`` (default ``base``)
    as the current folder; afterwards open runs are ended and the fluent state reset."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RUNSITE_CACHE_DIR", str(base / "_cache"))
        mp.delenv("RUNSITE_STORE", raising=False)
        mp.delenv("RUNSITE_EXPERIMENT", raising=False)
        mp.chdir(cwd or base)
        try:
            yield mp
        finally:
            run.end_open_runs("KILLED")
            fluent._stack.clear()
            location.set_store(None)
            fluent._experiment = None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium through Playwright, one per test module (browser_support)."""
    from browser_support import chromium

    with chromium() as b:
        yield b


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A store folder, selected for the fluent API."""
    path = tmp_path / "runs"
    runsite.set_store(path)
    return path


@pytest.fixture
def quiet_git(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="runsite")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        [
            "git",
            "-c",
            "user.name=Test User",
            "-c",
            "user.email=test@example.com",
            "-c",
            "init.defaultBranch=main",
            *args,
        ],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def git_as(repo: Path, name: str, *args: str) -> str:
    """``git`` with ``name`` as the author and committer (name@example.com)."""
    email = f"{name.lower()}@example.com"
    return git(repo, "-c", f"user.name={name}", "-c", f"user.email={email}", *args)


def merge_pull_request(repo: Path, branch: str, number: int, who: str = "Maintainer") -> str:
    """Merge ``branch`` into the checked-out branch as GitHub's merge button does."""
    message = f"Merge pull request #{number} from x/{branch}"
    return git_as(repo, who, "merge", "-q", "--no-ff", branch, "-m", message)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A real git repository with one commit, as the current directory."""
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q")
    git(path, "config", "user.name", "Test User")  # for commits runsite itself makes
    git(path, "config", "user.email", "test@example.com")
    (path / "train.py").write_text("print('train')\n")
    git(path, "add", "train.py")
    git(path, "commit", "-qm", "initial")
    monkeypatch.chdir(path)
    return path
