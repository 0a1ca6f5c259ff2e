"""The whole loop in one git repository: the proof that the product works as a whole.

Two branches log runs and merge cleanly; the site builds; a model is registered and
promoted on a branch; the CI check passes against main; the pull request is merged; the
rebuilt site's registry page shows the transition with its author and reason.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

import runsite
from conftest import git, merge_pull_request
from runsite.cli import main

Ridge = pytest.importorskip("sklearn.linear_model").Ridge


def cli(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout, r.stderr


def train(name: str, alpha: float, rmse: float) -> str:
    X = np.arange(20.0).reshape(10, 2)
    with runsite.start_run(run_name=name) as run:
        runsite.log_param("alpha", alpha)
        runsite.log_metric("rmse", rmse)
        runsite.log_model(Ridge(alpha=alpha).fit(X, X.sum(axis=1)), "model")
    return run.run_id


def test_the_whole_loop(repo: Path, tmp_path: Path) -> None:
    store = repo / "runs"
    runsite.set_store(store)
    runsite.set_experiment("taxi")
    s = ("--store", str(store))

    # Two people log runs on two branches; the merge is a union of run folders.
    git(repo, "checkout", "-q", "-b", "alice")
    a = train("alice-ridge", 0.1, 4.2)
    git(repo, "add", "runs")
    git(repo, "-c", "user.name=Alice", "commit", "-qm", "alice: ridge")
    git(repo, "checkout", "-q", "main")
    git(repo, "checkout", "-q", "-b", "bob")
    b = train("bob-ridge", 2.0, 5.0)
    git(repo, "add", "runs")
    git(repo, "-c", "user.name=Bob", "commit", "-qm", "bob: ridge")
    git(repo, "checkout", "-q", "main")
    merge_pull_request(repo, "alice", 1)
    merge_pull_request(repo, "bob", 2)
    assert git(repo, "status", "--porcelain") == ""
    assert {r.run_id for r in runsite.Store(store).runs()} == {a, b}

    site = tmp_path / "site"
    code, _, err = cli("build", str(store), "--out", str(site), "--strict")
    assert code == 0, err
    assert (site / "runs" / f"{a}.html").is_file() and (site / "runs" / f"{b}.html").is_file()

    # Register on a branch, merge; then promote on a branch, check it against main, merge.
    assert cli("models", "register", f"{a}/model", "taxi", "--branch", "register", *s)[0] == 0
    merge_pull_request(repo, "register", 3)
    code, _, err = cli(
        "models",
        "stage",
        "taxi",
        "1",
        "production",
        "--reason",
        "lowest rmse of the sweep",
        "--branch",
        "promote",
        *s,
    )
    assert code == 0, err
    git(repo, "checkout", "-q", "promote")
    summary = tmp_path / "summary.md"
    code, _, err = cli("models", "check", "--base", "main", "--summary", str(summary), *s)
    assert code == 0, err
    assert "none → **production**" in summary.read_text()
    git(repo, "checkout", "-q", "main")
    merge_pull_request(repo, "promote", 4)

    code, _out, err = cli("build", str(store), "--out", str(site), "--strict")
    assert code == 0, err
    page = BeautifulSoup((site / "registry.html").read_text(), "html.parser")
    entries = page.select("ol.timeline li")
    texts = [" ".join(li.get_text(" ").split()) for li in entries]
    promoted = next(t for t in texts if "production" in t and "→" in t)
    assert "by Test User" in promoted and "#4" in promoted
    assert "lowest rmse of the sweep" in promoted
    registered = next(t for t in texts if "registered" in t)
    assert "#3" in registered
    version_row = page.select_one("table.versions tbody tr")
    assert "production" in version_row.get_text() and "alice-ridge" in version_row.get_text()
