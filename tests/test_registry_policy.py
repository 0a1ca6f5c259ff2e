"""The CLI never writes what its own check rejects; loaded versions know who they are;
``models show`` lists run names and key metrics."""

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
from runsite.errors import InvalidInput
from runsite.registry import Registry
from runsite.registry.check import check

Ridge = pytest.importorskip("sklearn.linear_model").Ridge


def train(alpha: float, rmse: float, **run_kw: Any) -> runsite.models.ModelInfo:
    X = np.arange(20.0).reshape(10, 2)
    with runsite.start_run(run_name=f"ridge-{alpha}", log_git=False, **run_kw):
        runsite.log_metric("rmse", rmse)
        return runsite.log_model(Ridge(alpha=alpha).fit(X, X.sum(axis=1)), "model")


def cli(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout, r.stderr


@pytest.fixture
def two_versions(store: Path) -> None:
    runsite.register_model(train(0.1, 5.0).model_uri, "taxi")
    runsite.register_model(train(1.0, 4.0).model_uri, "taxi")


def test_a_second_production_version_is_refused_naming_the_fix(
    store: Path, two_versions: None
) -> None:
    reg = Registry(store)
    reg.set_model_stage("taxi", 1, "production")
    before = (store / "registry.yaml").read_bytes()
    s = ("--store", str(store))
    code, out, err = cli("models", "stage", "taxi", "2", "production", *s)
    assert code == 1
    assert "2 production versions (v1 already there)" in err and "--archive-existing" in err
    assert (store / "registry.yaml").read_bytes() == before  # nothing written
    with pytest.raises(InvalidInput, match="archive_existing=True"):
        reg.set_model_stage("taxi", 2, "production")
    code, out, err = cli("models", "stage", "taxi", "2", "production", "--archive-existing", *s)
    assert code == 0, err
    assert out.startswith("taxi v2 none → production")
    stages = {v.version: v.stage for v in reg.get_model("taxi").versions}
    assert stages == {1: "archived", 2: "production"}
    assert check(reg).ok
    # A policy allowing two production versions lets the change through.
    text = (store / "registry.yaml").read_text()
    (store / "registry.yaml").write_text(
        text.replace("format: 1", "format: 1\npolicy:\n  max_production_versions: 2", 1)
    )
    reg.set_model_stage("taxi", 1, "production")
    assert [v.version for v in reg.get_model("taxi").in_stage("production")] == [1, 2]


def test_models_uri_loads_know_name_version_stage(store: Path, two_versions: None) -> None:
    reg = Registry(store)
    reg.set_model_stage("taxi", 2, "staging")
    reg.set_model_alias("taxi", "challenger", 2)
    model = runsite.load_model("models:/taxi/staging")
    assert (model.registered_name, model.version, model.stage) == ("taxi", 2, "staging")
    assert model.aliases == ["challenger"]
    assert "taxi v2 (staging)" in repr(model)
    by_alias = runsite.load_model("models:/taxi@challenger")
    assert by_alias.version == 2
    plain = runsite.load_model(reg.model_folder(reg.get_model_version("taxi", 1)))
    assert plain.registered_name is None and plain.version is None


def test_show_lists_run_names_and_key_metrics(store: Path, two_versions: None) -> None:
    code, out, err = cli("models", "show", "taxi", "--store", str(store))
    assert code == 0, err
    lines = out.splitlines()
    assert "RUN NAME" in lines[1] and "rmse (TRAINING)" in lines[1]
    v1 = next(line for line in lines if line.startswith("v1 "))
    v2 = next(line for line in lines if line.startswith("v2 "))
    assert "ridge-0.1" in v1 and " 5 " in f"{v1} " and "ridge-1.0" in v2 and " 4 " in f"{v2} "
    code, out, _ = cli("models", "show", "taxi", "--json", "--store", str(store))
    doc = json.loads(out)
    assert doc["versions"][0]["run_name"] == "ridge-0.1"
    assert doc["versions"][1]["key_metric"] == "rmse"
    assert doc["versions"][1]["training_value"] == 4.0
    assert doc["versions"][1]["latest_evaluation_value"] is None


def test_branch_change_says_it_takes_effect_when_merged(repo: Path) -> None:
    runsite.set_store(repo / "runs")
    info = train(0.1, 5.0)
    git(repo, "add", "runs")
    git(repo, "commit", "-qm", "log a run")
    s = ("--store", str(repo / "runs"))
    code, out, err = cli("models", "register", info.model_uri, "taxi", "--branch", "reg", *s)
    assert code == 0, err
    assert "takes effect when the pull request is merged" in out
    assert "registry.yaml here is unchanged" in out
    assert not (repo / "runs" / "registry.yaml").exists()
