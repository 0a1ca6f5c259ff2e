"""The model registry: manifest edits, stages, aliases, models:/ URIs, the CI check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

import runsite
from conftest import git
from runsite.cli import main
from runsite.registry import Registry
from runsite.registry.check import check

Ridge = pytest.importorskip("sklearn.linear_model").Ridge


def train(
    alpha: float, rmse: float, name: str = "model", **run_kw: Any
) -> runsite.models.ModelInfo:
    X = np.arange(20.0).reshape(10, 2)
    y = X.sum(axis=1)
    with runsite.start_run(run_name=f"ridge-{alpha}", log_git=False, **run_kw):
        runsite.log_param("alpha", alpha)
        runsite.log_metric("rmse", rmse)
        runsite.log_metric("mae", rmse / 2)
        return runsite.log_model(Ridge(alpha=alpha).fit(X, y), name)


def cli(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout, r.stderr


@pytest.fixture
def two_versions(store: Path) -> tuple[Any, Any]:
    a = train(0.1, 5.0)
    b = train(1.0, 4.0)
    v1 = runsite.register_model(a.model_uri, "taxi", description="Predicts *fares*.")
    v2 = runsite.register_model(b.model_uri, "taxi")
    assert (v1.name, v1.version, v2.version) == ("taxi", 1, 2)
    return a, b


def test_register_writes_a_commented_manifest(store: Path, two_versions: Any) -> None:
    text = (store / "registry.yaml").read_text()
    assert text.startswith("# runsite model registry")
    reg = Registry(store)
    (model,) = reg.list_models()
    assert model.description == "Predicts *fares*."  # a new model takes it too
    assert model.versions[0].description == "Predicts *fares*."
    assert model.versions[1].description == ""
    v1, v2 = model.versions
    assert v1.stage == "none" and v1.run_id == two_versions[0].run_id and v1.artifact == "model"
    assert v1.hash == two_versions[0].hash and v1.registered
    assert v2.source == two_versions[1].model_uri


def test_stage_alias_and_models_uris(store: Path, two_versions: Any) -> None:
    from runsite import registry

    change = registry.set_model_stage("taxi", 1, "Production", reason="first")
    assert change.summary == "taxi v1 none → production"
    assert "Reason: first" in change.commit_message()
    registry.set_model_stage("taxi", "2", "staging")
    registry.set_model_alias("taxi", "champion", 2)
    X = np.arange(20.0).reshape(10, 2)
    p1 = runsite.load_model("models:/taxi/production").predict(X)
    p2 = runsite.load_model("models:/taxi@champion").predict(X)
    np.testing.assert_array_equal(p1, Ridge(alpha=0.1).fit(X, X.sum(axis=1)).predict(X))
    np.testing.assert_array_equal(p2, runsite.load_model("models:/taxi/2").predict(X))
    np.testing.assert_array_equal(p2, runsite.load_model("models:/taxi/latest").predict(X))
    assert registry.get_model_version("taxi", 2).aliases == ["champion"]
    # archive_existing: promoting v2 archives v1
    change = registry.set_model_stage("taxi", 2, "production", archive_existing=True)
    assert change.details == ["taxi v1 production → archived"]
    stages = {v.version: v.stage for v in registry.list_models()[0].versions}
    assert stages == {1: "archived", 2: "production"}


def test_edits_keep_comments_order_and_formatting(store: Path, two_versions: Any) -> None:
    path = store / "registry.yaml"
    text = path.read_text()
    text = text.replace("models:\n", "# the models we ship\nmodels:\n", 1)
    text = text.replace("  taxi:\n", "  taxi:  # owned by pricing\n", 1)
    path.write_text(text)
    from runsite import registry

    registry.set_model_stage("taxi", 2, "staging")
    after = path.read_text()
    assert "# the models we ship" in after and "# owned by pricing" in after
    before_lines, after_lines = text.splitlines(), after.splitlines()
    changed = [(a, b) for a, b in zip(before_lines, after_lines, strict=True) if a != b]
    assert changed == [("        stage: none", "        stage: staging")]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda r: r.set_model_stage("taxi", 1, "prod"), "unknown stage 'prod'"),
        (lambda r: r.set_model_stage("taxi", 9, "staging"), "no version 9"),
        (lambda r: r.set_model_stage("nope", 1, "staging"), "no registered model 'nope'"),
        (lambda r: r.set_model_stage("taxi", "x", "staging"), "whole number"),
        (lambda r: r.set_model_stage("taxi", 1, "none"), "already in stage none"),
        (lambda r: r.set_model_alias("taxi", "production", 1), "reserved"),
        (lambda r: r.set_model_alias("taxi", "champ", 7), "no version 7"),
        (lambda r: r.register_model("runs:/0123456789/model", "taxi"), "no run"),
        (lambda r: r.register_model("runs:/X/model", "../evil"), "not path-safe"),
    ],
)
def test_bad_input_leaves_the_manifest_untouched(
    store: Path, two_versions: Any, call: Any, message: str
) -> None:
    before = (store / "registry.yaml").read_bytes()
    with pytest.raises(runsite.RunsiteError, match=message):
        call(Registry(store))
    assert (store / "registry.yaml").read_bytes() == before


def test_register_refuses_running_runs_and_missing_models(store: Path) -> None:
    r = runsite.start_run(log_git=False)
    info = r.log_model(Ridge().fit([[0.0], [1.0]], [0.0, 1.0]), "model")
    with pytest.raises(runsite.RunStateError, match="once its run has ended"):
        Registry(store).register_model(info.model_uri, "taxi")
    runsite.end_run()
    with pytest.raises(runsite.NotFound, match="no model 'other'"):
        Registry(store).register_model(f"runs:/{r.run_id}/other", "taxi")
    assert not (store / "registry.yaml").exists()
    assert Registry(store).register_model(r.run_id, "taxi").version == 1  # its only model


def test_malformed_and_newer_manifests(store: Path, two_versions: Any) -> None:
    path = store / "registry.yaml"
    good = path.read_text()
    path.write_text(good + "  bad: [unclosed\n")
    with pytest.raises(runsite.StoreFormatError, match=r"line \d+, column \d+"):
        Registry(store).set_model_stage("taxi", 1, "staging")
    path.write_text(good.replace("format: 1", "format: 2"))
    with pytest.raises(runsite.StoreFormatError, match="upgrade runsite"):
        Registry(store).set_model_stage("taxi", 1, "staging")
    assert path.read_text() == good.replace("format: 1", "format: 2")


def test_log_model_registers_when_the_run_finishes(store: Path) -> None:
    with runsite.start_run(log_git=False) as r:
        runsite.log_model(
            Ridge().fit([[0.0], [1.0]], [0.0, 1.0]), "model", registered_model_name="auto"
        )
        assert not (store / "registry.yaml").exists()  # not while the run can still change
    assert [v.version for v in r.registered_versions] == [1]
    assert Registry(store).get_model_version("auto", 1).run_id == r.run_id
    with pytest.raises(RuntimeError), runsite.start_run(log_git=False):
        runsite.log_model(
            Ridge().fit([[0.0], [1.0]], [0.0, 1.0]), "model", registered_model_name="auto"
        )
        raise RuntimeError("training failed")
    assert len(Registry(store).get_model("auto").versions) == 1  # a failed run is not registered
    with runsite.start_run(log_git=False), pytest.raises(runsite.InvalidInput, match="path-safe"):
        runsite.log_model(Ridge(), "m2", registered_model_name="bad/name")


def test_check_finds_problems_with_locations(store: Path, two_versions: Any) -> None:
    reg = Registry(store)
    assert check(reg).ok
    path = store / "registry.yaml"
    text = path.read_text()
    a_hash = two_versions[0].hash
    bad = text.replace(a_hash, "sha256:" + "0" * 64).replace(
        "        stage: none\n", "        stage: none\n        colour: red\n", 1
    )
    bad = bad.replace("models:\n  taxi:\n", "models:\n  taxi:\n    aliases:\n      champion: 7\n")
    path.write_text(bad)
    problems = check(reg).problems
    messages = [p.format() for p in problems]
    assert any("unknown key 'colour'" in m for m in messages)
    assert any("alias 'champion' points to version 7" in m for m in messages)
    path.write_text(text.replace(a_hash, "sha256:" + "0" * 64))
    problems = check(reg).problems
    (p,) = problems
    assert "does not match the model folder" in p.message and p.line is not None
    assert path.read_text().splitlines()[p.line - 1].strip().startswith("hash:")


def test_policy_one_production_version(store: Path, two_versions: Any) -> None:
    path = store / "registry.yaml"
    path.write_text(path.read_text().replace("stage: none", "stage: production"))
    (p,) = check(Registry(store)).problems
    assert "2 production versions (v1, v2)" in p.message and "allows 1" in p.message


def test_metric_gate_and_report(store: Path, two_versions: Any) -> None:
    from runsite import registry

    path = store / "registry.yaml"
    path.write_text(
        path.read_text().replace(
            "format: 1\n", "format: 1\npolicy:\n  metric: rmse\n  goal: minimize\n"
        )
    )
    registry.set_model_stage("taxi", 2, "production")  # rmse 4.0
    base = path.read_text()
    registry.set_model_stage("taxi", 1, "production", archive_existing=True)  # rmse 5.0: worse
    result = check(Registry(store), base, has_base=True)
    assert not result.ok
    (p,) = result.problems
    assert "fails the metric gate" in p.message and "rmse 5 is worse than v2's 4" in p.message
    report = result.report
    assert "taxi** v1: none → **production**" in report
    assert "| **rmse** (gate, minimize) | 5 ❌ | 4 |" in report
    assert "| mae | 2.5 | 2 |" in report and "param `alpha`" in report
    # The better version passes.
    path.write_text(base)
    registry.set_model_stage("taxi", 2, "archived")
    base2 = path.read_text()
    registry.set_model_stage("taxi", 2, "production")
    assert check(Registry(store), base2, has_base=True).ok


def test_pull_verifies_and_copies(store: Path, two_versions: Any, tmp_path: Path) -> None:
    code, out, err = cli(
        "models", "pull", "taxi/1", "--out", str(tmp_path / "out"), "--store", str(store)
    )
    assert code == 0, err
    assert (tmp_path / "out" / "model.yaml").is_file() and "taxi v1" in out
    # A tampered model is refused by pull and by models:/ loading.
    (Path(two_versions[1].path) / "requirements.txt").write_text("evil==1\n")
    code, _, err = cli(
        "models", "pull", "taxi/2", "--out", str(tmp_path / "o2"), "--store", str(store)
    )
    assert code == 1 and "does not match the hash" in err
    with pytest.raises(runsite.StoreFormatError, match="refusing"):
        runsite.load_model("models:/taxi/2")


def test_cli_list_show_stage_alias_json(store: Path, two_versions: Any) -> None:
    s = ("--store", str(store))
    code, out, err = cli(
        "models", "stage", "taxi", "1", "production", "--reason", "best so far", *s
    )
    assert code == 0, err
    assert "taxi v1 none → production" in out and "git commit -m" in out
    assert cli("models", "alias", "taxi", "champion", "1", *s)[0] == 0
    assert cli("models", "describe", "taxi", "New text", *s)[0] == 0
    assert cli("models", "tag", "taxi", "team", "pricing", "--version", "2", *s)[0] == 0
    code, out, _ = cli("models", "list", *s)
    assert "taxi" in out and "v1" in out and "@champion=v1" in out
    code, out, _ = cli("models", "show", "taxi", "--json", *s)
    data = json.loads(out)
    assert data["description"] == "New text" and data["versions"][1]["tags"] == {"team": "pricing"}
    assert data["versions"][0]["stage"] == "production" and data["aliases"] == {"champion": 1}
    code, _, err = cli("models", "stage", "taxi", "1", "bogus", *s)
    assert code == 2
    code, _, err = cli("models", "stage", "nope", "1", "staging", *s)
    assert code == 1 and err.startswith("Error: no registered model 'nope'")
    code, out, _ = cli("models", "list", "--json", *s)
    assert json.loads(out)[0]["name"] == "taxi"


def test_branch_commits_without_touching_the_work_tree(repo: Path) -> None:
    runsite.set_store(repo / "runs")
    info = train(0.1, 5.0)
    (repo / "runs" / "registry.yaml").parent.mkdir(exist_ok=True)
    s = ("--store", str(repo / "runs"))
    code, _, err = cli("models", "register", info.model_uri, "taxi", "--branch", "reg", *s)
    assert code == 1 and "is not committed; commit the run first" in err
    git(repo, "add", "runs")
    git(repo, "commit", "-qm", "log a run")
    code, _, err = cli(
        "models", "register", info.model_uri, "taxi", "--branch", "register-taxi", *s
    )
    assert code == 0, err
    assert not (repo / "runs" / "registry.yaml").exists()  # working tree untouched
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    assert git(repo, "status", "--porcelain") == ""
    files = git(repo, "show", "--name-only", "--format=", "register-taxi").split()
    assert files == ["runs/registry.yaml"]
    git(repo, "merge", "-q", "register-taxi")
    code, _, err = cli(
        "models",
        "stage",
        "taxi",
        "1",
        "production",
        "--reason",
        "ship it",
        "--branch",
        "promote",
        *s,
    )
    assert code == 0, err
    msg = git(repo, "log", "-1", "--format=%B", "promote")
    assert msg.startswith("models: taxi v1 none → production") and "Reason: ship it" in msg
    assert "stage: none" in (repo / "runs" / "registry.yaml").read_text()
    # Refused when the manifest has uncommitted changes; existing branch refused too.
    (repo / "runs" / "registry.yaml").write_text(
        (repo / "runs" / "registry.yaml").read_text() + "# local edit\n"
    )
    code, _, err = cli("models", "stage", "taxi", "1", "staging", "--branch", "other", *s)
    assert code == 1 and "uncommitted changes" in err
    git(repo, "checkout", "--", "runs/registry.yaml")
    code, _, err = cli("models", "stage", "taxi", "1", "staging", "--branch", "promote", *s)
    assert code == 1 and "already exists" in err
