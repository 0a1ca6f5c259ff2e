"""Every page of a built site, at a laptop's and a phone's width, in headless Chromium.

The pages are found by walking the built site (every ``*.html`` outside published
artifacts), so a new page kind is checked the day it is built. Two sites: the demo
(``example_runs/``) and a wide one (50 runs, many params and metrics, long curves). On
each page, at 1400 px and 390 px:

- nothing is wider than the viewport (wide tables scroll inside their own box);
- no table cell's number, date or duration wraps onto a second line;
- no chart is drawn past its card, and no line is drawn through a single point;
- every metric is reachable: on a run page each metric is a row of the metrics table and
  each metric with steps is in a chart; on an experiment page each metric has a chart
  (drawn at once, or when its "more metrics" section opens).

Same prerequisites as test_charts_js.py (Debian's chromium, the playwright package).
"""

from __future__ import annotations

import json
import os
import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import runsite
from browser_support import open_watched, static_server
from runsite.site import build

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
WIDTHS = (1400, 390)
WIDE_RUNS = 50

# Elements past the right edge of the viewport that are not inside a box that scrolls
# (or clips) horizontally: what makes a page wider than the screen.
OVERFLOWING = """() => {
  const W = document.documentElement.clientWidth;
  const out = [];
  for (const e of document.querySelectorAll('body *')) {
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.right <= W + 1) continue;
    let p = e.parentElement, contained = false;
    while (p && p !== document.body) {
      const ox = getComputedStyle(p).overflowX;
      if (['auto', 'scroll', 'hidden'].includes(ox)) { contained = true; break; }
      p = p.parentElement;
    }
    const name = `${e.tagName.toLowerCase()}.${e.className}`;
    if (!contained) out.push(`${name} right=${Math.round(r.right)}`);
  }
  return {scrollWidth: document.documentElement.scrollWidth, width: W, offenders: out.slice(0, 8)};
}"""

# Table cells holding a number, a date or a duration ("54.336", "2026-11-27 22:29 UTC",
# "3 min 07 s", "1.2e+06") whose text is laid out on more than one line.
WRAPPED_NUMBERS = r"""() => {
  const unit = /^(UTC|ms|s|min|h|d|B|KB|MB|GB|%)$/;
  const number = /^[-+\u2212]?[0-9][0-9.,:\u2009-]*(e[+-]?[0-9]+)?%?$/;
  const out = [];
  for (const cell of document.querySelectorAll('td, th')) {
    const text = cell.textContent.trim();
    const words = text.split(/\s+/);
    if (!text || !words.every((w) => number.test(w) || unit.test(w))) continue;
    if (!words.some((w) => number.test(w)) || cell.getClientRects().length === 0) continue;
    const range = document.createRange();
    range.selectNodeContents(cell);
    const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0)
      .map((r) => Math.round(r.top)));
    if (tops.size > 1) out.push(`${cell.tagName.toLowerCase()} "${text}" on ${tops.size} lines`);
  }
  return out.slice(0, 8);
}"""

# Per rendered chart: its drawing against its card, and its line marks' point counts.
CHART_SHAPES = """() => [...document.querySelectorAll('figure.rs-chart')].map((fig) => {
  const svg = fig.querySelector('svg');
  const f = fig.getBoundingClientRect();
  const s = svg ? svg.getBoundingClientRect() : null;
  const paths = svg ? [...svg.querySelectorAll('.mark-line path')] : [];
  const lines = paths.map((p) => p.getAttribute('d') || '');
  return {
    id: fig.getAttribute('data-spec') || fig.getAttribute('data-metric') || '?',
    deferred: fig.hasAttribute('data-defer'),
    drawn: Boolean(svg),
    error: fig.querySelector('.rs-chart-error') ? fig.textContent : null,
    left: s ? s.left - f.left : 0, right: s ? f.right - s.right : 0,
    // a line through one point is a bare moveto: no lineto in its path
    onePointLines: lines.filter((d) => d && !/[LlCcHhVv]/.test(d)).length,
  };
})"""


