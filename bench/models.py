#!/usr/bin/env python
"""Model logging/loading benchmark: ``run.log_model`` / ``runsite.load_model`` against
plain ``pickle`` (and, for XGBoost, against ``Booster.save_model`` / ``load_model``).

Run from the project root::

    .venv/bin/python bench/models.py            # ~50 MB RandomForest, 500-tree XGBoost, 7 repeats
    .venv/bin/python bench/models.py --quick    # ~10 MB forest, 100 trees, 2 repeats
    .venv/bin/python bench/models.py --repeats 9 --sklearn-mb 100

Prints one aligned plain-text table to stdout (progress goes to stderr). Each row is
the median over the repeats of one timed call, with ``gc.collect()`` before each call
and one untimed warm-up call first (imports, first sqlite connection). runsite and its
baselines are timed round-robin (order reversed every other round), so load from other
processes on a shared machine hits both alike; ``min ratio`` (fastest / fastest) is
printed next to the median ratio as a noise check. The verdict uses the median ratio.

* ``log``   -- ``run.log_model(model, "m")`` in a fresh run of a ``runsite.Store`` in a
  temp dir (starting and ending the run is not timed). runsite pickles the estimator
  (scikit-learn) or writes ``save_raw("ubj")`` (XGBoost), hashes every file, writes
  ``model.yaml``, hashes the whole folder again (``model_hash``) and records events.
* ``dump``  -- baseline: ``pickle.dump(model, f, protocol=5)`` to a new file in the same
  temp dir (protocol 5 is what runsite uses; Python 3.11's default is 4, which copies
  every numpy array once more). XGBoost also gets ``booster.save_model("x.ubj")``.
* ``load``  -- ``runsite.load_model("runs:/<id>/m", store)``: resolves the run, reads
  the manifest, checks every file's sha256, then unpickles / ``load_model``s.
* ``load`` baseline -- ``pickle.load(f)`` (XGBoost also ``XGBRegressor().load_model``).
* reference rows (no verdict): ``pickle.dump via sha256`` (the dump streamed through
  sha256, as runsite's ModelWriter does) and ``read+sha256+loads`` (read the file, hash
  it, unpickle the hashed bytes: one pass of a verifying loader). They show how much of
  runsite's time hashing itself explains.

The goal is runsite within 1.5x of plain pickle, hashing included. Files are warm in
the OS page cache when they are read back (they were just written; no cache is
dropped). The model files are not fsynced by either side; the only syncs are
runsite's own (its sqlite hash cache commits with fdatasync), and they count.
``RUNSITE_CACHE_DIR`` points at a temp dir, removed at the end with the store.

Models are built from ``numpy.random.default_rng(seed)`` data; nothing is downloaded.
The forest's ``n_estimators`` is calibrated (fit a few trees with ``warm_start``,
measure bytes per tree) so its pickle is close to ``--sklearn-mb``; the actual size is
printed.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import os
import pickle
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import benchlib

GOAL = 1.5
PROTOCOL = 5  # runsite.models.manifest.PICKLE_PROTOCOL

FULL = {"repeats": 7, "sklearn_mb": 50.0, "sklearn_samples": 20_000, "xgb_trees": 500}
QUICK = {"repeats": 2, "sklearn_mb": 10.0, "sklearn_samples": 10_000, "xgb_trees": 100}


def progress(msg: str) -> None:
    print(f"[bench/models] {msg}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- models


def make_data(n: int, features: int, seed: int) -> tuple[Any, Any]:
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features))
    y = 2.0 * x[:, 0] + np.sin(3.0 * x[:, 1]) + x[:, 2] * x[:, 3] + 0.1 * rng.standard_normal(n)
    return x, y


def make_forest(target_mb: float, n_samples: int, seed: int = 0) -> Any:
    """A RandomForestRegressor whose protocol-5 pickle is close to ``target_mb``."""
    from sklearn.ensemble import RandomForestRegressor

    x, y = make_data(n_samples, 20, seed)
    probe = 4
    model = RandomForestRegressor(
        n_estimators=probe, min_samples_leaf=1, random_state=seed, n_jobs=-1, warm_start=True
    )
    model.fit(x, y)
    per_tree = len(pickle.dumps(model, protocol=PROTOCOL)) / probe
    trees = max(probe, round(target_mb * 1e6 / per_tree))
    model.set_params(n_estimators=trees)
    model.fit(x, y)  # warm_start: only the missing trees are grown
    model.set_params(warm_start=False)
    return model


def make_xgb(trees: int, seed: int = 0) -> Any:
    import xgboost

    x, y = make_data(20_000, 20, seed)
    model = xgboost.XGBRegressor(
        n_estimators=trees, max_depth=6, learning_rate=0.05, random_state=seed, n_jobs=-1
    )
    model.fit(x, y)
    return model


# ----------------------------------------------------------------------------- timing


class HashingWriter:
    """A file wrapper that feeds every write to sha256 (as runsite's ModelWriter does)."""

    def __init__(self, f: Any) -> None:
        self._f = f
        self.sha = hashlib.sha256()

    def write(self, data: Any) -> int:
        self.sha.update(data)
        return self._f.write(data)


def timed(call: Callable[[], Any]) -> float:
    """Seconds for one call, after a gc.collect(); the result is dropped afterwards,
    outside the timing."""
    gc.collect()
    t0 = time.perf_counter()
    result = call()
    elapsed = time.perf_counter() - t0
    del result
    return elapsed


Maker = Callable[[int], Callable[[], Any]]


def interleaved(makers: dict[str, Maker], n: int) -> dict[str, list[float]]:
    """Times each measure ``n`` times, round-robin (order reversed every other round) so
    that load from other processes hits runsite and its baseline alike.

    ``maker(i)`` does the untimed setup of repeat ``i`` and returns the call to time;
    repeat -1 is the untimed warm-up."""
    for maker in makers.values():
        maker(-1)()
    times: dict[str, list[float]] = {name: [] for name in makers}
    for i in range(n):
        order = list(makers) if i % 2 == 0 else list(reversed(makers))
        for name in order:
            times[name].append(timed(makers[name](i)))
    return times


def megabytes(n: int) -> str:
    if n >= 100_000:
        return f"{n / 1e6:.2f} MB"
    return f"{n / 1e3:.1f} kB" if n >= 1000 else f"{n} B"


class Bench:
    def __init__(self, root: Path, repeats: int) -> None:
        import runsite

        self.runsite = runsite
        self.root = root
        self.repeats = repeats
        self.rows: list[dict[str, Any]] = []
        self.sizes: list[tuple[str, str]] = []

    def row(
        self, model: str, measure: str, ours: list[float], base_name: str, base: list[float]
    ) -> None:
        self.rows.append(
            {
                "model": model,
                "measure": measure,
                "runsite": statistics.median(ours),
                "baseline": base_name,
                "base": statistics.median(base),
                "min_ratio": min(ours) / min(base),
            }
        )

    def run_model(self, label: str, model: Any, native_xgb: bool) -> None:
        store_dir = self.root / f"store-{label.split()[0]}"
        base_dir = self.root / f"baseline-{label.split()[0]}"
        base_dir.mkdir()
        store = self.runsite.Store(store_dir)
        n = self.repeats
        runs: list[Any] = []
        infos: list[Any] = []

        # Every side deletes what its previous repeat wrote (untimed) and keeps only the
        # last one for the load measures: unlinking never-flushed files drops their dirty
        # pages, so the kernel's dirty-page throttling does not grow through the repeats.
        def drop(path: Path) -> None:
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()

        # runsite log: a fresh run each repeat; only log_model is timed
        def log_call(i: int) -> Callable[[], Any]:
            if infos:
                drop(Path(infos[-1].path))
            run = store.start_run(experiment="bench", log_git=False)
            runs.append(run)

            def call() -> Any:
                info = run.log_model(model, "m")
                infos.append(info)
                return info

            return call

        # baseline: pickle.dump to a new file in the same temp dir
        def dump_call(i: int) -> Callable[[], Any]:
            drop(base_dir / f"model-{i}.pkl")
            path = base_dir / f"model-{i + 1}.pkl"

            def call() -> None:
                with path.open("wb") as f:
                    pickle.dump(model, f, protocol=PROTOCOL)

            return call

        # reference: the same dump streamed through sha256 (what runsite's ModelWriter
        # must at least do), to show how much of runsite's time hashing alone explains
        def dump_sha_call(i: int) -> Callable[[], Any]:
            drop(base_dir / f"model-{i}.sha.pkl")
            path = base_dir / f"model-{i + 1}.sha.pkl"

            def call() -> str:
                with path.open("wb") as f:
                    out = HashingWriter(f)
                    pickle.dump(model, out, protocol=PROTOCOL)
                return out.sha.hexdigest()

            return call

        writes: dict[str, Maker] = {
            "log": log_call,
            "dump": dump_call,
            "dump+sha256": dump_sha_call,
        }
        if native_xgb:
            booster = model.get_booster()

            def save_call(i: int) -> Callable[[], Any]:
                drop(base_dir / f"model-{i}.ubj")
                path = base_dir / f"model-{i + 1}.ubj"
                return lambda: booster.save_model(str(path))

            writes["save_model"] = save_call
        progress(f"{label}: {' / '.join(writes)} x{n}, interleaved")
        w = interleaved(writes, n)
        for run in runs:  # untimed
            run.end()

        uri = infos[-1].model_uri
        pkl = base_dir / f"model-{n}.pkl"
        ubj = base_dir / f"model-{n}.ubj"

        def runsite_load() -> Any:
            return self.runsite.load_model(uri, str(store_dir))

        def pickle_load() -> Any:
            with pkl.open("rb") as f:
                return pickle.load(f)

        def native_load() -> Any:
            import xgboost

            m = xgboost.XGBRegressor()
            m.load_model(str(ubj))
            return m

        def pickle_sha_load() -> Any:
            # reference: one pass of what a verifying loader must do: read, hash, unpickle
            # the very bytes that were hashed
            data = pkl.read_bytes()
            hashlib.sha256(data).hexdigest()
            return pickle.loads(data)

        reads: dict[str, Maker] = {
            "load": lambda i: runsite_load,
            "pickle.load": lambda i: pickle_load,
            "read+sha256+loads": lambda i: pickle_sha_load,
        }
        if native_xgb:
            reads["native load"] = lambda i: native_load
        progress(f"{label}: {' / '.join(reads)} x{n}, interleaved")
        r = interleaved(reads, n)

        self.row(label, "log (write)", w["log"], "pickle.dump", w["dump"])
        self.row(label, "log (write)", w["log"], "pickle.dump via sha256", w["dump+sha256"])
        if native_xgb:
            self.row(label, "log (write)", w["log"], "booster.save_model", w["save_model"])
        self.row(label, "load (read)", r["load"], "pickle.load", r["pickle.load"])
        self.row(label, "load (read)", r["load"], "read+sha256+loads", r["read+sha256+loads"])
        if native_xgb:
            self.row(label, "load (read)", r["load"], "XGBRegressor.load_model", r["native load"])

        # sanity: the model loaded by runsite predicts like the original (untimed)
        import numpy as np

        x, _ = make_data(100, 20, 123)
        loaded = runsite_load()
        if not np.allclose(loaded.predict(x), model.predict(x)):
            raise SystemExit(f"{label}: the model loaded by runsite predicts differently")
        files = ", ".join(
            f"{p.name} {megabytes(p.stat().st_size)}" for p in sorted(Path(loaded.path).iterdir())
        )
        self.sizes.append((label, f"pickle {megabytes(pkl.stat().st_size)}; runsite: {files}"))
        del loaded

    # ------------------------------------------------------------------------- output

    def table(self) -> str:
        head = [
            "model",
            "measure",
            "runsite s",
            "baseline",
            "baseline s",
            "ratio",
            "min ratio",
            "goal",
            "verdict",
        ]
        lines = [head]
        for r in self.rows:
            ratio = r["runsite"] / r["base"] if r["base"] > 0 else float("inf")
            if r["baseline"] in ("pickle.dump", "pickle.load"):
                goal, verdict = f"<= {GOAL:.2f}x", benchlib.verdict(ratio, GOAL)
            else:
                goal, verdict = "(reference)", "-"
            lines.append(
                [
                    r["model"],
                    r["measure"],
                    f"{r['runsite']:.4f}",
                    r["baseline"],
                    f"{r['base']:.4f}",
                    f"{ratio:.2f}x",
                    f"{r['min_ratio']:.2f}x",
                    goal,
                    verdict,
                ]
            )
        numeric = {2, 4, 5, 6}
        widths = [max(len(line[i]) for line in lines) for i in range(len(head))]

        def fmt(line: list[str]) -> str:
            cells = [
                c.rjust(w) if i in numeric else c.ljust(w)
                for i, (c, w) in enumerate(zip(line, widths, strict=True))
            ]
            return "  ".join(cells).rstrip()

        rule = "  ".join("-" * w for w in widths)
        return "\n".join([fmt(lines[0]), rule, *(fmt(x) for x in lines[1:])])


def header(settings: dict[str, Any]) -> str:
    import numpy
    import sklearn
    import xgboost

    import runsite

    cpu = platform.processor() or platform.machine()
    try:
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "n/a"
    return "\n".join(
        [
            "runsite model benchmark (bench/models.py)",
            f"date:     {datetime.now(UTC).strftime('%Y-%m-%d %H:%M:%SZ')}",
            f"machine:  {os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.release()}",
            f"load avg: {load} (1/5/15 min, at the end; other processes share the machine)",
            f"python:   {platform.python_version()} ({platform.python_implementation()})",
            f"versions: runsite {getattr(runsite, '__version__', '?')}, numpy "
            f"{numpy.__version__}, scikit-learn {sklearn.__version__}, xgboost "
            f"{xgboost.__version__}",
            f"settings: {settings['repeats']} repeats (median reported, 1 untimed warm-up, "
            f"gc.collect() before each call), pickle protocol {PROTOCOL}",
            "note:     files are warm in the OS page cache when read back (just written, caches "
            "not dropped); model files are not fsynced by either side (runsite's sqlite hash "
            "cache commits are, and count)",
            "order:    runsite and baseline calls interleaved round-robin; verdict on the median "
            "ratio",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 repeats, smaller models")
    parser.add_argument("--repeats", type=int, help="timed repeats per measure")
    parser.add_argument("--sklearn-mb", type=float, help="target pickle size of the forest")
    parser.add_argument("--xgb-trees", type=int, help="XGBoost n_estimators")
    args = parser.parse_args(argv)
    settings = dict(QUICK if args.quick else FULL)
    for key in ("repeats", "sklearn_mb", "xgb_trees"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)

    root = Path(tempfile.mkdtemp(prefix="runsite-bench-models-"))
    old_cache = os.environ.get("RUNSITE_CACHE_DIR")
    os.environ["RUNSITE_CACHE_DIR"] = str(root / "cache")
    try:
        bench = Bench(root, settings["repeats"])

        progress(f"training a RandomForestRegressor (~{settings['sklearn_mb']:g} MB pickled)")
        forest = make_forest(settings["sklearn_mb"], settings["sklearn_samples"])
        size = len(pickle.dumps(forest, protocol=PROTOCOL))
        forest_label = f"sklearn RF ({forest.n_estimators} trees, {size / 1e6:.1f} MB)"
        bench.run_model(forest_label, forest, native_xgb=False)
        del forest

        progress(f"training an XGBRegressor ({settings['xgb_trees']} trees)")
        booster = make_xgb(settings["xgb_trees"])
        size = len(pickle.dumps(booster, protocol=PROTOCOL))
        xgb_label = f"XGBoost ({settings['xgb_trees']} trees, {size / 1e6:.1f} MB)"
        bench.run_model(xgb_label, booster, native_xgb=True)
        del booster

        print(header(settings))
        for label, text in bench.sizes:
            print(f"sizes:    {label}: {text}")
        print()
        print(bench.table())
        print()
        print(
            f"goal: runsite within {GOAL:.1f}x of plain pickle, hashing included "
            "(ratio = median runsite / median baseline; verdict on it. min ratio = fastest "
            "runsite / fastest baseline, less sensitive to noise from other processes)."
        )
    finally:
        if old_cache is None:
            os.environ.pop("RUNSITE_CACHE_DIR", None)
        else:
            os.environ["RUNSITE_CACHE_DIR"] = old_cache
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
