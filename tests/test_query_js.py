"""query.js (the site's filter box) in a real headless Chromium, against the shared cases
in tests/search_cases.json and against the Python implementation (runsite.search).

Needs Debian's chromium (``apt-get install -y chromium``, gives /usr/bin/chromium) and the
``playwright`` Python package (never ``playwright install``: it downloads a browser).
Without them the tests skip, or fail when ``CI`` is set.
"""

from __future__ import annotations

import json
import math
import os
import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser_support import CHROMIUM, CHROMIUM_ARGS, copy_query_js, missing
from runsite.errors import QueryError
from runsite.search import And, Comparison, MatchAll, Node, Not, Or, filter_rows, parse, search

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
QUERY_JS = ROOT / "themes" / "default" / "static" / "js" / "query.js"
CASES_FILE = Path(__file__).with_name("search_cases.json")
# The site's CSP: query.js must work without eval and without inline scripts.
CSP = "default-src 'none'; script-src 'self'; connect-src 'none'"
PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<title>query.js</title>
<script src="vocabulary.js"></script>
<script src="query.js"></script>
</head>
<body></body>
</html>
"""
NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}

# Stores rows on window.__rows[name], turning the cases file's non-finite markers into
# numbers (inside metrics only, as the file says).
LOAD_ROWS_JS = """
([name, runs]) => {
  const special = { NaN: NaN, Infinity: Infinity, "-Infinity": -Infinity };
  for (const run of runs) {
    for (const summary of Object.values(run.metrics || {})) {
      for (const agg of Object.keys(summary)) {
        if (typeof summary[agg] === "string") summary[agg] = special[summary[agg]];
      }
    }
  }
  window.__rows = window.__rows || {};
  window.__rows[name] = runs;
  return runs.length;
}
"""

# Runs each case through search() (and, without order_by, filter/compile/parse too).
RUN_CASES_JS = """
([name, cases]) => {
  const Q = window.runsiteQuery;
  const rows = window.__rows[name];
  const ids = (list) => list.map((row) => row.run_id);
  return cases.map((c) => {
    const out = {};
    try {
      const maxResults = c.max_results === undefined ? null : c.max_results;
      out.ids = ids(Q.search(rows, c.query, c.order_by || null, maxResults));
      if (!c.order_by || c.order_by.length === 0) {
        out.filter_ids = ids(Q.filter(rows, c.query));
        out.compile_ids = ids(rows.filter(Q.compile(c.query)));
        // as JSON, since ASTs nest 100 deep; non-finite numbers as {"number": "-Infinity"}
        out.ast = JSON.stringify(Q.parse(c.query), (key, value) =>
          typeof value === "number" && !isFinite(value) ? { number: String(value) } : value);
      }
    } catch (e) {
      if (e instanceof Q.QueryError && e instanceof Error && e.name === "QueryError") {
        out.error = { position: e.position, message: e.message, reason: e.reason,
                      query: e.query, offset: e.offset };
      } else {
        out.exception = String((e && e.stack) || e);
      }
    }
    return out;
  });
}
"""


def _cases_file() -> dict[str, Any]:
    """The cases file as it is on disk (non-finite markers still strings)."""
    return json.loads(CASES_FILE.read_text("utf-8"))


def _python_rows(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A copy of ``runs`` with the non-finite markers of metrics turned into floats."""
    rows = json.loads(json.dumps(runs))
    for row in rows:
        for summary in row.get("metrics", {}).values():
            for agg, value in summary.items():
                if isinstance(value, str):
                    summary[agg] = NONFINITE[value]
    return rows


DATA = _cases_file()
CASES: list[dict[str, Any]] = DATA["cases"]
RUNS = _python_rows(DATA["runs"])


def _case_id(case: dict[str, Any]) -> str:
    text = case["query"] or "<empty>"
    order_by = case.get("order_by")
    if order_by:
        text += " ORDER BY " + (order_by if isinstance(order_by, str) else ", ".join(order_by))
    if case.get("max_results") is not None:
        text += f" LIMIT {case['max_results']}"
    return text


def _ast(node: Node) -> dict[str, Any]:
    """Python's AST in the shape query.js's parse() returns."""
    if isinstance(node, Comparison):
        ident = node.ident
        value = list(node.value) if isinstance(node.value, tuple) else node.value
        return {
            "type": "Comparison",
            "ident": {"kind": ident.kind, "key": ident.key, "agg": ident.agg, "pos": ident.pos},
            "op": node.op,
            "value": value,
            "pos": node.pos,
        }
    if isinstance(node, And | Or):
        return {"type": type(node).__name__, "items": [_ast(item) for item in node.items]}
    if isinstance(node, Not):
        return {"type": "Not", "item": _ast(node.item)}
    assert isinstance(node, MatchAll)
    return {"type": "MatchAll"}


