#!/usr/bin/env python
"""Logging-path benchmark of runsite, with MLflow's file store as the baseline.

Run from the project root::

    .venv/bin/python bench/log_speed.py            # full run (10,000-run search store)
    .venv/bin/python bench/log_speed.py --quick    # smaller loops, 1,000-run store
    .venv/bin/python bench/log_speed.py --mlflow-python /path/to/venv/bin/python

Prints one table: measure, runsite, MLflow file store, ratio (runsite / MLflow),
target, verdict. Progress goes to stderr, the table to stdout. See bench/README.md
for what each row measures.

MLflow runs in a subprocess (the interpreter from ``--mlflow-python`` or
``$RUNSITE_BENCH_MLFLOW_PYTHON``, else the current one when it can import mlflow); that
subprocess runs this same file with a hidden ``--mlflow-worker`` option and prints its
results as JSON. Without MLflow the MLflow column says so.
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
from array import array
from pathlib import Path
from typing import Any

from benchlib import machine_header as machine_lines
from benchlib import progress as log
from benchlib import table, verdict

perf = time.perf_counter_ns

# ----------------------------------------------------------------------------- settings

FULL: dict[str, int] = {
    "repeats": 7,  # repeats of every timed loop; the median is reported
    "metric_calls": 100_000,  # log_metric calls per repeat
    "param_calls": 2_000,  # log_param calls per repeat (distinct keys)
    "metrics_calls": 10_000,  # log_metrics calls (10 keys each) per repeat
    "compaction_runs": 3,  # 1M-point runs of workload (a) whose end() is timed
    "search_runs": 10_000,  # runs in the search store
    "cold_repeats": 3,  # search_runs calls on an emptied cache
    "warm_repeats": 5,  # search_runs calls on a filled cache
    "import_repeats": 7,  # subprocesses per import measurement
    "ml_repeats": 7,
    "ml_metric_calls": 2_000,  # MLflow log_metric calls per repeat (~300-500 µs each)
    "ml_param_calls": 200,
    "ml_metrics_calls": 200,
    "ml_stride": 10,  # MLflow bytes/point: every 10th step (100,000 of the 1M points)
}
QUICK: dict[str, int] = {
    "repeats": 5,
    "metric_calls": 20_000,
    "param_calls": 500,
    "metrics_calls": 2_000,
    "compaction_runs": 1,
    "search_runs": 1_000,
    "cold_repeats": 1,
    "warm_repeats": 3,
    "import_repeats": 5,
    "ml_repeats": 3,
    "ml_metric_calls": 300,
    "ml_param_calls": 100,
    "ml_metrics_calls": 50,
    "ml_stride": 50,
}

STEPS = 100_000  # steps 0..99_999 per key in the bytes/compaction workloads
NKEYS = 10  # so 1,000,000 points per workload
SEARCH_FILTER = "metrics.rmse < 0.5 and params.model = 'xgb'"
TARGETS = {
    "log_metric_us": 5.0,
    "bytes_per_point": 6.0,
    "search_s": 1.0,
    "import_s": 0.15,
}


def median(xs: list[float]) -> float:
    return statistics.median(xs)


# ----------------------------------------------------------------------------- workloads
# Shared by the runsite side and the MLflow worker, so both log the same values.

CURVE_KEYS = [
    "train/loss",
    "val/loss",
    "train/acc",
    "val/acc",
    "lr",
    "grad_norm",
    "train/ppl",
    "weight_norm",
    "throughput",
    "momentum",
]
COUNTER_KEYS = [
    "step_count",
    "samples_seen",
    "tokens_seen",
    "epoch",
    "errors_total",
    "skipped_batches",
    "checkpoints",
    "grad_overflows",
    "data_reloads",
    "queue_depth",
]
WORKLOADS = {
    "a": "float32 smooth curves",
    "b": "float64 curves + noise",
    "c": "integer counters",
    "d": "float32 curves + noise",
}


def _curves() -> dict[str, list[float]]:
    """Ten smooth training curves over STEPS steps, computed in float64."""
    n = STEPS
    out: dict[str, list[float]] = {k: [] for k in CURVE_KEYS}
    exp, cos, sin = math.exp, math.cos, math.sin
    for s in range(n):
        tl = 2.5 * exp(-s / 20_000) + 0.3
        out["train/loss"].append(tl)
        out["val/loss"].append(2.6 * exp(-s / 18_000) + 0.35)
        out["train/acc"].append(1.0 - 0.9 * exp(-s / 15_000))
        out["val/acc"].append(0.98 - 0.88 * exp(-s / 16_000))
        warm = min(1.0, s / 2_000)
        out["lr"].append(3e-4 * warm * 0.5 * (1.0 + cos(math.pi * s / n)))
        out["grad_norm"].append(1.0 + 4.0 * exp(-s / 5_000))
        out["train/ppl"].append(exp(tl))
        out["weight_norm"].append(10.0 + 5.0 * (1.0 - exp(-s / 30_000)))
        out["throughput"].append(1200.0 + 30.0 * sin(s / 500))
        out["momentum"].append(0.85 + 0.1 * s / n)
    return out


def _noisy(curves: dict[str, list[float]]) -> dict[str, list[float]]:
    out = {}
    for j, (key, vals) in enumerate(curves.items()):
        g = random.Random(1000 + j).gauss
        out[key] = [v * (1.0 + 0.01 * g(0.0, 1.0)) for v in vals]
    return out


def _float32(curves: dict[str, list[float]]) -> dict[str, list[float]]:
    # array("f") rounds to float32 and .tolist() gives Python floats: the same values as
    # float(np.float32(x)) or torch's tensor.item() on a float32 tensor.
    return {k: array("f", v).tolist() for k, v in curves.items()}


def _counters() -> dict[str, list[float]]:
    rng = random.Random(7)
    out: dict[str, list[float]] = {k: [] for k in COUNTER_KEYS}
    errors = skipped = overflows = reloads = 0
    for s in range(STEPS):
        errors += rng.random() < 0.05
        skipped += rng.random() < 0.001
        overflows += rng.random() < 0.01
        reloads += s % 25_000 == 0
        out["step_count"].append(float(s))
        out["samples_seen"].append(float(s * 256))
        out["tokens_seen"].append(float(s * 256 * 512))
        out["epoch"].append(float(s // 5_000))
        out["errors_total"].append(float(errors))
        out["skipped_batches"].append(float(skipped))
        out["checkpoints"].append(float(s // 10_000))
        out["grad_overflows"].append(float(overflows))
        out["data_reloads"].append(float(reloads))
        out["queue_depth"].append(float(rng.randrange(64)))
    return out


def workload(name: str) -> dict[str, list[float]]:
    """key -> value at each step 0..STEPS-1 (Python floats)."""
    if name == "a":
        return _float32(_curves())
    if name == "b":
        return _noisy(_curves())
    if name == "c":
        return _counters()
    if name == "d":
        return _float32(_noisy(_curves()))
    raise ValueError(name)


# ----------------------------------------------------------------------------- runsite


def bench_log_metric(cfg: dict[str, int]) -> list[float]:
    import runsite

    n = cfg["metric_calls"]
    values = [1.0 / (i + 1) for i in range(n)]
    out = []
    for rep in range(cfg["repeats"]):
        runsite.start_run(run_name=f"log-metric-{rep}", experiment="bench", log_git=False)
        log_metric = runsite.log_metric
        t0 = perf()
        for i in range(n):
            log_metric("loss", values[i], step=i)
        t1 = perf()
        runsite.end_run()
        out.append((t1 - t0) / n / 1000)
    return out


def bench_log_param(cfg: dict[str, int]) -> list[float]:
    import runsite

    n = cfg["param_calls"]
    keys = [f"param_{i}" for i in range(n)]
    out = []
    for rep in range(cfg["repeats"]):
        runsite.start_run(run_name=f"log-param-{rep}", experiment="bench", log_git=False)
        log_param = runsite.log_param
        t0 = perf()
        for i, key in enumerate(keys):
            log_param(key, i)
        t1 = perf()
        runsite.end_run()
        out.append((t1 - t0) / n / 1000)
    return out


def bench_log_metrics(cfg: dict[str, int]) -> list[float]:
    import runsite

    n = cfg["metrics_calls"]
    dicts = [{f"m{j}": 1.0 / (i + j + 1) for j in range(10)} for i in range(n)]
    out = []
    for rep in range(cfg["repeats"]):
        runsite.start_run(run_name=f"log-metrics-{rep}", experiment="bench", log_git=False)
        log_metrics = runsite.log_metrics
        t0 = perf()
        for i in range(n):
            log_metrics(dicts[i], step=i)
        t1 = perf()
        runsite.end_run()
        out.append((t1 - t0) / (n * 10) / 1000)
    return out


def log_workload(name: str, data: dict[str, list[float]]) -> dict[str, Any]:
    """Log a 1M-point workload through the fluent API, then time end() alone."""
    import pyarrow.parquet as pq

    import runsite

    run = runsite.start_run(run_name=f"bytes-{name}", experiment="bench-bytes", log_git=False)
    keys = list(data)
    cols = [data[k] for k in keys]
    log_metric = runsite.log_metric
    t0 = perf()
    for s in range(STEPS):
        for key, col in zip(keys, cols, strict=True):
            log_metric(key, col[s], step=s)
    t1 = perf()
    runsite.end_run()
    t2 = perf()
    parquet = run.path / "metrics.parquet"
    size = parquet.stat().st_size
    rows = pq.ParquetFile(parquet).metadata.num_rows
    points = STEPS * len(keys)
    if rows != points:
        raise RuntimeError(f"{parquet} has {rows} rows, expected {points}")
    return {
        "bytes": size,
        "points": points,
        "bytes_per_point": size / points,
        "log_us_per_point": (t1 - t0) / points / 1000,
        "end_s": (t2 - t1) / 1e9,
    }


def _gen_runs(job: tuple[str, str, int, int]) -> int:
    """Worker: create ``count`` ended runs in experiment "big" with the object API."""
    store, cache, first, count = job
    os.environ["RUNSITE_CACHE_DIR"] = cache
    import runsite

    st = runsite.Store(store)
    rng = random.Random(first)
    for i in range(first, first + count):
        with st.start_run(experiment="big", log_git=False) as run:
            run.log_params(
                {
                    "model": rng.choice(["xgb", "rf", "ridge", "mlp"]),
                    "lr": round(10 ** rng.uniform(-4, -1), 6),
                    "max_depth": rng.randrange(2, 12),
                    "seed": i,
                }
            )
            base = rng.uniform(0.3, 1.5)
            rate = rng.uniform(0.05, 0.4)
            for step in range(10):
                rmse = base * math.exp(-rate * step) + 0.05 * rng.random()
                run.log_metrics(
                    {"rmse": rmse, "mae": 0.8 * rmse, "r2": 1.0 - rmse * rmse / 2}, step=step
                )
    return count


def build_search_store(store: Path, cache: Path, total: int) -> float:
    import concurrent.futures as cf
    import multiprocessing as mp

    workers = max(1, min(os.cpu_count() or 1, 4))
    chunk = 250 if total >= 2_000 else 100
    jobs = [(str(store), str(cache), i, min(chunk, total - i)) for i in range(0, total, chunk)]
    log(f"generating {total:,} runs in {store} ({workers} processes; object API, log_git=False)")
    done = 0
    t0 = time.perf_counter()
    with cf.ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
        for n in pool.map(_gen_runs, jobs):
            done += n
            el = time.perf_counter() - t0
            eta = el / done * (total - done)
            log(f"  {done:>6,}/{total:,} runs  {done / el:6.0f} runs/s  ETA {eta:5.0f} s")
    return time.perf_counter() - t0


def bench_search(cfg: dict[str, int], root: Path) -> dict[str, Any]:
    import runsite

    store = root / "search-store"
    cache = root / "search-cache"
    gen_cache = root / "gen-cache"
    gen_s = build_search_store(store, gen_cache, cfg["search_runs"])
    os.environ["RUNSITE_CACHE_DIR"] = str(cache)

    def once() -> tuple[float, int]:
        t0 = perf()
        found = runsite.search_runs(SEARCH_FILTER, experiment_names=["big"], store=str(store))
        return (perf() - t0) / 1e9, len(found)

    cold, warm, counts = [], [], set()
    for _ in range(cfg["cold_repeats"]):
        shutil.rmtree(cache, ignore_errors=True)
        s, n = once()
        cold.append(s)
        counts.add(n)
        log(f"  search cold: {s:.3f} s ({n} matches)")
    for _ in range(cfg["warm_repeats"]):
        s, n = once()
        warm.append(s)
        counts.add(n)
        log(f"  search warm: {s:.3f} s ({n} matches)")
    cache_files = list(cache.rglob("*.json"))
    return {
        "runs": cfg["search_runs"],
        "gen_s": gen_s,
        "cold": cold,
        "warm": warm,
        "matches": sorted(counts),
        "cache_bytes": sum(p.stat().st_size for p in cache_files),
    }


def import_time(python: str, module: str, repeats: int, cwd: str) -> dict[str, Any]:
    """Median wall time of ``python -c "import module"`` and of ``python -c pass``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}

    def wall(code: str) -> float:
        t0 = perf()
        subprocess.run([python, "-c", code], check=True, cwd=cwd, env=env)
        return (perf() - t0) / 1e9

    wall(f"import {module}")  # warm the page cache and bytecode once
    raw, base = [], []
    for _ in range(repeats):  # interleaved, so drift hits both alike
        base.append(wall("pass"))
        raw.append(wall(f"import {module}"))
    return {
        "raw": median(raw),
        "pass": median(base),
        "net": median(raw) - median(base),
        "raw_all": raw,
        "pass_all": base,
    }


