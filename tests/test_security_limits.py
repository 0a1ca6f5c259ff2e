"""Attack 7 of issue 15 (docs/security.md, "Limits instead of crashes"): hostile filters, and
flow YAML nested past the depth limit (refused before ruamel parses it for seconds).

A filter may come from a shared link's URL (the site's filter box) or from CI scripts:
deep nesting must be a clear QueryError (never a RecursionError), and LIKE must match in
time linear in the value's length in Python and in query.js, with the same answers.

Nothing here measures time: a runaway match is caught by a subprocess with a generous
timeout (60 s, where the match takes milliseconds and the old backtracking one took
minutes).
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

import runsite
from runsite import yamlio
from runsite.errors import QueryError, StoreFormatError
from runsite.search import MAX_DEPTH, _like, filter_rows, parse

# Patterns a backtracking matcher takes exponential (or high-polynomial) time on, against
# a long value that almost matches.
HOSTILE_LIKES = [
    "%a%a%a%b",
    "%a%a%a%a%a%a%a%a%b",
    "%_%_%_%_%_%_%_%b",
    "%aa%aa%aa%aa%ab%",
    "a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%b",
]
LONG_VALUE = "a" * 100_000


def _reference_like(pattern: str, fold: bool, value: str) -> bool:
    """LIKE as a (backtracking) regex, as it was: correct, only slow on hostile input."""
    pattern = re.sub("%+", "%", pattern.lower() if fold else pattern)
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value.lower() if fold else value, re.DOTALL) is not None


@pytest.mark.parametrize(
    "query",
    [
        "(" * 20_000 + "params.a = '1'" + ")" * 20_000,
        "(" * (MAX_DEPTH + 1) + "params.a = '1'" + ")" * (MAX_DEPTH + 1),
        "NOT " * 20_000 + "params.a = '1'",
        "(NOT " * 1_000 + "params.a = '1'" + ")" * 1_000,
        "(" * 5_000,
    ],
    ids=["20k parens", "limit+1 parens", "20k NOT", "1k (NOT", "5k open parens"],
)
def test_deep_filters_are_clear_errors(query: str) -> None:
    with pytest.raises(QueryError, match="too deeply nested"):
        parse(query)
    with pytest.raises(QueryError, match="too deeply nested"):
        filter_rows([{"params": {"a": "1"}}], query)


def test_filters_at_the_depth_limit_still_work() -> None:
    row = {"params": {"a": "1"}}
    at_limit = "(" * MAX_DEPTH + "params.a = '1'" + ")" * MAX_DEPTH
    assert filter_rows([row], at_limit) == [row]
    assert filter_rows([row], "NOT " * MAX_DEPTH + "params.a = '1'") == [row]


def test_deep_filter_is_one_clear_line_in_the_cli(store: Path) -> None:
    from runsite.cli import main

    with runsite.start_run(log_git=False):
        runsite.log_param("a", 1)
    query = "(" * 20_000 + "params.a = '1'" + ")" * 20_000
    r = CliRunner().invoke(main, ["runs", "search", query, "--store", str(store)])
    assert r.exit_code != 0
    assert isinstance(r.exception, SystemExit), r.exception
    assert "too deeply nested" in r.output
    assert "Traceback" not in r.output and "RecursionError" not in r.output


def test_like_agrees_with_the_reference_matcher() -> None:
    """The linear matcher gives the regex's answer on 40,000 random small cases."""
    rng = random.Random(15)
    for _ in range(20_000):
        pattern = "".join(rng.choice("ab%_A\n") for _ in range(rng.randint(0, 7)))
        value = "".join(rng.choice("abA\n") for _ in range(rng.randint(0, 9)))
        for fold in (False, True):
            expected = _reference_like(pattern, fold, value)
            assert _like(pattern, fold)(value) is expected, (pattern, value, fold)


