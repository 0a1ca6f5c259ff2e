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
* ``build full`` / ``rebuild +1 run`` -- ``runsite build`` (the command) of a hard-linked copy of
  the store (``cp -al``: the kept store is never written; ``--one-experiment`` moves every
  run into one experiment folder, ``all``, so one page holds all 100,000) in a child
  process, wall and CPU time and peak RSS (``os.wait4``); then one run is logged into the
  copy with ``Store.start_run`` (a child process, not timed) and the site built again
* ``page``          -- the largest experiment's page from file:// in Debian's Chromium
  (bench/browser.py's ``_measure_page``): navigation to the interactive table, the update
  after each of 10 filters, the first sort by a metric (``--skip-page``: not measured)

The load average is printed at the start, before the build and at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import benchlib

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


# `runsite build STORE --out OUT` (the command a user or CI runs) in the child: the counts
# come from its summary line, the figure is the child's wall time.
BUILD_CHILD = r"""
import json, sys, time
from runsite.cli import main
t = time.perf_counter()
c = time.process_time()
main.main(["build", sys.argv[1], "--out", sys.argv[2]], standalone_mode=False)
print(json.dumps({"s": time.perf_counter() - t, "cpu": time.process_time() - c}))
"""
SUMMARY = re.compile(r"(\d+) pages, (\d+) runs \((\d+) rendered\), (\d+) files written")


def build(store: Path, out: Path, cache: Path, profile: Path | None = None) -> dict[str, Any]:
    """``runsite build`` in a child process: its figures, the child's wall time and
    peak RSS (``os.wait4``); with ``profile``, under cProfile (stats written there)."""
    env = dict(os.environ, RUNSITE_CACHE_DIR=str(cache))
    code = BUILD_CHILD
    if profile is not None:
        code = (
            "import cProfile\n"
            f"cProfile.run(compile({BUILD_CHILD!r}, 'build', 'exec'), {str(profile)!r})\n"
        )
    with tempfile.TemporaryFile() as fo, tempfile.TemporaryFile() as fe:
        t = time.perf_counter()
        p = subprocess.Popen(
            [sys.executable, "-c", code, str(store), str(out)], stdout=fo, stderr=fe, env=env
        )
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t
        p.returncode = os.waitstatus_to_exitcode(status)
        fo.seek(0)
        fe.seek(0)
        out_b, err_b = fo.read(), fe.read()
    if p.returncode:
        raise RuntimeError(err_b.decode()[-3000:])
    lines = out_b.decode().strip().splitlines()
    res = json.loads(lines[-1])
    found = [m for m in map(SUMMARY.search, lines) if m]
    if not found:
        raise RuntimeError(f"no summary line in the output of runsite build: {lines[-3:]}")
    pages, _, rendered, written = map(int, found[-1].groups())
    res.update(pages=pages, rendered=rendered, written=written)
    res["wall"] = wall
    res["child_cpu"] = ru.ru_utime + ru.ru_stime
    res["maxrss_mb"] = ru.ru_maxrss / 1024
    return res


ADD_RUN_CHILD = r"""
import sys
sys.path.insert(0, sys.argv[3])
import browser
browser._add_run(sys.argv[1], sys.argv[2])
"""


def add_logged_run(store: Path, experiment: str, cache: Path) -> None:
    """One run logged with ``Store.start_run`` (bench/browser.py's), in a child process so
    this process stays small (Linux carries a parent's RSS into a child's ``ru_maxrss``)."""
    env = dict(os.environ, RUNSITE_CACHE_DIR=str(cache))
    here = str(Path(__file__).resolve().parent)
    subprocess.run(
        [sys.executable, "-c", ADD_RUN_CHILD, str(store), experiment, here], check=True, env=env
    )


def tree_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def search_rows(res: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    med = statistics.median
    first_ever = "first ever (no cache: reads every run)"
    whole = "  wall time of that process (interpreter start included)"
    warm, cold, sql_cold = med(res["warm"]), res["cold"], res["sql_cold"]
    return [
        (f"search_runs, filter, {first_ever}", f"{res['first']:.1f} s", "", "—"),
        ("  CPU time of it", f"{res['first_cpu']:.1f} s", "", "—"),
        (
            "search_runs, filter, cold (new process, cache on disk)",
            f"{cold:.2f} s",
            "≤ 5 s",
            benchlib.verdict(cold, 5),
        ),
        (whole, f"{res['cold_wall']:.2f} s", "", "—"),
        (
            "search_runs, filter, warm (same process)",
            f"{warm:.2f} s",
            "≤ 1 s",
            benchlib.verdict(warm, 1),
        ),
        ("  CPU time of it", f"{med(res['warm_cpu']):.2f} s", "", "—"),
        ("  runs found", f"{res['found']:,}", "", "—"),
        (
            f"runsite sql: min/max/avg per key over all {res['points']:,} points, {first_ever}",
            f"{res['sql_first']:.1f} s",
            "",
            "—",
        ),
        (
            "runsite sql: the same, new process, cache on disk",
            f"{sql_cold:.2f} s",
            "≤ 2 s",
            benchlib.verdict(sql_cold, 2),
        ),
        (whole, f"{res['sql_cold_wall']:.2f} s", "", "—"),
        ("runsite sql: the same, again in the process", f"{med(res['sql_warm']):.2f} s", "", "—"),
        ("runsite sql: avg per key over latest_metrics", f"{res['latest']:.2f} s", "", "—"),
        ("  (search process peak RSS)", f"{res['maxrss_mb']:.0f} MB", "", "—"),
    ]


def build_rows(
    args: argparse.Namespace, store: Path, tmp: Path, loads: list[str]
) -> list[tuple[str, str, str, str]]:
    import browser

    copy = tmp / "copy"
    log(f"hard-linked copy of {store}{' into one experiment' if args.one_experiment else ''} …")
    browser._copy_store(store, copy, args.one_experiment)
    sizes = {d.name: sum(1 for _ in d.iterdir()) for d in copy.iterdir() if d.is_dir()}
    slug = max(sizes, key=lambda k: sizes[k])
    site, bcache = tmp / "site", tmp / "cache-build"
    loads.append(f"before the build {benchlib.load_average()}")
    log(f"full build of {sum(sizes.values()):,} runs …")
    prof = args.profile_dir
    full = build(copy, site, bcache, prof / "full.prof" if prof else None)
    site_mb = tree_mb(site)
    add_logged_run(copy, slug, bcache)
    log("rebuild after one run added …")
    inc = build(copy, site, bcache, prof / "rebuild.prof" if prof else None)
    loads.append(f"after the builds {benchlib.load_average()}")
    rows = [
        (
            f"build, full ({full['pages']:,} pages)",
            f"{full['wall']:.0f} s",
            "≤ 600 s",
            benchlib.verdict(full["wall"], 600),
        ),
        ("  CPU time of the child", f"{full['child_cpu']:.0f} s", "", "—"),
        (
            "build, full, peak RSS",
            f"{full['maxrss_mb']:.0f} MB",
            "≤ 2,048 MB",
            benchlib.verdict(full["maxrss_mb"], 2048),
        ),
        ("  site size", f"{site_mb:.0f} MB", "", "—"),
        (
            f"rebuild after one run added ({inc['rendered']} run pages rendered, "
            f"{inc['written']} files written)",
            f"{inc['wall']:.1f} s",
            "≤ 10 s",
            benchlib.verdict(inc["wall"], 10),
        ),
        ("  CPU time of the child", f"{inc['child_cpu']:.1f} s", "", "—"),
        ("  rebuild peak RSS", f"{inc['maxrss_mb']:.0f} MB", "", "—"),
    ]
    if args.skip_page:
        return rows
    chromium = os.environ.get("RUNSITE_CHROMIUM", "/usr/bin/chromium")
    n_page = sizes[slug] + 1
    log(f"Chromium on experiments/{slug}.html ({n_page:,} runs) …")
    url = (site / "experiments" / f"{slug}.html").resolve().as_uri()
    m = browser._measure_page(
        chromium, url, browser.SCALE_FILTERS, args.page_repeats, "metrics.val_loss"
    )
    loads.append(f"after Chromium {benchlib.load_average()}")
    if m["errors"]:
        raise RuntimeError(f"console errors on the page: {m['errors'][:3]}")
    ready, flt = statistics.median(m["ready"]), statistics.median(m["filters"])
    manifest_mb, chunks_mb, nchunks = browser._data_mb(site, slug)
    search_mb, search_parts = browser.search_index_mb(site)
    rows += [
        (
            f"page ({n_page:,} runs), file://: navigation to interactive table",
            f"{ready:.0f} ms",
            "≤ 2,000 ms",
            benchlib.verdict(ready, 2000),
        ),
        (
            "  filter update, 10 filters (median)",
            f"{flt:.1f} ms",
            "≤ 100 ms",
            benchlib.verdict(flt, 100),
        ),
        (
            "  filter, first use, until the frame showing the result is painted (median)",
            f"{statistics.median(m['painted']):.0f} ms",
            "(≤ 100 ms)",
            benchlib.verdict(statistics.median(m["painted"]), 100),
        ),
        (
            "  filter update, the same filters again (columns loaded; median)",
            f"{statistics.median(m['again']):.1f} ms",
            "",
            "—",
        ),
        (
            "  filter update, slowest (first use of its columns)",
            f"{max(m['filters']):.0f} ms",
            "",
            "—",
        ),
        ("  first sort by metrics.val_loss", f"{statistics.median(m['sorts']):.0f} ms", "", "—"),
        ("  experiment manifest", f"{manifest_mb:.2f} MB", "", "—"),
        (f"  experiment chunks ({nchunks:,} files)", f"{chunks_mb:.1f} MB", "", "—"),
        (
            f"  global search index (data/search.js, {search_parts} parts)",
            f"{search_mb:.1f} MB",
            "",
            "—",
        ),
    ]
    log(
        f"page details: ready ms {[round(x) for x in m['ready']]}; filter ms "
        f"{[round(x, 1) for x in m['filters']]}; painted ms {[round(x) for x in m['painted']]}; "
        f"again ms "
        f"{[round(x, 1) for x in m['again']]}; sort ms {[round(x) for x in m['sorts']]}"
    )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=100_000)
    ap.add_argument("--long-every", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--page-repeats", type=int, default=3, help="page loads in Chromium")
    ap.add_argument("--keep", type=Path, help="keep (and reuse) the generated store here")
    ap.add_argument("--skip-search", action="store_true", help="no search or SQL figures")
    ap.add_argument("--skip-build", action="store_true", help="no site build or page figures")
    ap.add_argument("--skip-page", action="store_true", help="no Chromium figures")
    ap.add_argument(
        "--one-experiment", action="store_true", help="build with every run in one experiment"
    )
    ap.add_argument("--profile-dir", type=Path, help="cProfile both builds into this folder")
    ap.add_argument("--generate-only", action="store_true", help="only write the store")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="runsite-scale-"))
    store = args.keep or tmp / "runs"
    loads = [f"at the start {benchlib.load_average()}"]
    try:
        if not (store / EXPERIMENTS[0]).is_dir():
            log(f"generating {args.runs:,} runs in {store}")
            gen_s = generate(store, args.runs, args.long_every)
            log(f"generated in {gen_s:.0f} s ({tree_mb(store):.0f} MB)")
        if args.generate_only:
            return
        if args.profile_dir:
            args.profile_dir.mkdir(parents=True, exist_ok=True)
        rows: list[tuple[str, str, str, str]] = []
        if not args.skip_search:
            cache = tmp / "cache-search"
            res, _ = child(SEARCH_CHILD, str(store), FILTER, str(args.repeats), cache=cache)
            rows += search_rows(res)
            loads.append(f"after search and SQL {benchlib.load_average()}")
        if not args.skip_build:
            rows += build_rows(args, store, tmp, loads)
        print("\n".join(benchlib.machine_header(f"bench/scale.py, {args.runs:,} runs")))
        print(f"filter: {FILTER}")
        print(f"load average (1 / 5 / 15 min): {'; '.join(loads)}\n")
        head = ("measure", "value", "target", "verdict")
        print("\n".join(benchlib.table(head, rows, left=(0,))))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        _ = resource  # (resource is used by the child code)


if __name__ == "__main__":
    main()
