"""charts.js + the vendored Vega builds, driven in a real headless Chromium.

Needs Debian's chromium (``apt-get install -y chromium``, gives /usr/bin/chromium) and the
``playwright`` Python package (never ``playwright install``: it downloads a browser).
Without them the tests skip, or fail when ``CI`` is set.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser_support import RECORD_VIOLATIONS, static_server

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "themes" / "default" / "static"
VENDOR_SCRIPTS = ["vega.min.js", "vega-lite.min.js", "vega-interpreter.js", "vega-embed.min.js"]
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'none'"
)
BROKEN_ID = "chart-broken"


def _chart_payload(runs: dict[str, list[float | None]], title: str) -> dict[str, Any]:
    import altair as alt

    spec = (
        alt.Chart(alt.NamedData("series"), title=title)
        .mark_line()
        .encode(x="step:Q", y="value:Q", color="run:N")
        .properties(width=320, height=160)
        .to_dict()
    )
    columns: dict[str, list[Any]] = {"step": [], "value": [], "run": []}
    for run, values in runs.items():
        columns["step"] += list(range(len(values)))
        columns["value"] += values
        columns["run"] += [run] * len(values)
    return {"spec": spec, "data": {"series": columns}}


def _json_script(chart_id: str, payload: dict[str, Any]) -> str:
    # allow_nan=False: NaN is not JSON; the Python side must send null
    text = json.dumps(payload, allow_nan=False).replace("</", "<\\/")
    return f'<script type="application/json" id="{chart_id}">{text}</script>'


def _page(theme: str) -> str:
    rmse = _chart_payload(
        {"baseline": [0.9, 0.7, 0.55, 0.5, 0.48], "tuned": [0.8, 0.5, 0.4, 0.33, 0.3]}, "rmse"
    )
    loss = _chart_payload(
        {
            "a": [2.0, 1.2, 0.9, 0.7, 0.6, 0.55],
            "b": [2.2, None, 1.0, 0.8, 0.7, 0.65],  # a missing (NaN) value
            "c": [1.8, 1.1, 0.8, 0.6, 0.5, 0.45],
        },
        "loss",
    )
    broken = {"spec": {"mark": "no-such-mark", "data": {"name": "series"}}, "data": {}}
    scripts = "\n".join(f'<script src="static/vendor/{name}"></script>' for name in VENDOR_SCRIPTS)
    bg, fg = ("#1b1d21", "#e8e8e8") if theme == "dark" else ("#ffffff", "#222222")
    return f"""<!doctype html>
<html lang="en" data-theme="{theme}">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<title>charts</title>
<style>body {{ background: {bg}; color: {fg}; font-family: sans-serif; }}</style>
{scripts}
<script src="static/js/charts.js"></script>
</head>
<body>
<figure class="rs-chart" id="fig-rmse" data-spec="chart-rmse"></figure>
<figure class="rs-chart" id="fig-loss" data-spec="chart-loss"></figure>
<figure class="rs-chart" id="fig-broken" data-spec="{BROKEN_ID}"></figure>
{_json_script("chart-rmse", rmse)}
{_json_script("chart-loss", loss)}
{_json_script(BROKEN_ID, broken)}
</body>
</html>
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    shutil.copytree(STATIC / "vendor", root / "static" / "vendor")
    (root / "static" / "js").mkdir(parents=True)
    shutil.copy2(STATIC / "js" / "charts.js", root / "static" / "js" / "charts.js")
    for theme in ("light", "dark"):
        (root / f"{theme}.html").write_text(_page(theme), encoding="utf-8")
    return root


@pytest.fixture
def server(site: Path) -> Iterator[str]:
    with static_server(site) as base:
        yield base.rstrip("/")


def _wait_rendered(page: Any) -> None:
    """Wait until charts.js has loaded and rendered the page's figures."""
    page.wait_for_function("() => window.runsiteCharts !== undefined", timeout=15_000)
    page.evaluate("async () => { await window.runsiteCharts.ready; }")