# ----------------------------------------------------------------------------- MLflow worker


def mlflow_worker(cfg: dict[str, int]) -> dict[str, Any]:
    """Runs inside the MLflow interpreter; returns results (printed as JSON)."""
    import warnings

    warnings.simplefilter("ignore")
    import mlflow
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    root = Path(tempfile.mkdtemp(prefix="runsite-bench-mlflow-"))
    notes = []
    try:
        uri = "file:" + str(root / "mlruns")
        mlflow.set_tracking_uri(uri)
        try:
            mlflow.start_run(run_name="probe")
            mlflow.end_run()
            notes.append("file store accepted as is")
        except Exception as exc:
            if "MLFLOW_ALLOW_FILE_STORE" not in str(exc):
                raise
            os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
            uri = "file:" + str(root / "mlruns2")  # a fresh folder: the failed one is stale
            mlflow.set_tracking_uri(uri)
            mlflow.start_run(run_name="probe")
            mlflow.end_run()
            notes.append(
                f"MLflow {mlflow.__version__} refuses the file store ('maintenance mode', "
                "migrate to a database); ran with MLFLOW_ALLOW_FILE_STORE=true"
            )
        res: dict[str, Any] = {"version": mlflow.__version__, "notes": notes}

        n, reps = cfg["ml_metric_calls"], cfg["ml_repeats"]
        values = [1.0 / (i + 1) for i in range(n)]
        per = []
        for _ in range(reps):
            with mlflow.start_run():
                t0 = perf()
                for i in range(n):
                    mlflow.log_metric("loss", values[i], step=i)
                per.append((perf() - t0) / n / 1000)
        res["log_metric_us"] = per

        n = cfg["ml_param_calls"]
        keys = [f"param_{i}" for i in range(n)]
        per = []
        for _ in range(reps):
            with mlflow.start_run():
                t0 = perf()
                for i, key in enumerate(keys):
                    mlflow.log_param(key, i)
                per.append((perf() - t0) / n / 1000)
        res["log_param_us"] = per

        n = cfg["ml_metrics_calls"]
        dicts = [{f"m{j}": 1.0 / (i + j + 1) for j in range(10)} for i in range(n)]
        per = []
        for _ in range(reps):
            with mlflow.start_run():
                t0 = perf()
                for i in range(n):
                    mlflow.log_metrics(dicts[i], step=i)
                per.append((perf() - t0) / (n * 10) / 1000)
        res["log_metrics_us"] = per

        # Bytes per point: MLflow writes one text line per point ("<ms> <value> <step>"),
        # so a systematic sample of the steps gives the same bytes/point as all of them.
        client = MlflowClient()
        stride = cfg["ml_stride"]
        res["bytes"] = {}
        for name in WORKLOADS:
            data = workload(name)
            with mlflow.start_run(run_name=f"bytes-{name}") as run:
                rid = run.info.run_id
                batch: list[Any] = []
                for s in range(0, STEPS, stride):
                    ts = int(time.time() * 1000)
                    batch.extend(Metric(k, v[s], ts, s) for k, v in data.items())
                    if len(batch) >= 1000:
                        client.log_batch(rid, metrics=batch)
                        batch = []
                if batch:
                    client.log_batch(rid, metrics=batch)
            files = list(root.glob(f"mlruns*/*/{rid}/metrics/**/*"))
            size = sum(p.stat().st_size for p in files if p.is_file())
            points = len(range(0, STEPS, stride)) * len(data)
            res["bytes"][name] = {"bytes": size, "points": points, "bytes_per_point": size / points}
        return res
    finally:
        shutil.rmtree(root, ignore_errors=True)


