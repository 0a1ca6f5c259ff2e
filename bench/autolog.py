#!/usr/bin/env python
"""Autolog overhead: a ~1-second fit with no autolog, with ``runsite.autolog()`` and with
``mlflow.autolog()`` (sqlite store in a temporary folder), in the same invocation.

Run from the project root::

    .venv/bin/python bench/autolog.py            # 3 rounds x 3 timed fits per mode
    .venv/bin/python bench/autolog.py --quick    # 2 rounds x 2 fits
    .venv/bin/python bench/autolog.py --no-mlflow
    .venv/bin/python bench/autolog.py --paired     # none/runsite alternated in one process
    .venv/bin/python bench/autolog.py --breakdown  # what runsite's overhead is made of
    .venv/bin/python bench/autolog.py --cold       # autolog() + the first fit, fresh processes

Each (workload, mode) runs in a fresh worker process (autolog patches the libraries
process-wide): the worker builds the data, switches autolog on, does one untimed warm-up
fit (first-run costs: imports, the package list, MLflow's database), then times the
fits — each a whole run: start, fit, params, metrics, model, end. Rounds interleave the
modes so a busy machine slows them alike. The table gives the median fit time per mode,
the ratio to no autolog and to MLflow's autolog. Goal: runsite ≤ 1.05 × no autolog.

``--paired`` is for a busy machine, where load drifts between worker processes: one worker
per workload alternates fits without and with ``runsite.autolog()`` (``disable=True`` in
between puts the library back), so each pair sees the same load; it gives the median of
the per-pair CPU ratios (no MLflow column).

``--breakdown`` times, in one worker per fit, the pieces of what autolog adds, each on its
own (median CPU time of several repeats, as a share of the fit's). scikit-learn: the
training metrics MLflow logs (of which the one ``predict_proba`` on the training data
they need), ``estimator.html`` (and scikit-learn's ``estimator_html_repr`` as MLflow calls
it), saving the model, its signature, hashing the data, the run itself (start, params,
tags, end). XGBoost: the per-round eval metrics, the feature importance, the model, its
signature, hashing the training and eval data, the run.

``--cold`` is a script that fits once: in fresh processes (``--rounds``, default 5, per
mode), the CPU and wall time of importing the tracker, ``autolog()`` and the first fit, so
the imports autolog needs on its first fit count (the data and the library are loaded
before the clock). The rounds share one ``RUNSITE_CACHE_DIR``, filled by an untimed first
script, as a user's scripts share ``~/.cache/runsite``.
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

from benchlib import load_average, machine_header, progress, table, verdict

GOAL = 1.05
WORKLOADS = ("sklearn", "xgboost")
MODES = ("none", "runsite", "mlflow")


def _data() -> Any:
    import numpy as np
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=6000, n_features=30, n_informative=12, random_state=0)
    return x.astype(np.float64), y


def _fit(workload: str) -> Any:
    """A zero-argument ~1 s fit (its data: ``_data()``)."""
    x, y = _data()
    if workload == "sklearn":
        from sklearn.ensemble import RandomForestClassifier

        return lambda: RandomForestClassifier(
            n_estimators=40, max_depth=12, n_jobs=1, random_state=0
        ).fit(x, y)
    import xgboost as xgb

    return lambda: xgb.XGBClassifier(
        n_estimators=150, max_depth=6, n_jobs=1, tree_method="hist", random_state=0
    ).fit(x, y, eval_set=[(x[:1000], y[:1000])], verbose=False)


def _turn_on(mode: str, work: Path) -> None:
    """Autolog on, into a store in ``work``: runsite's, MLflow's (sqlite), or none."""
    if mode == "runsite":
        import runsite

        runsite.set_store(work / "runs")
        runsite.autolog(silent=True)
    elif mode == "mlflow":
        import mlflow

        mlflow.set_tracking_uri(f"sqlite:///{work}/mlflow.db")
        mlflow.autolog(silent=True)


def worker(workload: str, mode: str, fits: int, work: Path) -> None:
    import warnings

    warnings.simplefilter("ignore")
    fit = _fit(workload)
    _turn_on(mode, work)
    fit()  # warm-up
    times = []
    for _ in range(fits):
        t0, c0 = time.perf_counter(), _cpu()
        fit()
        times.append((time.perf_counter() - t0, _cpu() - c0))
    print(json.dumps(times))


def _cpu() -> float:
    """CPU seconds of this process (all threads) and of the child processes it waited
    for (MLflow infers a model's pip requirements in a subprocess). ``getrusage``, not
    ``os.times``: its clock ticks (10 ms) are too coarse for a 0.5 s fit."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def paired(workload: str, pairs: int, work: Path) -> None:
    """CPU time of fits alternately without and with runsite's autolog, one process."""
    import warnings

    warnings.simplefilter("ignore")
    import runsite

    fit = _fit(workload)
    runsite.set_store(work / "runs")
    runsite.autolog(silent=True)
    fit()  # warm-up with autolog (imports, first run)
    out = []
    for _ in range(pairs):
        pair = []
        for on in (False, True):
            runsite.autolog(silent=True, disable=not on)
            c0 = time.process_time()
            fit()
            pair.append(time.process_time() - c0)
        out.append(pair)
    print(json.dumps(out))


def _print_paired(pairs: int) -> None:
    load = load_average()
    results = {w: _run_worker(w, "paired", pairs) for w in WORKLOADS}
    lines = machine_header("runsite autolog overhead, paired fits in one process")
    lines.append(
        f"{pairs} pairs of fits (no autolog, then runsite autolog) per workload; CPU time; "
        f"goal ≤ {GOAL:.2f}x; load average {load} before, {load_average()} after"
    )
    lines.append("")
    rows = []
    for workload, got in results.items():
        ratios = sorted(b / a for a, b in got)
        med = statistics.median(ratios)
        rows.append(
            [
                workload,
                f"{statistics.median(a for a, _ in got):.3f} s",
                f"{statistics.median(b for _, b in got):.3f} s",
                f"{med:.3f}x",
                f"{ratios[0]:.3f}–{ratios[-1]:.3f}",
                verdict(med, GOAL),
            ]
        )
    head = ["fit", "no autolog", "runsite", "median of ratios", "range", f"≤ {GOAL:.2f}x"]
    lines += table(head, rows)
    print("\n".join(lines))


def _pieces(workload: str, work: Path) -> dict[str, Any]:
    """Zero-argument calls, one per piece of what autolog adds to ``workload``'s fit."""
    import json

    import runsite
    from runsite.autologging import common, core, sklearn
    from runsite.models.api import save_model
    from runsite.models.signature import infer_signature

    fit = _fit(workload)
    est = fit()
    x, y = _data()
    runsite.set_store(work / "runs")
    folders = iter(range(1_000_000))
    params = common.str_params(est.get_params())

    def run_only() -> None:
        with runsite.start_run(nested=True) as run:
            run.log_params(params)
            run.set_tags(sklearn.estimator_tags(est))

    def model() -> None:
        save_model(est, work / f"m{next(folders)}")

    if workload == "xgboost":
        booster = est.get_booster()
        run = runsite.start_run()
        steps = iter(range(1_000_000_000))

        def rounds() -> None:  # what the callback logs: one eval set, one metric, 150 rounds
            for _ in range(150):
                i = next(steps)
                run.log_metrics({"validation_0-logloss": 0.5 / (i + 1)}, step=i)

        return {
            "the fit (no autolog)": fit,
            "eval metrics, every round": rounds,
            "feature_importance_weight.json": lambda: json.dumps(
                booster.get_score(importance_type="weight")
            ),
            "model saved (UBJSON, hash)": model,
            "model signature": lambda: infer_signature(common.head(x), est.predict(common.head(x))),
            "training and eval data hashed": lambda: (
                common.describe_data(x, y),
                common.describe_data(x[:1000], y[:1000]),
            ),
            "run start, params, end": run_only,
        }

    from sklearn.utils import estimator_html_repr

    run = runsite.start_run()
    session = core.Session("sklearn", run, core.Config(silent=True), owned=False)
    pred = est.predict(x)
    return {
        "the fit (no autolog)": fit,
        "training metrics (MLflow's)": lambda: sklearn.training_metrics(session, est, x, y, None),
        "  of which predict_proba(X)": lambda: est.predict_proba(x),
        "estimator.html": lambda: sklearn.estimator_html(est),
        "  (estimator_html_repr as MLflow calls it)": lambda: estimator_html_repr(est),
        "model saved (pickle, hash)": model,
        "model signature": lambda: infer_signature(common.head(x), common.head(pred)),
        "training data hashed": lambda: common.describe_data(x, y),
        "run start, params, end": run_only,
    }


def breakdown(workload: str, repeats: int, work: Path) -> None:
    """CPU seconds (median of ``repeats``) of each piece of ``workload``'s autolog."""
    import warnings

    warnings.simplefilter("ignore")
    out = {}
    for name, fn in _pieces(workload, work).items():
        fn()  # warm
        times = []
        for _ in range(repeats):
            c0 = time.process_time()
            fn()
            times.append(time.process_time() - c0)
        out[name] = statistics.median(times)
    print(json.dumps(out))


def cold(workload: str, mode: str, work: Path) -> None:
    """A script that fits once: CPU and wall time of ``autolog()`` plus the first fit in a
    fresh process (the data and the library are made and imported before the clock)."""
    import warnings

    warnings.simplefilter("ignore")
    fit = _fit(workload)
    t0, c0 = time.perf_counter(), _cpu()
    _turn_on(mode, work)
    fit()
    print(json.dumps([time.perf_counter() - t0, _cpu() - c0]))


def _run_worker(workload: str, mode: str, fits: int, cache: Path | None = None) -> Any:
    """The worker's JSON answer. ``cache``: its ``RUNSITE_CACHE_DIR`` (default: a new
    one inside its temporary folder)."""
    with tempfile.TemporaryDirectory(prefix="runsite-bench-autolog-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "RUNSITE_"))}
        env |= {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
        env["RUNSITE_CACHE_DIR"] = str(cache or Path(tmp) / "_cache")
        out = subprocess.run(
            [sys.executable, __file__, "--worker", workload, mode, str(fits), tmp],
            capture_output=True,
            text=True,
            cwd=tmp,
            env=env,
        )
    if out.returncode:
        raise SystemExit(f"{workload}/{mode} worker failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _print_breakdown(repeats: int) -> None:
    load = load_average()
    results = {w: _run_worker(w, "breakdown", repeats) for w in WORKLOADS}
    lines = machine_header("runsite autolog: what the overhead is made of")
    lines.append(
        f"the fits of the main table; median CPU time of {repeats} repeats of each piece "
        f"alone; load average {load} before, {load_average()} after"
    )
    for workload, cpu in results.items():
        base = cpu["the fit (no autolog)"]
        lines += ["", f"{workload}:"]
        rows = [[name, f"{t * 1000:.1f} ms", f"{100 * t / base:.1f} %"] for name, t in cpu.items()]
        lines += table(["piece", "CPU", "of the fit"], rows)
    print("\n".join(lines))


def _print_cold(rounds: int, modes: list[str]) -> None:
    load = load_average()
    times: dict[tuple[str, str], list[list[float]]] = {}
    with tempfile.TemporaryDirectory(prefix="runsite-bench-autolog-cache-") as cache:
        # one cache folder for every round, as ~/.cache/runsite is between a user's
        # scripts; an untimed first script per workload fills it
        for workload in WORKLOADS:
            progress(f"cold: priming the cache folder with a {workload} script")
            _run_worker(workload, "runsite", -1, Path(cache))
        for r in range(rounds):
            for workload in WORKLOADS:
                for mode in modes:
                    progress(f"cold round {r + 1}/{rounds}: {workload} with {mode} autolog")
                    got = _run_worker(workload, mode, -1, Path(cache))
                    times.setdefault((workload, mode), []).append(got)
    lines = machine_header("runsite autolog: a script that fits once")
    lines.append(
        f"{rounds} fresh processes per mode: import + autolog() + the first fit, the "
        f"library and data loaded before the clock, one cache folder for all (primed); "
        f"medians; load average {load} before, {load_average()} after"
    )
    lines.append("")
    rows = []
    for workload in WORKLOADS:
        for i, clock in enumerate(("wall", "cpu")):
            med = {m: statistics.median(t[i] for t in times[(workload, m)]) for m in modes}
            row = [workload, clock] + [f"{med[m]:.3f} s" for m in modes]
            row += [f"+{med[m] - med['none']:.3f} s" for m in modes if m != "none"]
            rows.append(row)
    head = ["fit", "clock", *modes] + [f"{m} − none" for m in modes if m != "none"]
    lines += table(head, rows, left=(0, 1))
    print("\n".join(lines))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="2 rounds x 2 fits")
    ap.add_argument("--no-mlflow", action="store_true", help="skip the MLflow column")
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--fits", type=int, default=None)
    ap.add_argument("--breakdown", action="store_true", help="the pieces of the overhead")
    ap.add_argument("--paired", action="store_true", help="none/runsite alternated, one process")
    ap.add_argument(
        "--cold", action="store_true", help="autolog() + the first fit, fresh processes"
    )
    ap.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        workload, mode, fits, work = args.worker
        if mode == "breakdown":
            breakdown(workload, int(fits), Path(work))
        elif int(fits) < 0:
            cold(workload, mode, Path(work))
        elif mode == "paired":
            paired(workload, int(fits), Path(work))
        else:
            worker(workload, mode, int(fits), Path(work))
        return
    if args.breakdown:
        _print_breakdown(args.fits or 7)
        return
    if args.paired:
        _print_paired(args.fits or 7)
        return
    modes = [m for m in MODES if not (args.no_mlflow and m == "mlflow")]
    if "mlflow" in modes:
        try:
            import mlflow  # noqa: F401
        except ImportError:
            progress("mlflow is not importable: no MLflow column")
            modes.remove("mlflow")
    if args.cold:
        _print_cold(args.rounds or 5, modes)
        return
    rounds = args.rounds or (2 if args.quick else 3)
    fits = args.fits or (2 if args.quick else 3)
    times: dict[tuple[str, str], list[list[float]]] = {}
    load = load_average()
    for r in range(rounds):
        for workload in WORKLOADS:
            for mode in modes:
                progress(f"round {r + 1}/{rounds}: {workload} with {mode} autolog")
                times.setdefault((workload, mode), []).extend(_run_worker(workload, mode, fits))
    lines = machine_header("runsite autolog overhead")
    lines.append(
        f"{rounds} rounds x {fits} timed fits per mode; medians of wall time and of the "
        f"worker's CPU time (threads and waited-for child processes included); "
        f"goal ≤ {GOAL:.2f}x; load average {load} before, {load_average()} after"
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
