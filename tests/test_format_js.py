"""format.js (the site's number/time/duration formatter, used by runs.js and compare.js)
in a real headless Chromium, on the shared cases of tests/format_cases.json that
runsite.fmt passes too (tests/test_format_cases.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from browser_support import chromium, static_server

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
FORMAT_JS = ROOT / "themes" / "default" / "static" / "js" / "format.js"
CASES = json.loads(Path(__file__).with_name("format_cases.json").read_text("utf-8"))
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'self'">
<title>format.js</title><script src="format.js"></script></head><body></body></html>
"""
RUN_JS = """
(cases) => {
  const F = window.runsiteFormat;
  const special = { NaN: NaN, Infinity: Infinity, "-Infinity": -Infinity };
  const v = (x) => (typeof x === "string" ? special[x] : x);
  return {
    num: cases.num.map((c) => F.num(v(c.value))),
    time: cases.time.map((c) => F.time(c.ms)),
    duration: cases.duration.map((c) => F.duration(c.ms)),
  };
}
"""


def test_format_js_agrees_with_the_python_formatter(tmp_path: Path) -> None:
    shutil.copy(FORMAT_JS, tmp_path / "format.js")
    (tmp_path / "index.html").write_text(PAGE)
    with chromium() as browser, static_server(tmp_path) as base:
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base + "index.html")
        got = page.evaluate(RUN_JS, CASES)
    assert errors == []
    for kind, key in (("num", "value"), ("time", "ms"), ("duration", "ms")):
        wrong = [
            (c[key], c["expect"], g)
            for c, g in zip(CASES[kind], got[kind], strict=True)
            if g != c["expect"]
        ]
        assert wrong == [], f"{kind}: (input, Python, format.js) differ"
