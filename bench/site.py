#!/usr/bin/env python
"""Static-site benchmark of ``runsite build`` (``runsite.site.build``).

Run from the project root::

    .venv/bin/python bench/site.py            # store A: 1,000 runs; store B: 1M points
    .venv/bin/python bench/site.py --quick    # store A: 100 runs; store B: 100k points
    .venv/bin/python bench/site.py --profile  # also cProfile one build of each kind

Generates synthetic stores in a temp dir (several processes, seeded, ``log_git=False``;
generation time is printed apart and is part of no figure), then times builds, each in
its own child process so its peak memory (max RSS) is its own. Prints one table:
measure, value, target, verdict. Progress goes to stderr, the table to stdout. See
bench/README.md ("## bench/site.py") for what each row measures.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchlib import machine_header as machine_lines
from benchlib import progress as log
from benchlib import table, verdict

# ----------------------------------------------------------------------------- settings

FULL: dict[str, int] = {
    "a_runs": 1_000,  # runs in store A
    "a_experiments": 3,  # experiments they are spread over (round robin)
    "a_metrics": 10,  # metric keys per run
    "a_steps": 1_000,  # steps per metric key
    "b_metrics": 10,  # store B: one run with b_metrics keys × b_steps steps
    "b_steps": 100_000,
    "full_repeats": 2,  # full builds of store A (fresh folder, empty cache each)
    "nochange_repeats": 5,  # rebuilds of store A with nothing changed
    "added_repeats": 3,  # rebuilds of store A after logging one new run
    "b_repeats": 3,  # builds of store B (fresh folder, empty cache each)
}
QUICK: dict[str, int] = {
    **FULL,
    "a_runs": 100,
    "b_steps": 10_000,
}

TARGETS = {
    "full": 30.0,  # s
    "nochange": 1.0,  # s
    "added": 3.0,  # s
    "b_html": 300 * 1024,  # bytes (300 KB)
}

METRIC_KEYS = [
    "loss",
    "val_loss",
    "accuracy",
    "val_accuracy",
    "lr",
    "grad_norm",
    "perplexity",
    "f1",
    "precision",
    "recall",
]
SEED = 20240601


# ----------------------------------------------------------------------------- generation


def _metric_names(n: int) -> list[str]:
    return METRIC_KEYS[:n] + [f"metric_{j:02d}" for j in range(len(METRIC_KEYS), n)]


def _log_run(st: Any, rng: random.Random, i: int, experiment: str, keys: list[str], steps: int):
    """One ended run: 5 params, 3 tags, ``len(keys)`` curves × ``steps`` steps."""
    with st.start_run(experiment=experiment, run_name=f"run-{i:05d}", log_git=False) as run:
        run.log_params(
            {
                "model": rng.choice(["mlp", "cnn", "transformer", "xgb"]),
                "lr": round(10 ** rng.uniform(-4, -1), 6),
                "batch_size": rng.choice([32, 64, 128, 256]),
                "depth": rng.randrange(2, 12),
                "seed": i,
            }
        )
        run.set_tags(
            {
                "team": rng.choice(["vision", "nlp", "tabular"]),
                "dataset": rng.choice(["v1", "v2", "v3"]),
                "stage": rng.choice(["dev", "sweep", "final"]),
            }
        )
        base = rng.uniform(0.5, 2.5)
        rate = rng.uniform(2.0, 6.0) / steps
        lr0 = 10 ** rng.uniform(-4, -2)
        gauss = rng.gauss
        for step in range(steps):
            decay = math.exp(-rate * step)
            loss = base * decay + 0.05 + 0.02 * gauss(0, 1)
            acc = 1.0 - 0.9 * decay + 0.01 * gauss(0, 1)
            curves = (
                loss,
                loss * 1.1 + 0.01 * gauss(0, 1),
                acc,
                acc - 0.02,
                lr0 * 0.5 * (1 + math.cos(math.pi * step / steps)),
                abs(gauss(1.0, 0.3)),
                math.exp(min(loss, 20.0)),
                acc * 0.97,
                acc * 0.98,
                acc * 0.96,
            )
            values = {
                k: (curves[j] if j < len(curves) else gauss(0, 1)) for j, k in enumerate(keys)
            }
            run.log_metrics(values, step=step)


def _gen_runs(job: tuple[str, str, list[str], int, int, int, int]) -> int:
    """Worker: create ``count`` ended runs (run indexes ``first``...) in ``store``."""
    store, cache, experiments, first, count, n_metrics, steps = job
    os.environ["RUNSITE_CACHE_DIR"] = cache
    import runsite

    st = runsite.Store(store)
    keys = _metric_names(n_metrics)
    for i in range(first, first + count):
        rng = random.Random(SEED * 1_000_003 + i)
        _log_run(st, rng, i, experiments[i % len(experiments)], keys, steps)
    return count


def generate(
    store: Path,
    cache: Path,
    experiments: list[str],
    first: int,
    total: int,
    n_metrics: int,
    steps: int,
) -> float:
    """Create ``total`` runs in ``store`` with up to 4 processes; returns the seconds."""
    import concurrent.futures as cf
    import multiprocessing as mp

    t0 = time.perf_counter()
    # Always in worker processes, even for one run: this process must stay small, since
    # Linux carries a parent's peak RSS into a child's ru_maxrss across fork/exec.
    workers = max(1, min(os.cpu_count() or 1, 4, total))
    chunk = max(1, min(50, math.ceil(total / workers)))
    jobs = [
        (str(store), str(cache), experiments, first + i, min(chunk, total - i), n_metrics, steps)
        for i in range(0, total, chunk)
    ]
    done = 0
    with cf.ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
        for n in pool.map(_gen_runs, jobs):
            done += n
            el = time.perf_counter() - t0
            eta = el / done * (total - done)
            if total > 1:
                log(f"  {done:>6,}/{total:,} runs  {done / el:6.1f} runs/s  ETA {eta:5.0f} s")
    return time.perf_counter() - t0


# ----------------------------------------------------------------------------- builds

# Runs in a child process: imports runsite, calls build(), prints one JSON line.
# With a profile path, the build() call runs under cProfile and the stats are dumped.
CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
args = json.loads(sys.argv[1])
from runsite.site import build
t1 = time.perf_counter()
if args.get("profile"):
    import cProfile
    prof = cProfile.Profile()
    prof.enable()
    r = build(args["store"], args["out"])
    prof.disable()
    prof.dump_stats(args["profile"])
else:
    r = build(args["store"], args["out"])
t2 = time.perf_counter()
print(json.dumps({
    "build_s": t2 - t1,
    "import_s": t1 - t0,
    "self_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "pages": r.pages, "runs": r.runs, "rendered_runs": r.rendered_runs,
    "files": r.files, "written": r.written, "unchanged": r.unchanged,
    "removed": r.removed, "warnings": len(r.warnings),
}))
"""