def _wide_store(root: Path) -> Path:
    """50 runs with 14 params, 10 one-off metrics and two long related curves each."""
    store = root / "wide-store"
    st = runsite.Store(store)
    rng = random.Random(7)
    for i in range(WIDE_RUNS):
        with st.start_run(
            "a-rather-long-experiment-name-for-a-sweep",
            run_name=f"sweep-{i:02d}-with-a-long-name",
            log_git=False,
        ) as run:
            run.log_params({f"param_{k}": round(rng.random(), 4) for k in range(14)})
            run.log_metrics({f"score_{k}": 1234.5 + rng.random() for k in range(10)})
            for step in range(0, 200, 2 if i % 2 else 1):
                run.log_metric("train_loss", 5 / (step + 1) + rng.random() * 0.1, step=step)
                run.log_metric("val_loss", 6 / (step + 1) + rng.random() * 0.1, step=step)
    return store


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    tmp = tmp_path_factory.mktemp("layout")
    old = os.environ.get("RUNSITE_CACHE_DIR")
    os.environ["RUNSITE_CACHE_DIR"] = str(tmp / "cache")
    try:
        demo = tmp / "demo-store"
        shutil.copytree(ROOT / "example_runs", demo)
        out = {"demo": tmp / "demo-site", "wide": tmp / "wide-site"}
        build(demo, out["demo"], registry_history=demo / "registry-history.json")
        build(_wide_store(tmp), out["wide"])
        yield out
    finally:
        if old is None:
            os.environ.pop("RUNSITE_CACHE_DIR", None)
        else:
            os.environ["RUNSITE_CACHE_DIR"] = old


def _pages(site: Path, per_folder: int | None = None) -> list[str]:
    """Every page of the site (not published artifacts; at most ``per_folder`` of each
    folder, e.g. of 50 run pages alike), plus the compare page with 2 runs and with every
    run."""
    pages: list[str] = []
    seen: dict[str, int] = {}
    for path in sorted(site.rglob("*.html")):
        rel = path.relative_to(site)
        if "artifacts" in rel.parts:
            continue
        folder = rel.parts[0] if len(rel.parts) > 1 else ""
        seen[folder] = seen.get(folder, 0) + 1
        if folder and per_folder is not None and seen[folder] > per_folder:
            continue
        pages.append(rel.as_posix())
    ids = sorted(p.stem for p in (site / "runs").glob("*.html"))
    return [*pages, f"compare.html#runs={','.join(ids[:2])}", f"compare.html#runs={','.join(ids)}"]


def _settle(page: Any) -> None:
    page.evaluate(
        """async () => {
          if (window.runsiteCharts) await window.runsiteCharts.ready;
          if (window.runsiteCompare) await window.runsiteCompare.ready;
        }"""
    )
    page.wait_for_timeout(200)


def _payloads(page: Any) -> list[dict[str, Any]]:
    texts = page.locator("figure.rs-chart + script, .chart-card script[type='application/json']")
    return [json.loads(t) for t in texts.all_text_contents()]


def _metric_table_keys(page: Any) -> list[str]:
    return page.locator("section:has(> h2:text-is('Metrics')) table tbody tr th").all_inner_texts()


def _check_page(browser: Any, base: str, rel: str, width: int, site: Path) -> list[str]:
    w = open_watched(browser, base, rel, width=width)
    page = w.page
    problems: list[str] = []
    try:
        _settle(page)
        # open every "more charts" section so its charts draw, as a reader would
        page.evaluate(
            "() => document.querySelectorAll('details.more-charts')"
            ".forEach((d) => { d.open = true; })"
        )
        _settle(page)
        page.wait_for_timeout(300)
        got = page.evaluate(OVERFLOWING)
        if got["scrollWidth"] > got["width"]:
            problems.append(f"page is {got['scrollWidth']} px wide: {got['offenders']}")
        problems += [f"wrapped: {w}" for w in page.evaluate(WRAPPED_NUMBERS)]
        for c in page.evaluate(CHART_SHAPES):
            if c["error"]:
                problems.append(f"chart {c['id']}: {c['error']}")
            elif not c["drawn"]:
                problems.append(f"chart {c['id']} is not drawn")
            elif c["left"] < -1 or c["right"] < -1:
                problems.append(
                    f"chart {c['id']} drawn past its card ({c['left']:.0f}, {c['right']:.0f})"
                )
            if c["onePointLines"]:
                problems.append(f"chart {c['id']}: {c['onePointLines']} line(s) through one point")
        problems += _reachable(page, rel, site)
        problems += w.problems()
    finally:
        page.close()
    return [f"{rel} at {width} px: {p}" for p in problems]


