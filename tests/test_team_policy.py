"""Team policy in registry.yaml: name prefixes per team and required tags, enforced by
``models check`` (models, versions) and ``runs check --base`` (runs a branch adds)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import runsite
from conftest import git
from runsite.cli import main
from runsite.registry import Registry, team
from runsite.registry.check import check
from runsite.registry.manifest import parse

Ridge = pytest.importorskip("sklearn.linear_model").Ridge

TEAMS = """teams:
  fraud: {prefix: fraud-}
  pricing: {prefix: pricing-}
required_tags:
  models: [team]
  versions: [owner]
  runs: [team]
"""


def cli(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout, r.stderr


def _model(experiment: str = "pricing-taxi", **tags: str) -> str:
    runsite.set_experiment(experiment)
    X = np.arange(20.0).reshape(10, 2)
    with runsite.start_run(run_name="ridge", log_git=False, tags=tags or None):
        return runsite.log_model(Ridge().fit(X, X.sum(axis=1)), "model").model_uri


def test_shape_is_validated() -> None:
    doc = parse(
        "format: 1\nteams:\n  fraud: {}\n  ops: {prefix: ops-, owner: x}\n"
        "required_tags:\n  models: team\n  jobs: [x]\n"
    )
    messages = [p.message for p in team.validate(doc)]
    assert "team 'fraud' needs a prefix (text)" in messages
    assert "team 'ops': unknown key owner (known: prefix)" in messages
    assert "required_tags.models must be a list of tag keys" in messages
    assert "unknown key 'jobs' in required_tags (known: models, versions, runs)" in messages


def test_models_check_enforces_prefixes_and_tags(store: Path) -> None:
    uri = _model()
    runsite.register_model(uri, "taxi")
    runsite.register_model(uri, "pricing-taxi", tags={"owner": "ana"})
    reg = Registry(store)
    reg.path.write_text(reg.path.read_text().replace("format: 1\n", "format: 1\n" + TEAMS, 1))
    messages = [p.format() for p in check(reg).problems]
    assert any(
        "model 'taxi' starts with no team's prefix ('fraud-' (fraud), 'pricing-' (pricing))" in m
        for m in messages
    )
    assert any("model 'pricing-taxi' lacks the required tag(s) team" in m for m in messages)
    assert any("taxi v1 lacks the required tag(s) owner" in m for m in messages)
    # every problem has its line in the file
    assert all(m.startswith("registry.yaml:") for m in messages)
    reg.tag("pricing-taxi", "team", "fraud")
    messages = [p.message for p in check(reg).problems]
    assert any(
        "tagged team='fraud' but its prefix 'pricing-' belongs to team" in m for m in messages
    )
    reg.tag("pricing-taxi", "team", "pricing")
    text = reg.path.read_text()
    start = text.index("  taxi:")
    end = text.index("  pricing-taxi:")
    reg.path.write_text(text[:start] + text[end:])  # drop the unprefixed model
    assert check(reg).ok
    code, _, err = cli("models", "check", "--store", str(store))
    assert code == 0, err


def test_runs_check_enforces_experiment_prefixes_and_run_tags(repo: Path) -> None:
    store = repo / "runs"
    runsite.set_store(store)
    (store).mkdir()
    (store / "registry.yaml").write_text("format: 1\n" + TEAMS + "models: {}\n")
    git(repo, "add", "runs")
    git(repo, "commit", "-qm", "team policy")
    git(repo, "checkout", "-qb", "work")
    _model("pricing-taxi", team="pricing")  # fine
    _model("scratch")  # wrong experiment, no tag
    git(repo, "add", "runs")
    git(repo, "commit", "-qm", "two runs")
    code, out, _ = cli("runs", "check", "--base", "main", "--store", str(store), "--json")
    assert code == 1
    doc = json.loads(out)
    found = [(p["rule"], p["message"]) for p in doc["problems"]]
    expected = (
        "experiment 'scratch' starts with no team's prefix ('fraud-' (fraud), 'pricing-' (pricing))"
    )
    assert ("team-names", expected) in found
    assert [r for r, m in found if r == "required-tags"] == ["required-tags"]
    assert all("pricing-taxi" not in p["run"] for p in doc["problems"])
