#!/usr/bin/env python
"""Autolog overhead: a ~1-second fit with no autolog, with ``runsite.autolog()`` and with
``mlflow.autolog()`` (sqlite store in a temporary folder), in the same invocation.

Run from the project root::

    .venv/bin/python bench/autolog.py            # 3 rounds x 3 timed fits per mode
    .venv/bin/python bench/autolog.py --quick    # 2 rounds x 2 fits
    .venv/bin/python bench/autolog.py --no-mlflow

Each (workload, mode) runs in a fresh worker process (autolog patches the libraries
process-wide): the worker builds the data, switches autolog on, does one untimed warm-up
fit (first-run costs: imports, the package list, MLflow's database), then times the
fits — each a whole run: start, fit, params, metrics, model, end. Rounds interleave the
modes so a busy machine slows them alike. The table gives the median fit time per mode,
the ratio to no autolog and to MLflow's autolog. Goal: runsite ≤ 1.05 × no autolog.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchlib import machine_header, progress, table, verdict

GOAL = 1.05
WORKLOADS = ("sklearn", "xgboost")
MODES = ("none", "runsite", "mlflow")


def _fit(workload: str) -> Any:
    """The data and a zero-argument ~1 s fit."""
    import numpy as np
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=6000, n_features=30, n_informative=12, random_state=0)
    x = x.astype(np.float64)
    if workload == "sklearn":
        from sklearn.ensemble import RandomForestClassifier

        return lambda: RandomForestClassifier(
            n_estimators=40, max_depth=12, n_jobs=1, random_state=0
        ).fit(x, y)
    import xgboost as xgb

    return lambda: xgb.XGBClassifier(
        n_estimators=150, max_depth=6, n_jobs=1, tree_method="hist", random_state=0
    ).fit(x, y, eval_set=[(x[:1000], y[:1000])], verbose=False)


def worker(workload: str, mode: str, fits: int, work: Path) -> None:
    import warnings

    warnings.simplefilter("ignore")
    fit = _fit(workload)
    if mode == "runsite":
        import runsite

        runsite.set_store(work / "runs")
        runsite.autolog(silent=True)
    elif mode == "mlflow":
        import mlflow

        mlflow.set_tracking_uri(f"sqlite:///{work}/mlflow.db")
        mlflow.autolog(silent=True)
    fit()  # warm-up
    times = []
    for _ in range(fits):
        t0, c0 = time.perf_counter(), time.process_time()
        fit()
        times.append((time.perf_counter() - t0, time.process_time() - c0))
    print(json.dumps(times))


def _run_worker(workload: str, mode: str, fits: int) -> list[list[float]]:
    with tempfile.TemporaryDirectory(prefix="runsite-bench-autolog-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "RUNSITE_"))}
        env |= {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
        env["RUNSITE_CACHE_DIR"] = str(Path(tmp) / "_cache")
        out = subprocess.run(
            [sys.executable, __file__, "--worker", workload, mode, str(fits), tmp],
            capture_output=True,
            text=True,
            cwd=tmp,
            env=env,
        )
    if out.returncode:
        raise SystemExit(f"{workload}/{mode} worker failed:\n{out.stderr[-2000:]}")
    return list(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="2 rounds x 2 fits")
    ap.add_argument("--no-mlflow", action="store_true", help="skip the MLflow column")
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--fits", type=int, default=None)
    ap.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        workload, mode, fits, work = args.worker
        worker(workload, mode, int(fits), Path(work))
        return
    rounds = args.rounds or (2 if args.quick else 3)
    fits = args.fits or (2 if args.quick else 3)
    modes = [m for m in MODES if not (args.no_mlflow and m == "mlflow")]
    if "mlflow" in modes:
        try:
            import mlflow  # noqa: F401
        except ImportError:
            progress("mlflow is not importable: no MLflow column")
            modes.remove("mlflow")
    times: dict[tuple[str, str], list[list[float]]] = {}
    for r in range(rounds):
        for workload in WORKLOADS:
            for mode in modes:
                progress(f"round {r + 1}/{rounds}: {workload} with {mode} autolog")
                times.setdefault((workload, mode), []).extend(_run_worker(workload, mode, fits))
    lines = machine_header("runsite autolog overhead")
    lines.append(
        f"{rounds} rounds x {fits} timed fits per mode; medians of wall time and of the "
        f"worker's CPU time (threads included); goal ≤ {GOAL:.2f}x"
    )
    lines.append("")
    rows = []
    for workload in WORKLOADS:
        for i, clock in enumerate(("wall", "cpu")):
            med = {m: statistics.median(t[i] for t in times[(workload, m)]) for m in modes}
            base = med["none"]
            ours = med["runsite"] / base
            row = [workload, clock, f"{base:.3f} s", f"{med['runsite']:.3f} s", f"{ours:.3f}x"]
            if "mlflow" in med:
                row += [
                    f"{med['mlflow']:.3f} s",
                    f"{med['mlflow'] / base:.3f}x",
                    f"{med['runsite'] / med['mlflow']:.3f}x",
                ]
            row.append(verdict(ours, GOAL))
            rows.append(row)
    head = ["fit", "clock", "no autolog", "runsite", "runsite/none"]
    if "mlflow" in modes:
        head += ["MLflow", "MLflow/none", "runsite/MLflow"]
    head.append(f"≤ {GOAL:.2f}x")
    lines += table(head, rows, left=(0, 1))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
