"""runs.js, the interactive runs table of an experiment page, in a real headless Chromium.

A real store is built into a real site and the page is opened from file:// and from a local
http.server. Filters are checked against Python's ``runsite.search_runs``.

Needs Debian's chromium (/usr/bin/chromium) and the ``playwright`` Python package (never
``playwright install``). Without them the tests skip, or fail when ``CI`` is set.
"""

from __future__ import annotations

import math
import os
import random
import shutil
import statistics
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

import runsite
from browser_support import static_server
from conftest import module_env

pytestmark = pytest.mark.browser

MODELS = ["xgb", "rf", "linear"]
PAGE = "experiments/exp.html"


@dataclass
class Site:
    store: Path
    out: Path
    ids: dict[str, str] = field(default_factory=dict)

    def search(self, filter_string: str = "", order_by: list[str] | None = None) -> list[str]:
        found = runsite.search_runs(
            filter_string, order_by=order_by, store=str(self.store), search_all_experiments=True
        )
        return [r.run_id for r in found]


def _log_runs(store: Path) -> dict[str, str]:
    runsite.set_store(store)
    runsite.set_experiment("exp")
    (store / "exp" / "experiment.yaml").write_text("name: exp\nkey_metric: rmse\n")
    ids: dict[str, str] = {}
    for i in range(30):
        name = f"run-{i}"
        try:
            with runsite.start_run(run_name=name, log_git=False) as r:
                ids[name] = r.run_id
                runsite.log_params(
                    {"model": MODELS[i % 3], "depth": i % 7, "seed": 42, "lr": 10 ** -(i % 4)}
                )
                runsite.log_metric("rmse", 3 + (i * 7 % 30) / 3 + i / 1000)
                if i % 4:
                    runsite.log_metric("r2", round(0.2 + (i * 11 % 17) / 20, 3))
                for step, v in enumerate([1.5, 0.2 + i / 50, 0.9]):
                    runsite.log_metric("loss", v, step=step)
                if i == 7:
                    runsite.log_metric("score", math.inf)
                runsite.set_tag("team", "alpha" if i % 2 else "beta")
                if i % 5 == 0:
                    runsite.set_tag("note", f"baseline {i} Sweep")
                if i == 29:
                    raise RuntimeError("boom")  # a FAILED run
        except RuntimeError:
            pass
    return ids


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from runsite.site import build

    base = tmp_path_factory.mktemp("runs-table")
    with module_env(base):
        ids = _log_runs(base / "store")
        build(base / "store", base / "site")
    yield Site(base / "store", base / "site", ids)


@pytest.fixture(scope="module")
def server(site: Site) -> Iterator[str]:
    with static_server(site.out) as base:
        yield base.rstrip("/")


@pytest.fixture(params=["file", "http"])
def base_url(request: pytest.FixtureRequest, site: Site) -> str:
    if request.param == "file":
        return site.out.resolve().as_uri()
    return request.getfixturevalue("server")


class Tab:
    """A page with the console errors and the requests that left the site recorded."""

    def __init__(self, browser: Any, base: str) -> None:
        self.base = base
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        self.context.route("**/*", self._route)

    def _console(self, msg: Any) -> None:
        if msg.type == "error":
            self.errors.append(msg.text)

    def _route(self, route: Any) -> None:
        url = route.request.url
        http = self.base.startswith("http")
        ours = url.startswith(self.base) if http else url.startswith("file:")
        if ours:
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def open(self, rel: str = PAGE) -> Any:
        self.page.goto(f"{self.base}/{rel}")
        self.page.wait_for_selector("#runs-app[data-ready]", state="attached")
        return self.page

    def ids(self) -> list[str]:
        return self.page.eval_on_selector_all(
            "#rt-table tbody tr", "trs => trs.map(t => t.dataset.run)"
        )

    def heads(self) -> list[str]:
        return self.page.eval_on_selector_all(
            "#rt-table thead th", "ths => ths.map(t => t.textContent.trim())"
        )

    def query(self, q: str) -> None:
        self.page.fill("#rt-q", q)
        self.page.evaluate("window.runsiteRunsTable.applyNow()")

    def hash(self) -> str:
        return self.page.evaluate("location.hash")

    def close(self) -> None:
        assert self.errors == []
        assert self.outside == []
        self.context.close()


