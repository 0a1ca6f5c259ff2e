"""The registry's whole loop in a real git repository, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import runsite
from conftest import git, git_as, merge_pull_request
from runsite.cli import main

Ridge = pytest.importorskip("sklearn.linear_model").Ridge


def cli(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout, r.stderr


def train(alpha: float, rmse: float) -> str:
    X = np.arange(20.0).reshape(10, 2)
    with runsite.start_run(run_name=f"ridge-{alpha}") as run:
        runsite.log_param("alpha", alpha)
        runsite.log_metric("rmse", rmse)
        runsite.log_model(Ridge(alpha=alpha).fit(X, X.sum(axis=1)), "model")
    return run.run_id


def test_register_promote_gate_history(repo: Path) -> None:
    store = repo / "runs"
    runsite.set_store(store)
    runsite.set_experiment("taxi")
    s = ("--store", str(store))
    good, worse = train(0.1, 4.0), train(5.0, 6.5)
    git(repo, "add", "runs")
    git(repo, "commit", "-qm", "train two models")
    (store / "registry.yaml").parent.mkdir(exist_ok=True)

    # Register both versions (a pull request merged by GitHub's merge button).
    assert cli("models", "register", f"{good}/model", "taxi", "--branch", "register", *s)[0] == 0
    git(repo, "checkout", "-q", "register")
    code, _, err = cli("models", "register", f"{worse}/model", "taxi", *s)
    assert code == 0, err
    git_as(
        repo,
        "Alice",
        "commit",
        "-qam",
        "models: register taxi v2\n\nReason: a bigger alpha to compare",
    )
    git(repo, "checkout", "-q", "main")
    merge_pull_request(repo, "register", 1)
    (store / "registry.yaml").write_text(
        (store / "registry.yaml")
        .read_text()
        .replace("format: 1\n", "format: 1\npolicy:\n  metric: rmse\n  goal: minimize\n")
    )
    git_as(repo, "Maintainer", "commit", "-qam", "registry: gate production on rmse")

    # Promote v1 on a branch; the check against main passes and reports the change.
    code, out, err = cli(
        "models",
        "stage",
        "taxi",
        "1",
        "production",
        "--reason",
        "best rmse so far",
        "--branch",
        "promote-v1",
        *s,
    )
    assert code == 0, err
    git(repo, "checkout", "-q", "promote-v1")
    summary = repo.parent / "summary.md"
    code, out, err = cli("models", "check", "--base", "main", "--summary", str(summary), *s)
    assert code == 0, err
    report = summary.read_text()
    assert (
        "taxi** v1: none → **production**" in report
        and "| **rmse** (gate, minimize) | 4 ✅ |" in report
    )
    git(repo, "checkout", "-q", "main")
    merge_pull_request(repo, "promote-v1", 2)

    # Promoting the worse version fails the gate, with the reason.
    code, _, err = cli(
        "models",
        "stage",
        "taxi",
        "2",
        "production",
        "--archive-existing",
        "--reason",
        "try the other one",
        "--branch",
        "promote-v2",
        *s,
    )
    assert code == 0, err
    git(repo, "checkout", "-q", "promote-v2")
    code, out, err = cli("models", "check", "--base", "main", *s)
    assert code == 1
    assert "taxi v2 → production fails the metric gate: rmse 6.5 is worse than v1's 4" in err
    assert "| **rmse** (gate, minimize) | 6.5 ❌ | 4 |" in out
    git(repo, "checkout", "-q", "main")
    git(repo, "branch", "-D", "promote-v2")

    # A hand-edited bad hash fails the check, naming the place.
    text = (store / "registry.yaml").read_text()
    first_hash = (
        next(line for line in text.splitlines() if "hash:" in line).split("hash:")[1].strip()
    )
    (store / "registry.yaml").write_text(text.replace(first_hash, "sha256:" + "0" * 64))
    code, _, err = cli("models", "check", *s)
    assert code == 1
    line_no = next(i for i, ln in enumerate(text.splitlines(), 1) if first_hash in ln)
    assert f"registry.yaml:{line_no}:" in err and "does not match the model folder" in err
    git(repo, "checkout", "--", "runs/registry.yaml")
    assert cli("models", "check", *s)[0] == 0

    # History: every transition, with author, date, reason and pull request.
    code, out, err = cli("models", "history", "taxi", "--json", *s)
    assert code == 0, err
    rows = [
        (t["kind"], t["version"], t["to_stage"], t["author"], t["pr"], t["reason"])
        for t in json.loads(out)
    ]
    assert rows == [
        ("stage", 1, "production", "Test User", 2, "best rmse so far"),
        # both came in pull request #1; within one merge, transitions are in version order
        (
            "registered",
            1,
            "none",
            "Test User",
            1,
            f"models: register taxi v1 from run {good} (ridge-0.1)",
        ),
        ("registered", 2, "none", "Alice", 1, "a bigger alpha to compare"),
    ]
    assert all(t["date"] and len(t["commit"]) == 40 for t in json.loads(out))
    code, out, _ = cli("models", "history", *s)
    assert "best rmse so far" in out and "#2" in out and "none → production" in out
