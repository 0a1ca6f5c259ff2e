"""A FAILED run keeps its exception (type, message, traceback) and its page shows it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import runsite
from runsite import Store
from runsite.site import build
from site_helpers import parse, text_of


def _events(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]


class Boom(RuntimeError):
    pass


def test_with_block_records_the_exception_before_the_status(store: Path) -> None:
    with pytest.raises(Boom), runsite.start_run(run_name="bad") as run:
        runsite.log_param("alpha", 1)
        raise Boom("diverged at <step 3> & beyond")
    events = _events(run.path)
    kinds = [e["type"] for e in events]
    assert kinds[-2:] == ["error", "status"]
    err = events[-2]
    assert err["exc_type"] == f"{__name__}.Boom"
    assert err["message"] == "diverged at <step 3> & beyond"
    assert "Traceback (most recent call last)" in err["traceback"]
    assert "test_with_block_records_the_exception_before_the_status" in err["traceback"]
    rec = Store(store).run(run.run_id)
    assert rec.status == "FAILED"
    assert rec.error == {
        "exc_type": err["exc_type"],
        "message": err["message"],
        "traceback": err["traceback"],
    }


def test_finished_and_killed_runs_have_no_error(store: Path) -> None:
    with runsite.start_run(run_name="ok") as ok:
        pass
    with pytest.raises(KeyboardInterrupt), runsite.start_run(run_name="stopped") as stopped:
        raise KeyboardInterrupt
    st = Store(store)
    assert st.run(ok.run_id).error is None
    assert st.run(stopped.run_id).status == "KILLED"
    assert st.run(stopped.run_id).error is None


def test_builtin_type_names_are_bare_and_long_tracebacks_keep_both_ends(store: Path) -> None:
    with pytest.raises(ValueError), runsite.start_run(run_name="long") as run:
        raise ValueError("head " + "x" * 40_000 + " tail")
    err = _events(run.path)[-2]
    assert err["exc_type"] == "ValueError"
    assert len(err["message"]) == 32_000
    assert len(err["traceback"]) <= 32_000 + 100
    assert err["traceback"].startswith("Traceback (most recent call last)")
    assert err["traceback"].rstrip().endswith("x tail")
    assert "characters left out" in err["traceback"]


def test_a_script_dying_with_an_open_run_records_its_exception(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(
        textwrap.dedent(
            """
            import runsite
            runsite.set_store("runs")
            runsite.start_run(run_name="open")
            runsite.log_metric("loss", 1.0)
            {}["missing key"]
            """
        )
    )
    proc = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1
    (run,) = Store(tmp_path / "runs").runs()
    assert run.status == "FAILED"
    assert run.error is not None
    assert run.error["exc_type"] == "KeyError"
    assert run.error["message"] == "'missing key'"
    assert 'File "train.py", line 6, in <module>' in run.error["traceback"]  # cwd-relative
    assert str(tmp_path) not in run.error["traceback"]


def test_the_run_page_shows_the_error_escaped(store: Path, tmp_path: Path) -> None:
    with pytest.raises(Boom), runsite.start_run(run_name="bad") as run:
        raise Boom("<script>alert(1)</script> loss is NaN")
    with runsite.start_run(run_name="good") as good:
        pass
    build(store, tmp_path / "site")
    page = parse(tmp_path / "site" / f"runs/{run.run_id}.html")
    section = page.find("section", id="error")
    assert section is not None
    assert not section.find("script")
    kind = section.find(class_="err-type")
    assert text_of(kind) == "Boom"
    assert kind["title"] == f"{__name__}.Boom"
    assert text_of(section.find(class_="err-message")) == "<script>alert(1)</script> loss is NaN"
    assert "Traceback (most recent call last)" in section.find("pre").get_text()
    raw = (tmp_path / "site" / f"runs/{run.run_id}.html").read_text()
    assert "<script>alert(1)" not in raw
    assert parse(tmp_path / "site" / f"runs/{good.run_id}.html").find(id="error") is None


def test_a_malformed_error_event_is_skipped_with_a_warning(store: Path) -> None:
    with runsite.start_run(run_name="r") as run:
        pass
    with (run.path / "events.jsonl").open("a") as f:
        f.write(json.dumps({"type": "error", "t": 1, "exc_type": 3, "message": "m"}) + "\n")
    rec = Store(store).run(run.run_id)
    assert rec.error is None
    assert any("error event" in w for w in rec.warnings)