@pytest.fixture
def tab(browser: Any, base_url: str) -> Iterator[Tab]:
    t = Tab(browser, base_url)
    yield t
    t.close()


# --------------------------------------------------------------------------- tests


def test_renders_every_run_and_hides_the_fallback(tab: Tab, site: Site) -> None:
    page = tab.open()
    assert tab.ids() == site.search()  # newest first, like search_runs
    assert len(tab.ids()) == 30
    assert page.is_hidden("#runs-fallback") and page.is_visible("#rt-table")
    assert page.text_content("#rt-count") == "Showing 1–30 of 30"
    heads = tab.heads()
    assert heads[1:7] == ["Status", "Run", "Started", "Duration", "User", "Commit"]
    assert heads[7] == "rmse"  # the key metric first, then the others
    assert {"loss", "r2", "score", "model", "depth", "lr", "team", "note"} <= set(heads)
    assert "seed" not in heads  # the same in every run
    row = page.locator(f'tr[data-run="{site.ids["run-7"]}"]')
    score = heads.index("score")
    assert row.locator("td").nth(score).text_content() == "∞"
    assert row.locator("td.num").first.evaluate("td => getComputedStyle(td).textAlign") == "right"
    link = row.locator("td.rt-name a")
    assert link.get_attribute("href") == f"../runs/{site.ids['run-7']}.html"
    failed = page.locator(f'tr[data-run="{site.ids["run-29"]}"] .badge')
    assert failed.first.text_content() == "failed"


def test_the_table_starts_before_the_chart_scripts_have_run(tab: Tab) -> None:
    """runs.js starts at once (it follows #runs-app), not at DOMContentLoaded, which waits
    for the chart scripts after it: the table's data file is asked for before that event."""
    tab.page.add_init_script(
        """
        document.addEventListener('DOMContentLoaded', () => { window.__dcl = performance.now(); });
        new MutationObserver((changes) => {
            for (const c of changes) for (const n of c.addedNodes) {
                if (n.tagName === 'SCRIPT' && /data\\/experiments\\/exp\\.js$/.test(n.src)
                    && window.__asked === undefined) window.__asked = performance.now();
            }
        }).observe(document, {childList: true, subtree: true});
        """
    )
    page = tab.open()
    assert page.locator("script[src$='vega.min.js']").count() == 1  # (the page has charts)
    asked, dcl = page.evaluate("() => [window.__asked, window.__dcl]")
    assert asked is not None and dcl is not None
    assert asked < dcl


@pytest.mark.parametrize(
    "q",
    [
        "metrics.rmse < 6 and params.model = 'xgb'",
        "params.model = 'rf' OR (metrics.r2 > 0.5 AND NOT tags.team = 'alpha')",
        "metrics.loss.min < 0.5",
        "params.depth >= 3 and attributes.status != 'FAILED'",
        "tags.note IS NULL and metrics.r2 IS NOT NULL",
    ],
)
def test_query_filters_like_python(browser: Any, site: Site, q: str) -> None:
    tab = Tab(browser, site.out.resolve().as_uri())
    tab.open()
    tab.query(q)
    expected = site.search(q)
    assert expected and len(expected) < 30
    assert tab.ids() == expected
    assert tab.page.text_content("#rt-count").startswith(f"Showing 1–{len(expected)} of ")
    tab.close()


def test_syntax_error_keeps_the_last_good_rows(tab: Tab, site: Site) -> None:
    page = tab.open()
    tab.query("params.model = 'xgb'")
    good = tab.ids()
    assert good == site.search("params.model = 'xgb'")
    page.fill("#rt-q", "metrics.rmse < ")  # through the debounce this time
    page.wait_for_selector("#rt-error:not([hidden])")
    message = page.text_content("#rt-error")
    assert "position 15" in message and "expected a value" in message
    assert page.get_attribute("#rt-q", "aria-invalid") == "true"
    assert page.locator("#rt-error mark").count() == 1
    assert tab.ids() == good
    tab.query("metrics.rmse < 6")
    assert page.is_hidden("#rt-error")
    assert tab.ids() == site.search("metrics.rmse < 6")