def run_build(store: Path, out: Path, cache: Path, profile: Path | None = None) -> dict[str, Any]:
    """One build in a child process. Figures: build() wall time inside the child, the
    child's whole wall time, and its max RSS from ``os.wait4`` (the kernel's
    RUSAGE_CHILDREN figure for exactly this child, not the high-water mark of all)."""
    env = dict(os.environ)
    env["RUNSITE_CACHE_DIR"] = str(cache)
    args = {"store": str(store), "out": str(out), "profile": str(profile) if profile else None}
    logs = out.parent / f".{out.name}.child"
    with open(f"{logs}.out", "w+b") as so, open(f"{logs}.err", "w+b") as se:
        t0 = time.perf_counter()
        p = subprocess.Popen(
            [sys.executable, "-c", CHILD, json.dumps(args)],
            stdout=so,
            stderr=se,
            env=env,
            cwd=str(out.parent),
        )
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        so.seek(0)
        se.seek(0)
        stdout, stderr = so.read().decode(), se.read().decode()
    os.unlink(f"{logs}.out")
    os.unlink(f"{logs}.err")
    if p.returncode != 0:
        raise RuntimeError(f"build of {store} into {out} failed ({p.returncode}):\n{stderr}")
    res = json.loads(stdout.strip().splitlines()[-1])
    res["wall_s"] = wall
    res["maxrss_mb"] = ru.ru_maxrss / 1024  # Linux: KiB
    return res


