"""The compare page (compare.html#runs=a,b,c) of a real built site, in headless Chromium.

Same prerequisites as test_charts_js.py: Debian's chromium at /usr/bin/chromium and the
playwright Python package (never ``playwright install``).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import runsite
from browser_support import Watched, static_server, watch
from runsite.site import build, charts

pytestmark = pytest.mark.browser

XSS = "<img src=x onerror=alert(1)>"
SHOTS = Path(os.environ.get("RUNSITE_SHOTS", "")) if os.environ.get("RUNSITE_SHOTS") else None


@dataclass
class Site:
    root: Path
    ids: dict[str, str]


def _log_run(name: str, params: dict[str, Any], metrics: dict[str, list[float]], **kw: Any) -> str:
    t0 = int(time.time() * 1000)
    with runsite.start_run(run_name=name, log_git=False, tags=kw.get("tags")) as run:
        runsite.log_params(params)
        if "data" in kw:
            runsite.log_input(kw["data"], name="train")
        for key, values in metrics.items():
            for i, v in enumerate(values):
                runsite.log_metric(key, v, step=i, timestamp=t0 + i * 1500)
        return run.run_id


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    base = tmp_path_factory.mktemp("compare")
    store = base / "store"
    data_a = base / "train-a.csv"
    data_a.write_text("x,y\n1,2\n")
    data_c = base / "train-c.csv"
    data_c.write_text("x,y\n1,3\n")
    old = os.getcwd()
    os.chdir(base)
    try:
        runsite.set_store(store)
        runsite.set_experiment("taxi")
        loss = [2.0 / (i + 1) for i in range(20)]
        ids = {
            "a": _log_run(
                "baseline",
                {"lr": 0.1, "batch": 32, "optimizer": "adam"},
                {"loss": loss, "acc": [0.5 + i / 50 for i in range(20)]},
                tags={"team": "red"},
                data=data_a,
            ),
            "b": _log_run(
                "small-lr",
                {"lr": 0.01, "batch": 32, "optimizer": "adam"},
                {"loss": [v * 1.2 for v in loss], "only_b": [1.0, 2.0]},
                tags={"team": "red"},
                data=data_a,
            ),
        }
        runsite.set_experiment("churn")
        ids["c"] = _log_run(
            "other-experiment",
            {"lr": 0.001, "batch": 64, "optimizer": "adam", "dropout": 0.2},
            {"loss": [v * 0.8 for v in loss], "acc": [0.6 + i / 60 for i in range(20)]},
            tags={"team": "blue"},
            data=data_c,
        )
        ids["x"] = _log_run(XSS, {"lr": 0.5, "note": XSS}, {"loss": [1.0, 0.5, 0.25]})
        root = base / "site"
        result = build(store, root)
        assert result.warnings == []
        yield Site(root, ids)
    finally:
        os.chdir(old)


@pytest.fixture(scope="module")
def server(site: Site) -> Iterator[str]:
    with static_server(site.root) as base:
        yield base.rstrip("/")


def _open(browser: Any, base: str, fragment: str) -> Watched:
    w = watch(browser, (base, "data:"))
    w.page.goto(f"{base}compare.html{fragment}")
    _settle(w.page)
    return w


def _settle(page: Any) -> None:
    page.wait_for_function("() => window.runsiteCompare !== undefined", timeout=15_000)
    page.evaluate("async () => { await window.runsiteCompare.ready; }")


def _urls(site: Site, server: str) -> list[tuple[str, str]]:
    return [(site.root.as_uri() + "/", "file"), (server + "/", "http")]


def _paths_per_chart(page: Any) -> dict[str, int]:
    out: dict[str, int] = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('figure.cmp-curve')].map(
            f => [f.dataset.metric, f.querySelectorAll('svg .mark-line path').length]))"""
    )
    return out


