"""Attack 9 of issue 15: artifacts of active types (SVG, XHTML, XML, SHTML, HTML) must be
inert when their published copy is opened directly, on the site's own origin.

Real Chromium (Debian's) opens each published copy from a local server that chooses the
content type from the extension, as GitHub Pages does. A payload that runs calls back to
the server (`fetch('/pwned-…')`), which records it.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest

import runsite
from browser_support import chromium
from runsite.site import build

pytestmark = pytest.mark.browser

PAYLOADS = {
    "plot.svg": (
        '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40" '
        "onload=\"fetch('/pwned-svg-onload')\"><script>fetch('/pwned-svg')</script>"
        '<circle cx="20" cy="20" r="15" fill="teal"/></svg>'
    ),
    "page.xhtml": (
        '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>x</title></head><body>'
        "<script>fetch('/pwned-xhtml')</script></body></html>"
    ),
    "data.xml": (
        '<?xml version="1.0"?><doc><x:script xmlns:x="http://www.w3.org/1999/xhtml">'
        "fetch('/pwned-xml')</x:script></doc>"
    ),
    "page.shtml": "<script>fetch('/pwned-shtml')</script><p>hi</p>",
    "report.html": (
        "<script>fetch('/pwned-html')</script><img src=x onerror=\"fetch('/pwned-html-img')\">"
    ),
    "Upper.SVG": (
        "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>fetch('/pwned-upper-svg')</script></svg>"
    ),
}
# What GitHub Pages sends for these extensions (mime-types), plus text for ".txt".
TYPES = {
    ".svg": "image/svg+xml",
    ".xhtml": "application/xhtml+xml",
    ".xml": "application/xml",
    ".shtml": "text/html",
    ".html": "text/html",
    ".txt": "text/plain; charset=utf-8",
}


@contextmanager
def pages_like_server(root: Path) -> Iterator[tuple[str, list[str]]]:
    """Serve ``root`` choosing types by extension; yields the base URL and the paths asked."""
    asked: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def guess_type(self, path: Any) -> str:
            suffix = Path(str(path)).suffix.lower()
            return TYPES.get(suffix) or super().guess_type(path)

        def do_GET(self) -> None:
            asked.append(self.path)
            super().do_GET()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(root))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", asked
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def test_active_artifacts_are_inert_when_opened_directly(store: Path, tmp_path: Path) -> None:
    with runsite.start_run(log_git=False, run_name="hostile") as run:
        for name, text in PAYLOADS.items():
            runsite.log_text(text, name)
    site = tmp_path / "site"
    build(store, site)
    run_page = f"runs/{run.info.run_id}.html"
    assert (site / run_page).is_file()
    with chromium() as browser, pages_like_server(site) as (base, asked):
        page = browser.new_page()
        page.on("dialog", lambda d: d.dismiss())
        page.goto(base + run_page)
        page.wait_for_load_state("load")
        links = page.eval_on_selector_all(
            "ul.artifacts a[download]", "els => els.map(e => [e.textContent, e.href])"
        )
        published = dict(links)
        assert set(published) == set(PAYLOADS), links
        # the SVG is still shown as an image on the run page
        shown = page.eval_on_selector_all(
            "ul.artifacts img.preview", "els => els.map(e => [e.alt, e.naturalWidth])"
        )
        assert ["plot.svg", 40] in [list(s) for s in shown], shown
        for url in published.values():
            assert url.startswith(base), url
            page.goto(url)
            page.wait_for_load_state("load")
            page.wait_for_timeout(300)
        page.goto(urljoin(base, "index.html"))  # (flush any pending request)
        page.wait_for_timeout(300)
    pwned = [p for p in asked if p.startswith("/pwned")]
    assert pwned == [], f"scripts ran in published artifacts: {pwned}"
