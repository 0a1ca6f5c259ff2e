"""The static site (``runsite build``): the builder's incremental behaviour: what a second
build renders and writes, the cache, removed and changed runs, SOURCE_DATE_EPOCH,
refusing dangerous output folders.

HTML is checked by parsing it (BeautifulSoup with the stdlib ``html.parser``), never by
looking for substrings.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import runsite
from runsite.site import build
from runsite.site.writer import MANIFEST, BuildError
from site_helpers import (
    facts,
    files,
    link_problems,
    mtimes,
    parse,
    text_of,
)
from site_store import (
    all_text,
    cli,
    row_links,
    small_store,
)

# --------------------------------------------------------------------------- 4. the builder


def age(site: Path) -> None:
    """Date every file of ``site`` back, so any rewrite shows in its mtime."""
    for p in site.rglob("*"):
        if p.is_file():
            os.utime(p, ns=(1_000_000_000 * 10**9, 1_000_000_000 * 10**9))


def test_source_date_epoch_is_the_built_date_and_nothing_else(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bs4 import BeautifulSoup

    small_store(2)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    build(store, tmp_path / "plain")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14 22:13:20 UTC
    build(store, tmp_path / "dated")
    plain, dated = files(tmp_path / "plain"), files(tmp_path / "dated")
    assert sorted(plain) == sorted(dated)
    html = [rel for rel in plain if rel.endswith(".html")]
    assert len(html) == 8
    for rel in plain:
        if rel == MANIFEST:
            continue
        if rel not in html:
            assert plain[rel] == dated[rel], rel
            continue
        a = BeautifulSoup(plain[rel].decode(), "html.parser")
        b = BeautifulSoup(dated[rel].decode(), "html.parser")
        assert "on 2023-11-14 22:13 UTC" in text_of(b.find("footer")), rel
        assert "2023" not in text_of(a.find("footer")) and " on " not in text_of(a.find("footer"))
        a.find("footer").decompose()
        b.find("footer").decompose()
        assert str(a) == str(b), rel


def test_second_build_into_the_same_folder_renders_and_writes_nothing(
    store: Path, tmp_path: Path
) -> None:
    small_store(3)
    site = tmp_path / "site"
    first = build(store, site)
    assert first.rendered_runs == 3 and first.written == first.files > 0
    age(site)
    before, content = mtimes(site), files(site)
    second = build(store, site)
    assert (second.runs, second.rendered_runs, second.written, second.removed) == (3, 0, 0, 0)
    assert second.unchanged == second.files == first.files
    assert mtimes(site) == before
    assert files(site) == content


def test_one_more_run_renders_one_run_page(store: Path, tmp_path: Path) -> None:
    ids = small_store(2)
    site = tmp_path / "site"
    build(store, site)
    age(site)
    before, stamps = files(site), mtimes(site)
    with runsite.start_run(run_name="run-new") as r:
        runsite.log_metric("loss", 0.1)
    result = build(store, site)
    assert (result.runs, result.rendered_runs) == (3, 1)
    after = files(site)
    changed = {rel for rel in after if before.get(rel) != after[rel]}
    assert changed == {
        f"runs/{r.run_id}.html",
        f"data/runs/{r.run_id}.js",
        "experiments/exp.html",
        "data/experiments/exp.js",
        "data/search.js",
        "index.html",
        MANIFEST,
    }
    assert result.written == 6
    for rel in set(before) - changed:
        assert os.stat(site / rel).st_mtime_ns == stamps[rel], rel
    exp = parse(site / "experiments" / "exp.html")
    assert sorted(row_links(exp.find("table", id="runs-table"))) == sorted(
        f"../runs/{i}.html" for i in [*ids, r.run_id]
    )


def _search_payload(path: Path) -> dict:
    import json
    import re

    text = path.read_text()
    return json.loads(re.search(r"\.push\((.*)\);\s*$", text, re.S).group(1))


def test_a_big_search_index_is_in_parts_and_a_new_run_rewrites_the_last_one(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runsite.site import data as data_files

    small_store(5)
    whole = tmp_path / "whole"
    build(store, whole)  # 5 runs: one file
    monkeypatch.setattr(data_files, "SEARCH_PART_RUNS", 2)
    site = tmp_path / "site"
    build(store, site)
    head = _search_payload(site / "data/search.js")
    assert head["parts"] == [f"data/search/runs-{k}.js" for k in range(3)]
    parts = [_search_payload(site / rel) for rel in head["parts"]]
    assert [(p["kind"], p["part"], len(p["entries"])) for p in parts] == [
        ("search-part", 0, 2),
        ("search-part", 1, 2),
        ("search-part", 2, 1),
    ]
    # the same entries as the one-file index: its runs are newest first, the parts'
    # oldest first
    one = _search_payload(whole / "data/search.js")["entries"]
    runs_in_parts = [e for p in parts for e in p["entries"]]
    assert [e for e in head["entries"] if e[0] == "run"] == []
    assert runs_in_parts[::-1] == [e for e in one if e[0] == "run"]
    assert head["entries"] == [e for e in one if e[0] != "run"]

    age(site)
    before = files(site)
    with runsite.start_run(run_name="run-new"):
        runsite.log_metric("loss", 0.1)
    build(store, site)
    changed = {rel for rel, data in files(site).items() if before.get(rel) != data}
    search_files = {rel for rel in changed if "search" in rel}
    # 6 runs: the last part gets the new run; the two full ones are not touched
    assert search_files == {"data/search.js", "data/search/runs-2.js"}
    assert len(_search_payload(site / "data/search/runs-2.js")["entries"]) == 2


def test_a_run_whose_files_change_by_hand_is_rendered_again(store: Path, tmp_path: Path) -> None:
    """An ended run's page depends on run.json and events.jsonl (what the store read it
    from) and on its metric files (the charts): a change to any of them, and only that
    run's, renders its page again."""
    import json

    import pyarrow as pa

    from runsite import arrowio, record
    from runsite import store as store_mod

    ids = small_store(3)
    site = tmp_path / "site"
    build(store, site)
    runs = {i: next(store.glob(f"*/{i}")) for i in ids}

    def new_process() -> None:
        # (this process keeps the records it read and trusts an ended run's run.json not
        # to change, docs/format.md; a new `runsite build` starts without them)
        store_mod._MEMO.clear()
        store_mod._INDEXES.clear()
        store_mod._LISTINGS.clear()

    header = json.loads((runs[ids[0]] / record.RUN_JSON).read_text())
    header["run_name"] = "renamed-by-hand"
    (runs[ids[0]] / record.RUN_JSON).write_text(json.dumps(header))
    new_process()
    again = build(store, site)
    assert again.rendered_runs == 1
    assert "renamed-by-hand" in text_of(parse(site / f"runs/{ids[0]}.html").find("h1"))

    table = pa.table(
        {"key": ["loss"], "step": [0], "timestamp": [1], "value": [42.5]},
        schema=arrowio.METRIC_SCHEMA,
    )
    for name in (record.METRICS_JSONL, record.METRICS_PARQUET):
        (runs[ids[1]] / name).unlink(missing_ok=True)
    arrowio.write_metrics_parquet(table, runs[ids[1]] / record.METRICS_PARQUET)
    new_process()
    third = build(store, site)
    assert third.rendered_runs == 1
    assert "42.5" in (site / f"data/runs/{ids[1]}.js").read_text()
    assert build(store, site).rendered_runs == 0