@pytest.mark.parametrize("where", ["file", "http"])
def test_compare_three_runs(browser: Any, site: Site, server: str, where: str) -> None:
    base = dict((w, u) for u, w in _urls(site, server))[where]
    ids = site.ids
    w = _open(browser, base, f"#runs={ids['a']},{ids['b']},{ids['c']}")
    page = w.page
    try:
        assert page.locator("#compare-help").is_hidden()
        # a header row per run, names linking to their pages
        rows = page.locator("#cmp-runs tbody tr")
        assert rows.count() == 3
        links = page.locator("#cmp-runs tbody tr td:first-child a")
        assert links.all_inner_texts() == ["baseline", "small-lr", "other-experiment"]
        assert links.evaluate_all("as => as.map(a => a.getAttribute('href'))") == [
            f"runs/{ids[k]}.html" for k in "abc"
        ]
        header = page.locator("#cmp-runs").inner_text()
        assert "taxi" in header and "churn" in header and "finished" in header

        # params: exactly the differing keys highlighted; the toggle hides equal rows
        params = page.locator("#cmp-params tbody tr")
        keys = params.evaluate_all("rs => rs.map(r => [r.dataset.key, r.className])")
        assert {k for k, c in keys if c == "cmp-diff"} == {"lr", "batch", "dropout"}
        assert {k for k, c in keys if c == "cmp-same"} == {"optimizer"}
        same = page.locator("#cmp-params tr[data-key=optimizer]")
        assert same.is_visible()
        page.locator("label[for=cmp-params-only-diff]").click()
        assert same.is_hidden()
        assert page.locator("#cmp-params tr[data-key=lr]").is_visible()
        page.locator("label[for=cmp-params-only-diff]").click()
        assert same.is_visible()

        # tags and data inputs the same way
        tags = page.locator("#cmp-tags tbody tr")
        assert tags.evaluate_all("rs => rs.map(r => [r.dataset.key, r.className])") == [
            ["team", "cmp-diff"]
        ]
        inputs = page.locator("#cmp-inputs tr[data-key=train]")
        assert inputs.get_attribute("class") == "cmp-diff"
        cells = inputs.locator("td").all_inner_texts()
        assert cells[0] == cells[1] != cells[2]

        # metrics summary: last/min/max per run
        metric_rows = page.locator("#cmp-metrics tbody tr")
        assert metric_rows.evaluate_all("rs => rs.map(r => r.dataset.key)") == [
            "acc",
            "loss",
            "only_b",
        ]
        loss_cells = page.locator("#cmp-metrics tr[data-key=loss] td").all_inner_texts()
        assert len(loss_cells) == 9 and loss_cells[1] == "0.1" and loss_cells[2] == "2"

        # one overlaid chart per shared metric, one line per run that has it
        assert _paths_per_chart(page) == {"acc": 2, "loss": 3}
        for d in page.locator("figure.cmp-curve svg .mark-line path").evaluate_all(
            "ps => ps.map(p => p.getAttribute('d'))"
        ):
            assert d and d.startswith("M") and "L" in d

        # parallel coordinates and scatter are drawn
        assert page.locator("#cmp-parallel-chart svg").count() == 1
        assert page.locator("#cmp-parallel-chart svg g.mark-line.role-mark path").count() == 3
        assert page.locator("#cmp-scatter-chart svg").count() == 1
        assert page.locator("#cmp-scatter-chart svg g.mark-symbol.role-mark path").count() == 3
        page.select_option("#cmp-scatter-param", "optimizer")  # a string param
        _settle(page)
        assert page.locator("#cmp-scatter-chart svg g.mark-symbol.role-mark path").count() == 3
        page.select_option("#cmp-scatter-metric", "acc")
        _settle(page)
        assert page.locator("#cmp-scatter-chart svg g.mark-symbol.role-mark path").count() == 2
        assert page.locator("#cmp-scatter .cmp-note").is_visible()

        if SHOTS is not None:
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / f"compare-{where}.png"), full_page=True)

        # log scale, then wall time: re-rendered, still one line per run
        page.locator("label[for=cmp-log]").click()
        _settle(page)
        assert _paths_per_chart(page) == {"acc": 2, "loss": 3}
        scales = page.evaluate(
            "() => [...document.querySelectorAll('figure.cmp-curve')]"
            ".map(f => f._rsPayload.spec.encoding.y.scale.type)"
        )
        assert scales == ["log", "log"]
        page.locator("label[for=cmp-x-time]").click()
        _settle(page)
        assert _paths_per_chart(page) == {"acc": 2, "loss": 3}
        titles = page.locator("figure.cmp-curve svg .role-axis-title text").evaluate_all(
            "ts => ts.map(t => t.textContent)"
        )
        assert "seconds since the run started" in titles
        page.locator("label[for=cmp-x-step]").click()
        page.locator("label[for=cmp-log]").click()
        _settle(page)
        assert _paths_per_chart(page) == {"acc": 2, "loss": 3}
        assert page.locator(".rs-chart-error").count() == 0
        w.assert_clean()
    finally:
        page.close()