def test_hostile_like_finishes_in_python() -> None:
    """Each hostile pattern against a 100,000-character value, in a subprocess that is
    killed after 60 s (the backtracking matcher ran for minutes on the first one)."""
    script = textwrap.dedent(
        f"""
        from runsite.search import filter_rows
        rows = [{{"params": {{"p": "a" * 100_000}}}}]
        for pattern in {HOSTILE_LIKES!r}:
            for op in ("LIKE", "ILIKE", "NOT LIKE"):
                kept = filter_rows(rows, f"params.p {{op}} '{{pattern}}'")
                print(op, pattern, len(kept), sep="|")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3 * len(HOSTILE_LIKES)
    for line in lines:
        op, _pattern, kept = line.split("|")
        # the value holds no 'b', so only NOT LIKE keeps the row
        assert kept == ("1" if op == "NOT LIKE" else "0"), line


# A page that runs query.js's LIKE on the hostile patterns and writes the answers into the
# DOM, for `chromium --dump-dom` (scripts from files only: the site's CSP).
DOS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'self'">
<title>like</title></head>
<body><pre id="out">not run</pre>
<script src="vocabulary.js"></script><script src="query.js"></script>
<script src="dos.js"></script></body></html>
"""
DOS_JS = """
const rows = [{ run_id: "long", params: { p: "a".repeat(100000) } }];
const lines = [];
for (const pattern of PATTERNS) {
  for (const op of ["LIKE", "ILIKE", "NOT LIKE"]) {
    const kept = window.runsiteQuery.filter(rows, "params.p " + op + " '" + pattern + "'");
    lines.push(op + "|" + pattern + "|" + kept.length);
  }
}
document.getElementById("out").textContent = "done\\n" + lines.join("\\n");
"""


@pytest.mark.browser
def test_hostile_like_finishes_in_the_browser(tmp_path: Path) -> None:
    """query.js in Debian's Chromium (`--dump-dom`, killed after 120 s)."""
    from browser_support import CHROMIUM, CHROMIUM_ARGS, copy_query_js, missing

    if not Path(CHROMIUM).is_file():
        missing(f"no Chromium executable at {CHROMIUM}")
    copy_query_js(tmp_path)
    (tmp_path / "dos.js").write_text(f"const PATTERNS = {json.dumps(HOSTILE_LIKES)};\n{DOS_JS}")
    (tmp_path / "index.html").write_text(DOS_PAGE)
    profile = f"--user-data-dir={tmp_path / 'profile'}"
    done = subprocess.run(
        [CHROMIUM, *CHROMIUM_ARGS, profile, "--dump-dom", (tmp_path / "index.html").as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "done" in done.stdout, done.stdout[-2000:] + done.stderr[-2000:]
    body = done.stdout.split("done", 1)[1].split("</pre>", 1)[0].strip().splitlines()
    assert len(body) == 3 * len(HOSTILE_LIKES)
    for line in body:
        op, _pattern, kept = line.split("|")
        assert kept == ("1" if op == "NOT LIKE" else "0"), line


@pytest.mark.parametrize(
    "text",
    [
        "models: " + "[" * 65 + "]" * 65,
        "a: {b: " + "{c: " * 70 + "1" + "}" * 71,
        "a: [" + "[x, " * 80,  # unclosed: refused before the parser is tried
    ],
)
def test_deep_flow_yaml_is_refused_before_parsing(text: str) -> None:
    for load in (yamlio.loads, yamlio.roundtrip_loads):
        with pytest.raises(StoreFormatError, match="nested more than 64 levels deep"):
            load(text, "registry.yaml")


def test_brackets_in_comments_and_quotes_do_not_count_as_nesting() -> None:
    text = (
        "# " + "[" * 100 + "\n"
        "a: '" + "[" * 100 + "'\n"
        'b: "' + "{" * 100 + '\\" [[["\n'
        "c: [1, [2, [3]]]  # [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n"
    )
    data = yamlio.loads(text, "x")
    assert data["a"] == "[" * 100 and data["c"] == [1, [2, [3]]]
    assert yamlio.roundtrip_loads(text, "x")["b"].startswith("{" * 100)
