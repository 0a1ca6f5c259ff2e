"""Attack 9 of issue 15 (docs/security.md, "Terminal output and text input"): hostile
strings. Logged values that carry terminal escape sequences, and text that is not valid
Unicode (lone surrogates)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import runsite
from runsite.cli import main
from runsite.errors import InvalidInput

# Sequences a terminal acts on: colour/erase (CSI), a window title and a hyperlink (OSC),
# a bare carriage return that hides what came before, an 8-bit CSI, a bidi override.
ESCAPES = {
    "CSI erase": "\x1b[2J\x1b[H",
    "CSI colour": "\x1b[31mred\x1b[0m",
    "OSC title": "\x1b]0;pwned\x07",
    "OSC 8 link": "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\",
    "carriage return": "ok\rFAILED",
    "8-bit CSI": "\x9b31m",
    "bidi override": "abc\u202edcba",
    "backspace": "secret\x08\x08\x08\x08\x08\x08public",
}
RAW = ("\x1b", "\x9b", "\x07", "\r", "\x08", "\u202e")


def _logged_run(store: Path, text: str) -> str:
    runsite.set_store(store)
    with runsite.start_run(log_git=False, tags={"note": text}) as run:
        runsite.log_param("p", text)
        runsite.log_metric("rmse", 1.0)
    return run.info.run_id


@pytest.mark.parametrize("case", sorted(ESCAPES))
def test_terminal_output_escapes_control_characters(store: Path, case: str) -> None:
    text = ESCAPES[case]
    run_id = _logged_run(store, text)
    s = ["--store", str(store)]
    for args in (
        ["runs", "show", run_id, *s],
        ["runs", "list", *s],
        ["runs", "search", "params.p IS NOT NULL", *s],
        ["runs", "show", run_id, "--json", *s],
    ):
        r = CliRunner().invoke(main, args)
        assert r.exit_code == 0, (args, r.output)
        out = r.output
        assert not any(c in out for c in RAW), (args, out)
    r = CliRunner().invoke(main, ["runs", "show", run_id, "--json", *s])
    # JSON output stays valid and means the same value
    assert json.loads(r.output)["params"]["p"] == text


def test_an_error_message_naming_a_hostile_value_is_escaped(store: Path) -> None:
    _logged_run(store, "x")
    r = CliRunner().invoke(main, ["runs", "show", "\x1b]0;pwned\x07", "--store", str(store)])
    assert r.exit_code == 1
    assert not any(c in r.output for c in RAW), r.output


SURROGATE = "bad\ud800name"

# (field named in the message, the call)
TEXT_INPUTS: dict[str, tuple[str, Callable[[], Any]]] = {
    "run name": ("run name", lambda: runsite.start_run(run_name=SURROGATE, log_git=False)),
    "experiment name": ("experiment name", lambda: runsite.set_experiment(SURROGATE)),
    "description": (
        "description",
        lambda: runsite.start_run(description=SURROGATE, log_git=False),
    ),
    "start tag value": (
        "tag 'a'",
        lambda: runsite.start_run(tags={"a": SURROGATE}, log_git=False),
    ),
    "param value": ("param 'p'", lambda: runsite.log_param("p", SURROGATE)),
    "param key": ("param key", lambda: runsite.log_param(SURROGATE, 1)),
    "metric key": ("metric key", lambda: runsite.log_metric(SURROGATE, 1.0)),
    "tag value": ("tag 't'", lambda: runsite.set_tag("t", SURROGATE)),
    "tag key": ("tag key", lambda: runsite.set_tag(SURROGATE, "x")),
    "note": ("note", lambda: runsite.add_note(SURROGATE)),
    "log_text text": ("log_text", lambda: runsite.log_text(SURROGATE, "a.txt")),
    "log_text path": ("artifact path", lambda: runsite.log_text("x", SURROGATE + ".txt")),
    "log_dict value": ("log_dict", lambda: runsite.log_dict({"a": SURROGATE}, "a.json")),
}


@pytest.mark.parametrize("case", sorted(TEXT_INPUTS))
def test_lone_surrogates_are_refused_naming_the_field(store: Path, case: str) -> None:
    field, call = TEXT_INPUTS[case]
    needs_run = case not in ("run name", "experiment name", "description", "start tag value")
    run = runsite.start_run(log_git=False) if needs_run else None
    before = sorted(p.name for p in store.rglob("*")) if store.exists() else []
    with pytest.raises(InvalidInput) as caught:
        call()
    message = str(caught.value)
    assert field in message, message
    assert "not valid Unicode" in message and "U+D800" in message, message
    if run is not None:
        after = sorted(p.name for p in store.rglob("*"))
        assert after == before, "a refused call wrote something"
        run.end()
    else:
        assert not list(store.glob("*/*/run.json")), "a refused start left a run"
