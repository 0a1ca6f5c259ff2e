"""Version and model pages with evaluations, in headless Chromium at 1400 and 390 px:
the same checks as every other page (test_site_layout_browser.py: nothing wider than
the screen, charts drawn inside their cards, no line through one point, no errors), over
every page of a site whose versions were evaluated twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from browser_support import chromium, static_server
from evaluation_helpers import evaluated_store
from runsite.site import build
from test_site_layout_browser import WIDTHS, _check_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_every_page_of_an_evaluated_registry_fits_both_widths(tmp_path: Path) -> None:
    store, _, _ = evaluated_store(tmp_path)
    site = tmp_path / "site"
    build(store, site)
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    # the pages this feature draws or links (every run page is the layout test's job),
    # plus one evaluation run's page (long hash tags)
    eval_run = next(p for p in pages if p.startswith("runs/"))
    pages = [p for p in pages if not p.startswith(("runs/", "compare"))] + [eval_run]
    assert "models/diabetes/v1.html" in pages and "models/diabetes/v2.html" in pages
    problems: list[str] = []
    with chromium() as browser, static_server(site) as base:
        for rel in pages:
            for width in WIDTHS:
                problems += _check_page(browser, base, rel, width, site)
    assert problems == []
