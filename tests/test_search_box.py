"""The global search box (search.js + data/search.js) in a real headless Chromium.

A real site is built with runsite's logging API, then driven from file:// and from a local
http.server, on the index page and on a run page (one folder down): typing finds runs (by
name and by ``param=value``), models, versions and datasets; the links open existing pages;
the keyboard works; nothing is requested from outside the site; untrusted titles stay text.

Needs Debian's chromium (``apt-get install -y chromium``) and the ``playwright`` Python
package (never ``playwright install``). Without them the tests skip, or fail when ``CI`` is
set. Run with ``-s`` to see the printed index sizes and timings.
"""

from __future__ import annotations

import shutil
import statistics
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import runsite
from browser_support import Watched, static_server, watch
from conftest import module_env
from runsite.site import build
from runsite.site.data import push

pytestmark = pytest.mark.browser

XSS_NAME = "<img src=x onerror=alert(1)>"
RESULTS = "#site-search-results"
INPUT = "#site-search-input"


@dataclass
class Site:
    root: Path
    run_id: str
    xss_id: str


def _make_store(base: Path) -> tuple[Path, str, str]:
    from sklearn.linear_model import Ridge

    data = base / "data"
    data.mkdir()
    csv_path = data / "trips.csv"
    csv_path.write_text("distance,fare\n1,2.5\n2,4.0\n3,5.5\n")
    store = base / "runs"
    runsite.set_store(store)
    runsite.set_experiment("exp")
    with runsite.start_run(run_name="needle-run", log_git=False) as r:
        runsite.log_params({"alpha": 0.5, "solver": "cholesky"})
        runsite.log_metric("rmse", 1.25)
        runsite.log_input(csv_path)
        runsite.log_model(Ridge().fit([[0.0], [1.0]], [0.0, 1.0]), "model")
    run_id = r.run_id
    runsite.register_model(f"runs:/{run_id}/model", "taxi")
    with runsite.start_run(run_name=XSS_NAME, log_git=False) as x:
        runsite.log_params({"alpha": 2.0})
        runsite.log_metric("rmse", 3.0)
    with runsite.start_run(run_name="other-run", log_git=False):
        runsite.log_params({"alpha": 1.0})
    return store, run_id, x.run_id


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    base = tmp_path_factory.mktemp("search")
    with module_env(base):
        store, run_id, xss_id = _make_store(base)
        build(store, base / "site")
    root = base / "site"
    size = (root / "data" / "search.js").stat().st_size
    print(f"\n[search] data/search.js of the test site: {size} bytes")
    yield Site(root, run_id, xss_id)


@pytest.fixture(scope="module")
def server(site: Site) -> Iterator[str]:
    with static_server(site.root) as base:
        yield base.rstrip("/")


def _watch(browser: Any, allowed: str) -> Watched:
    w = watch(browser, allowed, width=1100)
    # a request that is not routed (none should be) is recorded too
    w.page.on("request", lambda r: None if r.url.startswith(allowed) else w.foreign.append(r.url))
    return w