def test_a_lost_or_corrupt_cache_is_not_an_error(store: Path, tmp_path: Path) -> None:
    small_store(2)
    site = tmp_path / "site"
    build(store, site)
    age(site)
    before = mtimes(site)
    cache = Path(os.environ["RUNSITE_CACHE_DIR"])
    cached = [p for p in cache.rglob("*") if p.is_file()]
    assert cached  # the build did use it
    for p in cached:
        p.write_text("{not json")
    corrupt = build(store, site)
    assert (corrupt.rendered_runs, corrupt.written) == (2, 0)
    for child in cache.iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    lost = build(store, site)
    assert (lost.runs, lost.rendered_runs, lost.written, lost.removed) == (2, 2, 0, 0)
    assert mtimes(site) == before
    assert build(store, site).rendered_runs == 0  # and it is filled again


def test_a_removed_run_disappears_from_the_site(store: Path, tmp_path: Path) -> None:
    ids = small_store(3)
    site = tmp_path / "site"
    build(store, site)
    assert (site / "runs" / ids[1] / "artifacts" / "out.txt").is_file()
    shutil.rmtree(store / "exp" / ids[1])
    result = build(store, site)
    assert result.runs == 2 and result.removed == 3  # the page, its data file, its artifact
    assert not (site / "runs" / f"{ids[1]}.html").exists()
    assert not (site / "runs" / ids[1]).exists()
    assert ids[1] not in all_text(site)
    exp = parse(site / "experiments" / "exp.html")
    assert sorted(row_links(exp.find("table", id="runs-table"))) == sorted(
        f"../runs/{i}.html" for i in (ids[0], ids[2])
    )
    assert link_problems(site) == []