def _python(rows: list[dict[str, Any]], case: dict[str, Any]) -> dict[str, Any]:
    """What runsite.search gives for a case: {"ids": [...]} or {"error": {...}}.

    parse() runs too, so a filter that search() strips away as blank (see
    test_blank_filters) is judged by the grammar, as query.js judges it.
    """
    try:
        kept = search(rows, case["query"], case.get("order_by"), case.get("max_results"))
        parse(case["query"])
    except QueryError as err:
        return {"error": {"position": err.position, "message": str(err), "query": err.query}}
    return {"ids": [row["run_id"] for row in kept]}


def _utf16_offset(text: str, position: int) -> int:
    return len(text[:position].encode("utf-16-le")) // 2


def _nonfinite(obj: dict[str, Any]) -> Any:
    """The JSON of query.js's AST writes non-finite numbers as {"number": "-Infinity"}."""
    return NONFINITE[obj["number"]] if list(obj) == ["number"] else obj


def _check(case: dict[str, Any], got: dict[str, Any], py: dict[str, Any]) -> None:
    """Assert query.js's result ``got`` equals Python's ``py`` (and the case's own answer)."""
    assert "exception" not in got, f"query.js threw a non-QueryError:\n{got['exception']}"
    if "error" in case:
        assert "error" in got, f"query.js gave {got['ids']}, expected an error"
        assert got["error"]["position"] == case["error"], got["error"]["message"]
    if "ids" in case:
        assert "error" not in got, f"query.js raised:\n{got['error']['message']}"
        assert got["ids"] == case["ids"]
    if "error" in py:
        assert "error" in got, f"query.js gave {got['ids']}, Python raised:\n{py['error']}"
        err = got["error"]
        assert err["position"] == py["error"]["position"], err["message"]
        assert err["message"] == py["error"]["message"]
        assert err["query"] == py["error"]["query"]
        assert err["offset"] == _utf16_offset(err["query"], err["position"])
        return
    assert "error" not in got, f"query.js raised, Python gave {py['ids']}:\n{got['error']}"
    assert got["ids"] == py["ids"]
    if not case.get("order_by") and case.get("max_results") is None:
        assert got["filter_ids"] == py["ids"], "filter() differs from search()"
        assert got["compile_ids"] == py["ids"], "compile() differs from search()"
        ast = json.loads(got["ast"], object_hook=_nonfinite)
        assert ast == _ast(parse(case["query"]))


