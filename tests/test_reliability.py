"""Reliability of the tracking core under real processes, threads, signals and git.

Every test here runs real child processes (``sys.executable`` on a script written to
``tmp_path``) or real threads, and then reads what they left on disk through
``runsite.Store``. Nothing is mocked.

* SIGKILL at random moments, while logging and while ``end()`` compacts the metrics:
  the store must always read, the run reads UNFINISHED, a torn last line is only a
  warning, and no metric point logged more than 1 s before the kill is lost.
* Several processes logging into one experiment, several threads into one ``Run``.
* Two git branches logging runs, then merged.
* How a run ends: SIGTERM, exceptions, KeyboardInterrupt, atexit.

``RUNSITE_KILL_TRIALS`` sets the number of SIGKILL trials (default 30; the compaction
trials are a fifth of that, at least 2; the tight-loop trials a third, at least 4: each
keeps a child logging flat out for 1-3 s and reads back ~1,000,000 points, and ten of them
already cross every phase of the writer).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from runsite import record
from runsite.store import RunRecord, Store

KILL_TRIALS = int(os.environ.get("RUNSITE_KILL_TRIALS", "30"))
END_KILL_TRIALS = max(2, KILL_TRIALS // 5)
TIGHT_KILL_TRIALS = max(4, KILL_TRIALS // 3)
# How long a point may sit in memory before a SIGKILL loses it (FLUSH_INTERVAL is 0.25 s).
LOSS_WINDOW = 1.0
SEED = 20240611


# --------------------------------------------------------------------------- helpers


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNSITE_CACHE_DIR", str(tmp_path / "_cache"))


def child_env(tmp_path: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("RUNSITE_", "GIT_")) and k != "PYTHONSTARTUP"
    }
    env["RUNSITE_CACHE_DIR"] = str(tmp_path / "_cache_child")
    return env


def write_script(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(_DEFAULT_SIGNALS + textwrap.dedent(body).lstrip(), "utf-8")
    return path


# A script starts as from a shell: SIGINT and SIGTERM at their defaults and no signal
# blocked, whatever a library in the test process did to its own dispositions (an ignored
# signal is inherited across exec, and Python then never raises KeyboardInterrupt).
_DEFAULT_SIGNALS = (
    "import signal as _sig; _sig.signal(_sig.SIGINT, _sig.default_int_handler); "
    "_sig.signal(_sig.SIGTERM, _sig.SIG_DFL); _sig.pthread_sigmask(_sig.SIG_SETMASK, [])\n"
)


def spawn(
    script: Path,
    args: Sequence[str],
    env: dict[str, str],
    cwd: Path,
    stdout: int = subprocess.DEVNULL,
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(script), *args],
        env=env,
        cwd=cwd,
        text=True,
        stdout=stdout,
        stderr=subprocess.PIPE,
    )


def run_script(
    script: Path, args: Sequence[str], env: dict[str, str], cwd: Path, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(script), *args],
        env=env,
        cwd=cwd,
        text=True,
        capture_output=True,
        timeout=timeout,
    )


def wait_for_marker(
    path: Path, marker: bytes, proc: subprocess.Popen[str], timeout: float
) -> bytes:
    """Poll the child's side file until a line starting with ``marker`` appears."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            data = b""
        if data.startswith(marker) or b"\n" + marker in data:
            return data
        if proc.poll() is not None:
            raise AssertionError(
                f"child exited ({proc.returncode}) before writing {marker!r}: "
                f"{proc.stderr.read() if proc.stderr else ''}"
            )
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            raise AssertionError(f"child never wrote {marker!r} within {timeout} s")
        time.sleep(0.001)


def complete_lines(data: bytes) -> list[bytes]:
    """Lines of a side file, without a torn last line (the child may die mid-write)."""
    return data.split(b"\n")[:-1]


def only_run(store: Path) -> RunRecord:
    runs = Store(store).runs()
    assert len(runs) == 1, runs
    return runs[0]


def steps_of(table: pa.Table, key: str) -> list[int]:
    return table.filter(pc.equal(table["key"], key))["step"].to_pylist()


def assert_prefix(table: pa.Table, key: str) -> int:
    """The steps of ``key`` are exactly 0..n-1, once each (the log is append-only and
    logged in step order, so a reader sees a prefix: no holes, no duplicates)."""
    steps = steps_of(table, key)
    assert steps == list(range(len(steps))), (
        f"{key}: steps are not a prefix 0..{len(steps) - 1} "
        f"(first differences: {[(i, s) for i, s in enumerate(steps) if s != i][:5]})"
    )
    return len(steps)


def assert_only_torn_warnings(rec: RunRecord) -> None:
    for w in rec.warnings:
        assert "incomplete" in w, f"unexpected warning for {rec.run_id}: {w}"


