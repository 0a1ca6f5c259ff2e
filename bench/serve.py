#!/usr/bin/env python
"""Load test of the scoring server: ``runsite models serve`` against ``mlflow models
serve`` on the same model, in the same invocation, on localhost only.

Run from the project root::

    .venv/bin/python bench/serve.py                                   # runsite only
    .venv/bin/python bench/serve.py --mlflow-python /tmp/mlvenv/bin/python
    .venv/bin/python bench/serve.py --requests 300                    # quick

What it does:

* trains a scikit-learn ``LinearRegression`` on the bundled diabetes data (10 named
  columns) and logs it with runsite (signature from an input example); when an MLflow
  interpreter is given, that interpreter trains the same (deterministic) model and saves
  it with ``mlflow.sklearn.save_model`` with the same input example;
* starts each server as its own process with one worker (``--env-manager local`` for
  MLflow), waits for ``/ping``;
* ``--clients`` (8) client processes each send ``--requests`` (2,000) ``POST
  /invocations`` with a ``dataframe_split`` body of 1 or 100 records over one keep-alive
  connection, checking every answer is a 200 with the right number of predictions;
* prints one table: errors, p50 / p99 latency as each client saw it, requests per second
  over the whole wall time, and runsite's throughput relative to MLflow's.

The servers run one after the other, never at once. Client processes share the
machine's cores with the server, as a sidecar load generator would; both servers get
the same treatment. Goals (issue #16): zero errors, p50 under 5 ms for one record,
more requests per second than MLflow.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TRAIN = """
import json, sys
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression
d = load_diabetes(as_frame=True)
m = LinearRegression().fit(d.data, d.target)
"""
MLFLOW_SAVE = (
    TRAIN
    + """
import mlflow.sklearn
mlflow.sklearn.save_model(m, sys.argv[1], input_example=d.data.head(3))
"""
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(proc: subprocess.Popen[bytes], port: int, what: str, limit: float = 180) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode} before answering /ping")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/ping")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"{what} did not answer /ping within {limit:.0f} s")


def client(args: tuple[int, bytes, int, int]) -> tuple[list[float], int]:
    port, body, n, expect = args
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"}
    times: list[float] = []
    errors = 0
    for _ in range(n):
        t0 = time.perf_counter()
        try:
            conn.request("POST", "/invocations", body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            ok = resp.status == 200 and len(json.loads(data)["predictions"]) == expect
        except (OSError, http.client.HTTPException, ValueError, KeyError):
            ok = False
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        times.append(time.perf_counter() - t0)
        errors += not ok
    conn.close()
    return times, errors


def load(port: int, body: bytes, clients: int, requests: int, expect: int) -> dict[str, float]:
    client((port, body, 50, expect))  # warm-up: first-request costs (pandas, sklearn)
    # Spawned, not forked: this process has imported runsite, sklearn and pandas and has
    # run a logging session, and a fork of a process with threads can inherit a lock
    # held by one of them; a forked client then hangs before its first request (seen:
    # the 100-record round never ended while the server answered every request).
    with mp.get_context("spawn").Pool(clients) as pool:
        t0 = time.perf_counter()
        results = pool.map(client, [(port, body, requests, expect)] * clients)
        wall = time.perf_counter() - t0
    times = sorted(t for r in results for t in r[0])
    errors = sum(r[1] for r in results)
    return {
        "requests": len(times),
        "errors": errors,
        "p50": statistics.median(times) * 1000,
        "p99": times[int(len(times) * 0.99) - 1] * 1000,
        "rps": len(times) / wall,
    }


def payload(rows: list[list[float]], columns: list[str]) -> bytes:
    return json.dumps({"dataframe_split": {"columns": columns, "data": rows}}).encode()


def runsite_server(tmp: Path) -> tuple[list[str], dict[str, str]]:
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import LinearRegression

    import runsite

    d = load_diabetes(as_frame=True)
    model = LinearRegression().fit(d.data, d.target)
    store = tmp / "runs"
    runsite.set_store(store)
    runsite.set_experiment("bench")
    with runsite.start_run(run_name="linear", log_git=False) as run:
        runsite.log_model(model, "model", input_example=d.data.head(3))
    uri = f"runs:/{run.info.run_id}/model"
    cmd = [sys.executable, "-m", "runsite", "models", "serve", uri, "--store", str(store)]
    return cmd, {"RUNSITE_CACHE_DIR": str(tmp / "cache")}


def mlflow_server(tmp: Path, python: str) -> list[str]:
    path = tmp / "mlflow-model"
    subprocess.run([python, "-c", MLFLOW_SAVE, str(path)], check=True, capture_output=True)
    return [
        python,
        "-m",
        "mlflow",
        "models",
        "serve",
        "-m",
        str(path),
        "--env-manager",
        "local",
        "--host",
        "127.0.0.1",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mlflow-python", help="an interpreter with mlflow installed")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=2000, help="per client")
    opts = parser.parse_args()

    from sklearn.datasets import load_diabetes

    d = load_diabetes(as_frame=True)
    columns = [str(c) for c in d.data.columns]
    rows = d.data.values.tolist()
    bodies = {1: payload(rows[:1], columns), 100: payload(rows[:100], columns)}
    print(
        f"# {platform.node() and 'machine'}: {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; {opts.clients} clients x {opts.requests} requests",
        file=sys.stderr,
    )
    table: list[tuple[str, int, dict[str, float]]] = []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        servers: list[tuple[str, list[str], dict[str, str]]] = []
        cmd, env = runsite_server(tmp)
        servers.append(("runsite", cmd, env))
        if opts.mlflow_python:
            # MLflow's serve runs `uvicorn` from PATH: put its interpreter's bin first.
            mlflow_env = {
                "PATH": os.pathsep.join([str(Path(opts.mlflow_python).parent), os.environ["PATH"]]),
                "MLFLOW_DISABLE_TELEMETRY": "true",
                "DO_NOT_TRACK": "true",
            }
            servers.append(("mlflow", mlflow_server(tmp, opts.mlflow_python), mlflow_env))
        for label, cmd, env in servers:
            port = free_port()
            full_env = {**os.environ, **env}
            proc = subprocess.Popen(
                [*cmd, "--port", str(port)],
                env=full_env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                wait_ready(proc, port, label)
                for n, body in bodies.items():
                    print(f"  {label}, {n} records …", file=sys.stderr)
                    table.append((label, n, load(port, body, opts.clients, opts.requests, n)))
            finally:
                proc.terminate()
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
    rps = {(lbl, n): r["rps"] for lbl, n, r in table}
    head = (
        f"{'server':<8} {'records':>7} {'requests':>8} {'errors':>6} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'req/s':>7} {'vs mlflow':>9}"
    )
    print(head)
    print("-" * len(head))
    for label, n, r in table:
        ratio = ""
        if label == "runsite" and ("mlflow", n) in rps:
            ratio = f"{r['rps'] / rps[('mlflow', n)]:.1f}x"
        print(
            f"{label:<8} {n:>7} {int(r['requests']):>8} {int(r['errors']):>6} "
            f"{r['p50']:>7.2f} {r['p99']:>7.2f} {r['rps']:>7.0f} {ratio:>9}"
        )
    one = next(r for lbl, n, r in table if lbl == "runsite" and n == 1)
    errors = sum(int(r["errors"]) for _, _, r in table)
    print(
        f"\nverdict: errors {errors} ({'PASS' if errors == 0 else 'FAIL'}); runsite p50 "
        f"1 record {one['p50']:.2f} ms ({'PASS' if one['p50'] < 5 else 'MISS'} < 5 ms)"
    )


if __name__ == "__main__":
    main()