def test_free_text_and_status_facet(tab: Tab, site: Site) -> None:
    page = tab.open()
    page.fill("#rt-text", "RUN-1")
    page.wait_for_function("() => document.querySelectorAll('#rt-table tbody tr').length === 11")
    names = page.eval_on_selector_all("#rt-table td.rt-name a", "as => as.map(a => a.textContent)")
    assert sorted(names) == sorted(["run-1", *(f"run-{i}" for i in range(10, 20))])
    page.fill("#rt-text", "sweep")  # a tag value, case-insensitively
    page.evaluate("window.runsiteRunsTable.applyNow()")
    assert sorted(tab.ids()) == sorted(site.ids[f"run-{i}"] for i in range(0, 30, 5))
    page.fill("#rt-text", "")
    page.evaluate("window.runsiteRunsTable.applyNow()")
    facet = page.locator('#rt-status input[value="FAILED"]')
    assert facet.locator("xpath=..").text_content().endswith("1")
    facet.check()
    assert tab.ids() == [site.ids["run-29"]]
    assert "status=FAILED" in tab.hash()
    facet.uncheck()
    assert len(tab.ids()) == 30


def test_header_click_sorts_like_order_by(tab: Tab, site: Site) -> None:
    page = tab.open()
    rmse = page.locator('#rt-table thead th[data-ident="metrics.rmse"] button')
    rmse.click()
    assert tab.ids() == site.search(order_by=["metrics.rmse ASC"])
    assert "sort=metrics.rmse+ASC" in tab.hash()
    page.locator('#rt-table thead th[data-ident="metrics.rmse"] button').click()
    assert tab.ids() == site.search(order_by=["metrics.rmse DESC"])
    # r2 is missing in some runs: last both ways
    for order in ("ASC", "DESC"):
        page.locator('#rt-table thead th[data-ident="metrics.r2"] button').click()
        assert tab.ids() == site.search(order_by=[f"metrics.r2 {order}"])
    page.locator('#rt-table thead th[data-ident="params.depth"] button').click()
    assert tab.ids() == site.search(order_by=["params.depth ASC"])
    # min / max switch: the values and the sort follow
    page.locator('#rt-table thead th[data-ident="metrics.loss"] button').click()
    page.click('#rt-agg button[data-agg="min"]')
    assert page.get_attribute('#rt-table thead th[data-ident="metrics.loss.min"]', "aria-sort")
    assert tab.ids() == site.search(order_by=["metrics.loss.min ASC"])
    assert "agg=min" in tab.hash()


def test_column_chooser(tab: Tab, site: Site) -> None:
    page = tab.open()
    page.click("#rt-columns summary")
    page.uncheck('#rt-columns input[data-col="params.model"]')
    assert "model" not in tab.heads()
    page.check('#rt-columns input[data-col="params.seed"]')
    assert "seed" in tab.heads()
    cells = page.eval_on_selector_all(
        "#rt-table tbody td.rt-param", "tds => tds.map(t => t.textContent)"
    )
    assert "42" in cells
    assert "cols=" in tab.hash()
    page.reload()
    page.wait_for_selector("#runs-app[data-ready]", state="attached")
    heads = tab.heads()
    assert "seed" in heads and "model" not in heads


def test_state_survives_reload_and_shared_links(browser: Any, tab: Tab, site: Site) -> None:
    page = tab.open()
    q = "params.model != 'linear' and metrics.rmse > 4"
    tab.query(q)
    page.locator('#rt-table thead th[data-ident="metrics.rmse"] button').click()
    page.locator('#rt-table thead th[data-ident="metrics.rmse"] button').click()
    expected = site.search(q, order_by=["metrics.rmse DESC"])
    assert tab.ids() == expected
    url = page.url
    assert "#" in url and "q=" in url
    page.reload()
    page.wait_for_selector("#runs-app[data-ready]", state="attached")
    assert page.input_value("#rt-q") == q
    assert tab.ids() == expected
    # the same URL in a fresh browser context: a shared link
    other = Tab(browser, tab.base)
    other.page.goto(url)
    other.page.wait_for_selector("#runs-app[data-ready]", state="attached")
    assert other.ids() == expected
    aria = other.page.get_attribute('#rt-table thead th[data-ident="metrics.rmse"]', "aria-sort")
    assert aria == "descending"
    other.close()
    # a hand-written hash: free text, a status facet and page numbers past the end
    third = Tab(browser, tab.base)
    third.open(PAGE + "#text=run-2&status=FINISHED&page=9")
    assert sorted(third.ids()) == sorted(
        site.ids[n] for n in ["run-2", *(f"run-{i}" for i in range(20, 29))]
    )
    third.close()


