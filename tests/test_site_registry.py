"""The static site (``runsite build``): the registry pages' history from git (and without
git); excluded runs are never named.

HTML is checked by parsing it (BeautifulSoup with the stdlib ``html.parser``), never by
looking for substrings.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import runsite
from conftest import git, git_as, merge_pull_request
from runsite.site import build
from site_helpers import (
    link_problems,
    parse,
    text_of,
)
from site_store import (
    all_text,
    log_small_model,
)

# --------------------------------------------------------------------------- 7. registry history


def test_registry_timeline_from_git_and_without_git(repo: Path, tmp_path: Path) -> None:
    git(repo, "remote", "add", "origin", "https://github.com/acme/proj.git")
    store = repo / "runs"
    runsite.set_store(store)
    runsite.set_experiment("taxi")
    with runsite.start_run(run_name="ridge") as r:
        runsite.log_metric("rmse", 4.0)
        log_small_model(0.1)
    git(repo, "add", "runs")
    git(repo, "commit", "-qm", "train")
    runsite.register_model(f"runs:/{r.run_id}/model", "taxi")
    git_as(repo, "Bob", "add", "runs/registry.yaml")
    git_as(repo, "Bob", "commit", "-qm", "models: register taxi v1")
    git(repo, "checkout", "-qb", "promote")
    runsite.set_model_stage("taxi", 1, "production")
    git_as(
        repo, "Alice", "commit", "-qam", "models: taxi v1 to production\n\nReason: best rmse so far"
    )
    git(repo, "checkout", "-q", "main")
    merge_pull_request(repo, "promote", 7)

    site = tmp_path / "site"
    result = build(store, site)
    assert result.warnings == []
    for rel in ("registry.html", "models/taxi.html"):
        doc = parse(site / rel)
        items = doc.select("ol.timeline > li")
        assert len(items) == 2, rel
        promoted, registered = items  # newest first
        assert promoted.select_one(".what .stage-production") is not None
        who = promoted.select_one(".who")
        assert text_of(who).startswith("by Alice")
        pr = who.find("a", string="#7")
        assert pr is not None and pr["href"] == "https://github.com/acme/proj/pull/7"
        commit = who.find("a", class_="mono")
        assert re.fullmatch(r"https://github\.com/acme/proj/commit/[0-9a-f]{40}", commit["href"])
        assert text_of(promoted.select_one(".why")) == "best rmse so far"
        assert text_of(registered.select_one(".who")).startswith("by Bob")
        assert "registered" in text_of(registered.select_one(".what"))
        assert registered.find("a", string=re.compile("^#")) is None  # no pull request
    registry = parse(site / "registry.html")
    assert registry.select_one("ol.timeline .what a")["href"] == "models/taxi.html"
    assert link_problems(site) == []

    # the same store outside any git repository: no history, still a site
    outside = tmp_path / "outside"
    shutil.copytree(store, outside / "runs")
    site2 = tmp_path / "site2"
    result = build(outside / "runs", site2)
    assert result.runs == 1
    for rel in ("registry.html", "models/taxi.html"):
        doc = parse(site2 / rel)
        assert doc.select_one("ol.timeline") is None
        note = doc.find("h2", string="Stage transitions").find_next("p")
        assert text_of(note).startswith("No history available"), rel
        stages = [text_of(b) for b in doc.select("table.versions .badge")]
        assert stages == ["production"]

    # ... unless the owner hands the build the history saved where it was made
    from click.testing import CliRunner

    from runsite.cli import main

    saved = CliRunner().invoke(main, ["models", "history", "--json", "--store", str(store)])
    assert saved.exit_code == 0, saved.output
    history_file = tmp_path / "registry-history.json"
    history_file.write_text(saved.stdout)
    site3 = tmp_path / "site3"
    args = ["build", str(outside / "runs"), "--out", str(site3), "--strict"]
    built = CliRunner().invoke(main, [*args, "--registry-history", str(history_file)])
    assert built.exit_code == 0, built.output
    for rel in ("registry.html", "models/taxi.html", "models/taxi/v1.html"):
        doc = parse(site3 / rel)
        items = doc.select("ol.timeline > li")
        assert [text_of(i.select_one(".who")).split(" ·")[0] for i in items] == [
            "by Alice",
            "by Bob",
        ], rel
        assert text_of(items[0].select_one(".why")) == "best rmse so far"
        label = text_of(doc.select_one(".history-source"))
        assert label.startswith("Recorded history: read from registry-history.json"), rel
    # a history that does not end in this manifest's stages is not shown as its history
    tampered = saved.stdout.replace('"to_stage": "production"', '"to_stage": "staging"')
    history_file.write_text(tampered)
    refused = CliRunner().invoke(main, [*args, "--registry-history", str(history_file)])
    assert refused.exit_code == 1
    assert "does not end in registry.yaml's current stages" in refused.output
    assert "taxi v1 is production in registry.yaml, staging in the history" in refused.output


def test_registry_does_not_name_excluded_runs(store: Path, tmp_path: Path) -> None:
    runsite.set_experiment("public")
    with runsite.start_run(run_name="private-model") as r:
        runsite.log_metric("rmse", 1.0)
        log_small_model(0.1)
    runsite.register_model(f"runs:/{r.run_id}/model", "fare")
    (store / "site.yaml").write_text("exclude:\n  runs: ['private-*']\n")
    site = tmp_path / "site"
    result = build(store, site)
    assert result.runs == 0
    rows = parse(site / "registry.html").select("table.versions tbody tr")
    assert [text_of(tr.find("td")) for tr in rows] == ["v1"]  # the model itself is public
    assert r.run_id not in all_text(site)