def _open(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_function("() => window.runsiteSearch !== undefined")


def _type(page: Any, text: str) -> None:
    """Replace the query by typing it, as a user would, and wait for the list."""
    box = page.locator(INPUT)
    box.fill("")
    box.press_sequentially(text, delay=5)
    page.wait_for_function(
        """(q) => { const l = document.querySelector('#site-search-results');
            return !l.hidden
                && document.querySelector('#site-search-input').value === q
                && l.childElementCount > 0; }""",
        arg=text,
    )
    # the debounce has run for the final text
    page.wait_for_timeout(120)


def _groups(page: Any) -> dict[str, list[dict[str, str]]]:
    """Heading → [{title, detail, href}] as shown."""
    return page.evaluate(
        """() => {
            const out = {};
            for (const g of document.querySelectorAll('#site-search-results .gs-group')) {
              const head = g.querySelector('.gs-head').firstChild.textContent;
              out[head] = [...g.querySelectorAll('a.gs-item')].map(a => ({
                title: a.querySelector('.gs-title').textContent,
                detail: (a.querySelector('.gs-detail') || {}).textContent || '',
                href: a.href,
              }));
            }
            return out;
        }"""
    )


def _titles(groups: dict[str, list[dict[str, str]]], heading: str) -> list[str]:
    return [r["title"] for r in groups.get(heading, [])]


def _href(groups: dict[str, list[dict[str, str]]], heading: str, title: str) -> str:
    return next(r["href"] for r in groups[heading] if r["title"] == title)


def _check_search(
    browser: Any, site: Site, base: str, allowed: str, where: str, shot: Path
) -> None:
    w = _watch(browser, allowed)
    page = w.page
    start = f"{base}/runs/{site.run_id}.html" if where == "runs" else f"{base}/index.html"
    try:
        _open(page, start)
        assert page.url.endswith(f"runs/{site.run_id}.html" if where == "runs" else "index.html")
        box = page.locator(INPUT)
        assert box.get_attribute("placeholder") == "Search runs, models, datasets… (/)"
        assert page.locator("label[for='site-search-input']").inner_text() == "Search the site"
        assert page.locator(RESULTS).is_hidden()

        # "/" focuses the box
        page.locator("main").click(position={"x": 2, "y": 2})
        page.keyboard.press("/")
        assert page.evaluate("() => document.activeElement.id") == "site-search-input"
        assert box.input_value() == ""

        # a run by name, by param=value, by two terms
        _type(page, "needle")
        groups = _groups(page)
        assert _titles(groups, "Runs") == ["needle-run"]
        assert groups["Runs"][0]["detail"] == "exp · finished"
        _type(page, "alpha=0.5")
        assert _titles(_groups(page), "Runs") == ["needle-run"]
        _type(page, "ALPHA=0.5   solver=cholesky")
        assert _titles(_groups(page), "Runs") == ["needle-run"]
        assert page.locator(f"{RESULTS} .gs-title mark").count() == 0  # terms not in title
        _type(page, "alpha=")
        assert set(_titles(_groups(page), "Runs")) == {"needle-run", XSS_NAME, "other-run"}
        _type(page, "alpha=0.5 solver=lbfgs")
        assert "No results" in page.locator(RESULTS).inner_text()

        # the model, its version, the dataset
        _type(page, "taxi")
        groups = _groups(page)
        assert _titles(groups, "Models") == ["taxi"]
        assert _titles(groups, "Versions") == ["taxi v1"]
        model_href = _href(groups, "Models", "taxi")
        version_href = _href(groups, "Versions", "taxi v1")
        _type(page, "trips")
        groups = _groups(page)
        assert _titles(groups, "Datasets") == ["trips.csv"]
        dataset_href = groups["Datasets"][0]["href"]
        _type(page, "needle")
        run_href = _href(_groups(page), "Runs", "needle-run")
        assert run_href.endswith(f"runs/{site.run_id}.html")
        # links resolve from this page's depth to real pages
        for href, title in [
            (run_href, "needle-run"),
            (model_href, "taxi"),
            (version_href, "taxi"),
            (dataset_href, "Datasets"),
        ]:
            assert href.startswith(allowed), href
            page.goto(href)
            assert title in page.title(), (href, page.title())
        fragment = dataset_href.split("#", 1)[1]
        page.goto(dataset_href)
        assert page.locator(f"[id='{fragment}']").count() == 1

        # keyboard: arrows, Escape, Enter
        _open(page, start)
        page.keyboard.press("/")
        _type(page, "exp")
        options = page.locator(f"{RESULTS} a.gs-item")
        hrefs = options.evaluate_all("as => as.map(a => a.href)")
        assert len(hrefs) >= 3  # the experiment and its runs
        assert _titles(_groups(page), "Experiments") == ["exp"]
        selected = (
            "() => [...document.querySelectorAll('#site-search-results [aria-selected=true]')]"
            ".map(a => a.href)"
        )
        page.keyboard.press("ArrowDown")
        assert page.evaluate(selected) == [hrefs[0]]
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowDown")
        assert page.evaluate(selected) == [hrefs[2]]
        page.keyboard.press("ArrowUp")
        assert page.evaluate(selected) == [hrefs[1]]
        page.screenshot(path=str(shot))
        active = page.evaluate("() => document.activeElement.getAttribute('aria-activedescendant')")
        assert active and page.locator(f"#{active}").get_attribute("href")
        page.keyboard.press("ArrowUp")
        page.keyboard.press("ArrowUp")
        assert page.evaluate(selected) == [hrefs[-1]]  # wraps around
        page.keyboard.press("Escape")
        assert page.locator(RESULTS).is_hidden()
        assert box.get_attribute("aria-expanded") == "false"
        page.keyboard.press("ArrowDown")  # reopens, highlights the first
        assert page.locator(RESULTS).is_visible()
        page.keyboard.press("ArrowDown")
        assert page.evaluate(selected) == [hrefs[1]]
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.url == hrefs[1]

        # click outside closes; "/" typed in another input stays there
        _open(page, start)
        page.locator(INPUT).click()
        _type(page, "needle")
        page.mouse.click(500, 600)
        assert page.locator(RESULTS).is_hidden()
        page.evaluate(
            "() => { const i = document.createElement('input'); i.id = 'other';"
            " document.querySelector('main').prepend(i); }"
        )
        page.locator("#other").click()
        page.keyboard.type("a/b")
        assert page.locator("#other").input_value() == "a/b"
        assert page.evaluate("() => document.activeElement.id") == "other"
        # ... and in the search box itself, "/" is just a character
        page.locator(INPUT).click()
        _type(page, "a/")
        assert box.input_value() == "a/"

        # untrusted titles stay text
        _type(page, "<img")
        groups = _groups(page)
        assert _titles(groups, "Runs") == [XSS_NAME]
        assert groups["Runs"][0]["href"].endswith(f"runs/{site.xss_id}.html")
        assert page.locator(f"{RESULTS} img").count() == 0
        assert page.locator("img[src=x]").count() == 0
        page.wait_for_timeout(200)
        w.assert_clean()
    finally:
        page.close()


@pytest.mark.parametrize("where", ["index", "runs"])
def test_search_from_file_url(browser: Any, site: Site, tmp_path: Path, where: str) -> None:
    shot = tmp_path / f"{where}-file.png"
    _check_search(browser, site, site.root.as_uri(), "file://", where, shot)
    print(f"\n[search] screenshot: {shot}")


@pytest.mark.parametrize("where", ["index", "runs"])
def test_search_from_local_http(
    browser: Any, site: Site, server: str, tmp_path: Path, where: str
) -> None:
    shot = tmp_path / f"{where}-http.png"
    _check_search(browser, site, server, server + "/", where, shot)


def test_search_on_a_model_page_and_the_api(browser: Any, site: Site) -> None:
    """Depth 1 under models/; the query API groups by kind in a fixed order."""
    w = _watch(browser, "file://")
    page = w.page
    try:
        _open(page, (site.root / "models" / "taxi.html").as_uri())
        result = page.evaluate("() => window.runsiteSearch.query('taxi')")
        assert [g["kind"] for g in result] == ["model", "version"]
        assert result[1]["items"][0]["url"] == "models/taxi.html"
        assert page.evaluate("() => window.runsiteSearch.query('   ')") == []
        page.keyboard.press("/")
        _type(page, "needle")
        href = _href(_groups(page), "Runs", "needle-run")
        page.keyboard.press("ArrowDown")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.url == href and "needle-run" in page.title()
        w.assert_clean()
    finally:
        page.close()


def _synthetic_entries(n_runs: int) -> list[list[str]]:
    entries: list[list[str]] = []
    for e in range(20):
        entries.append(
            [
                "experiment",
                f"experiment-{e}",
                "500 runs",
                f"experiments/e{e}.html",
                f"experiment-{e} e{e}",
            ]
        )
    for i in range(n_runs):
        rid = f"{i:08x}{'0' * 24}"
        exp = f"experiment-{i % 20}"
        name = f"run-{i:05d}-{['ridge', 'lasso', 'xgb', 'mlp'][i % 4]}"
        params = [
            f"alpha={i % 17 / 10}",
            f"lr={10 ** -(i % 5)}",
            f"seed={i % 10}",
            f"depth={i % 12}",
        ]
        tags = [f"team-{i % 7}", "nightly" if i % 3 else "manual"]
        text = " ".join([name, rid, exp, *tags, *params]).lower()
        entries.append(["run", name, f"{exp} · finished", f"runs/{rid}.html", text])
    for m in range(50):
        entries.append(
            ["model", f"model-{m}", "3 versions", f"models/model-{m}.html", f"model-{m}"]
        )
        for v in range(1, 4):
            entries.append(
                [
                    "version",
                    f"model-{m} v{v}",
                    "none",
                    f"models/model-{m}.html",
                    f"model-{m} v{v} none",
                ]
            )
    for d in range(100):
        entries.append(
            [
                "dataset",
                f"data-{d}.csv",
                f"{d:012x}",
                "datasets.html#d-x",
                f"data-{d}.csv sha256:{d:064x}",
            ]
        )
    return entries


def test_search_speed_on_10000_runs(browser: Any, site: Site, tmp_path: Path) -> None:
    copy = tmp_path / "site"
    shutil.copytree(site.root, copy)
    index_js = copy / "data" / "search.js"
    index_js.write_text(push({"kind": "search", "entries": _synthetic_entries(10_000)}))
    print(f"\n[search] synthetic index, 10,000 runs: {index_js.stat().st_size} bytes")

    w = _watch(browser, "file://")
    page = w.page
    try:
        _open(page, (copy / "index.html").as_uri())
        build_ms = page.evaluate(
            "() => { const t = performance.now(); window.runsiteSearch.size();"
            " return performance.now() - t; }"
        )
        assert page.evaluate("() => window.runsiteSearch.size()") == 10_000 + 20 + 200 + 100
        queries = ["run-09999", "alpha=0.3 seed=7", "lasso team-3", "model-4 v2", "data-42", "zzz"]
        keystrokes = [q[:k] for q in queries for k in range(1, len(q) + 1)]
        times: list[float] = page.evaluate(
            """(keys) => keys.map((k) => {
                const t = performance.now();
                window.runsiteSearch.query(k);
                return performance.now() - t;
            })""",
            keystrokes,
        )
        found = page.evaluate("() => window.runsiteSearch.query('run-09999')")
        assert found[0]["kind"] == "run" and found[0]["items"][0]["title"] == "run-09999-mlp"
        assert len(page.evaluate("() => window.runsiteSearch.query('r')")[0]["items"]) <= 8

        # the whole keystroke as a user sees it: input event, debounce, DOM update
        page.keyboard.press("/")
        _type(page, "alpha=0.3 seed=7")
        assert page.locator(f"{RESULTS} a.gs-item").count() > 0
        print(
            f"[search] index build (lower-cased arrays): {build_ms:.1f} ms; "
            f"per keystroke over {len(times)} prefixes: median {statistics.median(times):.2f} ms, "
            f"max {max(times):.2f} ms"
        )
        w.assert_clean()
    finally:
        page.close()


def test_an_index_in_parts_finds_what_one_file_finds(
    browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A site of more runs than ``SEARCH_PART_RUNS`` lists its runs in parts that
    search.js loads side by side: the same results, in the same order, as one file; a
    part that cannot load makes the index unavailable (never a search missing runs)."""
    from runsite.site import data as data_files

    runsite.set_store(tmp_path / "runs")
    runsite.set_experiment("sweep")
    for i in range(7):
        with runsite.start_run(run_name=f"sweep-{i}", log_git=False):
            runsite.log_params({"alpha": i / 10, "depth": 3 + i % 2})
            runsite.log_metric("rmse", 1.0 + i)
    build(tmp_path / "runs", tmp_path / "whole")
    monkeypatch.setattr(data_files, "SEARCH_PART_RUNS", 3)
    build(tmp_path / "runs", tmp_path / "parts")
    assert sorted(p.name for p in (tmp_path / "parts/data/search").iterdir()) == [
        "runs-0.js",
        "runs-1.js",
        "runs-2.js",
    ]
    queries = ["sweep", "depth=4", "alpha=0.5", "rmse", "sweep-6 alpha", "nothing-like-this"]
    w = _watch(browser, "file://")
    page = w.page
    try:
        answers = {}
        for name in ("whole", "parts"):
            _open(page, (tmp_path / name / "index.html").as_uri())
            page.evaluate("() => window.runsiteSearch.size()")  # loaded
            answers[name] = page.evaluate(
                "(qs) => qs.map((q) => window.runsiteSearch.query(q))", queries
            )
        assert answers["parts"] == answers["whole"]
        runs = next(g for g in answers["parts"][0] if g["kind"] == "run")["items"]
        assert [i["title"] for i in runs] == [f"sweep-{i}" for i in range(6, -1, -1)]
        # as a user: type, see the newest run first
        page.keyboard.press("/")
        _type(page, "sweep")
        assert _groups(page)["Runs"][0]["title"] == "sweep-6"
        w.assert_clean()
    finally:
        page.close()

    (tmp_path / "parts/data/search/runs-1.js").unlink()
    w = _watch(browser, "file://")
    page = w.page
    try:
        page.goto((tmp_path / "parts" / "index.html").as_uri())
        page.keyboard.press("/")
        page.locator(INPUT).fill("sweep")
        page.wait_for_selector(f"{RESULTS} .gs-empty")
        assert "not available" in page.locator(f"{RESULTS} .gs-empty").inner_text()
        assert page.evaluate("() => window.runsiteSearch.size()") == 0
    finally:
        page.close()
