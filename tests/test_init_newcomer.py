"""``runsite init`` for someone setting up a project for the first time: the default
branch is found, .gitignore is written (or completed), the workflows install runsite
from a spec pip accepts, and the output says what a public Pages site shows."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from packaging.requirements import Requirement
from ruamel.yaml import YAML

from conftest import git
from runsite.cli import main
from runsite.init import PUBLISH_WORKFLOW, detect_branch, init_project, install_spec


def _publish(root: Path) -> dict:
    return YAML(typ="safe").load((root / PUBLISH_WORKFLOW).read_text("utf-8"))


def test_the_default_branch_is_detected(tmp_path: Path) -> None:
    assert detect_branch(tmp_path) == "main"  # outside git
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "trunk")
    assert detect_branch(repo) == "trunk"  # unborn branch checked out
    init_project(repo, github=True)
    assert _publish(repo)["on"]["push"]["branches"] == ["trunk"]
    # a clone knows its remote's default branch even with another branch checked out
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "init")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    git(clone, "checkout", "-q", "-b", "feature")
    assert detect_branch(clone) == "trunk"
    assert detect_branch(clone / "runs") == "trunk"


def test_gitignore_is_written_or_completed(tmp_path: Path) -> None:
    init_project(tmp_path)
    lines = (tmp_path / ".gitignore").read_text().splitlines()
    assert {"/site/", "__pycache__/"} <= set(lines)
    other = tmp_path / "other"
    other.mkdir()
    (other / ".gitignore").write_text("node_modules/\n__pycache__/")
    done = dict((p.name, a) for p, a in init_project(other))
    assert done[".gitignore"] == "added missing lines"
    text = (other / ".gitignore").read_text()
    assert text.startswith("node_modules/\n__pycache__/\n# added by runsite init\n")
    assert text.count("__pycache__/") == 1 and "/site/" in text
    assert dict((p.name, a) for p, a in init_project(other))[".gitignore"] == "unchanged"


def test_the_install_spec_is_a_pinned_git_requirement(tmp_path: Path) -> None:
    spec, _known = install_spec()
    req = Requirement(spec)
    assert req.name == "runsite" and req.url and req.url.startswith("git+")
    assert "@" in req.url.removeprefix("git+")  # pinned at a tag or commit
    result = CliRunner().invoke(
        main,
        ["init", str(tmp_path), "--github", "--pip-spec", "runsite @ git+https://example.org/r@v1"],
    )
    assert result.exit_code == 0, result.output
    assert _publish(tmp_path)["env"]["RUNSITE_PIP_SPEC"] == "runsite @ git+https://example.org/r@v1"
    assert "placeholder" not in result.output
    bad = CliRunner().invoke(main, ["init", str(tmp_path / "b"), "--github", "--pip-spec", 'x"y'])
    assert bad.exit_code == 1 and "one pip requirement" in bad.output


def test_the_output_says_pages_are_public_and_a_rerun_gives_no_merge_advice(
    tmp_path: Path,
) -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["init", str(tmp_path), "--github", "--branch", "release"])
    assert first.exit_code == 0, first.output
    assert "A GitHub Pages site is public" in first.output
    assert "runs/site.yaml decides what is published" in first.output
    assert "*password*" in first.output
    assert "every push to release" in first.output
    assert _publish(tmp_path)["on"]["push"]["branches"] == ["release"]
    (tmp_path / "runs/registry.yaml").write_text("format: 1\nmodels:\n  taxi: {versions: []}\n")
    again = runner.invoke(main, ["init", str(tmp_path), "--github", "--branch", "release"])
    assert "kept (your registry)" in again.output
    assert "merge" not in again.output.lower() and "Kept as you have them" not in again.output
    site_yaml = tmp_path / "runs/site.yaml"
    site_yaml.write_text(site_yaml.read_text() + "title: Ours\n")
    third = runner.invoke(main, ["init", str(tmp_path), "--github", "--branch", "release"])
    assert "Kept as you have them" in third.output and "site.yaml" in third.output
    assert "registry.yaml" not in third.output.split("Kept as you have them")[1]
