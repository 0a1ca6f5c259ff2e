#!/usr/bin/env python
"""``runsite import mlflow`` benchmark: importing an MLflow store, against reading the
same store through MLflow's own client, in one invocation.

Run from the project root (needs MLflow: the test extra or ``runsite[mlflow-import]``)::

    .venv/bin/python bench/import_mlflow.py                 # 1,000 runs × 10 metrics × 100 steps
    .venv/bin/python bench/import_mlflow.py --runs 100      # quick
    .venv/bin/python bench/import_mlflow.py --kind file     # an mlruns/ folder instead of sqlite

The source store is generated with ``MlflowClient.create_run`` + one ``log_batch`` of
1,000 metric points per run (plus 5 params and 3 tags) + ``set_terminated``. Then, in
rounds (median of ``--repeats``):

* ``mlflow read``  -- what the import asks MLflow for: ``search_runs`` of the experiment,
  then ``get_metric_history`` of every metric of every run (no artifacts in this store).
* ``import``       -- ``runsite.mlflow_import.import_mlflow`` into a fresh store: the same
  reads plus writing every run folder (Parquet metrics) and the report.
* ``runsite read`` -- the imported store read back the same way: ``search_runs`` then
  ``get_metric_history`` of every metric of every run, through ``runsite.MlflowClient``.

Everything lives in a temporary folder deleted at the end.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
warnings.filterwarnings("ignore")

METRICS, STEPS = 10, 100


def generate(uri: str, runs: int) -> None:
    import mlflow
    from mlflow.entities import Metric, Param, RunTag

    client = mlflow.MlflowClient(tracking_uri=uri)
    exp = client.create_experiment("bench")
    t0 = 1_700_000_000_000
    for i in range(runs):
        run = client.create_run(exp, start_time=t0 + i * 1000, run_name=f"run-{i}")
        rid = run.info.run_id
        metrics = [
            Metric(f"m{k}", (i + k) / (s + 1), t0 + i * 1000 + s, s)
            for k in range(METRICS)
            for s in range(STEPS)
        ]
        client.log_batch(
            rid,
            metrics=metrics,
            params=[Param(f"p{k}", str(i * k)) for k in range(5)],
            tags=[RunTag(f"t{k}", f"v{i % (k + 2)}") for k in range(3)],
        )
        client.set_terminated(rid, end_time=t0 + i * 1000 + 999)
        if (i + 1) % 100 == 0:
            print(f"  generated {i + 1}/{runs} runs", file=sys.stderr)


def mlflow_read(uri: str) -> int:
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name("bench")
    points = 0
    token = None
    while True:
        page = client.search_runs([exp.experiment_id], max_results=10_000, page_token=token)
        for r in page:
            for key in r.data.metrics:
                points += len(client.get_metric_history(r.info.run_id, key))
        token = page.token
        if not token:
            return points


def runsite_read(store: Path) -> int:
    import runsite

    client = runsite.MlflowClient(store)
    points = 0
    for r in client.search_runs(["bench"], max_results=100_000):
        for key in r.data.metrics:
            points += len(client.get_metric_history(r.info.run_id, key))
    return points


def timed(fn, *args):  # type: ignore[no-untyped-def]
    t = time.perf_counter_ns()
    out = fn(*args)
    return (time.perf_counter_ns() - t) / 1e9, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--kind", choices=["sqlite", "file"], default="sqlite")
    args = ap.parse_args()

    import mlflow

    import runsite
    from runsite.mlflow_import import import_mlflow

    with tempfile.TemporaryDirectory(prefix="runsite-bench-import-") as tmp:
        base = Path(tmp)
        os.environ["RUNSITE_CACHE_DIR"] = str(base / "cache")
        if args.kind == "sqlite":
            uri = source = f"sqlite:///{base / 'mlflow.db'}"
        else:
            source = str(base / "mlruns")
            uri = (base / "mlruns").as_uri()
        print(f"generating {args.runs} runs in {args.kind} store …", file=sys.stderr)
        gen_s, _ = timed(generate, uri, args.runs)
        print(f"  done in {gen_s:.1f} s", file=sys.stderr)
        times: dict[str, list[float]] = {"mlflow read": [], "import": [], "runsite read": []}
        expected = args.runs * METRICS * STEPS
        for rep in range(args.repeats):
            s, n = timed(mlflow_read, uri)
            assert n == expected, n
            times["mlflow read"].append(s)
            store = base / f"runs-{rep}"
            s, report = timed(import_mlflow, source, store)
            assert report.runs_imported == args.runs, report.summary()
            times["import"].append(s)
            os.environ["RUNSITE_CACHE_DIR"] = str(base / f"cache-{rep}")  # a cold cache
            s, n = timed(runsite_read, store)
            assert n == expected, n
            times["runsite read"].append(s)
            print(f"  round {rep + 1}/{args.repeats} done", file=sys.stderr)

    base_s = statistics.median(times["mlflow read"])
    print(
        f"# import of an MLflow {args.kind} store: {args.runs:,} runs × {METRICS} metrics × "
        f"{STEPS} steps ({expected:,} points)"
    )
    print(
        f"# {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"runsite {runsite.__version__}, MLflow {mlflow.__version__}, "
        f"{time.strftime('%Y-%m-%d')}; median of {args.repeats}"
    )
    print(f"{'step':<14}{'median s':>10}{'× mlflow read':>15}{'runs/s':>10}")
    for name, values in times.items():
        med = statistics.median(values)
        print(f"{name:<14}{med:>10.2f}{med / base_s:>15.2f}{args.runs / med:>10.0f}")
    print(
        "details: "
        + "; ".join(f"{k}: {', '.join(f'{v:.2f}' for v in vs)}" for k, vs in times.items())
    )


if __name__ == "__main__":
    main()