def _open_and_check(browser: Any, url: str, allowed_origin: str, shot: Path) -> None:
    page = browser.new_page(viewport={"width": 800, "height": 900})
    console: list[str] = []
    page_errors: list[str] = []
    foreign: list[str] = []

    def on_route(route: Any) -> None:
        req_url = route.request.url
        if req_url.startswith(allowed_origin) or req_url.startswith("data:"):
            route.continue_()
        else:
            foreign.append(req_url)
            route.abort()

    page.route("**/*", on_route)
    page.on(
        "request",
        lambda r: None if r.url.startswith((allowed_origin, "data:")) else foreign.append(r.url),
    )
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page_errors.append(str(e)))
    page.add_init_script(RECORD_VIOLATIONS)
    try:
        page.goto(url)
        _wait_rendered(page)
        # the vendored interpreter is loaded (vega-embed prefers it to its bundled copy)
        assert page.evaluate("() => typeof vega.expressionInterpreter.encode") == "function"

        # two charts rendered as SVG, with one line per run
        assert page.locator("#fig-rmse svg").count() == 1
        assert page.locator("#fig-loss svg").count() == 1
        assert page.locator("#fig-rmse svg .mark-line path").count() == 2
        assert page.locator("#fig-loss svg .mark-line path").count() == 3
        # each line path really has drawing commands
        for d in page.locator("svg .mark-line path").evaluate_all(
            "ps => ps.map(p => p.getAttribute('d'))"
        ):
            assert d and d.startswith("M") and "L" in d

        # the broken chart shows a readable message instead of a blank
        broken = page.locator("#fig-broken")
        assert broken.locator("svg").count() == 0
        assert "could not be drawn" in broken.inner_text()

        others = [m for m in console if BROKEN_ID not in m]
        assert others == [], f"unexpected console errors: {others}"
        assert any(BROKEN_ID in m for m in console), "the broken chart was not logged"
        assert page_errors == []
        assert page.evaluate("() => window.__cspViolations") == []
        assert foreign == [], f"requests left {allowed_origin}: {foreign}"

        page.screenshot(path=str(shot), full_page=True)
    finally:
        page.close()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_charts_from_file_url(browser: Any, site: Path, tmp_path: Path, theme: str) -> None:
    url = (site / f"{theme}.html").as_uri()
    _open_and_check(browser, url, "file://", tmp_path / f"file-{theme}.png")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_charts_from_local_http(browser: Any, server: str, tmp_path: Path, theme: str) -> None:
    _open_and_check(browser, f"{server}/{theme}.html", server + "/", tmp_path / f"http-{theme}.png")


def test_dark_theme_uses_light_labels(browser: Any, site: Path) -> None:
    page = browser.new_page()
    try:
        page.goto((site / "dark.html").as_uri())
        _wait_rendered(page)
        fills = page.locator("#fig-rmse svg .role-axis-label text").evaluate_all(
            "ts => ts.map(t => t.getAttribute('fill'))"
        )
        assert fills and set(fills) == {"#d4d4d4"}
        # switching the page theme re-renders with dark-on-light labels
        page.evaluate("() => document.documentElement.setAttribute('data-theme', 'light')")
        page.wait_for_function(
            "() => [...document.querySelectorAll('#fig-rmse svg .role-axis-label text')]"
            ".every(t => t.getAttribute('fill') === '#333333')"
        )
    finally:
        page.close()


def test_columnar_data_becomes_rows(browser: Any, site: Path) -> None:
    """render(el, payload) for charts created later; bad column lengths give a message."""
    page = browser.new_page()
    try:
        page.goto((site / "light.html").as_uri())
        _wait_rendered(page)
        payload = _chart_payload({"x": [1.0, 2.0, None, 4.0]}, "late")
        n_paths = page.evaluate(
            """async (payload) => {
                const el = document.createElement('figure');
                document.body.appendChild(el);
                const res = await window.runsiteCharts.render(el, payload);
                return res ? el.querySelectorAll('svg .mark-line path').length : -1;
            }""",
            payload,
        )
        assert n_paths == 1
        payload["data"]["series"]["run"].pop()
        message = page.evaluate(
            """async (payload) => {
                const el = document.createElement('figure');
                document.body.appendChild(el);
                const res = await window.runsiteCharts.render(el, payload);
                return res === null ? el.textContent : 'rendered';
            }""",
            payload,
        )
        assert 'column "run" is not an array of length 4' in message
    finally:
        page.close()
