"""The static site (``runsite build``): stores that are empty, missing, torn by a crash or
of a newer format still build, with warnings; `runsite build --strict`.

HTML is checked by parsing it (BeautifulSoup with the stdlib ``html.parser``), never by
looking for substrings.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from runsite.site import build
from site_helpers import (
    charts,
    check_frame,
    facts,
    kv_table,
    link_problems,
    pages,
    parse,
    script_problems,
    section,
    text_of,
)
from site_store import (
    all_text,
    cli,
    small_store,
    write_run_by_hand,
)

# --------------------------------------------------------------------------- 5. robustness


def test_a_new_empty_store_builds_and_a_non_store_is_refused(tmp_path: Path) -> None:
    """A store `runsite init` just made (no runs yet) builds pages that say so; a missing
    or empty folder is not a store (issue 15: a mistyped --store is an error, not an
    empty site published as a success) and nothing is written."""
    from runsite.errors import NotFound
    from runsite.init import init_project

    init_project(tmp_path / "project")
    st = tmp_path / "project" / "runs"
    site = tmp_path / "site-new"
    result = build(st, site)
    assert (result.runs, result.pages) == (0, 5)
    assert {p.relative_to(site).as_posix() for p in pages(site)} == {
        "index.html",
        "registry.html",
        "datasets.html",
        "404.html",
        "compare.html",
    }
    for page in pages(site):
        doc = parse(page)
        check_frame(doc, page.name)
        if page.name not in ("404.html", "compare.html"):  # no data: say so
            assert doc.select_one("p.empty") is not None, page.name
    assert link_problems(site) == [] and script_problems(site) == []

    empty = tmp_path / "empty"
    empty.mkdir()
    for not_a_store in (empty, tmp_path / "missing"):
        out = tmp_path / f"site-{not_a_store.name}"
        with pytest.raises(NotFound, match="not a runsite store"):
            build(not_a_store, out)
        assert not out.exists()
    assert not (tmp_path / "missing").exists()  # building does not create the store


def test_experiment_folder_without_runs(store: Path, tmp_path: Path) -> None:
    small_store(1)
    (store / "later").mkdir()
    (store / "later" / "experiment.yaml").write_text("name: Later\ndescription: Not yet.\n")
    (store / "bare").mkdir()
    site = tmp_path / "site"
    result = build(store, site)
    assert result.runs == 1 and result.warnings == []
    for slug, name in (("later", "Later"), ("bare", "bare")):
        doc = parse(site / "experiments" / f"{slug}.html")
        check_frame(doc, slug)
        assert text_of(doc.find("h1")) == name
        assert doc.find("table", id="runs-table") is None
        assert text_of(doc.select_one("p.empty")) == "No runs in this experiment yet."
    cards = {text_of(c.find("h2")): c for c in parse(site / "index.html").select("a.card")}
    assert set(cards) == {"exp", "Later", "bare"}
    assert text_of(cards["Later"].select_one("p.muted")).startswith("0 runs")
    assert link_problems(site) == []


def test_a_crashed_run_with_torn_lines_builds_with_warnings(store: Path, tmp_path: Path) -> None:
    small_store(1)
    run_dir = write_run_by_hand(
        store / "exp",
        "01h0crashed000000000000000",
        "crashed",
        params={"lr": 0.01},
        metrics={"loss": [1.0, 0.5, 0.25]},
    )
    site = tmp_path / "site"
    result = build(store, site)
    assert result.runs == 2
    torn = [w for w in result.warnings if "incomplete" in w]
    assert {Path(w.split(":")[0]).name for w in torn} == {"events.jsonl", "metrics.jsonl"}

    doc = parse(site / "runs" / f"{run_dir.name}.html")
    check_frame(doc, "crashed run")
    assert text_of(doc.select_one("h1 .badge")) == "unfinished"
    assert text_of(facts(doc.select_one("section.overview dl"))["Ended"]) == "–"
    assert kv_table(section(doc, "Params").find("table")) == {"lr": "0.01"}
    row = section(doc, "Metrics").select_one("tbody tr")
    assert [text_of(td) for td in row.find_all("td")] == ["0.25", "0.25", "1", "3", "2"]
    ((_, payload),) = charts(doc)
    assert payload["data"]["series"]["value"] == [1.0, 0.5, 0.25]
    assert link_problems(site) == []


def test_a_run_of_a_newer_format_is_skipped_with_a_warning(store: Path, tmp_path: Path) -> None:
    (kept,) = small_store(1)
    future = write_run_by_hand(store / "exp", "01h0future0000000000000000", "future", fmt=2)
    site = tmp_path / "site"
    result = build(store, site)
    assert result.runs == 1
    assert any("format 2" in w and future.name in w for w in result.warnings)
    assert not (site / "runs" / f"{future.name}.html").exists()
    assert future.name not in all_text(site)
    assert (site / "runs" / f"{kept}.html").is_file()


def test_a_git_record_without_remote_or_branch_builds(store: Path, tmp_path: Path) -> None:
    """A run.json written by another tool (bench/scale.py writes one) whose git object has
    only some of the keys runsite writes: the run page says "not recorded"."""
    import json

    run_dir = write_run_by_hand(store / "exp", "01h0partialgit00000000000", "partial", ended=True)
    header = json.loads((run_dir / "run.json").read_text())
    header["git"] = {"commit": "ab" * 20}
    (run_dir / "run.json").write_text(json.dumps(header))
    site = tmp_path / "site"
    build(store, site)
    page = parse(site / "runs" / f"{run_dir.name}.html")
    assert "abababab" in text_of(page)


def test_cli_build_strict(store: Path, tmp_path: Path) -> None:
    small_store(1)
    out = tmp_path / "site"
    code, stdout, stderr = cli("build", str(store), "--out", str(out), "--strict")
    assert code == 0, stderr
    assert "warning" not in stderr
    m = re.search(r"(\d+) pages, (\d+) runs", stdout)
    assert m is not None and (int(m[1]), int(m[2])) == (7, 1)

    write_run_by_hand(store / "exp", "01h0crashed000000000000000", "crashed", metrics={"loss": [1]})
    code, stdout, stderr = cli("build", str(store), "--out", str(out), "--strict")
    assert code == 1
    warned = [ln for ln in stderr.splitlines() if ln.startswith("warning: ")]
    assert len(warned) == 2 and all("incomplete" in ln for ln in warned)
    assert "--strict: 2 warnings" in stderr
    m = re.search(r"(\d+) pages, (\d+) runs", stdout)
    assert m is not None and (int(m[1]), int(m[2])) == (8, 2)  # the site is still built

    code, stdout, stderr = cli("build", str(store), "--out", str(out))
    assert code == 0 and len([ln for ln in stderr.splitlines() if ln.startswith("warning")]) == 2
    assert "2 warnings" in stdout
