#!/usr/bin/env python
"""Object-storage benchmark: logging and loading a large model through an S3-compatible
server, against writing the same model to local disk plus one upload of the same bytes.

Run from the project root (needs the test extra: moto, s3fs)::

    .venv/bin/python bench/storage.py              # 200 MB model, 5 repeats
    .venv/bin/python bench/storage.py --mb 50 --repeats 3

It starts moto's S3 server as a subprocess on a free port of 127.0.0.1 (so server and
client do not share one interpreter lock), then times, round-robin, median of the
repeats (``gc.collect()`` before each call):

* ``local log``   -- ``start_run`` + ``log_model`` + ``end`` into a store without object
  storage (the model written to local disk, hashed, recorded).
* ``upload``      -- one ``ObjectStore.put`` of the same pickle file with the same s3fs
  client runsite uses (the object is deleted after each round).
* ``s3 log``      -- the same run into a store whose ``storage.yaml`` sends every file
  to S3 (``threshold: all``): written locally, moved to the outbox, uploaded in the
  background, and ``end()`` waits for the upload. Fresh bytes each round.
* ``local load``  -- ``load_model`` from the local store (hashes verified).
* ``cache load``  -- ``load_model`` of the S3 run with its objects in the local cache
  (pointer resolved, bytes verified; nothing downloaded).

Loads are timed four times per round each, alternating, so both see the same warmth of
the OS page cache and the allocator.

Goals: ``s3 log`` ≤ 1.5 × (``local log`` + ``upload``); ``cache load`` ≤ 1.1 × ``local load``.
"""

from __future__ import annotations

import argparse
import gc
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def timed(fn):  # type: ignore[no-untyped-def]
    gc.collect()
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="rs-bench-storage-"))
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
        RUNSITE_CACHE_DIR=str(tmp / "cache"),
    )
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        import boto3

        for _ in range(100):
            try:
                boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="bench")
                break
            except Exception:
                time.sleep(0.1)
        from sklearn.linear_model import LinearRegression

        import runsite
        from runsite import objstore

        local_store, s3_store = tmp / "local", tmp / "s3"
        s3_store.mkdir(parents=True)
        (s3_store / "storage.yaml").write_text(
            f"url: s3://bench/m\nendpoint_url: {endpoint}\nthreshold: all\n"
        )
        cfg = objstore.load_config(s3_store)
        assert cfg is not None
        client = objstore.ObjectStore(cfg)
        n = args.mb * 1024 * 1024 // 8
        rng = np.random.default_rng(0)

        def model() -> LinearRegression:
            m = LinearRegression()
            m.coef_ = rng.random(n)  # fresh bytes every round: no dedup by hash
            m.intercept_ = 0.0
            return m

        def log(store: Path) -> str:
            with runsite.Store(store).start_run("bench", log_git=False) as run:
                run.log_model(model(), "m")
            return run.run_id

        rows: dict[str, list[float]] = {
            k: [] for k in ("local log", "upload", "s3 log", "local load", "cache load")
        }
        print(f"{args.mb} MB model, {args.repeats} repeats ...", file=sys.stderr)
        for i in range(args.repeats):
            order = ["local", "upload", "s3"] if i % 2 == 0 else ["s3", "upload", "local"]
            for what in order:
                if what == "local":
                    t, local_id = timed(lambda: log(local_store))
                    rows["local log"].append(t)
                elif what == "s3":
                    t, s3_id = timed(lambda: log(s3_store))
                    rows["s3 log"].append(t)
                else:
                    f = tmp / "payload.pkl"
                    import pickle

                    f.write_bytes(pickle.dumps(model(), protocol=5))
                    sha = __import__("hashlib").sha256(f.read_bytes()).hexdigest()
                    t, _ = timed(lambda: client.put(f, sha))  # noqa: B023
                    rows["upload"].append(t)
                    client.delete(sha)
            loads = [("local load", local_store, local_id), ("cache load", s3_store, s3_id)]
            for name, store, rid in (loads + loads[::-1]) * 2:
                t, _ = timed(lambda: runsite.load_model(f"runs:/{rid}/m", store=store))  # noqa: B023
                rows[name].append(t)
        med = {k: statistics.median(v) for k, v in rows.items()}
        print(f"{'row':<12} {'median s':>9} {'min s':>7}")
        for k, v in rows.items():
            print(f"{k:<12} {med[k]:>9.3f} {min(v):>7.3f}")
        log_ratio = med["s3 log"] / (med["local log"] + med["upload"])
        load_ratio = med["cache load"] / med["local load"]
        print()
        print(
            f"s3 log / (local log + upload) = {log_ratio:.2f}  (goal <= 1.5: "
            f"{'ok' if log_ratio <= 1.5 else 'MISSED'})"
        )
        print(
            f"cache load / local load       = {load_ratio:.2f}  (goal <= 1.1: "
            f"{'ok' if load_ratio <= 1.1 else 'MISSED'})"
        )
    finally:
        server.terminate()
        server.wait(10)
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
