#!/usr/bin/env python
"""``runsite import mlflow`` benchmark: importing an MLflow store, against reading the
same store through MLflow's own client, in one invocation.

Run from the project root (needs MLflow: the test extra or ``runsite[mlflow-import]``)::

    .venv/bin/python bench/import_mlflow.py                 # 1,000 runs × 10 metrics × 100 steps
    .venv/bin/python bench/import_mlflow.py --runs 100      # quick
    .venv/bin/python bench/import_mlflow.py --kind sqlite   # one kind of store only

The source stores are made by MLflow's own code: an ``mlruns/`` file store through
``MlflowClient`` (``create_run``, one ``log_batch`` of the run's 1,000 metric points with
5 params and 3 tags, ``set_terminated``), then a sqlite store from it by MLflow's
``mlflow migrate-filestore`` (``mlflow.store.fs2db.migrate``, which writes through
SQLAlchemy in bulk: logging 1,000 runs into sqlite one ``log_batch`` at a time takes
MLflow ~0.4 s a run). Then, for each kind, in rounds (median of ``--repeats``):

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
import shutil
import statistics
import tempfile
import time
import warnings
from pathlib import Path

from benchlib import load_average, machine_header, progress, table

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
            progress(f"  generated {i + 1}/{runs} runs")


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


def to_sqlite(mlruns: Path, uri: str) -> None:
    """MLflow's own ``mlflow migrate-filestore``: the file store into a new sqlite one."""
    import contextlib
    import io

    from mlflow.store.fs2db import migrate

    with contextlib.redirect_stdout(io.StringIO()):  # its summary table
        migrate(mlruns, uri, progress=False)


def rounds(
    kind: str, uri: str, source: str, runs: int, repeats: int, base: Path
) -> dict[str, list[float]]:
    from runsite.mlflow_import import import_mlflow

    times: dict[str, list[float]] = {"mlflow read": [], "import": [], "runsite read": []}
    expected = runs * METRICS * STEPS
    for rep in range(repeats):
        s, n = timed(mlflow_read, uri)
        assert n == expected, n
        times["mlflow read"].append(s)
        store = base / f"runs-{kind}-{rep}"
        s, report = timed(import_mlflow, source, store)
        assert report.runs_imported == runs, report.summary()
        times["import"].append(s)
        os.environ["RUNSITE_CACHE_DIR"] = str(base / f"cache-{kind}-{rep}")  # a cold cache
        s, n = timed(runsite_read, store)
        assert n == expected, n
        times["runsite read"].append(s)
        shutil.rmtree(store)
        progress(
            f"{kind}: round {rep + 1}/{repeats}: "
            + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items())
        )
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--kind", choices=["both", "sqlite", "file"], default="both")
    args = ap.parse_args()

    import mlflow

    import runsite

    kinds = ["file", "sqlite"] if args.kind == "both" else [args.kind]
    load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="runsite-bench-import-") as tmp:
        base = Path(tmp)
        os.environ["RUNSITE_CACHE_DIR"] = str(base / "cache")
        mlruns = base / "mlruns"
        progress(f"generating {args.runs} runs in a file store …")
        gen_s, _ = timed(generate, mlruns.as_uri(), args.runs)
        progress(f"  done in {gen_s:.1f} s")
        sources = {"file": (mlruns.as_uri(), str(mlruns))}
        if "sqlite" in kinds:
            uri = f"sqlite:///{base / 'mlflow.db'}"
            progress("migrating it to sqlite with MLflow's migrate-filestore …")
            mig_s, _ = timed(to_sqlite, mlruns, uri)
            progress(f"  done in {mig_s:.1f} s")
            sources["sqlite"] = (uri, uri)
        results = {k: rounds(k, *sources[k], args.runs, args.repeats, base) for k in kinds}

    expected = args.runs * METRICS * STEPS
    lines = machine_header("runsite import mlflow")
    lines.append(
        f"runsite {runsite.__version__}, MLflow {mlflow.__version__}; {args.runs:,} runs × "
        f"{METRICS} metrics × {STEPS} steps ({expected:,} points); median of "
        f"{args.repeats}; load average {load_before} before, {load_average()} after"
    )
    lines.append("")
    rows = []
    for kind, times in results.items():
        base_s = statistics.median(times["mlflow read"])
        for name, values in times.items():
            med = statistics.median(values)
            rows.append(
                [
                    kind,
                    name,
                    f"{med:.2f}",
                    f"{med / base_s:.2f}",
                    f"{args.runs / med:.0f}",
                    ", ".join(f"{v:.2f}" for v in values),
                ]
            )
    lines += table(
        ["store", "step", "median s", "× mlflow read", "runs/s", "all rounds (s)"],
        rows,
        left=(0, 1, 5),
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