def _reachable(page: Any, rel: str, site: Path) -> list[str]:
    """Every metric is somewhere a reader can see it."""
    out = []
    if rel.startswith("runs/"):
        data = (site / "data" / "runs" / (Path(rel).stem + ".js")).read_text("utf-8")
        series = json.loads(data[data.index(".push(") + 6 : data.rindex(")")])["series"]
        in_table = set(_metric_table_keys(page))
        charted: set[str] = set()
        for p in _payloads(page):
            cols = p["data"]["series"]
            charted |= set(cols.get("series") or [p["spec"]["title"]["text"]])
        for key, s in series.items():
            if key not in in_table:
                out.append(f"metric {key} is not in the metrics table")
            if len(s["step"]) > 1 and key not in charted:
                out.append(f"metric {key} has {len(s['step'])} points and no chart")
    elif rel.startswith("experiments/"):
        data = (site / "data" / "experiments" / (Path(rel).stem + ".js")).read_text("utf-8")
        payload = json.loads(data[data.index(".push(") + 6 : data.rindex(")")])
        keys = set(payload.get("metrics") or [])
        titles = {p["spec"]["title"]["text"] for p in _payloads(page)}
        out += [f"metric {k} has no chart" for k in sorted(keys - titles)]
    return out


@pytest.mark.parametrize("name", ["demo", "wide"])
def test_every_page_fits_and_every_chart_reads(
    sites: dict[str, Path], browser: Any, name: str
) -> None:
    site = sites[name]
    pages = _pages(site, per_folder=None if name == "demo" else 3)
    kinds = {p.split("/")[0].split("#")[0] for p in pages}
    assert {"index.html", "compare.html", "registry.html", "datasets.html", "runs"} <= kinds
    assert "experiments" in kinds
    problems: list[str] = []
    with static_server(site) as base:
        for rel in pages:
            for width in WIDTHS:
                problems += _check_page(browser, base, rel, width, site)
    assert not problems, "\n".join(problems)


def test_run_chart_smoothing_and_log_scale(sites: dict[str, Path], browser: Any) -> None:
    site = sites["wide"]
    rel = sorted(p.relative_to(site).as_posix() for p in (site / "runs").glob("*.html"))[0]
    with static_server(site) as base:
        w = open_watched(browser, base, rel)
        page = w.page
        _settle(page)
        card = page.locator(".chart-card", has=page.locator(".chart-tools")).first
        fig = card.locator("figure.rs-chart")
        title = fig.locator(".role-title-text").text_content()
        assert title == "train_loss · val_loss"  # the related pair on one chart
        assert fig.locator(".role-legend").count() == 1  # two series: a legend that tells

        def line_paths() -> int:
            return fig.locator(".mark-line path").count()

        raw = line_paths()
        assert raw == 2  # one line per series, no smoothed ones yet
        card.locator("[data-tool=smooth]").fill("0.9")
        page.wait_for_timeout(400)
        assert line_paths() == 4  # each series: its faint raw line and the smoothed one
        axis_before = "|".join(fig.locator(".role-axis").all_text_contents())
        card.locator("[data-tool=log]").check()
        page.wait_for_timeout(400)
        assert (
            "|".join(fig.locator(".role-axis").all_text_contents()) != axis_before
        )  # a log y axis
        assert line_paths() == 4  # still smoothed
        assert w.problems() == []
        page.close()