def find_mlflow(arg: str | None) -> tuple[str | None, str]:
    """(interpreter, description); interpreter is None when MLflow is not available."""
    given = arg or os.environ.get("RUNSITE_BENCH_MLFLOW_PYTHON")
    candidates = [given] if given else [sys.executable]
    for python in candidates:
        try:
            out = subprocess.run(
                [python, "-c", "import mlflow; print(mlflow.__version__)"],
                capture_output=True,
                text=True,
                timeout=120,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, f"{python}: {exc}"
        if out.returncode == 0:
            return python, f"{out.stdout.strip()} via {python}"
        if given:
            return None, f"{python} cannot import mlflow"
    return None, "not installed (give --mlflow-python PATH)"


def run_mlflow(python: str, cfg: dict[str, int], cwd: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "PYTHON"))}
    proc = subprocess.run(
        [python, os.path.abspath(__file__), "--mlflow-worker", json.dumps(cfg)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=1800,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"MLflow worker failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- table


def fmt_us(v: float) -> str:
    return f"{v:.2f} µs" if v < 10 else (f"{v:.1f} µs" if v < 100 else f"{v:.0f} µs")


def fmt_s(v: float) -> str:
    return f"{v:.3f} s"


def fmt_b(v: float) -> str:
    return f"{v:.2f} B/pt"


def fmt_ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "—"
    r = a / b
    if 0 < r < 0.5:
        return f"{r:.3g} (1/{1 / r:.0f})"
    return f"{r:.3g}"


TABLE_HEAD = ["measure", "runsite", "MLflow file store", "ratio", "target", "verdict"]


# ----------------------------------------------------------------------------- main


def machine_header(mode: str, ml_desc: str) -> list[str]:
    import pyarrow

    import runsite

    return [
        *machine_lines(f"runsite logging bench ({mode})"),
        f"runsite {runsite.__version__}, pyarrow {pyarrow.__version__}; MLflow: {ml_desc}",
        "times: time.perf_counter_ns; every figure is the median of its repeats",
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller loops, 1,000-run search store")
    ap.add_argument(
        "--mlflow-python",
        metavar="PATH",
        help="interpreter that can import mlflow (default: $RUNSITE_BENCH_MLFLOW_PYTHON, "
        "else this interpreter if it has mlflow)",
    )
    ap.add_argument("--no-mlflow", action="store_true", help="skip the MLflow baseline")
    ap.add_argument("--mlflow-worker", metavar="CFG", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.mlflow_worker:
        print(json.dumps(mlflow_worker(json.loads(args.mlflow_worker))))
        return 0

    cfg = QUICK if args.quick else FULL
    mode = "quick" if args.quick else "full"
    root = Path(tempfile.mkdtemp(prefix="runsite-bench-"))
    # Before runsite is imported: every cache and store goes to the temp dir.
    os.environ["RUNSITE_CACHE_DIR"] = str(root / "cache")
    os.environ["RUNSITE_STORE"] = str(root / "store")
    import runsite

    runsite.set_store(root / "store")
    ml_python, ml_desc = (None, "skipped (--no-mlflow)")
    if not args.no_mlflow:
        ml_python, ml_desc = find_mlflow(args.mlflow_python)
    header = machine_header(mode, ml_desc)
    for ln in header:
        log(ln)
    try:
        log(f"1. log_metric: {cfg['repeats']} x {cfg['metric_calls']:,} calls")
        lm = bench_log_metric(cfg)
        log(f"   {median(lm):.3f} µs/call")
        log(f"2. log_param: {cfg['repeats']} x {cfg['param_calls']:,} distinct keys")
        lp = bench_log_param(cfg)
        log(f"   {median(lp):.2f} µs/call")
        log(f"3. log_metrics: {cfg['repeats']} x {cfg['metrics_calls']:,} calls of 10 keys")
        lms = bench_log_metrics(cfg)
        log(f"   {median(lms):.3f} µs/point")

        wl: dict[str, dict[str, Any]] = {}
        compaction: list[float] = []
        for name, desc in WORKLOADS.items():
            log(f"5{name}. workload {desc}: 1M points (10 keys x steps 0..99,999)")
            data = workload(name)
            repeats = cfg["compaction_runs"] if name == "a" else 1
            for _ in range(repeats):
                r = log_workload(name, data)
                wl.setdefault(name, r)
                if name == "a":
                    compaction.append(r["end_s"])
                log(
                    f"   {r['bytes_per_point']:.2f} B/pt, end() {r['end_s']:.3f} s, "
                    f"logging {r['log_us_per_point']:.2f} µs/pt"
                )
            del data

        log(f"6. search_runs over {cfg['search_runs']:,} runs")
        sr = bench_search(cfg, root)

        log(f"7. import time: {cfg['import_repeats']} subprocesses each")
        imp = import_time(sys.executable, "runsite", cfg["import_repeats"], str(root))

        ml: dict[str, Any] | None = None
        ml_imp: dict[str, Any] | None = None
        if ml_python:
            log(f"MLflow baseline in {ml_python} (subprocess)")
            try:
                ml = run_mlflow(ml_python, cfg, str(root))
                ml_imp = import_time(ml_python, "mlflow", cfg["import_repeats"], str(root))
            except Exception as exc:  # report, keep the runsite table
                log(f"MLflow baseline failed: {exc}")
                ml_desc = f"failed ({str(exc).splitlines()[0]})"
                ml = None
    finally:
        while runsite.active_run() is not None:
            runsite.end_run("FAILED")
        shutil.rmtree(root, ignore_errors=True)

    missing = "MLflow: not installed" if ml_python is None else "MLflow: failed"
    if ml_python is None and args.no_mlflow:
        missing = "MLflow: skipped"

    def ml_cell(value: float | None, fmt: Any) -> str:
        if ml is None:
            return missing
        return fmt(value) if value is not None else "not measured"

    def row(
        measure: str,
        value: float,
        fmt: Any,
        ml_value: float | None,
        target: float | None,
        tfmt: str,
        ml_text: str | None = None,
    ) -> list[str]:
        mlc = ml_text if (ml_text is not None and ml is not None) else ml_cell(ml_value, fmt)
        return [
            measure,
            fmt(value),
            mlc,
            fmt_ratio(value, ml_value) if ml is not None else "—",
            tfmt if target is not None else "none",
            verdict(value, target),
        ]

    mlm = (lambda k: median(ml[k])) if ml else (lambda k: None)
    mlb = (lambda w: ml["bytes"][w]["bytes_per_point"]) if ml else (lambda w: None)
    rows = [
        row(
            "1. log_metric (fluent), per call",
            median(lm),
            fmt_us,
            mlm("log_metric_us"),
            TARGETS["log_metric_us"],
            "≤ 5 µs",
        ),
        row(
            "2. log_param, distinct keys, per call",
            median(lp),
            fmt_us,
            mlm("log_param_us"),
            None,
            "",
        ),
        row(
            "3. log_metrics 10-key dict, per point",
            median(lms),
            fmt_us,
            mlm("log_metrics_us"),
            None,
            "",
        ),
        row(
            "4. end() compacting 1M points (a)",
            median(compaction),
            fmt_s,
            None,
            None,
            "",
            ml_text="n/a (no compaction)",
        ),
    ]
    for name, desc in WORKLOADS.items():
        extra = " [extra]" if name == "d" else ""
        rows.append(
            row(
                f"5{name}. bytes/point, {desc}{extra}",
                wl[name]["bytes_per_point"],
                fmt_b,
                mlb(name),
                TARGETS["bytes_per_point"],
                "≤ 6 B/pt",
            )
        )
    n_runs = f"{sr['runs'] // 1000}k"
    for label, key in (("cold", "cold"), ("warm", "warm")):
        rows.append(
            row(
                f"6. search_runs, {n_runs} runs, {label}",
                median(sr[key]),
                fmt_s,
                None,
                TARGETS["search_s"],
                "≤ 1 s",
                ml_text="not measured",
            )
        )
    ml_net = ml_imp["net"] if ml_imp else None
    ml_raw = ml_imp["raw"] if ml_imp else None
    ml_pass = ml_imp["pass"] if ml_imp else None
    rows += [
        row(
            "7. import, net of `python -c pass`",
            imp["net"],
            fmt_s,
            ml_net,
            TARGETS["import_s"],
            "≤ 0.15 s",
        ),
        row("7. import, raw `python -c 'import …'`", imp["raw"], fmt_s, ml_raw, None, ""),
        row("7. `python -c pass` (baseline)", imp["pass"], fmt_s, ml_pass, None, ""),
    ]

    print("\n".join(header))
    print()
    print("\n".join(table(TABLE_HEAD, rows)))
    print()
    print("details:")
    reps = ", ".join(f"{x:.2f}" for x in lm)
    print(f"  1. log_metric µs/call per repeat ({cfg['metric_calls']:,} calls): {reps}")
    print(
        f"  2. log_param µs/call per repeat ({cfg['param_calls']:,} keys): "
        + ", ".join(f"{x:.1f}" for x in lp)
    )
    print(
        f"  3. log_metrics µs/point per repeat ({cfg['metrics_calls']:,} calls): "
        + ", ".join(f"{x:.3f}" for x in lms)
    )
    print(
        "  4. end() s per 1M-point run of (a): "
        + ", ".join(f"{x:.3f}" for x in compaction)
        + "; other workloads: "
        + ", ".join(f"({n}) {wl[n]['end_s']:.3f}" for n in WORKLOADS if n != "a")
    )
    print(
        "  5. metrics.parquet bytes: "
        + ", ".join(f"({n}) {wl[n]['bytes']:,}" for n in WORKLOADS)
        + " for 1,000,000 points each; timestamps are the real log times (ms)"
    )
    print(
        "     logging cost in that loop, µs/point: "
        + ", ".join(f"({n}) {wl[n]['log_us_per_point']:.2f}" for n in WORKLOADS)
    )
    print(
        f"  6. filter: {SEARCH_FILTER!r}; matches: {sr['matches']}; "
        f"cold s: {', '.join(f'{x:.3f}' for x in sr['cold'])}; "
        f"warm s: {', '.join(f'{x:.3f}' for x in sr['warm'])}"
    )
    print(
        f"     store made in {sr['gen_s']:.0f} s ({sr['runs'] / sr['gen_s']:.0f} runs/s with "
        f"{min(os.cpu_count() or 1, 4)} processes); read cache {sr['cache_bytes'] / 1e6:.1f} MB; "
        "cold = empty RUNSITE_CACHE_DIR (OS page cache warm)"
    )
    print(f"  7. import runsite raw s: {', '.join(f'{x:.3f}' for x in imp['raw_all'])}")
    if ml is not None and ml_imp is not None:
        print(f"  MLflow: {ml['version']} file store; " + "; ".join(ml["notes"]))
        print(
            f"     log_metric per repeat ({cfg['ml_metric_calls']:,} calls), µs: "
            + ", ".join(f"{x:.0f}" for x in ml["log_metric_us"])
        )
        print(
            f"     bytes/point from every {cfg['ml_stride']}th step of the same workloads "
            f"({ml['bytes']['a']['points']:,} points each; one text line per point)"
        )
    else:
        print(f"  MLflow: {ml_desc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