@pytest.mark.parametrize("where", ["file", "http"])
def test_untrusted_names_and_params_stay_text(
    browser: Any, site: Site, server: str, where: str
) -> None:
    base = dict((w, u) for u, w in _urls(site, server))[where]
    w = _open(browser, base, f"#runs={site.ids['a']},{site.ids['x']}")
    page = w.page
    try:
        assert page.locator("#cmp-runs tbody tr").count() == 2
        assert page.locator("main img").count() == 0
        assert XSS in page.locator("#cmp-runs").inner_text()
        assert page.locator("#cmp-params tr[data-key=note] td").all_inner_texts()[1] == XSS
        assert _paths_per_chart(page) == {"loss": 2}
        page.wait_for_timeout(200)
        w.assert_clean()
    finally:
        page.close()


@pytest.mark.parametrize("where", ["file", "http"])
def test_missing_run_and_too_few_runs(browser: Any, site: Site, server: str, where: str) -> None:
    base = dict((w, u) for u, w in _urls(site, server))[where]
    a, b = site.ids["a"], site.ids["b"]
    w = _open(browser, base, f"#runs={a},no-such-run,{b}")
    page = w.page
    try:
        missing = page.locator(".cmp-missing")
        assert missing.all_inner_texts() == ["run no-such-run is not on this site"]
        assert page.locator("#cmp-runs tbody tr").count() == 2  # the others still compare
        # the browser reports the missing file itself; nothing else may fail
        w.assert_clean(allow=("no-such-run", "ERR_FILE_NOT_FOUND", "404"))

        # an id that is not an id never becomes a path
        page.evaluate(f"() => {{ location.hash = '#runs=../../etc/passwd,' + {json.dumps(a)}; }}")
        _settle(page)
        assert page.locator(".cmp-missing").all_inner_texts() == [
            "run ../../etc/passwd is not on this site"
        ]
        assert page.locator("#compare-help").is_visible()

        # no runs at all: how to pick them
        page.evaluate("() => { location.hash = ''; }")
        _settle(page)
        assert page.locator("#compare-help").is_visible()
        assert "Pick at least two runs" in page.locator("#compare-help").inner_text()
        assert page.locator("#compare").is_hidden()
        assert w.foreign == [] and w.dialogs == [] and w.errors == []
    finally:
        page.close()


def test_page_embeds_the_specs_once(site: Site) -> None:
    html = (site.root / "compare.html").read_text("utf-8")
    assert html.count('id="compare-specs"') == 1
    start = html.index('id="compare-specs">') + len('id="compare-specs">')
    block = html[start : html.index("</script>", start)]
    assert "<" not in block and ">" not in block and "&" not in block
    specs = json.loads(block)
    assert specs == charts.compare_specs()
    assert set(specs) == {
        "bars",
        "curves",
        "curves_log",
        "curves_time",
        "curves_time_log",
        "parallel",
        "scatter",
    }
    for spec in specs.values():
        assert spec["data"] == {"name": "series"}
    assert specs["curves_log"]["encoding"]["y"]["scale"]["type"] == "log"