# ----------------------------------------------------------------------------- measures


def _run_pages(out: Path) -> list[Path]:
    return sorted((out / "runs").glob("*.html"))


def _tree_bytes(folder: Path, skip: str | None = None) -> int:
    total = 0
    for p in folder.rglob("*"):
        if p.is_file() and not (skip and p.relative_to(folder).parts[0] == skip):
            total += p.stat().st_size
    return total


def bench_store_a(cfg: dict[str, int], root: Path) -> dict[str, Any]:
    store = root / "store-a"
    gen_cache = root / "gen-cache"
    experiments = [f"exp-{chr(ord('a') + j)}" for j in range(cfg["a_experiments"])]
    total = cfg["a_runs"]
    log(
        f"store A: generating {total:,} runs × {cfg['a_metrics']} metrics × "
        f"{cfg['a_steps']:,} steps in {len(experiments)} experiments"
    )
    gen_s = generate(store, gen_cache, experiments, 0, total, cfg["a_metrics"], cfg["a_steps"])
    res: dict[str, Any] = {"gen_s": gen_s, "store_bytes": _tree_bytes(store)}
    log(f"store A: generated in {gen_s:.1f} s ({res['store_bytes'] / 1e6:.0f} MB)")

    res["full"] = []
    for k in range(cfg["full_repeats"]):
        out, cache = root / f"site-a-{k}", root / f"cache-a-{k}"
        log(f"store A: full build {k + 1}/{cfg['full_repeats']} (fresh folder, empty cache)")
        res["full"].append(run_build(store, out, cache))
        log(f"  {res['full'][-1]['build_s']:.2f} s")
    out, cache = root / "site-a-0", root / "cache-a-0"
    pages = _run_pages(out)
    res["run_page_bytes"] = statistics.median(p.stat().st_size for p in pages)
    res["exp_page_bytes"] = max(p.stat().st_size for p in (out / "experiments").glob("*.html"))
    res["site_bytes"] = _tree_bytes(out, skip="static")
    for k in range(1, cfg["full_repeats"]):
        shutil.rmtree(root / f"site-a-{k}")
        shutil.rmtree(root / f"cache-a-{k}")

    res["nochange"] = []
    for k in range(cfg["nochange_repeats"]):
        log(f"store A: rebuild with nothing changed {k + 1}/{cfg['nochange_repeats']}")
        res["nochange"].append(run_build(store, out, cache))
        log(f"  {res['nochange'][-1]['build_s']:.3f} s")

    res["added"] = []
    res["add_log_s"] = []
    for k in range(cfg["added_repeats"]):
        res["add_log_s"].append(
            generate(store, gen_cache, experiments, total + k, 1, cfg["a_metrics"], cfg["a_steps"])
        )
        log(
            f"store A: one run added ({total + k + 1:,} runs), "
            f"rebuild {k + 1}/{cfg['added_repeats']}"
        )
        res["added"].append(run_build(store, out, cache))
        log(f"  {res['added'][-1]['build_s']:.3f} s")
    return res


def bench_store_b(cfg: dict[str, int], root: Path) -> dict[str, Any]:
    store = root / "store-b"
    log(f"store B: generating 1 run × {cfg['b_metrics']} metrics × {cfg['b_steps']:,} steps")
    gen_s = generate(store, root / "gen-cache", ["long"], 0, 1, cfg["b_metrics"], cfg["b_steps"])
    res: dict[str, Any] = {"gen_s": gen_s, "builds": []}
    log(f"store B: generated in {gen_s:.1f} s")
    for k in range(cfg["b_repeats"]):
        out, cache = root / f"site-b-{k}", root / f"cache-b-{k}"
        log(f"store B: build {k + 1}/{cfg['b_repeats']} (fresh folder, empty cache)")
        res["builds"].append(run_build(store, out, cache))
        log(f"  {res['builds'][-1]['build_s']:.2f} s")
    out = root / "site-b-0"
    pages = _run_pages(out)
    assert len(pages) == 1, pages
    res["html_bytes"] = pages[0].stat().st_size
    res["site_bytes"] = _tree_bytes(out, skip="static")
    res["static_bytes"] = _tree_bytes(out / "static")
    for k in range(1, cfg["b_repeats"]):
        shutil.rmtree(root / f"site-b-{k}")
        shutil.rmtree(root / f"cache-b-{k}")
    return res


