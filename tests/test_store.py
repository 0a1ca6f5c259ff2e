"""The reader accepts every store the writer can produce, damaged ones included."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

import runsite
from runsite import record, runindex
from runsite import store as store_mod


def finished_run(store: Path, **kw: object) -> runsite.Run:
    with runsite.start_run(log_git=False, **kw) as r:  # type: ignore[arg-type]
        runsite.log_param("p", 1)
        for i in range(5):
            runsite.log_metric("m", float(i))
    return r


def crashed_run(store: Path) -> Path:
    """A run whose process died: no end event, metrics still in JSONL, torn lines."""
    r = runsite.start_run(log_git=False, run_name="crashed")
    for i in range(3):
        r.log_metric("m", float(i))
    r._metrics.flush()
    runsite.fluent._stack.clear()
    from runsite import run as run_mod

    run_mod._open_runs.discard(r)
    with (r.path / "metrics.jsonl").open("a") as f:
        f.write('{"k":"m","v":9')  # torn by SIGKILL
    with (r.path / "events.jsonl").open("a") as f:
        f.write('{"type":"param","key"')
    return r.path


def test_empty_and_missing_stores(tmp_path: Path) -> None:
    assert runsite.Store(tmp_path / "nope").runs() == []
    assert runsite.Store(tmp_path / "nope").experiments() == []
    (tmp_path / "empty" / "exp").mkdir(parents=True)
    st = runsite.Store(tmp_path / "empty")
    assert [e.name for e in st.experiments()] == ["exp"] and st.runs() == []


def test_crashed_run_reads_as_unfinished(store: Path) -> None:
    path = crashed_run(store)
    header = json.loads((path / "run.json").read_text())
    header["pid"] = 2**22 + 12345  # no such process
    (path / "run.json").write_text(json.dumps(header))
    st = runsite.Store(store)
    (rec,) = st.runs()
    assert rec.status == "UNFINISHED" and rec.end_time is None
    assert rec.metrics["m"]["count"] == 3 and rec.metrics["m"]["last"] == 2.0
    assert rec.metrics_table().num_rows == 3
    assert any("metrics.jsonl: last line is incomplete" in w for w in rec.warnings)
    assert any("events.jsonl: last line is incomplete" in w for w in rec.warnings)
    assert rec.to_row()["attributes"]["status"] == "UNFINISHED"


def test_damaged_middle_line_is_skipped_and_reported(store: Path) -> None:
    path = crashed_run(store)
    text = (path / "metrics.jsonl").read_text().splitlines(keepends=True)
    text.insert(1, "not json\n")
    (path / "metrics.jsonl").write_text("".join(text))
    (rec,) = runsite.Store(store).runs()
    assert rec.metrics_table().num_rows == 3
    assert any("not valid JSON" in w for w in rec.warnings)


def test_crash_between_compaction_and_cleanup(store: Path) -> None:
    r = finished_run(store)
    # Simulate a kill after metrics.parquet was written but before the JSONL was removed
    # and the status written: both files exist, no end event.
    events = (r.path / "events.jsonl").read_text().splitlines(keepends=True)
    (r.path / "events.jsonl").write_text("".join(events[:-1]))
    (r.path / "metrics.jsonl").write_text("".join(record.metric_line("m", 0.0, 0, 1)))
    (rec,) = runsite.Store(store).runs()
    assert rec.status in ("UNFINISHED", "RUNNING")
    assert rec.metrics["m"]["count"] == 5  # the complete parquet wins


def test_run_from_a_newer_format_is_reported_not_fatal(store: Path) -> None:
    good = finished_run(store)
    bad = finished_run(store)
    h = json.loads((bad.path / "run.json").read_text())
    h["format"] = record.FORMAT_VERSION + 1
    (bad.path / "run.json").write_text(json.dumps(h))
    st = runsite.Store(store)
    assert [r.run_id for r in st.runs()] == [good.run_id]
    assert any("Upgrade runsite" in w for w in st.warnings)
    with pytest.raises(runsite.StoreFormatError, match="Upgrade runsite"):
        runsite.Store(store).run(bad.run_id)


def test_minimal_hand_written_run_reads(store: Path) -> None:
    path = store / "old" / "01aaaaaaaaaaaaaaaaaaaaaaaa"
    path.mkdir(parents=True)
    (path / "run.json").write_text('{"run_id": "01aaaaaaaaaaaaaaaaaaaaaaaa"}')
    (rec,) = runsite.Store(store).runs()
    assert rec.run_name == rec.run_id and rec.experiment == "old" and rec.metrics == {}


def test_stray_folder_is_skipped_with_warning(store: Path) -> None:
    finished_run(store)
    (store / "default" / "not-a-run").mkdir()
    (store / "default" / "leftover" / "artifacts").mkdir(parents=True)  # after a branch switch
    (store / "default" / "not-a-run" / "notes.txt").write_text("x")
    st = runsite.Store(store)
    assert len(st.runs()) == 1
    st.experiments()
    assert [w for w in st.warnings if "not a run" in w] == [
        f"{store / 'default' / 'not-a-run'}: folder without run.json; not a run, skipped"
    ]


def test_experiment_yaml(store: Path) -> None:
    runsite.set_experiment("Taxi")
    finished_run(store)
    (store / "taxi" / "experiment.yaml").write_text(
        "# edited by hand\nname: NYC Taxi\ndescription: |\n  Predict *fares*.\n"
        "key_metric: rmse\ntags:\n  team: ml\n"
    )
    exp = runsite.Store(store).experiment("taxi")
    assert exp.name == "NYC Taxi" and exp.description.strip() == "Predict *fares*."
    assert exp.key_metric == "rmse" and exp.tags == {"team": "ml"}
    assert runsite.Store(store).experiment("Taxi").experiment_id == "taxi"
    (store / "taxi" / "experiment.yaml").write_text("name: [unclosed\n")
    st = runsite.Store(store)
    assert st.experiment("taxi").name == "Taxi"  # falls back to the runs' name
    assert any("line 2" in w or "line 1" in w for w in st.warnings)


def test_lookup_by_prefix(store: Path) -> None:
    a = finished_run(store)
    st = runsite.Store(store)
    assert st.run(a.run_id[:12]).run_id == a.run_id
    with pytest.raises(runsite.NotFound, match="no run"):
        st.run("zzzzzzzz")
    with pytest.raises(runsite.InvalidInput, match="not a run id"):
        st.run("../x")
    twin = a.path.parent / (a.run_id[:20] + "zzzzzz")
    shutil.copytree(a.path, twin)
    with pytest.raises(runsite.InvalidInput, match="ambiguous"):
        runsite.Store(store).run(a.run_id[:20])
    with pytest.raises(runsite.NotFound, match="no experiment 'nope'"):
        st.runs("nope")


def test_cache_is_used_and_invalidated(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    r = finished_run(store)
    assert runsite.Store(store).runs()[0].params == {"p": 1}  # fills the cache
    calls = []
    real = store_mod.read_summary

    def spy(path: Path) -> dict:
        calls.append(path)
        return real(path)

    monkeypatch.setattr(store_mod, "read_summary", spy)
    assert runsite.Store(store).runs()[0].params == {"p": 1}
    assert calls == []  # served from the cache
    # Any change to the record files is seen.
    with (r.path / "events.jsonl").open("a") as f:
        f.write(record.event("tag", key="late", value="x"))
    assert runsite.Store(store).runs()[0].tags == {"late": "x"}
    assert len(calls) == 1


def test_corrupt_cache_is_not_an_error(store: Path) -> None:
    finished_run(store)
    runsite.Store(store).runs()
    cache_files = list(Path(os.environ["RUNSITE_CACHE_DIR"]).rglob(runindex.FILE_NAME))
    assert cache_files
    for cache_file in cache_files:
        cache_file.write_text("{not json")
    assert len(runsite.Store(store).runs()) == 1


def test_runs_are_newest_first_and_filter_by_experiment(store: Path) -> None:
    runsite.set_experiment("a")
    r1 = finished_run(store)
    runsite.set_experiment("b")
    r2 = finished_run(store)
    st = runsite.Store(store)
    assert [r.run_id for r in st.runs()] == [r2.run_id, r1.run_id]
    assert [r.run_id for r in st.runs("a")] == [r1.run_id]
    assert [r.run_id for r in st.runs(["a", "b"])] == [r2.run_id, r1.run_id]