def test_removing_a_parent_run_updates_the_child_page(store: Path, tmp_path: Path) -> None:
    runsite.set_experiment("exp")
    with (
        runsite.start_run(run_name="parent") as parent,
        runsite.start_run(run_name="child", nested=True) as child,
    ):
        runsite.log_metric("loss", 1.0)
    site = tmp_path / "site"
    build(store, site)
    shutil.rmtree(store / "exp" / parent.run_id)
    build(store, site)
    build(store, tmp_path / "fresh")
    rel = f"runs/{child.run_id}.html"
    fresh = facts(parse(tmp_path / "fresh" / rel).select_one("section.overview dl"))
    assert "Parent run" not in fresh
    assert link_problems(site) == []
    assert (site / rel).read_bytes() == (tmp_path / "fresh" / rel).read_bytes()


def test_a_child_run_ending_updates_the_parent_page(store: Path, tmp_path: Path) -> None:
    runsite.set_experiment("exp")
    with runsite.start_run(run_name="parent") as parent:
        pass
    child = runsite.Store(store).start_run("exp", run_name="child", parent_run_id=parent.run_id)
    site = tmp_path / "site"
    rel = f"runs/{parent.run_id}.html"

    def child_status(page: Path) -> str:
        children = facts(parse(page).select_one("section.overview dl"))["Child runs"]
        return text_of(children.select_one(".badge"))

    build(store, site)
    assert child_status(site / rel) == "running"
    child.end()
    build(store, site)
    build(store, tmp_path / "fresh")
    assert child_status(tmp_path / "fresh" / rel) == "finished"
    assert child_status(site / rel) == "finished"


def test_clean_refuses_a_folder_that_is_not_a_runsite_site(store: Path, tmp_path: Path) -> None:
    small_store(1)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notes.md").write_text("mine")
    with pytest.raises(BuildError, match="does not look like a runsite site"):
        build(store, docs, clean=True)
    code, _, err = cli("build", str(store), "--out", str(docs), "--clean")
    assert code != 0 and "does not look like a runsite site" in err
    assert (docs / "notes.md").read_text() == "mine"
    assert sorted(p.name for p in docs.iterdir()) == ["notes.md"]

    site = tmp_path / "site"  # a previous site is wiped, stray files and all
    build(store, site)
    (site / "stray.txt").write_text("x")
    result = build(store, site, clean=True)
    assert not (site / "stray.txt").exists() and (site / "index.html").is_file()
    assert result.written == result.files
    empty = tmp_path / "empty"
    empty.mkdir()
    assert build(store, empty, clean=True).runs == 1


def test_building_into_or_around_the_store_is_refused(store: Path, tmp_path: Path) -> None:
    small_store(1)
    before = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    for out in (store, store / "site", store / "exp", tmp_path):
        with pytest.raises(BuildError, match="outside the store"):
            build(store, out)
        with pytest.raises(BuildError):
            build(store, out, clean=True)
    code, _, err = cli("build", str(store), "--out", str(store / "site"))
    assert code != 0 and "outside the store" in err
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == before