# ----------------------------------------------------------------------------- profiles


def profile_builds(cfg: dict[str, int], root: Path, top: int) -> list[str]:
    """cProfile one build of each kind (untimed, after the measures) and format the top
    functions by cumulative and by own time."""
    import io
    import pstats

    store_a, out_a, cache_a = root / "store-a", root / "site-a-0", root / "cache-a-0"
    experiments = [f"exp-{chr(ord('a') + j)}" for j in range(cfg["a_experiments"])]
    n = cfg["a_runs"] + cfg["added_repeats"]
    kinds: list[tuple[str, Path, Path, Path]] = [
        ("store A: full build", store_a, root / "site-a-prof", root / "cache-a-prof"),
        ("store A: rebuild, nothing changed", store_a, out_a, cache_a),
        ("store A: rebuild, one run added", store_a, out_a, cache_a),
        ("store B: build", root / "store-b", root / "site-b-prof", root / "cache-b-prof"),
    ]
    lines: list[str] = []
    for title, store, out, cache in kinds:
        if "one run added" in title:
            generate(store, root / "gen-cache", experiments, n, 1, cfg["a_metrics"], cfg["a_steps"])
        prof = root / "build.prof"
        log(f"profiling {title}")
        r = run_build(store, out, cache, profile=prof)
        buf = io.StringIO()
        stats = pstats.Stats(str(prof), stream=buf)
        stats.strip_dirs()
        for order in ("cumulative", "tottime"):
            buf.write(f"--- sorted by {order}\n")
            stats.sort_stats(order).print_stats(top)
        lines.append("")
        lines.append(
            f"=== profile: {title} (build() {r['build_s']:.2f} s under cProfile, "
            f"{r['rendered_runs']} runs rendered)"
        )
        lines += [ln.rstrip() for ln in buf.getvalue().splitlines() if ln.strip()]
        prof.unlink()
    return lines


# ----------------------------------------------------------------------------- report


def machine_header(mode: str) -> list[str]:
    from importlib.metadata import version

    import runsite

    vers = []
    for pkg in ("pyarrow", "jinja2", "altair"):
        try:
            vers.append(f"{pkg} {version(pkg)}")
        except Exception:
            vers.append(f"{pkg} ?")
    return [
        *machine_lines(f"runsite site bench ({mode})"),
        f"runsite {runsite.__version__}, " + ", ".join(vers),
        "times: wall time of the build() call in a fresh child process (the libraries it "
        "imports lazily, pyarrow/jinja2/altair, count; `from runsite.site import build` "
        "does not); figures are medians of their repeats; RSS: the child's ru_maxrss",
    ]


