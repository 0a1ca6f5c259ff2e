"""The run page shows system metrics in their own section (HTML parsed, and in Chromium
at 1400 and 390 px)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import runsite
from runsite.site import build
from site_helpers import charts, parse, section, text_of


@pytest.fixture
def site(store: Path, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    pytest.importorskip("psutil")
    runsite.set_system_metrics_sampling_interval(0.05)
    try:
        with runsite.start_run(run_name="sampled", log_system_metrics=True, log_git=False) as run:
            for step in range(5):
                runsite.log_metric("loss", 1.0 / (step + 1), step=step)
            end = time.monotonic() + 0.6
            while time.monotonic() < end:
                sum(range(1000))
    finally:
        runsite.set_system_metrics_sampling_interval(None)
    out = tmp_path / "site"
    build(store, out)
    yield out, run.run_id


def _run_page(out: Path, run_id: str) -> Path:
    (page,) = [p for p in out.rglob("*.html") if run_id in p.name or run_id in str(p.parent)]
    return page


def test_run_page_has_a_system_metrics_section(site: tuple[Path, str]) -> None:
    out, run_id = site
    doc = parse(_run_page(out, run_id))
    own = section(doc, "Metrics")
    rows = [text_of(th) for th in own.select("tbody th")]
    assert rows == ["loss"]
    system = section(doc, "System metrics")
    names = [text_of(th) for th in system.select("tbody th")]
    assert "cpu_utilization_percentage" in names
    assert "system_memory_usage_megabytes" in names
    assert all(not n.startswith("system/") for n in names)
    drawn = [fig.get("data-spec") for fig, _ in charts(doc)]
    assert any(str(d).startswith("sys-") for d in drawn)
    assert system.select("figure.rs-chart")  # the curves are inside the section


@pytest.mark.browser
@pytest.mark.parametrize("width", [1400, 390])
def test_system_metrics_in_chromium(site: tuple[Path, str], width: int, tmp_path: Path) -> None:
    from browser_support import chromium, open_watched, static_server

    out, run_id = site
    rel = _run_page(out, run_id).relative_to(out).as_posix()
    with static_server(out) as base, chromium() as browser:
        w = open_watched(browser, base, rel, width=width)
        w.page.wait_for_timeout(800)
        assert w.problems() == []
        heading = w.page.locator("#system-metrics h2")
        assert heading.inner_text() == "System metrics"
        box = w.page.locator("#system-metrics").bounding_box()
        assert box is not None and box["width"] <= width
        # nothing in the section is wider than the page
        scroll = w.page.evaluate("() => document.documentElement.scrollWidth")
        assert scroll <= width + 1
        shots = Path(os.environ.get("RUNSITE_SCREENSHOTS") or tmp_path)  # to look at them
        shots.mkdir(parents=True, exist_ok=True)
        w.page.screenshot(path=str(shots / f"system-metrics-{width}.png"), full_page=True)
        drawn = w.page.locator(
            "#system-metrics figure.rs-chart svg, #system-metrics figure.rs-chart canvas"
        )
        assert drawn.count() >= 1
