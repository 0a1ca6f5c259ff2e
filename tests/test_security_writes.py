"""Attack 8 of issue 15 (docs/security.md, "Nothing lost quietly"): failing writes.

A disk that fills while a run logs, a build into a full disk, a refused call, a tight
logging loop, a mistyped --store. The full disk is real: a tiny tmpfs filled up (needs
root to mount: CI runs as root; elsewhere these tests skip, in CI they fail) or
/dev/full, which fails every write with ENOSPC for any user.
"""

from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import runsite
from fs_support import fill, tmpfs
from runsite import record
from runsite.cli import main
from runsite.errors import InvalidInput, WriteError
from runsite.store import Store


@pytest.fixture
def thread_errors(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Exceptions that escaped a thread (printed as a traceback from the background)."""
    seen: list[Any] = []
    monkeypatch.setattr(threading, "excepthook", seen.append)
    return seen


def _unfill(mount: Path) -> None:
    for name in (".filler", ".filler2"):
        (mount / name).unlink(missing_ok=True)


def _lines(path: Path) -> list[dict[str, Any]]:
    data = path.read_bytes() if path.exists() else b""
    assert data == b"" or data.endswith(b"\n"), "a torn line was left in the file"
    return [json.loads(line) for line in data.splitlines()]


def _wait_until(condition: Any) -> None:
    """Wait (up to ~30 s, generous) for the background writer to do something."""
    event = threading.Event()
    for _ in range(600):
        if condition():
            return
        event.wait(0.05)
    raise AssertionError("the background writer did not get there in 30 s")


def test_disk_full_while_logging_is_an_error_on_the_next_call(
    tmp_path: Path, thread_errors: list[Any]
) -> None:
    with tmpfs(tmp_path / "mnt", "8m") as mnt:  # (room for the backlog once freed)
        runsite.set_store(mnt / "runs")
        run = runsite.start_run(log_git=False, run_name="full")
        run.log_param("alpha", 1)
        fill(mnt)
        logged = 0
        with pytest.raises(WriteError) as caught:
            for i in range(20_000_000):  # bounded; the error comes within one flush
                run.log_metric("loss", float(i), step=i)
                logged += 1
        message = str(caught.value)
        assert "No space left on device" in message and "metrics.jsonl" in message
        assert "kept in memory and retried" in message and "this call logged nothing" in message
        assert caught.value.errno == 28
        with pytest.raises(WriteError):  # still full: every logging call says so
            run.log_metric("loss", 0.0)
        with pytest.raises(WriteError):
            run.set_tag("t", "x")
        # What was recorded stays readable meanwhile.
        rec = Store(mnt / "runs").run(run.run_id)
        assert rec.params == {"alpha": 1}
        assert rec.metrics_table().num_rows == run._metrics.written
        # Space comes back: the kept points are retried and logging goes on.
        _unfill(mnt)
        _wait_until(lambda: run._metrics.error is None)
        run.log_metric("loss", float(logged), step=logged)
        run.end()
        rec = Store(mnt / "runs").run(run.run_id)
        assert rec.status == record.FINISHED
        steps = rec.metrics_table()["step"].to_pylist()
        assert steps == list(range(logged + 1)), "points were lost or duplicated"
    assert thread_errors == []


def test_disk_full_at_end_reports_what_was_lost(tmp_path: Path, thread_errors: list[Any]) -> None:
    with tmpfs(tmp_path / "mnt", "1m") as mnt:
        runsite.set_store(mnt / "runs")
        run = runsite.start_run(log_git=False, run_name="full-at-end")
        run.log_param("alpha", 1)
        for i in range(100):
            run.log_metric("loss", float(i), step=i)
        run._metrics.flush()  # these 100 are on disk
        fill(mnt)
        late = 0
        try:  # (more than the slack in the file's last page)
            for i in range(100, 3100):
                run.log_metric("loss", float(i), step=i)
                late += 1
        except WriteError:
            pass  # the writer noticed first: also fine
        with pytest.raises(WriteError) as caught:
            run.end()
        message = str(caught.value)
        assert run.run_id in message and "No space left on device" in message
        if late:
            assert f"{late:,} points could not be written and are lost" in message
        assert "100 were written and stay readable" in message
        rec = Store(mnt / "runs").run(run.run_id)
        assert rec.params == {"alpha": 1}
        # the end event (small) may fit in the slack of events.jsonl's last page
        assert ("UNFINISHED" in message) == (rec.end_time is None), (message, rec.status)
        assert rec.metrics_table()["step"].to_pylist() == list(range(100))
        leftovers = [p.name for p in rec.path.iterdir() if p.name.endswith(".tmp")]
        assert leftovers == [], "a failed compaction left its temporary file"
        with pytest.raises(runsite.RunStateError):
            run.log_metric("loss", 1.0)  # the run is closed all the same
    assert thread_errors == []


def test_dev_full_metrics_file_is_an_error(tmp_path: Path, thread_errors: list[Any]) -> None:
    """Without mounting: metrics.jsonl is a link to /dev/full (ENOSPC on every write)."""
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    runsite.set_store(tmp_path / "runs")
    run = runsite.start_run(log_git=False)
    (run.path / record.METRICS_JSONL).symlink_to("/dev/full")
    run.log_metric("loss", 1.0)
    with pytest.raises(WriteError, match="No space left on device"):
        for _ in range(20_000_000):
            run.log_metric("loss", 1.0)
    with pytest.raises(WriteError, match="points could not be written and are lost"):
        run.end()
    assert thread_errors == []


def test_a_refused_call_writes_nothing(tmp_path: Path) -> None:
    store = tmp_path / "runs"
    runsite.set_store(store)
    for bad in (dict(description=5), dict(description="x" * 10_000_000)):
        with pytest.raises(InvalidInput):
            runsite.start_run(log_git=False, **bad)  # type: ignore[arg-type]
    assert list(store.glob("*/*")) == [], "a refused start_run left a run folder"
    assert runsite.active_run() is None


def test_a_refused_write_on_a_full_disk_writes_nothing(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "mnt", "1m") as mnt:
        runsite.set_store(mnt / "runs")
        run = runsite.start_run(log_git=False)
        run.log_param("kept", 1)
        events = (run.path / record.EVENTS).read_bytes()
        fill(mnt)
        with pytest.raises(WriteError, match="param event"):
            run.log_param("big", "x" * 4000)
        with pytest.raises(WriteError):
            run.add_note("n" * 50_000)
        assert (run.path / record.EVENTS).read_bytes() == events  # nothing half-written
        assert "big" not in run.data.params
        with pytest.raises(WriteError, match="new run"):
            runsite.start_run(log_git=False, nested=True, description="d" * 100_000)
        runs = [p.name for p in (mnt / "runs").glob("*/*")]
        assert runs == [run.run_id], "a failed start_run left a half-written run folder"
        _unfill(mnt)
        run.log_param("big", "x" * 4000)  # now it fits
        run.end()
        assert Store(mnt / "runs").run(run.run_id).params["big"] == "x" * 4000


def test_a_huge_batch_is_written_in_whole_lines(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "mnt", "2m") as mnt:
        runsite.set_store(mnt / "runs")
        run = runsite.start_run(log_git=False)
        total = 200_000  # about 8 MB of lines: four times the disk
        with pytest.raises(WriteError) as caught:
            run.log_metrics({f"m{j}": float(j) for j in range(total)}, step=0)
            run.end()
        on_disk = _lines(run.path / record.METRICS_JSONL)  # every line whole
        assert 0 < len(on_disk) < total
        if not run._closed:
            with pytest.raises(WriteError) as caught:
                run.end()
        lost = re.search(r"([\d,]+) points could not be written", str(caught.value))
        assert lost, str(caught.value)
        assert len(on_disk) + int(lost.group(1).replace(",", "")) == total


def test_a_tight_loop_cannot_starve_the_writer(tmp_path: Path) -> None:
    """However fast the loop, at most MAX_PENDING_POINTS (+ one call's points) wait."""
    runsite.set_store(tmp_path / "runs")
    values = {f"m{j}": 1.0 / (j + 3) for j in range(20)}
    most = 0
    with runsite.start_run(log_git=False) as run:
        buf = run._metrics
        for i in range(30_000):  # 600,000 points as fast as Python goes
            run.log_metrics(values, step=i)
            waiting = len(buf._points)
            if waiting > most:
                most = waiting
    assert most <= record.MAX_PENDING_POINTS + len(values), most
    table = Store(tmp_path / "runs").run(run.run_id).metrics_table()
    assert table.num_rows == 600_000


# --------------------------------------------------------------------------- the CLI


def test_build_into_a_full_disk_is_one_clear_line(tmp_path: Path) -> None:
    runsite.set_store(tmp_path / "runs")
    for i in range(3):
        with runsite.start_run(log_git=False, run_name=f"r{i}"):
            runsite.log_metric("m", float(i))
    with tmpfs(tmp_path / "out", "200k") as out:
        r = CliRunner().invoke(main, ["build", str(tmp_path / "runs"), "--out", str(out / "site")])
        assert r.exit_code == 1, r.output
        assert isinstance(r.exception, SystemExit), r.exception
        errors = [line for line in r.output.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1 and "No space left on device" in errors[0], r.output
        assert "Traceback" not in r.output
        assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")], "half files left"


@pytest.mark.parametrize("kind", ["missing", "empty folder", "a source tree", "a file"])
def test_a_path_that_is_not_a_store_is_an_error(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "runz"
    if kind == "empty folder":
        path.mkdir()
    elif kind == "a source tree":
        for sub in ("src/pkg", "tests", "docs"):
            (path / sub).mkdir(parents=True)
        (path / "README.md").write_text("hello")
    elif kind == "a file":
        path.write_text("not a store")
    for args in (
        ["models", "check", "--store", str(path)],
        ["build", str(path), "--out", str(tmp_path / "site")],
    ):
        r = CliRunner().invoke(main, args)
        assert r.exit_code in (1, 2), (args, r.output)  # (2: click's own "is a file")
        assert any(m in r.output for m in ("not a runsite store", "is a file", "not a folder"))
        assert "ok" not in r.output.split(), r.output
    assert not (tmp_path / "site").exists(), "an empty site was published"


def test_a_new_store_from_init_is_a_store(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["init", str(tmp_path)])
    assert r.exit_code == 0, r.output
    for args in (
        ["models", "check", "--store", str(tmp_path / "runs")],
        ["build", str(tmp_path / "runs"), "--out", str(tmp_path / "site")],
    ):
        r = CliRunner().invoke(main, args)
        assert r.exit_code == 0, (args, r.output)


def test_compaction_keeps_the_lines_it_cannot_convert(tmp_path: Path, caplog: Any) -> None:
    """Lines of metrics.jsonl that are not metric points (damaged, from a newer format,
    the torn tail of a crash) are kept verbatim in metrics.rejected.jsonl, and a warning
    says so: compaction never deletes what it could not convert."""
    from runsite import arrowio

    runsite.set_store(tmp_path / "runs")
    run = runsite.start_run(log_git=False)
    for i in range(3):
        run.log_metric("loss", float(i), step=i)
    run._metrics.flush()
    bad = [
        b"{not json\n",
        b'{"k": "loss", "s": 3, "t": 1700000000000, "v": "0.5"}\n',  # a string value
        b'{"k": "loss", "s": 3, "t": 1700000000000, "v": null, "x": "Huge"}\n',  # unknown marker
        b"[1, 2, 3]\n",
        b'{"k": "acc", "s": 0, "t": 99999999999999999, "v": 1.0}\n',  # a time out of range
    ]
    with open(run.path / record.METRICS_JSONL, "ab") as f:
        f.write(b"".join(bad))
    for i in range(3, 6):
        run.log_metric("loss", float(i), step=i)
    with caplog.at_level("WARNING", logger="runsite"):
        run.end()
    rec = Store(tmp_path / "runs").run(run.run_id)
    assert rec.status == record.FINISHED
    assert rec.metrics_table()["step"].to_pylist() == list(range(6))
    assert not (run.path / record.METRICS_JSONL).exists()
    kept = run.path / record.METRICS_REJECTED
    assert kept.read_bytes() == b"".join(bad)
    said = [r.getMessage() for r in caplog.records if "kept verbatim" in r.getMessage()]
    assert said and "5 lines are not metric points" in said[0] and str(kept) in said[0]

    # A crashed run's file with a torn last line, compacted: the tail is kept too.
    crashed = tmp_path / "crashed"
    crashed.mkdir()
    good = b'{"k": "loss", "s": 0, "t": 1700000000000, "v": 2.5}\n'
    (crashed / record.METRICS_JSONL).write_bytes(good + b'{"k": "loss", "s": 1, "t": 17')
    warnings: list[str] = []
    summary = arrowio.compact(crashed, warnings)
    assert summary["loss"]["last"] == 2.5
    assert (crashed / record.METRICS_REJECTED).read_bytes() == b'{"k": "loss", "s": 1, "t": 17\n'
    assert any("kept verbatim" in w for w in warnings)
    # An intact file leaves no such file.
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / record.METRICS_JSONL).write_bytes(good)
    arrowio.compact(clean, [])
    assert sorted(p.name for p in clean.iterdir()) == [record.METRICS_PARQUET]


def test_a_disk_that_fails_with_eio_is_an_error_on_the_next_call_and_at_end(
    tmp_path: Path, thread_errors: list[Any]
) -> None:
    """A real EIO, from the kernel: the run's store is on ext4 over a loop device, and the
    file system is shut down mid-run (ext4's shutdown ioctl, xfstests' "godown"), so every
    write fails with EIO, as on a dying disk. Like ENOSPC: the next logging call and end()
    raise WriteError naming the file and the reason, never only a thread's traceback; and
    what was written before stays readable once the disk is back."""
    import errno

    from fs_support import dying_disk, fail_disk, remount

    image = tmp_path / "disk.img"
    with dying_disk(image, tmp_path / "mnt") as mnt:
        runsite.set_store(mnt / "runs")
        run = runsite.start_run(log_git=False, run_name="dying")
        run.log_param("alpha", 1)
        for i in range(100):
            run.log_metric("loss", float(i), step=i)
        run._metrics.flush()  # these 100 are written
        fail_disk(mnt)
        with pytest.raises(WriteError) as caught:
            for i in range(100, 20_000_000):  # bounded; the error comes within one flush
                run.log_metric("loss", float(i), step=i)
        message = str(caught.value)
        assert caught.value.errno == errno.EIO, message
        assert "Input/output error" in message and "metrics.jsonl" in message
        assert "kept in memory and retried" in message and "this call logged nothing" in message
        with pytest.raises(WriteError, match="Input/output error"):
            run.set_tag("t", "x")  # every logging call says so
        with pytest.raises(WriteError) as ended:
            run.end()
        message = str(ended.value)
        assert run.run_id in message and "Input/output error" in message, message
        assert "points could not be written and are lost" in message
        assert "100 were written and stay readable" in message
        assert "UNFINISHED" in message  # its end could not be recorded either
        with pytest.raises(runsite.RunStateError):
            run.log_metric("loss", 1.0)  # closed all the same
        remount(mnt, image)
        rec = Store(mnt / "runs").run(run.run_id)
        assert rec.params == {"alpha": 1}
        assert rec.end_time is None  # no end recorded (this process is alive: RUNNING)
        assert rec.metrics_table()["step"].to_pylist() == list(range(100))
    assert thread_errors == []