def _med(rows: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def _kb(n: float) -> str:
    return f"{n / 1024:,.1f} KB"


def report(cfg: dict[str, int], a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    n_a = cfg["a_runs"]
    rows: list[tuple[str, str, str, str]] = []

    def add(measure: str, value: str, target: str = "—", verdict: str = "—") -> None:
        rows.append((measure, value, target, verdict))

    full = _med(a["full"], "build_s")
    noch = _med(a["nochange"], "build_s")
    added = _med(a["added"], "build_s")
    add(
        f"A full build ({n_a:,} runs; median of {len(a['full'])})",
        f"{full:.2f} s",
        "≤ 30 s",
        verdict(full, TARGETS["full"]),
    )
    add(
        f"A rebuild, nothing changed (median of {len(a['nochange'])})",
        f"{noch:.3f} s",
        "≤ 1 s",
        verdict(noch, TARGETS["nochange"]),
    )
    add(
        f"A rebuild, one run added (median of {len(a['added'])})",
        f"{added:.3f} s",
        "≤ 3 s",
        verdict(added, TARGETS["added"]),
    )
    add("A peak RSS, full build (max)", f"{max(r['maxrss_mb'] for r in a['full']):.0f} MB")
    add("A peak RSS, nothing changed (max)", f"{max(r['maxrss_mb'] for r in a['nochange']):.0f} MB")
    add("A peak RSS, one run added (max)", f"{max(r['maxrss_mb'] for r in a['added']):.0f} MB")
    add("A run page HTML (median)", _kb(a["run_page_bytes"]))
    add("A largest experiment page HTML", _kb(a["exp_page_bytes"]))
    add("A site size without static/", f"{a['site_bytes'] / 1e6:.1f} MB")
    pts = cfg["b_metrics"] * cfg["b_steps"]
    add(
        f"B run page HTML ({cfg['b_metrics']} × {cfg['b_steps']:,} = {pts:,} points)",
        _kb(b["html_bytes"]),
        "≤ 300 KB",
        verdict(b["html_bytes"], TARGETS["b_html"]),
    )
    add(f"B build time (median of {len(b['builds'])})", f"{_med(b['builds'], 'build_s'):.2f} s")
    add("B peak RSS (max)", f"{max(r['maxrss_mb'] for r in b['builds']):.0f} MB")

    return table(("measure", "value", "target", "verdict"), rows, left=(0, 3))


def details(cfg: dict[str, int], a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    def one(r: dict[str, Any]) -> str:
        return (
            f"build {r['build_s']:.3f} s, process {r['wall_s']:.2f} s (imports "
            f"{r['import_s']:.2f} s), maxrss {r['maxrss_mb']:.0f} MB "
            f"(self {r['self_maxrss_kb'] / 1024:.0f}); {r['pages']} pages, "
            f"{r['rendered_runs']}/{r['runs']} runs rendered, {r['written']} written, "
            f"{r['unchanged']} unchanged, {r['removed']} removed, {r['warnings']} warnings"
        )

    lines = ["", "details:"]
    lines.append(
        f"  generation (not timed in any figure): store A {a['gen_s']:.1f} s "
        f"({a['store_bytes'] / 1e6:.0f} MB on disk), store B {b['gen_s']:.1f} s; "
        f"one added run logged in {statistics.median(a['add_log_s']):.2f} s (median, with "
        "its worker process's start)"
    )
    for name, rows in (
        ("A full", a["full"]),
        ("A nothing changed", a["nochange"]),
        ("A one run added", a["added"]),
        ("B build", b["builds"]),
    ):
        for i, r in enumerate(rows, 1):
            lines.append(f"  {name} #{i}: {one(r)}")
    import resource

    floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines.append(
        f"  this process's own peak RSS {floor:.0f} MB (Linux carries a parent's RSS into a "
        "child's ru_maxrss across fork/exec: a floor under every RSS figure above)"
    )
    lines.append(
        f"  B site without static/: {_kb(b['site_bytes'])}; static/ (shared, vendored JS/CSS): "
        f"{_kb(b['static_bytes'])}"
    )
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="store A: 100 runs; store B: 100k points")
    ap.add_argument(
        "--profile",
        action="store_true",
        help="after the table, cProfile one build of each kind and print the top functions",
    )
    ap.add_argument("--top", type=int, default=25, help="rows per profile listing (default 25)")
    args = ap.parse_args()
    cfg = QUICK if args.quick else FULL
    mode = "quick" if args.quick else "full"

    root = Path(tempfile.mkdtemp(prefix="runsite-bench-site-"))
    try:
        header = machine_header(mode)
        for ln in header:
            log(ln)
        a = bench_store_a(cfg, root)
        b = bench_store_b(cfg, root)
        lines = [*header, "", *report(cfg, a, b), *details(cfg, a, b)]
        print("\n".join(lines), flush=True)
        if args.profile:
            print("\n".join(profile_builds(cfg, root, args.top)), flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