def torn(path: Path) -> bool:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return False
    return bool(data) and not data.endswith(b"\n")


def assert_artifacts_intact(rec: RunRecord) -> None:
    """Every artifact the record lists exists with the recorded size and hash."""
    for art in rec.artifacts:
        f = rec.artifacts_dir / art["path"]
        assert f.is_file(), f"artifact {art['path']} is recorded but missing"
        data = f.read_bytes()
        assert len(data) == art["size"], art
        assert hashlib.sha256(data).hexdigest() == art["sha256"], art


# --------------------------------------------------------------------------- 1. SIGKILL

KILL_CHILD = """
import os, sys, time
import runsite

store, side_path = sys.argv[1], sys.argv[2]
side = os.open(side_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)


def mark(text):
    os.write(side, (text + "\\n").encode())


runsite.set_store(store)
with runsite.start_run(experiment="killed", run_name="victim", tags={"kind": "kill"}) as run:
    runsite.log_params({"lr": 0.1, "layers": 3})
    runsite.set_tag("phase", "train")
    runsite.log_dict({"config": [1, 2, 3]}, "config.json")
    mark(f"S {run.run_id} {time.monotonic():.6f}")
    i = 0
    while True:
        runsite.log_metric("loss", i * 0.5, step=i)
        runsite.log_metric("acc", -float(i), step=i)
        mark(f"{i} {time.monotonic():.6f}")
        if i % 2000 == 0:
            runsite.log_param(f"p{i}", i)
            runsite.set_tag("last", i)
            runsite.log_text(f"checkpoint {i}\\n", f"ckpt/{i}.txt")
            mark(f"X {i} {time.monotonic():.6f}")
        i += 1
"""


def _check_killed_logging_run(store: Path, side: bytes, t_kill: float) -> dict[str, int]:
    """Assertions for one SIGKILLed logging child; returns counts for the trial summary."""
    lines = complete_lines(side)
    started = [ln for ln in lines if ln.startswith(b"S ")]
    st = Store(store)
    runs = st.runs()  # must never raise
    if not started:
        # Killed during start-up: there may be no run, or one with no end.
        assert len(runs) <= 1
        for rec in runs:
            assert rec.status == record.UNFINISHED
            rec.metrics_table()
        return {"started": 0, "old_points": 0, "torn": 0, "lost_age_ms": 0}

    run_id = started[0].split()[1].decode()
    assert [r.run_id for r in runs] == [run_id]
    rec = runs[0]
    assert rec.status == record.UNFINISHED
    assert rec.end_time is None
    assert rec.params["lr"] == 0.1 and rec.params["layers"] == 3
    assert rec.tags["kind"] == "kill" and rec.tags["phase"] == "train"
    assert any(a["path"] == "config.json" for a in rec.artifacts)
    assert_artifacts_intact(rec)

    # Params, tags and artifacts are written synchronously: all that returned are there.
    checkpoints = [int(ln.split()[1]) for ln in lines if ln.startswith(b"X ")]
    paths = {a["path"] for a in rec.artifacts}
    for c in checkpoints:
        assert rec.params[f"p{c}"] == c
        assert f"ckpt/{c}.txt" in paths
    if checkpoints:
        assert int(rec.tags["last"]) >= checkpoints[-1]

    # Metric points.
    table = rec.metrics_table()
    n_loss, n_acc = assert_prefix(table, "loss"), assert_prefix(table, "acc")
    assert set(table["key"].unique().to_pylist()) <= {"loss", "acc"}
    loss = table.filter(pc.equal(table["key"], "loss"))
    assert loss["value"].to_pylist() == [s * 0.5 for s in range(n_loss)]
    acc = table.filter(pc.equal(table["key"], "acc"))
    assert acc["value"].to_pylist() == [-float(s) for s in range(n_acc)]

    step_lines = [ln for ln in lines if ln[:1].isdigit()]
    logged = int(step_lines[-1].split()[0]) + 1 if step_lines else 0
    # At most the point in flight when the side line was not yet written is extra.
    assert n_loss <= logged + 1 and n_acc <= logged + 1
    cutoff = t_kill - LOSS_WINDOW
    must_have = 0  # points (per key) logged more than LOSS_WINDOW before the kill
    lost_age = 0.0  # how long before the kill the oldest lost point was logged
    for ln in reversed(step_lines):
        step, t = int(ln.split()[0]), float(ln.split()[1])
        if step >= min(n_loss, n_acc):
            lost_age = t_kill - t
        if t < cutoff:
            must_have = step + 1
            break
    assert n_loss >= must_have and n_acc >= must_have, (
        f"lost points logged more than {LOSS_WINDOW} s before SIGKILL: "
        f"{must_have} steps were logged by then, the store has loss={n_loss} acc={n_acc}"
    )
    if rec.metrics:  # the summary agrees with the table
        assert rec.metrics["loss"]["count"] == n_loss

    # A torn last line (killed mid-write) is a warning, never an error.
    run_dir = rec.path
    was_torn = torn(run_dir / record.METRICS_JSONL) or torn(run_dir / record.EVENTS)
    if was_torn:
        assert any("incomplete" in w for w in rec.warnings)
    assert_only_torn_warnings(rec)
    return {
        "started": 1,
        "old_points": must_have,
        "torn": int(was_torn),
        "lost_age_ms": int(lost_age * 1000),
    }


