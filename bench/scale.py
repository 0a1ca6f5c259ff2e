#!/usr/bin/env python
"""100,000 runs: generate a large store, then measure search, SQL, the site build and
the experiment page against issue 14's targets.

Run from the project root (needs the test extra: duckdb, playwright + Debian's
chromium for the page figures)::

    .venv/bin/python bench/scale.py --runs 100000            # generate + every measure
    .venv/bin/python bench/scale.py --runs 100000 --keep DIR # keep the store in DIR (reused)
    .venv/bin/python bench/scale.py --runs 10000 --skip-build

The store: ``--runs`` runs over 4 experiments, each with 20 params, 3 tags and 5 metrics;
every run has 10 points per metric, one run in ``--long-every`` (default 100) has 1,000.
Written straight in the record format (docs/format.md: run.json, events.jsonl with the
end event's summary, metrics.parquet through runsite.arrowio), by 2 processes; the
generation time is printed apart and is part of no figure.

Measures (medians of ``--repeats``; cold = a fresh process and an empty read cache):

* ``search first``  -- ``Store.search_runs`` with a filter in a new process, no cache yet
  (it reads every run and writes the run index, docs/search.md "Speed")
* ``search cold``   -- the same in a new process with the caches on disk (the target)
* ``search warm``   -- the same again in one process (cache on disk and in memory)
* ``sql aggregate`` -- ``runsite.sql.query`` over every metric point (min/max/avg per key):
  first ever (consolidates the metric cache), a new process with the cache on disk (the
  target), again in the process
* ``build full`` / ``rebuild +1 run`` -- ``runsite.site.build`` in a child process, wall
  time and peak RSS (``os.wait4``)

The experiment page in Chromium (interactive ≤ 2 s, filter ≤ 100 ms) is not measured
here yet.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

EXPERIMENTS = ["vision", "nlp", "tabular", "speech"]
METRICS = ["loss", "val_loss", "accuracy", "val_accuracy", "lr"]
SEED = 14


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- generation


def _gen(job: tuple[str, int, int, int, int]) -> int:
    root, first, count, long_every, t0 = job
    import pyarrow as pa

    from runsite import arrowio, ids, record

    n = 0
    for i in range(first, first + count):
        rng = random.Random(SEED * 1_000_003 + i)
        exp = EXPERIMENTS[i % len(EXPERIMENTS)]
        start = t0 + i * 1000
        run_id = ids.new_run_id(start)
        d = Path(root) / exp / run_id
        d.mkdir(parents=True)
        header = {
            "format": 1,
            "run_id": run_id,
            "run_name": f"run-{i:06d}",
            "experiment": exp,
            "experiment_id": exp,
            "start_time": start,
            "parent_run_id": None,
            "user": "bench",
            "host": "bench",
            "pid": 1,
            "command": ["train.py"],
            "entry_point": None,
            "python": {"version": "3.11", "implementation": "CPython"},
            "git": {"commit": f"{rng.getrandbits(160):040x}", "branch": "main", "dirty": False},
            "runsite_version": "0.1.0",
            "packages": {},
        }
        (d / record.RUN_JSON).write_text(json.dumps(header))
        steps = 1000 if i % long_every == 0 else 10
        keys, step_col, ts_col, val_col = [], [], [], []
        base = rng.uniform(0.5, 2.5)
        for k in METRICS:
            for s in range(steps):
                keys.append(k)
                step_col.append(s)
                ts_col.append(start + s)
                val_col.append(base / (1 + s * 0.01) + rng.random() * 0.01)
        table = pa.table(
            {"key": keys, "step": step_col, "timestamp": ts_col, "value": val_col},
            schema=arrowio.METRIC_SCHEMA,
        )
        arrowio.write_metrics_parquet(table, d / record.METRICS_PARQUET)
        summary = arrowio.summarize(table, presorted=True)
        lines = [
            record.event("param", key=f"p{j:02d}", value=rng.choice([1, 2, 4, 8, 16]) * (j + 1))
            for j in range(18)
        ]
        lines.append(record.event("param", key="model", value=rng.choice(["mlp", "cnn", "xgb"])))
        lines.append(record.event("param", key="lr", value=round(10 ** rng.uniform(-4, -1), 6)))
        for key, values in (("team", "abc"), ("dataset", "xyz"), ("stage", "dsf")):
            lines.append(record.event("tag", key=key, value=rng.choice(values)))
        lines.append(
            record.event(
                "status",
                status="FINISHED",
                end_time=start + 500,
                metrics=record.encode_summary(summary),
            )
        )
        (d / record.EVENTS).write_text("".join(lines))
        n += 1
    return n


def generate(root: Path, runs: int, long_every: int) -> float:
    import concurrent.futures as cf
    import multiprocessing as mp

    t = time.perf_counter()
    t0 = 1_780_000_000_000
    chunk = 2000
    jobs = [(str(root), i, min(chunk, runs - i), long_every, t0) for i in range(0, runs, chunk)]
    done = 0
    with cf.ProcessPoolExecutor(2, mp_context=mp.get_context("spawn")) as pool:
        for n in pool.map(_gen, jobs):
            done += n
            el = time.perf_counter() - t
            log(f"  {done:>7,}/{runs:,} runs  ETA {el / done * (runs - done):5.0f} s")
    return time.perf_counter() - t


def add_run(root: Path, index: int, long_every: int) -> None:
    _gen((str(root), index, 1, long_every, 1_780_000_000_000))


# ----------------------------------------------------------------------------- measures

FILTER = "metrics.val_loss < 0.6 and params.model = 'xgb' and tags.team = 'a'"

SEARCH_CHILD = r"""
import json, statistics, subprocess, sys, time, resource
store, flt, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
AGG = "SELECT key, count(*) AS n, min(value), max(value), avg(value) FROM metrics GROUP BY key"
t0 = time.perf_counter()
c0 = time.process_time()
import runsite
st = runsite.Store(store)
found = st.search_runs(flt)
first = time.perf_counter() - t0
first_cpu = time.process_time() - c0
warm, warm_cpu = [], []
for _ in range(repeats):
    t = time.perf_counter()
    c = time.process_time()
    again = runsite.Store(store).search_runs(flt)
    warm.append(time.perf_counter() - t)
    warm_cpu.append(time.process_time() - c)
