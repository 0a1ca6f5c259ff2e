"""The search language (docs/search.md), driven by tests/search_cases.json, which the
static site's JavaScript implementation runs too."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from runsite.errors import InvalidInput, QueryError, RunsiteError
from runsite.search import (
    And,
    Comparison,
    Identifier,
    MatchAll,
    Not,
    Or,
    compile_filter,
    filter_rows,
    parse,
    search,
    sort_rows,
)

CASES_FILE = Path(__file__).with_name("search_cases.json")
_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _load() -> dict[str, Any]:
    data = json.loads(CASES_FILE.read_text("utf-8"))
    for run in data["runs"]:
        for summary in run["metrics"].values():
            for agg, value in summary.items():
                if isinstance(value, str):
                    summary[agg] = _NONFINITE[value]
    return data


DATA = _load()
RUNS: list[dict[str, Any]] = DATA["runs"]
CASES: list[dict[str, Any]] = DATA["cases"]


def _case_id(case: dict[str, Any]) -> str:
    text = case["query"] or "<empty>"
    if case.get("order_by"):
        text += " ORDER BY " + ", ".join(case["order_by"])
    return text


def _ids(rows: list[Any]) -> list[str]:
    return [row["run_id"] for row in rows]


def test_case_file_shape() -> None:
    assert len(RUNS) >= 8
    assert len({run["run_id"] for run in RUNS}) == len(RUNS)
    assert len(CASES) >= 60
    assert sum("error" in case for case in CASES) >= 15
    for case in CASES:
        assert ("ids" in case) != ("error" in case), case
    # the loader turned the non-finite markers into floats
    r03 = next(run for run in RUNS if run["run_id"] == "r03")
    assert math.isnan(r03["metrics"]["rmse"]["last"])


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_case(case: dict[str, Any]) -> None:
    query, order_by = case["query"], case.get("order_by")
    if "error" in case:
        with pytest.raises(QueryError) as info:
            search(RUNS, query, order_by=order_by, max_results=case.get("max_results"))
        assert info.value.position == case["error"], str(info.value)
        return
    if order_by is None:
        assert _ids(filter_rows(RUNS, query)) == case["ids"]
        assert [run["run_id"] for run in RUNS if compile_filter(query)(run)] == case["ids"]
    assert _ids(search(RUNS, query, order_by, case.get("max_results"))) == case["ids"]


# --------------------------------------------------------------------------- errors


def test_error_message_has_position_and_caret() -> None:
    query = "metrics.rmse < "
    with pytest.raises(QueryError) as info:
        parse(query)
    err = info.value
    assert isinstance(err, InvalidInput) and isinstance(err, RunsiteError)
    assert err.position == len(query) and err.query == query
    text = str(err)
    assert "expected a value after '<'" in text
    assert f"(at position {len(query)})" in text
    assert text.splitlines()[-2:] == ["  " + query, "  " + " " * len(query) + "^"]


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("attributes.foo = 'x'", "unknown attribute 'foo' (known: run_id, run_name"),
        ("params.a = 'x", "unterminated string"),
        ("(params.a = 'x'", "unbalanced parenthesis"),
        ("params.a = 'x')", "unbalanced parenthesis"),
        ("params.flag = true", "quote strings, e.g. 'true'"),
        ("status = 'FINISHED'", "attributes.status"),
        ("rmse < 1", "metrics.rmse, params.rmse or tags.rmse"),
        ("metrics.rmse = 'a'", "compares only with numbers"),
        ("metrics.rmse LIKE 'a%'", "LIKE needs text"),
        ("params.a IN (1, 'a')", "all numbers or all strings"),
        ("params.a = NULL", "IS NULL"),
        ("metrc.a = 1", "unknown prefix 'metrc'"),
        ("metrics.`a`.avg < 1", "expected min, max, last or count"),
        ("params.`a`.min < 1", "only metrics take an aggregate"),
    ],
)
def test_error_messages(query: str, fragment: str) -> None:
    with pytest.raises(QueryError) as info:
        parse(query)
    assert fragment in str(info.value)


def test_order_by_error_reports_the_clause() -> None:
    with pytest.raises(QueryError) as info:
        sort_rows(RUNS, ["metrics.rmse", "params.lr SIDEWAYS"])
    assert info.value.query == "params.lr SIDEWAYS"
    assert info.value.position == 10
    assert "expected ASC or DESC" in str(info.value)


def test_bad_types_are_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        parse(3)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        search(RUNS, "", max_results=-1)
    with pytest.raises(InvalidInput):
        sort_rows(RUNS, [None])  # type: ignore[list-item]


# --------------------------------------------------------------------------- API


def test_empty_filter_matches_everything() -> None:
    assert parse("") == MatchAll()
    assert parse(" \t\n") == MatchAll()
    assert compile_filter("")({}) is True
    assert filter_rows(RUNS, "  ") == RUNS
    assert search(RUNS, None) == RUNS


def test_parse_builds_the_ast() -> None:
    node = parse("metrics.val.loss.min < 1 AND NOT (params.a = 'x' OR tags.b IS NULL)")
    assert isinstance(node, And)
    first, second = node.items
    assert first == Comparison(Identifier("metric", "val.loss", "min", 0), "<", 1.0, 0)
    assert isinstance(second, Not) and isinstance(second.item, Or)
    assert [c.op for c in second.item.items if isinstance(c, Comparison)] == ["=", "IS NULL"]


def test_identifiers() -> None:
    def ident(query: str) -> Identifier:
        node = parse(query + " IS NULL")
        assert isinstance(node, Comparison)
        return node.ident

    assert ident("metrics.`loss.min`.max") == Identifier("metric", "loss.min", "max", 0)
    assert ident("metrics.loss.min") == Identifier("metric", "loss", "min", 0)
    assert ident("metrics.min") == Identifier("metric", "min", "last", 0)
    assert ident("params.a.min") == Identifier("param", "a.min", "last", 0)
    assert ident('params."my key"') == Identifier("param", "my key", "last", 0)
    assert ident("tags.mlflow/source-name") == Identifier("tag", "mlflow/source-name", "last", 0)
    assert ident("Attributes.Created").key == "start_time"
    assert ident("attributes.user_id").key == "user"
    assert ident("attributes.ID").key == "run_id"


def test_strings_and_numbers() -> None:
    node = parse("params.a IN ('it''s', \"say \"\"hi\"\"\", '')")
    assert isinstance(node, Comparison)
    assert node.value == ("it's", 'say "hi"', "")
    node = parse("metrics.a IN (-1, 2.5e3, .5, 3.)")
    assert isinstance(node, Comparison)
    assert node.value == (-1.0, 2500.0, 0.5, 3.0)
    node = parse("metrics.a <> 1")
    assert isinstance(node, Comparison) and node.op == "!="


def test_params_only_compare_as_numbers_in_strict_form() -> None:
    rows = [
        {"run_id": v, "params": {"p": v}}
        for v in ["1", "+1", "1.", "1e0", "inf", "nan", "1 ", "0x1", "١"]
    ]
    assert _ids(filter_rows(rows, "params.p = 1")) == ["1", "+1", "1.", "1e0"]


def test_rows_without_sections_do_not_break() -> None:
    row: dict[str, Any] = {"run_id": "x"}
    assert filter_rows([row], "metrics.a IS NULL AND params.b IS NULL AND tags.c IS NULL") == [row]
    assert filter_rows([row], "attributes.run_id = 'x'") == [row]
    assert filter_rows([row], "attributes.status IS NULL") == [row]


def test_like_is_whole_match_and_literal_otherwise() -> None:
    rows = [{"run_id": v, "tags": {"t": v}} for v in ["a.c", "abc", "a\nc", "A.C", "a+c", "ac"]]
    assert _ids(filter_rows(rows, "tags.t LIKE 'a_c'")) == ["a.c", "abc", "a\nc", "a+c"]
    assert _ids(filter_rows(rows, "tags.t LIKE 'a.c'")) == ["a.c"]
    assert _ids(filter_rows(rows, "tags.t ILIKE 'a.c'")) == ["a.c", "A.C"]
    assert _ids(filter_rows(rows, "tags.t LIKE '%%c'")) == ["a.c", "abc", "a\nc", "a+c", "ac"]


def test_sort_without_order_returns_a_copy() -> None:
    out = sort_rows(RUNS, None)
    assert out == RUNS and out is not RUNS
    assert sort_rows(RUNS, []) == RUNS


def test_max_results() -> None:
    assert search(RUNS, "", max_results=0) == []
    assert _ids(search(RUNS, "attributes.user = 'bob'", max_results=2)) == ["r02", "r03"]


def test_compile_filter_on_many_rows() -> None:
    rows = [
        {
            "run_id": f"x{i}",
            "attributes": {"status": "FINISHED" if i % 2 else "FAILED", "start_time": i},
            "params": {"lr": str(i / 1000)},
            "tags": {},
            "metrics": {"rmse": {"last": i % 7, "min": 0.0, "max": 7.0, "count": 1}},
        }
        for i in range(10_000)
    ]
    match = compile_filter(
        "attributes.status = 'FINISHED' AND metrics.rmse < 3 AND params.lr > 0.5"
    )
    kept = [row for row in rows if match(row)]
    expected = [r for i, r in enumerate(rows) if i % 2 and i % 7 < 3 and i / 1000 > 0.5]
    assert kept == expected


def test_boolean_laws_hold_over_the_case_queries() -> None:
    """OR/AND keep what either/both keep; NOT NOT and De Morgan hold in three-valued logic."""
    queries = [
        c["query"]
        for c in CASES
        if "ids" in c and "order_by" not in c and c["query"].strip() and len(c["query"]) < 200
    ]  # (the longest are nested to the depth limit: wrapping them would pass it)
    queries = queries[::3]
    kept = {q: set(_ids(filter_rows(RUNS, q))) for q in queries}
    for a in queries:
        assert set(_ids(filter_rows(RUNS, f"NOT NOT ({a})"))) == kept[a]
        for b in queries[:12]:
            assert set(_ids(filter_rows(RUNS, f"({a}) OR ({b})"))) == kept[a] | kept[b]
            assert set(_ids(filter_rows(RUNS, f"({a}) AND ({b})"))) == kept[a] & kept[b]
            left = set(_ids(filter_rows(RUNS, f"NOT (({a}) AND ({b}))")))
            assert left == set(_ids(filter_rows(RUNS, f"NOT ({a}) OR NOT ({b})")))