# --------------------------------------------------------------------------- the browser


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A page with query.js loaded (from file://, under the site's CSP)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the playwright Python package is not installed")
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        missing(f"no Chromium executable at {CHROMIUM}")
    if not QUERY_JS.is_file():
        pytest.fail(f"{QUERY_JS} is missing")
    folder = tmp_path_factory.mktemp("query_js")
    copy_query_js(folder)
    (folder / "index.html").write_text(PAGE, encoding="utf-8")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            pg = browser.new_page()
            errors: list[str] = []
            pg.on("pageerror", lambda e: errors.append(str(e)))
            pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            pg.goto((folder / "index.html").as_uri())
            assert pg.evaluate("() => typeof window.runsiteQuery") == "object", errors
            assert errors == [], f"errors while loading query.js: {errors}"
            yield pg
            assert errors == [], f"errors in the page: {errors}"
        finally:
            browser.close()


@pytest.fixture(scope="module")
def case_results(page: Any) -> list[dict[str, Any]]:
    """query.js's answer to every case of the cases file, computed in one go."""
    assert page.evaluate(LOAD_ROWS_JS, ["cases", DATA["runs"]]) == len(RUNS)
    results = page.evaluate(RUN_CASES_JS, ["cases", CASES])
    assert len(results) == len(CASES)
    return results


# --------------------------------------------------------------------------- the cases file


@pytest.mark.parametrize("index", range(len(CASES)), ids=[_case_id(c) for c in CASES])
def test_case(case_results: list[dict[str, Any]], index: int) -> None:
    case = CASES[index]
    _check(case, case_results[index], _python(RUNS, case))


# --------------------------------------------------------------------------- beyond the file

# Rows and queries for what the cases file does not reach: code points beyond U+FFFF,
# Unicode case folding, repr() escapes in messages, truncated tokens, unusual whitespace.
EXTRA_RUNS: list[dict[str, Any]] = [
    {
        "run_id": "u1",
        "attributes": {"run_name": "Σίσυφος", "status": "FINISHED", "dirty": True},
        "params": {"p": "\U0001f600", "lang": "ΟΔΟΣ", "city": "İstanbul", "n": "1e999"},
        "tags": {"t": "é", "both": 'it\'s "x"'},
        "metrics": {"m": {"last": "NaN", "min": 1.0, "max": 2.0, "count": 2}},
    },
    {
        "run_id": "u2",
        "attributes": {"run_name": "plain", "status": "FAILED", "dirty": False},
        "params": {"p": "\ufffd", "lang": "odos", "city": "istanbul", "n": "-0"},
        "tags": {"t": "e\u0301"},
        "metrics": {"m": {"last": "-Infinity", "min": "-Infinity", "max": 0.0, "count": 1}},
    },
    {
        "run_id": "u3",
        "attributes": {"run_name": "ǅemal", "status": "FINISHED"},
        "params": {"p": "\U00010000", "lang": "σοφός", "n": "+.5e1"},
        "tags": {"t": "\U0001d400"},
        "metrics": {"m": {"last": 0.0, "min": 0.0, "max": 0.0, "count": 1}},
    },
    {
        "run_id": "u4",
        "attributes": {"run_name": "", "status": "KILLED"},
        "params": {
            "p": "z",
            "lang": "ΣΑΣ",
            "city": "I\u0307stanbul",
            "n": "0x10",
            "constructor": "c",
        },
        "tags": {"t": "E"},
        "metrics": {},
    },
]

EXTRA_CASES: list[dict[str, Any]] = [
    *(
        {"query": q}
        for q in [
            # code point order: U+10000 and up sort after U+FFFD
            "params.p > '\ufffd'",
            "params.p < '\U0001f600'",
            "params.p >= '\U00010000'",
            "params.p IN ('\U0001f600', 'z')",
            "params.p LIKE '_'",
            "tags.t LIKE '_'",
            "tags.t < 'f'",
            # Unicode lowercasing in ILIKE (final sigma, dotted capital I)
            "params.lang ILIKE 'οδος'",
            "params.lang ILIKE 'οδοσ'",
            "params.lang ILIKE 'σας'",
            "params.lang ILIKE 'ΣΟΦΌΣ'",
            "params.city ILIKE 'i\u0307stanbul'",
            "params.city ILIKE '_stanbul'",
            "params.city ILIKE '__stanbul'",
            "attributes.name ILIKE 'ǆemal'",
            "attributes.name ILIKE 'Σ%'",
            "attributes.name = ''",
            "attributes.dirty = 'true' OR attributes.dirty IS NULL",
            "tags.both = 'it''s \"x\"'",
            'tags.both = "it\'s ""x"""',
            # numbers
            "params.n > 1e308",
            "params.n = 0",
            "params.n = 5",
            "params.n IS NOT NULL AND NOT params.n >= -1e999",
            "metrics.m >= -1e999",
            "metrics.m != 0",
            "metrics.m NOT IN (0, 1)",
            "metrics.m.count IN (1) AND metrics.m < 0",
            "metrics.m = -0",
            # keys that are also names on Object.prototype
            "params.constructor IS NULL",
            "params.constructor = 'c' OR tags.toString IS NOT NULL",
            "metrics.hasOwnProperty IS NULL AND metrics.m.constructor IS NULL",
            "attributes.constructor = 'x'",
            # whitespace other than space
            "params.p\t=\n'z'\r\fAND\vparams.n = '0x10'",
            # errors: repr() of odd characters, positions after astral characters
            "params.p = '\U0001f600' AND \U0001f600",
            "params.p = '\U0001f600' AND @",
            "params.p = 1 \u00a0",
            "params.p = 1 \u3000",
            "params.p = 1 \u200b",
            "params.p = 1 \U000e0001",
            "params.p = 1 \x07",
            "params.p = 1 \\",
            "params.p = 1 \u2167",
            "params.हिन्दी = 'x'",
            "params.\U0001f600 = 1",
            "ΣΑΣ = 1",
            "İd = 1",
            "ID = 1",
            "User_Id = 'x'",
            "attributes.ÉTAT = 1",
            "attributes.Status = 1",
            "Metrics.M < 1 AND metrics.`x`.min2 < 1",
            "params.`a`.min < 1",
            "metrics.`` = 1",
            'params."it\'s" = 1 x',
            "params.a = 1 params.abcdefghijklmnopqrstuvwxyz0123456789 = 2",
            "params.a = 'abcdefghijklmnopqrstuvwxyz0123456789' 'it''s'",
            'params.a = "it\'s" "it\'s"',
            "params.a = NULL",
            "params.a = and",
            "params.a = ASC",
            "params.a NOT BETWEEN 1",
            "params.a IS NOT 5",
            "params.a IS NOT",
            "params.a IN (1,",
            "params.a IN (1 2)",
            "params.a IN ('x', 1)",
            "metrics.a IN (1, 'x')",
            "metrics.x = 1e",
            "metrics.x = 5abc",
            "metrics.x = 1E+",
            "metrics.x = 1-2",
            "metrics.x = --1",
            "metrics.x = +1",
            "metrics.a-1 = 2 OR metrics.x = -.5e+3 OR metrics.x = 5.",
            "params\t.a = 1",
            "params.a = 1 AND (params.b = 2 OR params.c = 3",
            "params.a = 1 AND (params.b = 2 params.c = 3)",
            "((",
            "NOT",
            "params.a LIKE",
            "metrics.a NOT ILIKE 'x'",
            "attributes.start_time IN (1, '2')",
            "params.a = 'unterminated ''",
            "params.`unterminated = 1",
            'tags."x',
        ]
    ),
    {"query": "", "order_by": ["params.p"]},
    {"query": "", "order_by": ["params.p DESC"]},
    {"query": "", "order_by": ["tags.t DESC", "params.lang"]},
    {"query": "", "order_by": ["params.n"]},
    {"query": "params.n != '0x10'", "order_by": ["params.n DESC"]},
    {"query": "", "order_by": ["metrics.m"]},
    {"query": "", "order_by": ["metrics.m DESC"]},
    {"query": "", "order_by": ["attributes.dirty", "attributes.name desc"]},
    {"query": "", "order_by": "params.lang DESC"},
    {"query": "", "order_by": []},
    {"query": "", "order_by": ["params.\U0001f600"]},
    {"query": "", "order_by": ["params.p ASC 'x"]},
    {"query": "", "order_by": ["params.p ASC DESC"]},
    {"query": "", "order_by": ["params.p,"]},
    {"query": "", "order_by": ["NOT"]},
    {"query": "", "order_by": ["   "]},
    {"query": "params.p = 1 @", "order_by": ["nope"]},
    {"query": "", "order_by": ["params.p"], "max_results": 0},
    {"query": "", "order_by": ["params.p DESC"], "max_results": 2},
]
EXTRA_ROWS = _python_rows(EXTRA_RUNS)


@pytest.fixture(scope="module")
def extra_results(page: Any) -> list[dict[str, Any]]:
    assert page.evaluate(LOAD_ROWS_JS, ["extra", EXTRA_RUNS]) == len(EXTRA_RUNS)
    return page.evaluate(RUN_CASES_JS, ["extra", EXTRA_CASES])


@pytest.mark.parametrize(
    "index", range(len(EXTRA_CASES)), ids=[ascii(_case_id(c)) for c in EXTRA_CASES]
)
def test_same_as_python(extra_results: list[dict[str, Any]], index: int) -> None:
    case = EXTRA_CASES[index]
    _check(case, extra_results[index], _python(EXTRA_ROWS, case))


@pytest.mark.parametrize("text", ["", " \t\n\r\f\v", "\u00a0", "\u3000", " \x1c", "\x85"])
def test_blank_filters(page: Any, text: str) -> None:
    """A filter of only whitespace keeps every run, in both; other characters are errors."""
    page.evaluate(LOAD_ROWS_JS, ["cases", DATA["runs"]])
    got = page.evaluate(RUN_CASES_JS, ["cases", [{"query": text}]])[0]
    try:
        py: dict[str, Any] = {"ids": [row["run_id"] for row in filter_rows(RUNS, text)]}
    except QueryError as err:
        py = {"error": {"position": err.position, "message": str(err), "query": err.query}}
    assert got.get("ids") == py.get("ids")
    assert (got.get("error") or {}).get("message") == (py.get("error") or {}).get("message")


def test_api(page: Any) -> None:
    result = page.evaluate(
        """() => {
            const Q = window.runsiteQuery;
            const out = {};
            try { Q.parse("params.`\\u{1F600}` @"); } catch (e) {
                out.error = [e instanceof Error, e.name, e.reason, e.position, e.offset];
            }
            for (const [name, call] of [
                ["max", () => Q.search([], "", null, -1)],
                ["maxFloat", () => Q.search([], "", null, 1.5)],
                ["filterType", () => Q.filter([], 3)],
                ["orderType", () => Q.sort([], [null])],
            ]) {
                try { call(); out[name] = "no error"; } catch (e) { out[name] = e.name; }
            }
            const rows = [{run_id: "b"}, {run_id: "a", attributes: {}}];
            out.noSections = Q.filter(rows, "metrics.a IS NULL AND params.b IS NULL").length;
            out.runId = Q.search(rows, "attributes.id < 'b'", ["attributes.run_id"]).length;
            out.sortCopy = Q.sort(rows, null) !== rows && Q.sort(rows, null).length === 2;
            out.cached = Q.compile("params.a = 1") === Q.compile("params.a = 1");
            out.emptyAst = Q.parse(" \\t").type;
            return out;
        }"""
    )
    assert result["error"] == [True, "QueryError", "unexpected character '@'", 11, 12]
    assert result["max"] == result["maxFloat"] == "RangeError"
    assert result["filterType"] == result["orderType"] == "TypeError"
    assert result["noSections"] == 2
    assert result["runId"] == 1
    assert result["sortCopy"] is True
    assert result["cached"] is True
    assert result["emptyAst"] == "MatchAll"


# --------------------------------------------------------------------------- speed

N_ROWS = 10_000
SPEED_FILTER = "metrics.rmse < 5 AND params.model ILIKE 'xg%' AND params.lr > 0.005"
MODELS = ["xgboost", "linear", "mlp", "XGBoost"]
LRS = ["0.01", "1e-3", "0.1", "auto", ".05", "2e-2"]
STATUSES = ["FINISHED", "FAILED", "RUNNING"]

# The same generator as _generate_rows below (Park-Miller: products stay below 2**53);
# keeps the rows in window.__generated.
GENERATE_JS = """
(n) => {
  let state = 12345;
  const rand = () => (state = (state * 48271) % 2147483647);
  const pick = (list) => list[rand() % list.length];
  const models = MODELS, lrs = LRS, statuses = STATUSES;
  const rows = [];
  for (let i = 0; i < n; i++) {
    const rmse = (rand() % 10000) / 1000;
    const row = {
      run_id: "g" + i,
      attributes: { status: pick(statuses), start_time: 1700000000000 + i },
      params: { model: pick(models), lr: pick(lrs) },
      tags: {},
      metrics: { rmse: { last: rmse, min: rmse, max: rmse, count: 1 } },
    };
    if (rand() % 5 === 0) delete row.metrics.rmse;
    rows.push(row);
  }
  window.__generated = rows;
  return rows.length;
}
""".replace("MODELS", json.dumps(MODELS))
GENERATE_JS = GENERATE_JS.replace("LRS", json.dumps(LRS)).replace("STATUSES", json.dumps(STATUSES))


def _generate_rows(n: int) -> list[dict[str, Any]]:
    state = 12345
    rows: list[dict[str, Any]] = []

    def rand() -> int:
        nonlocal state
        state = state * 48271 % 2147483647
        return state

    for i in range(n):
        rmse = (rand() % 10000) / 1000
        row: dict[str, Any] = {
            "run_id": f"g{i}",
            "attributes": {"status": STATUSES[rand() % 3], "start_time": 1700000000000 + i},
            "params": {"model": MODELS[rand() % 4], "lr": LRS[rand() % 6]},
            "tags": {},
            "metrics": {"rmse": {"last": rmse, "min": rmse, "max": rmse, "count": 1}},
        }
        if rand() % 5 == 0:
            del row["metrics"]["rmse"]
        rows.append(row)
    return rows


def test_filter_speed(page: Any) -> None:
    """Filters 10,000 rows made in the browser; prints the median time (never asserts it)."""
    py_rows = _generate_rows(N_ROWS)
    expected = len(filter_rows(py_rows, SPEED_FILTER))
    assert 0 < expected < N_ROWS
    assert page.evaluate(GENERATE_JS, N_ROWS) == N_ROWS
    result = page.evaluate(
        """([pyJson, query]) => {
            const Q = window.runsiteQuery;
            const rows = window.__generated;
            const same = JSON.stringify(rows) === JSON.stringify(JSON.parse(pyJson));
            const times = [];
            let count = -1;
            for (let i = 0; i < 20; i++) {
                const t0 = performance.now();
                count = Q.filter(rows, query).length;
                times.push(performance.now() - t0);
            }
            return { same, count, times };
        }""",
        [json.dumps(py_rows), SPEED_FILTER],
    )
    assert result["same"], "the rows generated in JS differ from the Python ones"
    assert result["count"] == expected
    median = statistics.median(result["times"])
    print(
        f"\nquery.js: filtering {N_ROWS} rows with {SPEED_FILTER!r} keeps {expected}; "
        f"median of 20 runs {median:.2f} ms (min {min(result['times']):.2f} ms, "
        f"max {max(result['times']):.2f} ms)"
    )