assert len(again) == len(found)
from runsite import sql
t = time.perf_counter()
res = sql.query(AGG, store)
sql_first = time.perf_counter() - t
sql_warm = []
for _ in range(repeats):
    t = time.perf_counter()
    sql.query(AGG, store)
    sql_warm.append(time.perf_counter() - t)
# new processes with the caches on disk (what a second `runsite runs search` / `runsite sql`
# costs): wall time of the whole process, and the call's own time inside it
TIMED = "import time, runsite; t = time.perf_counter(); {call}; print(time.perf_counter() - t)"
def fresh(call):
    walls, inner = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", TIMED.format(call=call)], check=True,
                             capture_output=True, text=True).stdout
        walls.append(time.perf_counter() - t)
        inner.append(float(out.split()[-1]))
    return statistics.median(walls), statistics.median(inner)
cold_wall, cold = fresh(f"runsite.Store({store!r}).search_runs({flt!r})")
sql_cold_wall, sql_cold = fresh(f"from runsite import sql; sql.query({AGG!r}, {store!r})")
t = time.perf_counter()
sql.query("SELECT key, avg(value) FROM latest_metrics GROUP BY key", store)
latest_s = time.perf_counter() - t
points = sum(r["n"] for r in sql.rows(res))
print(json.dumps({"first": first, "first_cpu": first_cpu, "warm": warm, "warm_cpu": warm_cpu,
  "cold": cold, "cold_wall": cold_wall, "found": len(found), "sql_first": sql_first,
  "sql_warm": sql_warm, "sql_cold": sql_cold, "sql_cold_wall": sql_cold_wall,
  "latest": latest_s, "points": points,
  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def child(code: str, *args: str, cache: Path) -> tuple[dict[str, Any], float]:
    env = dict(os.environ, RUNSITE_CACHE_DIR=str(cache))
    p = subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    out, err = p.communicate()
    if p.returncode:
        raise RuntimeError(err.decode()[-3000:])
    lines = out.decode().strip().splitlines()
    return json.loads(lines[-1]), 0.0


BUILD_CHILD = r"""
import json, sys, time
from runsite.site import build
t = time.perf_counter()
r = build(sys.argv[1], sys.argv[2])
print(json.dumps({"s": time.perf_counter() - t, "pages": r.pages, "written": r.written}))
"""


def build(store: Path, out: Path, cache: Path) -> dict[str, Any]:
    env = dict(os.environ, RUNSITE_CACHE_DIR=str(cache))
    t = time.perf_counter()
    p = subprocess.Popen(
        [sys.executable, "-c", BUILD_CHILD, str(store), str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    _, status, ru = os.wait4(p.pid, 0)
    out_b = p.stdout.read() if p.stdout else b""
    err_b = p.stderr.read() if p.stderr else b""
    if os.waitstatus_to_exitcode(status):
        raise RuntimeError(err_b.decode()[-3000:])
    res = json.loads(out_b.decode().strip().splitlines()[-1])
    res["wall"] = time.perf_counter() - t
    res["maxrss_mb"] = ru.ru_maxrss / 1024
    return res


def tree_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=100_000)
    ap.add_argument("--long-every", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--keep", type=Path, help="keep (and reuse) the generated store here")
    ap.add_argument("--skip-build", action="store_true", help="no site build or page figures")
    ap.add_argument("--generate-only", action="store_true", help="only write the store")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="runsite-scale-"))
    store = args.keep or tmp / "runs"
    try:
        if not (store / EXPERIMENTS[0]).is_dir():
            log(f"generating {args.runs:,} runs in {store}")
            gen_s = generate(store, args.runs, args.long_every)
            log(f"generated in {gen_s:.0f} s ({tree_mb(store):.0f} MB)")
        if args.generate_only:
            return
        rows: list[tuple[str, str, str]] = []
        cache = tmp / "cache-search"
        res, _ = child(SEARCH_CHILD, str(store), FILTER, str(args.repeats), cache=cache)
        med = statistics.median
        first_ever = "first ever (no cache: reads every run)"
        whole = "  wall time of that process (interpreter start included)"
        rows += [
            (f"search_runs, filter, {first_ever}", f"{res['first']:.1f} s", ""),
            ("  CPU time of it", f"{res['first_cpu']:.1f} s", ""),
            (
                "search_runs, filter, cold (new process, cache on disk)",
                f"{res['cold']:.2f} s",
                "≤ 5 s",
            ),
            (whole, f"{res['cold_wall']:.2f} s", ""),
            ("search_runs, filter, warm (same process)", f"{med(res['warm']):.2f} s", "≤ 1 s"),
            ("  CPU time of it", f"{med(res['warm_cpu']):.2f} s", ""),
            ("  runs found", f"{res['found']:,}", ""),
            (
                f"runsite sql: min/max/avg per key over all {res['points']:,} points, {first_ever}",
                f"{res['sql_first']:.1f} s",
                "",
            ),
            (
                "runsite sql: the same, new process, cache on disk",
                f"{res['sql_cold']:.2f} s",
                "≤ 2 s",
            ),
            (whole, f"{res['sql_cold_wall']:.2f} s", ""),
            ("runsite sql: the same, again in the process", f"{med(res['sql_warm']):.2f} s", ""),
        ]
        rows.append(("runsite sql: avg per key over latest_metrics", f"{res['latest']:.2f} s", ""))
        rows.append(("  (search process peak RSS)", f"{res['maxrss_mb']:.0f} MB", ""))
        if not args.skip_build:
            site = tmp / "site"
            bcache = tmp / "cache-build"
            log("full build …")
            full = build(store, site, bcache)
            rows.append(("build, full", f"{full['wall']:.0f} s", "≤ 600 s"))
            rows.append(("build, full, peak RSS", f"{full['maxrss_mb']:.0f} MB", "≤ 2048 MB"))
            rows.append(("  site size", f"{tree_mb(site):.0f} MB", ""))
            add_run(store, args.runs + 1, args.long_every)
            log("rebuild after one run …")
            inc = build(store, site, bcache)
            rows.append(("rebuild after one run added", f"{inc['wall']:.1f} s", "≤ 10 s"))
            rows.append(("  rebuild peak RSS", f"{inc['maxrss_mb']:.0f} MB", ""))
        width = max(len(r[0]) for r in rows)
        print(f"{args.runs:,} runs, cpu={os.cpu_count()}, {time.strftime('%Y-%m-%d %H:%M')}")
        for name, value, target in rows:
            print(f"{name:<{width}}  {value:>10}  {target}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        _ = resource  # (resource is used by the child code)


if __name__ == "__main__":
    main()