def test_compare_selected(tab: Tab, site: Site) -> None:
    page = tab.open()
    compare = page.locator("#rt-compare")
    assert compare.get_attribute("aria-disabled") == "true"
    assert compare.get_attribute("href") is None
    a, b = site.ids["run-3"], site.ids["run-12"]
    page.check(f'input[data-select="{a}"]')
    assert compare.get_attribute("href") is None
    page.check(f'input[data-select="{b}"]')
    assert compare.get_attribute("aria-disabled") == "false"
    assert compare.get_attribute("href") == f"../compare.html#runs={a},{b}"
    assert compare.text_content() == "Compare selected (2)"
    tab.query("params.model = 'linear'")  # the selection survives a filter
    assert compare.get_attribute("href") == f"../compare.html#runs={a},{b}"


def test_screenshot(browser: Any, site: Site, tmp_path: Path) -> None:
    tab = Tab(browser, site.out.resolve().as_uri())
    page = tab.open()
    page.evaluate("document.documentElement.setAttribute('data-theme', 'light')")
    page.click("#rt-columns summary")  # the chooser open, as a user would see it
    shot = Path(os.environ.get("RUNSITE_SCREENSHOT_DIR", tmp_path)) / "runs-table.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")
    tab.close()


# --------------------------------------------------------------------------- chunks

# rows per chunk file in the chunked site: the 30 runs make 4 chunks; the manifest's head
# holds the newest 4 rows
CHUNK, HEAD = 8, 4


def _build_chunked(store: Path, out: Path, head: int = HEAD) -> Any:
    from runsite.site import build, data

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(data, "CHUNK_ROWS", CHUNK)
        mp.setattr(data, "HEAD_ROWS", head)
        mp.setenv("RUNSITE_CACHE_DIR", str(out.parent / "_cache"))
        return build(store, out)


