"""runsite.fmt on the shared cases of tests/format_cases.json (format.js, the site's
formatter, is run on the same cases in Chromium by tests/test_format_js.py)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from runsite import fmt

CASES = json.loads(Path(__file__).with_name("format_cases.json").read_text("utf-8"))
NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def value(v: Any) -> Any:
    return NONFINITE.get(v, v) if isinstance(v, str) else v


@pytest.mark.parametrize("case", CASES["num"], ids=lambda c: repr(c["value"]))
def test_num(case: dict[str, Any]) -> None:
    assert fmt.num(value(case["value"])) == case["expect"]


@pytest.mark.parametrize("case", CASES["time"], ids=lambda c: repr(c["ms"]))
def test_time(case: dict[str, Any]) -> None:
    assert fmt.time(case["ms"]) == case["expect"]


@pytest.mark.parametrize("case", CASES["duration"], ids=lambda c: repr(c["ms"]))
def test_duration(case: dict[str, Any]) -> None:
    assert fmt.duration(case["ms"]) == case["expect"]


def test_the_issue_13_case_is_in_the_file() -> None:
    # 123456.7 read "123460" on the compare page and "1.2346e+05" in the runs table.
    assert {"value": 123456.7, "expect": "1.2346e+05"} in CASES["num"]