@pytest.mark.slow
def test_sigkill_while_logging_never_corrupts_the_store(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    script = write_script(tmp_path / "scripts", "kill_child.py", KILL_CHILD)
    env = child_env(tmp_path)
    totals = {"started": 0, "old_points": 0, "torn": 0, "lost_age_ms": 0}
    for trial in range(KILL_TRIALS):
        store = tmp_path / f"store{trial}"
        side_path = tmp_path / f"side{trial}.txt"
        # Every fifth trial counts the delay from the spawn, so that kills land during
        # start-up (imports, start_run writing run.json); the others from the moment
        # the run is open.
        from_spawn = trial % 5 == 4
        delay = rng.uniform(0.05, 0.2) if from_spawn else rng.uniform(0.05, 1.5)
        proc = spawn(script, [str(store), str(side_path)], env, tmp_path)
        try:
            if not from_spawn:
                wait_for_marker(side_path, b"S ", proc, timeout=30)
            time.sleep(delay)
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            t_kill = time.monotonic()
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.kill()
            proc.wait()
        assert proc.returncode == -signal.SIGKILL
        side = side_path.read_bytes() if side_path.exists() else b""
        counts = _check_killed_logging_run(store, side, t_kill)
        for k, v in counts.items():
            totals[k] = max(totals[k], v) if k == "lost_age_ms" else totals[k] + v
        # Keep tmp_path small: each trial writes tens of MB.
        for p in store.rglob("metrics.*"):
            p.unlink()
        side_path.unlink(missing_ok=True)
    print(f"SIGKILL trials: {totals}")  # shown with -s / -rP
    # The trials did exercise the interesting cases.
    assert totals["started"] >= KILL_TRIALS // 2
    assert totals["old_points"] > 0


TIGHT_CHILD = """
import os, sys, time
import runsite

store, side_path = sys.argv[1], sys.argv[2]
side = os.open(side_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
values = {f"m{j}": 1.0 / (j + 3) for j in range(20)}
runsite.set_store(store)
with runsite.start_run(experiment="tight", run_name="tight", log_git=False) as run:
    os.write(side, f"S {run.run_id}\\n".encode())
    i = 0
    while True:  # as fast as Python goes: 20 points a call, no pause
        runsite.log_metrics(values, step=i)
        i += 1
        if i % 500 == 0:  # these steps (0..i-1) have returned at this time
            os.write(side, f"{i} {time.monotonic():.6f}\\n".encode())
"""


@pytest.mark.slow
def test_sigkill_in_a_tight_logging_loop_loses_only_the_flush_window(tmp_path: Path) -> None:
    """A busy loop must not starve the background writer (issue 15, attack 8): after a
    SIGKILL every point logged more than LOSS_WINDOW before it is on disk."""
    rng = random.Random(SEED + 7)
    script = write_script(tmp_path / "scripts", "tight.py", TIGHT_CHILD)
    env = child_env(tmp_path)
    worst_ms, old_points, points = 0, 0, 0
    for trial in range(TIGHT_KILL_TRIALS):
        store, side_path = tmp_path / f"tight{trial}", tmp_path / f"tight{trial}.txt"
        proc = spawn(script, [str(store), str(side_path)], env, tmp_path)
        try:
            wait_for_marker(side_path, b"S ", proc, timeout=60)
            time.sleep(rng.uniform(1.2, 3.0))
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            t_kill = time.monotonic()
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.kill()
            proc.wait()
        marks = [ln.split() for ln in complete_lines(side_path.read_bytes())[1:]]
        must_have = max((int(n) for n, t in marks if float(t) < t_kill - LOSS_WINDOW), default=0)
        table = only_run(store).metrics_table()
        kept = min(assert_prefix(table, f"m{j}") for j in range(20))
        assert kept >= must_have, (
            f"trial {trial}: {must_have} steps were logged more than {LOSS_WINDOW} s before "
            f"the SIGKILL, only {kept} are on disk ({(must_have - kept) * 20:,} points lost)"
        )
        # how long before the kill the oldest lost step had returned
        lost = [float(t) for n, t in marks if int(n) > kept]
        worst_ms = max(worst_ms, int((t_kill - min(lost)) * 1000) if lost else 0)
        old_points += must_have * 20
        points += table.num_rows
        for p in store.rglob("metrics.*"):
            p.unlink()
    print(
        f"tight-loop SIGKILL trials: {TIGHT_KILL_TRIALS}, {points:,} points on disk, "
        f"{old_points:,} logged > {LOSS_WINDOW} s before a kill (all kept), "
        f"oldest lost point returned {worst_ms} ms before its kill"
    )
    assert old_points > 0


END_KILL_CHILD = """
import os, sys, time
import runsite

store, side_path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
side = os.open(side_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)


def mark(text):
    os.write(side, (text + "\\n").encode())


runsite.set_store(store)
run = runsite.start_run(experiment="compaction", run_name="big")
runsite.log_param("n", n)
for i in range(n):
    run.log_metric("a", i * 0.25, step=i)
    run.log_metric("b", float(-i), step=i)
    run.log_metric("c", 1.0 / (i + 1), step=i)
mark(f"E {run.run_id} {time.monotonic():.6f}")
run.end()
mark(f"D {run.run_id} {time.monotonic():.6f}")
"""
END_KILL_STEPS = 100_000  # x 3 keys = 300k points


def _check_end_killed_run(store: Path, side: bytes, t_kill: float | None) -> str:
    lines = complete_lines(side)
    e_line = next(ln for ln in lines if ln.startswith(b"E "))
    run_id, t_end_start = e_line.split()[1].decode(), float(e_line.split()[2])
    st = Store(store)
    runs = st.runs()
    assert [r.run_id for r in runs] == [run_id]
    rec = runs[0]
    assert rec.status in (record.FINISHED, record.UNFINISHED)
    assert rec.params["n"] == END_KILL_STEPS
    table = rec.metrics_table()
    counts = {k: assert_prefix(table, k) for k in ("a", "b", "c")}
    complete = all(c == END_KILL_STEPS for c in counts.values())
    parquet = (rec.path / record.METRICS_PARQUET).exists()
    jsonl = (rec.path / record.METRICS_JSONL).exists()
    assert parquet or jsonl or not any(counts.values())
    if parquet:  # written atomically, from the complete JSONL: never partial
        assert complete, f"metrics.parquet exists but holds only {counts}"
    if rec.status == record.FINISHED:
        assert complete, counts
        assert parquet and not jsonl
        assert rec.end_time is not None
        assert {k: rec.metrics[k]["count"] for k in "abc"} == dict.fromkeys("abc", END_KILL_STEPS)
        assert rec.metrics["a"]["last"] == (END_KILL_STEPS - 1) * 0.25
        assert rec.metrics["b"]["min"] == float(-(END_KILL_STEPS - 1))
        assert rec.warnings == []
    if t_kill is not None and t_kill - t_end_start > LOSS_WINDOW:
        assert complete, counts
    a = table.filter(pc.equal(table["key"], "a"))["value"]
    assert a.to_pylist() == [i * 0.25 for i in range(counts["a"])]
    assert_only_torn_warnings(rec)
    if rec.status == record.FINISHED:
        return "finished"
    return "parquet" if parquet else "jsonl"


@pytest.mark.slow
def test_sigkill_during_end_keeps_jsonl_or_parquet(tmp_path: Path) -> None:
    rng = random.Random(SEED + 1)
    script = write_script(tmp_path / "scripts", "end_child.py", END_KILL_CHILD)
    env = child_env(tmp_path)

    # Calibrate: how long does end() take here? The undisturbed run must be complete.
    store, side_path = tmp_path / "calibrate", tmp_path / "calibrate.txt"
    done = run_script(script, [str(store), str(side_path), str(END_KILL_STEPS)], env, tmp_path)
    assert done.returncode == 0, done.stderr
    side = side_path.read_bytes()
    assert _check_end_killed_run(store, side, None) == "finished"
    marks = {ln[:1]: float(ln.split()[2]) for ln in complete_lines(side)}
    end_duration = marks[b"D"] - marks[b"E"]

    outcomes = []
    for trial in range(END_KILL_TRIALS):
        store, side_path = tmp_path / f"end{trial}", tmp_path / f"end{trial}.txt"
        proc = spawn(script, [str(store), str(side_path), str(END_KILL_STEPS)], env, tmp_path)
        try:
            wait_for_marker(side_path, b"E ", proc, timeout=60)
            time.sleep(rng.uniform(0.0, 1.1 * end_duration))
            t_kill = time.monotonic()
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.kill()
            proc.wait()
        outcomes.append(_check_end_killed_run(store, side_path.read_bytes(), t_kill))
    print(f"end() took {end_duration:.3f} s; kill outcomes: {outcomes}")  # -s / -rP
    # Most kills land inside end(): some runs were left UNFINISHED mid-compaction.
    assert any(o != "finished" for o in outcomes), outcomes


CRASH_CHILD = """
import os, signal, sys, time
import runsite

runsite.set_store(sys.argv[1])
runsite.start_run(experiment="crashed", run_name="short", log_git=False)
runsite.log_param("alpha", 1)
for i in range(50):
    runsite.log_metric("m", float(i), step=i)
runsite.set_tag("last", "tag")
time.sleep(3 * 0.25)  # the background thread flushes the points
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_torn_last_line_is_only_a_warning(tmp_path: Path) -> None:
    """A crashed run's record files cut at every kind of offset: the store still reads,
    reports one warning per torn file and returns every complete line."""
    store = tmp_path / "runs"
    script = write_script(tmp_path / "scripts", "crash.py", CRASH_CHILD)
    done = run_script(script, [str(store)], child_env(tmp_path), tmp_path)
    assert done.returncode == -signal.SIGKILL, done.stderr
    rec = only_run(store)
    assert rec.status == record.UNFINISHED and rec.end_time is None
    assert rec.params == {"alpha": 1} and rec.tags == {"last": "tag"}
    assert rec.warnings == []
    assert steps_of(rec.metrics_table(), "m") == list(range(50))
    header = json.loads((rec.path / record.RUN_JSON).read_text())
    assert header["run_id"] == rec.run_id and header["pid"] > 0

    metrics_path, events_path = rec.path / record.METRICS_JSONL, rec.path / record.EVENTS
    metrics, events = metrics_path.read_bytes(), events_path.read_bytes()
    assert events.endswith(b"\n") and metrics.endswith(b"\n")
    line_ends = [i + 1 for i, b in enumerate(metrics) if b == ord("\n")]
    cuts = sorted({*range(0, len(metrics), 37), *line_ends, len(metrics) - 1})
    events_path.write_bytes(events[:-3])  # the tag event is torn
    for cut in cuts:
        metrics_path.write_bytes(metrics[:cut])
        st = Store(store)
        (rec,) = st.runs()
        full = sum(1 for e in line_ends if e <= cut)
        assert steps_of(rec.metrics_table(), "m") == list(range(full))
        assert rec.metrics.get("m", {}).get("count", 0) == full
        assert rec.status == record.UNFINISHED
        assert rec.params == {"alpha": 1} and rec.tags == {}
        torn_files = 1 + (cut not in line_ends and cut != 0)
        assert len(rec.warnings) == torn_files, rec.warnings
        assert all("incomplete" in w for w in rec.warnings)
        assert len(st.warnings) == torn_files


# --------------------------------------------------------------------------- 2. processes

PARALLEL_CHILD = """
import os, sys, time
import runsite

store, go, idx, steps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
open(f"{go}.ready{idx}", "w").close()
while not os.path.exists(go):
    time.sleep(0.001)
runsite.set_store(store)
runsite.set_experiment("shared")
with runsite.start_run(run_name=f"worker-{idx}") as run:
    runsite.log_param("worker", idx)
    runsite.set_tag("pid", os.getpid())
    for s in range(steps):
        runsite.log_metrics(
            {"loss": 1.0 / (s + 1), "acc": s * 0.001, "lr": 0.1, f"w{idx}": float(idx * s)}, step=s
        )
        if s % 25 == 0:
            time.sleep(0.005)  # keep the four runs open at the same time
    print(run.run_id, flush=True)
"""


@pytest.mark.slow
def test_parallel_processes_log_into_one_experiment(tmp_path: Path) -> None:
    workers, steps = 4, 1250  # 4 keys x 1250 = 5000 points per run
    store, go = tmp_path / "runs", tmp_path / "go"
    script = write_script(tmp_path / "scripts", "parallel_child.py", PARALLEL_CHILD)
    env = child_env(tmp_path)
    procs = [
        spawn(
            script,
            [str(store), str(go), str(i), str(steps)],
            env,
            tmp_path,
            stdout=subprocess.PIPE,
        )
        for i in range(workers)
    ]
    deadline = time.monotonic() + 60
    while not all(Path(f"{go}.ready{i}").exists() for i in range(workers)):
        assert time.monotonic() < deadline, "workers did not start"
        assert all(p.poll() is None for p in procs), [p.stderr.read() for p in procs if p.stderr]
        time.sleep(0.005)
    go.touch()  # all four start their runs at the same moment
    ids = []
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        ids.append(out.strip())
    st = Store(store)
    runs = st.runs("shared")
    assert st.warnings == []
    assert len(runs) == workers
    assert len({r.run_id for r in runs}) == workers
    assert sorted(r.run_id for r in runs) == sorted(ids)
    assert [e.experiment_id for e in st.experiments()] == ["shared"]
    by_worker = {r.params["worker"]: r for r in runs}
    assert sorted(by_worker) == list(range(workers))
    for idx, rec in by_worker.items():
        assert rec.status == record.FINISHED
        assert rec.run_name == f"worker-{idx}"
        keys = {"loss", "acc", "lr", f"w{idx}"}
        assert set(rec.metrics) == keys
        assert {k: rec.metrics[k]["count"] for k in keys} == dict.fromkeys(keys, steps)
        table = rec.metrics_table()
        assert table.num_rows == 4 * steps
        for k in keys:
            assert assert_prefix(table, k) == steps
        w = table.filter(pc.equal(table["key"], f"w{idx}"))["value"].to_pylist()
        assert w == [float(idx * s) for s in range(steps)]
    # The runs really overlapped in time.
    assert max(r.start_time for r in runs) < min(r.end_time or 0 for r in runs)


# --------------------------------------------------------------------------- 3. threads


def test_threads_share_one_run_object(tmp_path: Path) -> None:
    n_threads, n_steps = 8, 5000
    store = tmp_path / "runs"
    run = Store(store).start_run(experiment="threads", log_git=False)
    barrier = threading.Barrier(n_threads)
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            barrier.wait()
            run.log_param(f"param{t}", t)
            run.set_tag(f"tag{t}", f"thread-{t}")
            for i in range(n_steps):
                run.log_metric(f"own{t}", float(i), step=i)
                run.log_metric("shared", float(t), step=t * n_steps + i)
                if i % 1000 == 0:
                    run.log_param(f"param{t}_{i}", i)
                    run.set_tag(f"progress{t}", i)
                    run.log_text(f"{t}:{i}", f"threads/{t}/{i}.txt")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(n_threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
        assert not th.is_alive()
    assert not errors, errors
    run.end()

    rec = only_run(store)
    assert rec.status == record.FINISHED
    assert rec.warnings == []
    table = rec.metrics_table()
    assert table.num_rows == 2 * n_threads * n_steps
    for t in range(n_threads):
        assert assert_prefix(table, f"own{t}") == n_steps
        assert rec.metrics[f"own{t}"]["count"] == n_steps
        assert rec.params[f"param{t}"] == t
        assert rec.tags[f"tag{t}"] == f"thread-{t}"
        assert rec.tags[f"progress{t}"] == str(max(range(0, n_steps, 1000)))
        for i in range(0, n_steps, 1000):
            assert rec.params[f"param{t}_{i}"] == i
            assert (rec.artifacts_dir / f"threads/{t}/{i}.txt").read_text() == f"{t}:{i}"
    assert assert_prefix(table, "shared") == n_threads * n_steps
    shared = table.filter(pc.equal(table["key"], "shared"))["value"].to_pylist()
    assert shared == [float(s // n_steps) for s in range(n_threads * n_steps)]
    assert rec.metrics["shared"]["count"] == n_threads * n_steps
    assert rec.metrics["shared"]["last_step"] == n_threads * n_steps - 1
    assert len(rec.params) == n_threads * (1 + len(range(0, n_steps, 1000)))
    assert len(rec.artifacts) == n_threads * len(range(0, n_steps, 1000))
    assert_artifacts_intact(rec)


# --------------------------------------------------------------------------- 4. git

TRAIN_PY = """
import sys
import runsite

runsite.set_store("runs")
runsite.set_experiment("merge-test")
with runsite.start_run(run_name=sys.argv[1]):
    runsite.log_param("name", sys.argv[1])
    for i in range(10):
        runsite.log_metric("loss", 1.0 / (i + 1), step=i)
"""


def git(repo: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env["GIT_CONFIG_GLOBAL"] = os.devnull
    done = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, f"git {' '.join(args)} failed: {done.stdout}{done.stderr}"
    return done.stdout.strip()


@pytest.mark.slow
def test_two_branches_log_runs_and_merge_cleanly(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "config", "user.name", "Reliability Test")
    git(repo, "config", "user.email", "reliability@example.com")
    write_script(repo, "train.py", TRAIN_PY)
    (repo / "README.txt").write_text("a project\n")
    git(repo, "add", "train.py", "README.txt")
    git(repo, "commit", "-qm", "initial")
    initial = git(repo, "rev-parse", "HEAD")
    env = child_env(tmp_path)
    train = repo / "train.py"

    def log_run(name: str) -> None:
        done = run_script(train, [name], env, repo)
        assert done.returncode == 0, done.stderr

    def header(name: str) -> RunRecord:
        (rec,) = [r for r in Store(repo / "runs").runs() if r.run_name == name]
        return rec

    # Branch A: a code change, committed, then two runs.
    git(repo, "checkout", "-qb", "branch-a")
    (repo / "a.txt").write_text("work on A\n")
    git(repo, "add", "a.txt")
    git(repo, "commit", "-qm", "A work")
    sha_a = git(repo, "rev-parse", "HEAD")
    log_run("a1")
    log_run("a2")  # a1's files are uncommitted: the store is not part of "dirty"
    for name in ("a1", "a2"):
        rec = header(name)
        assert rec.git is not None
        assert rec.git["commit"] == sha_a
        assert rec.git["branch"] == "branch-a"
        assert rec.git["dirty"] is False, rec.git
        assert rec.git["dirty_files"] == []
        assert rec.git["entry_point"] == "train.py"
        assert rec.artifacts == []
    assert git(repo, "status", "--porcelain", "--", ".", ":(exclude)runs") == ""
    git(repo, "add", "runs")
    git(repo, "commit", "-qm", "A runs")

    # Branch B, from the initial commit: a committed change, a clean run, a dirty run.
    git(repo, "checkout", "-qb", "branch-b", initial)
    (repo / "b.txt").write_text("work on B\n")
    git(repo, "add", "b.txt")
    git(repo, "commit", "-qm", "B work")
    sha_b = git(repo, "rev-parse", "HEAD")
    log_run("b1")
    (repo / "README.txt").write_text("a project\nedited, not committed\n")
    log_run("b2")
    b1, b2 = header("b1"), header("b2")
    assert b1.git is not None and b2.git is not None
    assert b1.git["commit"] == b2.git["commit"] == sha_b
    assert b1.git["branch"] == b2.git["branch"] == "branch-b"
    assert b1.git["dirty"] is False and b1.artifacts == []
    assert b2.git["dirty"] is True
    assert b2.git["dirty_files"] == ["M README.txt"]
    (patch,) = [a for a in b2.artifacts if a["path"] == "git-diff.patch"]
    assert patch.get("system") is True
    diff = (b2.artifacts_dir / "git-diff.patch").read_text()
    assert "+edited, not committed" in diff and "README.txt" in diff
    assert "runs/" not in diff
    git(repo, "checkout", "--", "README.txt")
    git(repo, "add", "runs")
    git(repo, "commit", "-qm", "B runs")

    # Merge B into A: the runs are disjoint folders, so git needs no help.
    git(repo, "checkout", "-q", "branch-a")
    git(repo, "merge", "--no-edit", "-q", "branch-b")
    assert git(repo, "diff", "--name-only", "--diff-filter=U") == ""
    assert git(repo, "status", "--porcelain") == ""
    st = Store(repo / "runs")
    runs = st.runs()
    assert sorted(r.run_name for r in runs) == ["a1", "a2", "b1", "b2"]
    assert len({r.run_id for r in runs}) == 4
    assert st.warnings == []
    for rec in runs:
        assert rec.status == record.FINISHED
        assert rec.params == {"name": rec.run_name}
        assert rec.metrics["loss"]["count"] == 10
        assert rec.metrics_table().num_rows == 10
        expected = sha_a if rec.run_name.startswith("a") else sha_b
        assert rec.commit == expected
        assert rec.dirty is (rec.run_name == "b2")
    assert_artifacts_intact(header("b2"))


# --------------------------------------------------------------------------- 5. endings

IDLE_IN_WITH = """
import sys, time
import runsite

runsite.set_store(sys.argv[1])
with runsite.start_run(run_name="idle"):
    for i in range(5):
        runsite.log_metric("x", float(i), step=i)
    print("ready", flush=True)
    i = 5
    while True:
        time.sleep(0.01)
        runsite.log_metric("x", float(i), step=i)
        i += 1
"""


def _signal_idle_child(tmp_path: Path, sig: int) -> tuple[subprocess.Popen[str], RunRecord]:
    store = tmp_path / "runs"
    script = write_script(tmp_path / "scripts", "idle.py", IDLE_IN_WITH)
    proc = spawn(script, [str(store)], child_env(tmp_path), tmp_path, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready", proc.stderr.read() if proc.stderr else ""
    time.sleep(0.3)
    proc.send_signal(sig)
    try:
        proc.wait(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    rec = only_run(store)
    table = rec.metrics_table()
    n = assert_prefix(table, "x")
    assert n >= 5
    assert rec.metrics["x"]["count"] == n
    assert (rec.path / record.METRICS_PARQUET).exists()
    assert not (rec.path / record.METRICS_JSONL).exists()
    return proc, rec


def test_sigterm_inside_with_marks_killed(tmp_path: Path) -> None:
    proc, rec = _signal_idle_child(tmp_path, signal.SIGTERM)
    assert proc.returncode == 128 + signal.SIGTERM  # exits as terminated, after ending the run
    assert rec.status == record.KILLED
    assert rec.end_time is not None


def test_sigint_inside_with_marks_killed(tmp_path: Path) -> None:
    proc, rec = _signal_idle_child(tmp_path, signal.SIGINT)
    assert proc.returncode != 0
    assert rec.status == record.KILLED


ENDINGS = {
    "exception-in-with": (
        """
        with runsite.start_run(run_name="r"):
            runsite.log_metric("m", 1.0)
            raise RuntimeError("boom")
        """,
        record.FAILED,
        1,
    ),
    "keyboardinterrupt-in-with": (
        """
        with runsite.start_run(run_name="r"):
            runsite.log_metric("m", 1.0)
            raise KeyboardInterrupt
        """,
        record.KILLED,
        None,
    ),
    "no-with-normal-exit": (
        """
        runsite.start_run(run_name="r")
        runsite.log_metric("m", 1.0)
        """,
        record.FINISHED,
        0,
    ),
    "no-with-uncaught-exception": (
        """
        runsite.start_run(run_name="r")
        runsite.log_metric("m", 1.0)
        raise ValueError("boom")
        """,
        record.FAILED,
        1,
    ),
    "finished-in-with": (
        """
        with runsite.start_run(run_name="r"):
            runsite.log_metric("m", 1.0)
        """,
        record.FINISHED,
        0,
    ),
}


def _end_child(tmp_path: Path, case: str) -> tuple[subprocess.CompletedProcess[str], RunRecord]:
    body, _status, code = ENDINGS[case]
    script = write_script(
        tmp_path / "scripts",
        "ending.py",
        "import sys\nimport runsite\n\nrunsite.set_store(sys.argv[1])\n" + textwrap.dedent(body),
    )
    store = tmp_path / "runs"
    done = run_script(script, [str(store)], child_env(tmp_path), tmp_path)
    if code is not None:
        assert done.returncode == code, done.stderr
    else:
        assert done.returncode != 0
    return done, only_run(store)


@pytest.mark.parametrize("case", sorted(ENDINGS))
def test_how_a_run_ends(tmp_path: Path, case: str) -> None:
    done, rec = _end_child(tmp_path, case)
    assert rec.status == ENDINGS[case][1], (rec.status, done.stderr)
    assert rec.end_time is not None
    assert rec.metrics["m"]["count"] == 1
    assert rec.metrics_table().num_rows == 1
    assert (rec.path / record.METRICS_PARQUET).exists()
    assert rec.warnings == []
    if "no-with" not in case:  # ended by __exit__: compacted (atexit: see below)
        assert not (rec.path / record.METRICS_JSONL).exists()
        assert "could not compact" not in done.stderr


@pytest.mark.parametrize("case", [c for c in sorted(ENDINGS) if "no-with" in c])
def test_run_ended_at_exit_is_compacted(tmp_path: Path, case: str) -> None:
    done, rec = _end_child(tmp_path, case)
    assert "could not compact" not in done.stderr, done.stderr
    assert not (rec.path / record.METRICS_JSONL).exists()


BUSY_IN_WITH = """
import sys
import runsite

runsite.set_store(sys.argv[1])
values = {f"m{j}": 1.0 / (j + 3) for j in range(20)}
i = 0
try:
    with runsite.start_run(run_name="busy", log_git=False):
        print("ready", flush=True)
        while True:
            runsite.log_metrics(values, step=i)
            i += 1
except KeyboardInterrupt:
    print("logged", i, flush=True)
"""


def test_sigterm_while_logging_busily_marks_killed(tmp_path: Path) -> None:
    rng = random.Random(SEED + 2)
    script = write_script(tmp_path / "scripts", "busy.py", BUSY_IN_WITH)
    for attempt in range(3):
        store = tmp_path / f"runs{attempt}"
        proc = spawn(script, [str(store)], child_env(tmp_path), tmp_path, stdout=subprocess.PIPE)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.1, 0.4))
        proc.send_signal(signal.SIGTERM)
        try:
            # Ending compacts the run's points: ~3 s on a loaded 2-core machine. A deadlock
            # never ends, so a generous limit detects it as well without flaking.
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError(
                f"attempt {attempt}: still alive 15 s after SIGTERM (deadlock)"
            ) from None
        assert proc.returncode == 128 + signal.SIGTERM  # runsite.run.Terminated
        assert only_run(store).status == record.KILLED


def test_sigint_while_logging_busily_keeps_every_point(tmp_path: Path) -> None:
    rng = random.Random(SEED + 3)
    script = write_script(tmp_path / "scripts", "busy.py", BUSY_IN_WITH)
    for attempt in range(6):
        store = tmp_path / f"runs{attempt}"
        proc = spawn(script, [str(store)], child_env(tmp_path), tmp_path, stdout=subprocess.PIPE)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.3, 0.6))
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        logged = int(out.split()[-1])  # log_metrics calls that returned
        rec = only_run(store)
        assert rec.status == record.KILLED
        table = rec.metrics_table()
        n = assert_prefix(table, "m0")
        assert n >= logged, f"attempt {attempt}: {logged} steps logged, {n} in the KILLED run"
