"""Shared pieces of the browser tests: Debian's Chromium through Playwright, a local
static server, and a page that records everything that must not happen."""

from __future__ import annotations

import functools
import http.server
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("RUNSITE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""


def missing(reason: str) -> None:
    """Fail in CI (the browser is part of the contract there), skip elsewhere."""
    msg = (
        f"browser test prerequisites missing: {reason}. Install with "
        "`apt-get install -y chromium` and `pip install playwright` (not `playwright install`)."
    )
    if os.environ.get("CI"):
        pytest.fail(msg)
    pytest.skip(msg)


@contextmanager
def chromium() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the playwright Python package is not installed")
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        missing(f"no Chromium executable at {CHROMIUM}")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def static_server(root: Path) -> Iterator[str]:
    """Serve ``root`` on 127.0.0.1 (a free port); yields the base URL ending in '/'."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(root))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@dataclass
class Watched:
    """A page with its console errors, page errors, foreign requests, dialogs and
    failed requests."""

    page: Any
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        out = [f"console: {m}" for m in self.console] + [f"error: {e}" for e in self.errors]
        out += [f"left the site: {u}" for u in self.foreign]
        out += [f"dialog: {d}" for d in self.dialogs]
        out += [f"CSP: {v}" for v in self.page.evaluate("() => window.__cspViolations || []")]
        return out

    def assert_clean(self, allow: tuple[str, ...] = ()) -> None:
        """Nothing went wrong, but console errors containing one of ``allow``."""
        console = [m for m in self.console if not any(a in m for a in allow)]
        assert console == [], f"console errors: {console} (failed requests: {self.failed})"
        assert self.errors == [], f"page errors: {self.errors}"
        assert self.foreign == [], f"requests left the site: {self.foreign}"
        assert self.dialogs == [], f"dialogs opened: {self.dialogs}"
        assert self.page.evaluate("() => window.__cspViolations") == []


def watch(browser: Any, allowed: str | tuple[str, ...], width: int = 1280) -> Watched:
    """A new page that records what must not happen; a request to a URL that does not
    start with ``allowed`` is aborted and recorded."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    w = Watched(page)

    def on_route(route: Any) -> None:
        if route.request.url.startswith(allowed):
            route.continue_()
        else:
            w.foreign.append(route.request.url)
            route.abort()

    def on_dialog(dialog: Any) -> None:
        w.dialogs.append(dialog.message)
        dialog.dismiss()

    page.route("**/*", on_route)
    page.on("console", lambda m: w.console.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: w.errors.append(str(e)))
    page.on("requestfailed", lambda r: w.failed.append(r.url))
    page.on("dialog", on_dialog)
    page.add_init_script(RECORD_VIOLATIONS)
    return w


def open_watched(browser: Any, base: str, path: str, width: int = 1280) -> Watched:
    """Open ``base + path``; every request outside ``base`` is aborted and recorded."""
    w = watch(browser, (base, "data:"), width)
    w.page.goto(base + path)
    w.page.wait_for_load_state("load")
    w.page.wait_for_timeout(300)  # charts and tables render after load
    return w


def copy_query_js(folder: Path) -> None:
    """query.js into ``folder`` with the data file it reads first, ``vocabulary.js`` (the
    run attributes, written by the same function the build uses): a page loads
    ``vocabulary.js`` then ``query.js``."""
    from runsite.site import data

    root = Path(__file__).resolve().parent.parent
    query_js = root / "themes" / "default" / "static" / "js" / "query.js"
    (folder / "query.js").write_bytes(query_js.read_bytes())
    (folder / "vocabulary.js").write_text(data.push(data.vocabulary_payload()), "utf-8")