@pytest.fixture(scope="module")
def chunked(site: Site, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same store built with 8-row chunks: the table loads what it needs."""
    out = tmp_path_factory.mktemp("runs-table-chunked") / "site"
    _build_chunked(site.store, out)
    return out


class ChunkTab(Tab):
    """A Tab that records which chunk files the page asked for."""

    def __init__(self, browser: Any, base: str) -> None:
        super().__init__(browser, base)
        self.requested: list[str] = []
        self.page.on(
            "request",
            lambda r: (
                self.requested.append(r.url.rsplit("/", 1)[-1])
                if "/data/experiments/exp/" in r.url
                else None
            ),
        )

    def idle(self) -> None:
        self.page.wait_for_selector("#runs-app[data-ready]:not([data-busy])", state="attached")

    def chunks_of(self, section: str, key: str, agg: str | None = None) -> list[str]:
        from runsite.site.data import table_column

        stem = table_column(section, key, agg).file
        return sorted(f for f in self.requested if f.startswith(stem + "-"))


def test_chunked_files_are_what_the_builder_promises(chunked: Path) -> None:
    """A manifest and 4 chunk files per column; the rows (oldest first) are cut at 8."""
    from runsite.site.data import table_column

    manifest = (chunked / "data/experiments/exp.js").read_text()
    assert '"chunkRows":8' in manifest and '"chunks":4' in manifest and '"rows":30' in manifest
    stem = table_column("params", "seed").file
    files = sorted(p.name for p in (chunked / "data/experiments/exp").glob(f"{stem}-*.js"))
    assert files == [f"{stem}-{k}.js" for k in range(4)]


def test_the_manifest_holds_the_newest_rows(chunked: Path, site: Site) -> None:
    """``head``: the newest 4 rows of every column, decoded as the store has them."""
    from runsite.site.data import table_column
    from site_helpers import data_file
    from site_helpers import table_column as column_values

    manifest = data_file(chunked / "data/experiments/exp.js")
    assert manifest["format"] == 3 and "inline" not in manifest
    head = {p["file"]: p for p in manifest["head"]}
    assert sorted(head) == sorted(c["file"] for c in manifest["columns"])
    assert {(p["first"], p["rows"], p["chunk"]) for p in head.values()} == {(26, 4, -1)}
    name = table_column("attributes", "run_name", short="name").file
    one = {**manifest, "chunks": 1, "inline": [head[name]]}
    assert column_values(chunked, one, name) == [f"run-{i}" for i in range(26, 30)]


def test_the_first_page_loads_no_chunk_of_the_columns_it_shows(
    browser: Any, site: Site, tmp_path: Path
) -> None:
    """With the newest 30 rows in the manifest's head, the first page (newest first) waits
    only for the facets' columns (status and user, every chunk); then the last chunk of the
    shown columns loads in the background; a filter loads its columns."""
    from runsite.site.data import table_column

    out = tmp_path / "site"
    _build_chunked(site.store, out, head=30)
    tab = ChunkTab(browser, out.resolve().as_uri())
    tab.open()
    tab.idle()
    assert tab.ids() == site.search()
    facets = [table_column("attributes", a, short=a) for a in ("status", "user")]
    facet_files = {f"{c.file}-{k}.js" for c in facets for k in range(4)}
    tab.page.wait_for_timeout(500)  # the background loads
    others = {f for f in tab.requested if f not in facet_files}
    assert facet_files <= set(tab.requested) and others
    assert all(f.endswith("-3.js") for f in others)  # the last chunk only
    assert tab.chunks_of("params", "seed") == []  # not shown: not loaded
    assert tab.page.text_content("#rt-table tbody tr:first-child td.rt-name") == "run-29"
    q = "metrics.rmse > 5"
    tab.query(q)
    tab.idle()
    assert len(tab.chunks_of("metrics", "rmse", "last")) == 4
    assert tab.ids() == site.search(q)
    tab.close()


def test_chunked_rebuild_rewrites_only_the_last_chunk(
    browser: Any, site: Site, tmp_path: Path
) -> None:
    """One more run rewrites the last chunk of each column, not the others; the page shows
    it first (from the manifest's head) and filters see it."""
    from runsite.site.data import table_column
    from site_helpers import data_file

    store, out = tmp_path / "store", tmp_path / "site"
    shutil.copytree(site.store, store)
    _build_chunked(store, out)
    folder = out / "data/experiments/exp"
    stem = table_column("params", "seed").file

    def stamps() -> dict[str, int]:
        return {p.name: p.stat().st_mtime_ns for p in folder.glob(f"{stem}-*.js")}

    before = stamps()
    with runsite.Store(store).start_run(experiment="exp", run_name="run-30", log_git=False) as r:
        r.log_params({"seed": 42, "model": "xgb"})
    _build_chunked(store, out)
    after = stamps()
    assert sorted(after) == sorted(before)
    assert [f for f in after if after[f] != before[f]] == [f"{stem}-3.js"]
    assert data_file(folder / f"{stem}-3.js")["rows"] == 7
    tab = ChunkTab(browser, out.resolve().as_uri())
    tab.open()
    tab.idle()
    assert tab.page.text_content("#rt-table tbody tr:first-child td.rt-name") == "run-30"
    q = "params.seed = '42' and attributes.run_name IN ('run-0', 'run-30')"
    tab.query(q)
    tab.idle()
    expected = Site(store, out).search(q)
    assert len(expected) == 2 and tab.ids() == expected
    tab.close()


def test_chunks_load_as_needed_and_filters_match_python(
    browser: Any, chunked: Path, site: Site, base_url: str
) -> None:
    base = chunked.resolve().as_uri() if base_url.startswith("file:") else None
    if base is None:
        with static_server(chunked) as http:
            _chunk_checks(browser, http.rstrip("/"), site)
    else:
        _chunk_checks(browser, base, site)


def _chunk_checks(browser: Any, base: str, site: Site) -> None:
    tab = ChunkTab(browser, base)
    tab.open()
    tab.idle()
    assert tab.ids() == site.search()
    # params.seed is the same in every run: not shown, so not loaded
    assert tab.chunks_of("params", "seed") == []
    # a filter on it loads its 4 chunks; the match is in the oldest chunk (run-0 … run-7)
    q = "params.seed = '42' and attributes.run_name IN ('run-0', 'run-3')"
    tab.query(q)
    assert len(tab.chunks_of("params", "seed")) == 4
    assert tab.ids() == site.search(q) and len(tab.ids()) == 2
    # a sort across chunks: rmse ascending over all 30 runs, as order_by
    tab.query("")
    tab.page.locator('#rt-table thead th[data-ident="metrics.rmse"] button').click()
    tab.idle()
    assert tab.ids() == site.search(order_by=["metrics.rmse ASC"])
    # a column of min values is loaded when the switch asks for it
    assert tab.chunks_of("metrics", "loss", "min") == []
    tab.page.click('#rt-agg button[data-agg="min"]')
    tab.idle()
    assert len(tab.chunks_of("metrics", "loss", "min")) == 4
    # free text reads names and tags from every chunk
    tab.page.fill("#rt-text", "sweep")
    tab.page.evaluate("window.runsiteRunsTable.applyNow()")
    tab.idle()
    assert sorted(tab.ids()) == sorted(site.ids[f"run-{i}"] for i in range(0, 30, 5))
    tab.close()


def test_chunked_shared_link_opens_filtered_and_sorted(
    browser: Any, chunked: Path, site: Site
) -> None:
    """A link with a filter and a sort: the first view waits for its columns."""
    q = "params.model != 'linear' and metrics.r2 > 0.5"
    tab = ChunkTab(browser, chunked.resolve().as_uri())
    tab.open(PAGE + "#" + urlencode({"q": q, "sort": "metrics.r2 DESC"}))
    tab.idle()
    expected = site.search(q, order_by=["metrics.r2 DESC"])
    assert expected and tab.ids() == expected
    tab.close()


def test_a_missing_chunk_is_an_error_on_the_page(
    browser: Any, chunked: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(chunked, broken)
    from runsite.site.data import table_column

    (broken / "data/experiments/exp" / f"{table_column('params', 'seed').file}-2.js").unlink()
    tab = ChunkTab(browser, broken.resolve().as_uri())
    page = tab.open()
    tab.page.fill("#rt-q", "params.seed = '42'")
    page.evaluate("window.runsiteRunsTable.applyNow()")
    page.wait_for_selector("#runs-app[data-error]", state="attached")
    assert "did not load" in page.text_content("#rt-count")
    tab.errors.clear()  # the browser logs the missing file; that is the point
    tab.close()


# --------------------------------------------------------------------------- 10,000 runs


def _write_synthetic(site: Path, n: int) -> None:
    """Replace the experiment's table data in ``site`` by ``n`` synthetic runs, written with
    the builder's own encoders (runsite.site.data): a manifest and column chunks."""
    from types import SimpleNamespace

    from runsite import attributes
    from runsite.site import data

    rng = random.Random(7)
    users = ["ana", "bo", "chen", "dee", "eli"]
    statuses = ["FINISHED"] * 8 + ["FAILED", "KILLED"]
    t0 = 1_780_000_000_000
    # oldest first, as the files hold them
    ids = [f"{i:032x}" for i in range(n)]
    values: dict[tuple[str, str, str | None], list[Any]] = {
        ("attributes", "run_id", None): ids,
        ("attributes", "run_name", None): [f"trial-{i}" for i in range(n)],
        ("attributes", "status", None): [rng.choice(statuses) for _ in range(n)],
        ("attributes", "start_time", None): [t0 + i * 60_000 for i in range(n)],
        ("attributes", "end_time", None): [t0 + i * 60_000 + 30_000 for i in range(n)],
        ("attributes", "duration", None): [30_000] * n,
        ("attributes", "user", None): [rng.choice(users) for _ in range(n)],
        ("attributes", "host", None): ["h"] * n,
        ("attributes", "experiment", None): ["exp"] * n,
        ("attributes", "commit", None): [f"{rng.getrandbits(160):040x}" for _ in range(n)],
        ("attributes", "dirty", None): [rng.random() < 0.1 for _ in range(n)],
        ("attributes", "parent_run_id", None): [None] * n,
        ("params", "model", None): [rng.choice(MODELS) for _ in range(n)],
        ("params", "depth", None): [str(rng.randint(1, 12)) for _ in range(n)],
        ("params", "lr", None): [str(rng.choice([0.1, 0.01, 0.001])) for _ in range(n)],
        ("tags", "team", None): [rng.choice(["alpha", "beta", None]) for _ in range(n)],
    }
    for k in ["rmse", "mae", "r2", "loss", "val_loss", "auc"]:
        last = [rng.uniform(0, 10) if rng.random() > 0.05 else None for _ in range(n)]
        values[("metrics", k, "last")] = last
        values[("metrics", k, "min")] = [None if v is None else v * 0.8 for v in last]
        values[("metrics", k, "max")] = [None if v is None else v * 1.3 for v in last]
        values[("metrics", k, "count")] = [None if v is None else 10 for v in last]
    short = {a.name: a.column for a in attributes.ATTRIBUTES}
    columns = [
        data.table_column(sec, key, agg, short=short[key] if sec == "attributes" else None)
        for (sec, key, agg) in values
    ]
    folder = site / "data" / "experiments"
    shutil.rmtree(folder / "exp", ignore_errors=True)  # one chunk: none (inline)
    for c in columns:
        column = values[(c.section, c.key, c.agg)]
        for chunk, first in enumerate(range(0, n, data.CHUNK_ROWS)):
            part = column[first : first + data.CHUNK_ROWS]
            out = folder / "exp" / f"{c.file}-{chunk}.js"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(data.push(data.chunk_payload("exp", c, chunk, part)))
    view = SimpleNamespace(
        slug="exp",
        experiment=SimpleNamespace(name="exp"),
        key_metric="rmse",
        goal="minimize",
    )
    rows = [SimpleNamespace(run_id=i) for i in ids]
    varying = {"params.model", "params.depth", "params.lr", "tags.team"}
    manifest = data.experiment_manifest(
        view,  # type: ignore[arg-type]
        columns,
        varying,
        "data/experiments/exp/",
        ("runs/", ".html"),
        rows=rows,  # type: ignore[arg-type]
    )
    (folder / "exp.js").write_text(data.push(manifest))


def test_ten_thousand_runs(browser: Any, site: Site, tmp_path: Path) -> None:
    big = tmp_path / "big"
    shutil.copytree(site.out, big)
    _write_synthetic(big, 10_000)
    tab = Tab(browser, big.resolve().as_uri())
    page = tab.open()
    ready = page.evaluate("window.runsiteRunsTable.readyAt")
    assert len(tab.ids()) == 100
    assert page.text_content("#rt-count") == "Showing 1–100 of 10,000"
    page.click("#rt-next")
    assert page.text_content("#rt-count") == "Showing 101–200 of 10,000"
    assert "page=2" in tab.hash()
    filters = [
        "metrics.rmse < 5",
        "metrics.rmse < 5 and params.model = 'xgb'",
        "params.depth > 6 OR metrics.auc.max > 12",
        "NOT (params.model = 'rf') and attributes.status = 'FINISHED'",
        "tags.team IS NULL",
        "metrics.r2 IS NULL or metrics.mae < 1",
        "params.lr = '0.01' and metrics.loss.min < 2",
        "attributes.user IN ('ana', 'bo')",
        "metrics.val_loss >= 9.5",
        "params.model LIKE 'x%'",
    ]
    times = page.evaluate(
        """async (filters) => {
            const times = [];
            for (const q of filters) {
                document.getElementById('rt-q').value = q;
                const t0 = performance.now();
                await window.runsiteRunsTable.applyNow();
                times.push(performance.now() - t0);
            }
            return times;
        }""",
        filters,
    )
    count = page.text_content("#rt-count")
    assert count.startswith("Showing 1–100 of ") and "(filtered from 10,000)" in count
    sort_ms = page.evaluate(
        """() => { const t0 = performance.now();
            document.querySelector('#rt-table th[data-ident="metrics.rmse"] button').click();
            return performance.now() - t0; }"""
    )
    print(
        f"\n10,000 runs: navigation to table ready {ready:.0f} ms; "
        f"median filter update {statistics.median(times):.1f} ms "
        f"(min {min(times):.1f}, max {max(times):.1f}); first rmse sort {sort_ms:.1f} ms"
    )
    assert urlsplit(page.url).fragment
    tab.close()
