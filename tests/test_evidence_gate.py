"""The evidence gate (``policy.require_evaluation``): a promotion to production needs an
evaluation on data the candidate was not trained on, beating production's evaluation on
the same data; and the course's decision end to end in a real git repository."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import runsite
from conftest import git, merge_pull_request
from evaluation_helpers import diabetes_rows, next_month, train_versions, write_csv
from runsite.cli import main
from runsite.registry import Registry
from runsite.registry.check import check
from runsite.registry.evaluate import evaluate_versions
from runsite.registry.manifest import parse, validate_doc
from site_helpers import parse as parse_html
from site_helpers import section, text_of

pytest.importorskip("sklearn")

POLICY = "policy:\n  metric: rmse\n  require_evaluation: true\n"


def cli(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout, r.stderr


def _with_policy(reg: Registry, policy: str = POLICY) -> None:
    reg.path.write_text(reg.path.read_text().replace("format: 1\n", "format: 1\n" + policy, 1))


@pytest.fixture
def staged(store: Path, tmp_path: Path) -> tuple[Registry, Path, Path]:
    weak, strong = train_versions(tmp_path / "data")
    runsite.register_model(f"runs:/{weak}/model", "diabetes")
    runsite.register_model(f"runs:/{strong}/model", "diabetes")
    reg = Registry(store)
    reg.set_model_stage("diabetes", 1, "production")
    reg.set_model_stage("diabetes", 2, "staging")
    _with_policy(reg)
    rows, y = next_month(*diabetes_rows())
    return reg, write_csv(tmp_path / "data" / "next.csv", rows, y), tmp_path / "data" / "train.csv"


def _promote_and_check(reg: Registry) -> Any:
    base = reg.path.read_text()
    reg.set_model_stage("diabetes", 2, "production", archive_existing=True)
    return check(reg, base, has_base=True)


def test_policy_keys_are_validated() -> None:
    doc = parse("format: 1\npolicy:\n  require_evaluation: maybe\n  min_improvement: -1\n")
    messages = [p.message for p in validate_doc(doc)]
    assert "policy.require_evaluation must be true or false" in messages
    assert "policy.min_improvement must be a number ≥ 0" in messages


def test_promotion_without_evaluation_is_refused(staged: tuple[Registry, Path, Path]) -> None:
    reg, _, _ = staged
    result = _promote_and_check(reg)
    assert not result.ok
    (p,) = [p for p in result.problems if "evidence gate" in p.message]
    assert "v2 has no evaluation of rmse on data it was not trained on" in p.message
    assert "runsite models evaluate diabetes --versions 2,1" in p.message
    assert "evidence for v2" in result.report and "❌" in result.report


def test_evaluation_on_training_data_is_not_evidence(staged: tuple[Registry, Path, Path]) -> None:
    reg, _, train = staged
    evaluate_versions(reg, "diabetes", train, "target")
    result = _promote_and_check(reg)
    assert any("not trained on" in p.message for p in result.problems)


def test_evaluation_on_new_data_beating_production_passes(
    staged: tuple[Registry, Path, Path],
) -> None:
    reg, new, _ = staged
    ev = evaluate_versions(reg, "diabetes", new, "target")
    result = _promote_and_check(reg)
    assert result.ok, result.problems
    (e,) = result.evidence
    assert e.passed and e.data_name == "next" and e.data_hash == ev.data["hash"]
    assert e.candidate_value is not None and e.incumbent_value is not None
    assert e.candidate_value < e.incumbent_value
    report = result.report
    assert "Evaluated on **next**" in report
    assert f"| **rmse** (minimize) | {runsite.fmt.num(e.candidate_value, digits=6)} ✅" in report
    assert "drift vs training data | drifted: " in report


def test_the_margin_and_a_worse_candidate_fail(staged: tuple[Registry, Path, Path]) -> None:
    reg, new, _ = staged
    evaluate_versions(reg, "diabetes", new, "target")
    text = reg.path.read_text()
    # v2 beats v1 by some 10 rmse on this data: a margin of 1,000 is not met.
    reg.path.write_text(text.replace(POLICY, POLICY + "  min_improvement: 1000\n"))
    result = _promote_and_check(reg)
    (p,) = [p for p in result.problems if "evidence gate" in p.message]
    assert "must beat it by at least 1000" in p.message


def test_production_must_be_evaluated_on_the_same_data(
    staged: tuple[Registry, Path, Path],
) -> None:
    reg, new, _ = staged
    evaluate_versions(reg, "diabetes", new, "target", ["2"])  # the candidate alone
    result = _promote_and_check(reg)
    (p,) = [p for p in result.problems if "evidence gate" in p.message]
    assert "production v1 has no evaluation on the data v2 was evaluated on (next)" in p.message


def test_an_evaluation_of_other_bytes_is_not_evidence(
    staged: tuple[Registry, Path, Path],
) -> None:
    reg, new, _ = staged
    ev = evaluate_versions(reg, "diabetes", new, "target")
    run = next(r for r in ev.results if r.version == 2)
    assert run.run_path is not None
    # The evaluation run claims another model's bytes (as a hand-made run could).
    with (run.run_path / "events.jsonl").open("a") as f:
        event = {
            "type": "tag",
            "key": "runsite.evaluation.model_hash",
            "value": "sha256:" + "0" * 64,
        }
        f.write(json.dumps(event) + "\n")
    result = _promote_and_check(reg)
    assert any("has no evaluation of rmse" in p.message for p in result.problems)


@pytest.mark.slow
def test_the_course_decision_end_to_end(repo: Path) -> None:
    """Register two versions, stage them, evaluate both on next month's data, propose
    the outcome on a branch, ``models check --base main`` passes only with the evidence,
    merge, build: the version pages show the evaluations, the drift and the decision."""
    store = repo / "runs"
    runsite.set_store(store)
    s = ("--store", str(store))
    weak, strong = train_versions(repo / "data")
    for run_id in (weak, strong):
        assert cli("models", "register", f"runs:/{run_id}/model", "diabetes", *s)[0] == 0
    assert cli("models", "stage", "diabetes", "1", "production", *s)[0] == 0
    assert cli("models", "stage", "diabetes", "2", "staging", *s)[0] == 0
    _with_policy(Registry(store))
    rows, y = next_month(*diabetes_rows())
    write_csv(repo / "data" / "next.csv", rows, y)
    git(repo, "add", "runs", "data")
    git(repo, "commit", "-qm", "two versions, staged; evidence policy")

    # A promotion without evidence fails the check.
    code, out, err = cli(
        "models",
        "stage",
        "diabetes",
        "2",
        "production",
        "--archive-existing",
        "--branch",
        "naive",
        *s,
    )
    assert code == 0, err
    git(repo, "checkout", "-q", "naive")
    code, out, err = cli("models", "check", "--base", "main", *s)
    assert code == 1 and "fails the evidence gate" in err
    git(repo, "checkout", "-q", "main")

    # The evaluation proposes the promotion with its evidence; that branch passes.
    code, out, err = cli(
        "models", "evaluate", "diabetes", "--data", "data/next.csv", "--target", "target",
        "--propose", *s,
    )  # fmt: skip
    assert code == 0, err
    assert "proposed on branch promote-diabetes-v2" in out
    assert git(repo, "status", "--porcelain") == ""
    git(repo, "checkout", "-q", "promote-diabetes-v2")
    summary = repo.parent / "summary.md"
    code, out, err = cli("models", "check", "--base", "main", "--summary", str(summary), *s)
    assert code == 0, err
    report = summary.read_text()
    assert "evidence for v2 (candidate) vs v1 (production)" in report
    assert "Evaluated on **next**" in report and "Evidence: passed" in report

    git(repo, "checkout", "-q", "main")
    merge_pull_request(repo, "promote-diabetes-v2", 7)
    site = repo.parent / "site"
    from runsite.site import build

    build(store, site)
    v2 = parse_html(site / "models" / "diabetes" / "v2.html")
    assert text_of(v2.find("h1")).startswith("diabetes v2 production")
    evals = section(v2, "Evaluations")
    (row,) = evals.select("table.evaluations tbody tr")
    assert "next" in text_of(row) and "drift:" in text_of(row.select_one(".badge"))
    history = text_of(section(v2, "Stage history"))
    assert "staging → production" in history and "promote v2 to production" in history
    assert "#7" in history
    v1 = parse_html(site / "models" / "diabetes" / "v1.html")
    assert text_of(v1.find("h1")).startswith("diabetes v1 archived")
    assert "production → archived" in text_of(section(v1, "Stage history"))
    assert len(section(v1, "Evaluations").select("table.evaluations tbody tr")) == 1
