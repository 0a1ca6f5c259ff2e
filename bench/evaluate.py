"""How long ``runsite models evaluate`` takes on 100,000 rows, against the script a user
would write by hand (read the CSV with pandas, predict, compute RMSE) in the same run.

    .venv/bin/python bench/evaluate.py [--rows 100000] [--repeat 3]

Two registered versions (a Ridge and a small gradient-boosting model, both behind a
DictVectorizer) trained on "this month"; both evaluated on "next month" (same size,
shifted). Prints the median of ``--repeat`` runs per row of the table.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import benchlib
import numpy as np

import runsite
from runsite.registry import Registry
from runsite.registry.evaluate import evaluate_versions


def write_data(path: Path, n: int, seed: int, shift: float = 0.0) -> Path:
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, (n, 6)) + shift
    city = rng.choice(["north", "south", "east", "west"], n, p=[0.4, 0.3, 0.2, 0.1])
    y = x @ np.array([3.0, -2.0, 1.0, 0.5, 0.0, 4.0]) + (city == "north") * 2 + rng.normal(0, 1, n)
    cols = [f"f{i}" for i in range(6)]
    with path.open("w") as f:
        f.write(",".join([*cols, "city", "target"]) + "\n")
        for row, c, t in zip(x, city, y, strict=True):
            f.write(",".join(f"{v:.6f}" for v in row) + f",{c},{t:.6f}\n")
    return path


def train(store: Path, data: Path) -> None:
    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import Ridge

    frame = pd.read_csv(data)
    y = frame.pop("target").to_numpy()
    records = frame.to_dict("records")
    dv = DictVectorizer(sparse=False).fit(records)
    X = dv.transform(records)
    runsite.set_store(store)
    runsite.set_experiment("bench")
    for name, model in (
        ("ridge", Ridge(alpha=1.0)),
        ("hgb", HistGradientBoostingRegressor(max_iter=50, random_state=0)),
    ):
        with runsite.start_run(run_name=name, log_git=False) as run:
            runsite.log_input(data, name="train", context="training")
            model.fit(X, y)
            runsite.log_model(model, "model", preprocessor=dv, input_example=records[:3])
        runsite.register_model(f"runs:/{run.run_id}/model", "bench")
    runsite.set_model_stage("bench", 1, "production")
    runsite.set_model_stage("bench", 2, "staging")


def by_hand(store: Path, data: Path) -> None:
    """What a user scripts: load both versions, read the CSV, predict, RMSE."""
    import pandas as pd

    frame = pd.read_csv(data)
    y = frame.pop("target").to_numpy()
    for v in (1, 2):
        model = runsite.load_model(f"models:/bench/{v}", store=str(store))
        pred = np.asarray(model.predict(frame))
        float(np.sqrt(np.mean((pred - y) ** 2)))


def timed(fn: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        benchlib.progress(f"writing {args.rows:,} rows of training and next-month data")
        train_csv = write_data(root / "train.csv", args.rows, 0)
        next_csv = write_data(root / "next.csv", args.rows, 1, shift=0.3)
        benchlib.progress("training and registering two versions")
        store = root / "runs"
        train(store, train_csv)
        reg = Registry(store)
        benchlib.progress("timing")
        base = timed(lambda: by_hand(store, next_csv), args.repeat)
        plain = timed(
            lambda: evaluate_versions(reg, "bench", next_csv, "target", record=False),
            args.repeat,
        )
        full = timed(lambda: evaluate_versions(reg, "bench", next_csv, "target"), args.repeat)
        ev = evaluate_versions(reg, "bench", next_csv, "target", record=False)
        latency = ", ".join(
            f"v{r.version} {r.latency_ms_per_row * 1000:.2f} µs/row"
            for r in ev.results
            if r.latency_ms_per_row
        )
    rows = [
        ["by hand: pandas read, load, predict, rmse", f"{base:.2f}", "1.00"],
        ["evaluate_versions(record=False)", f"{plain:.2f}", f"{plain / base:.2f}"],
        ["runsite models evaluate (records 2 runs)", f"{full:.2f}", f"{full / base:.2f}"],
    ]
    out = benchlib.machine_header(
        f"bench/evaluate.py: two versions on {args.rows:,} rows (median of {args.repeat})"
    )
    out += [""]
    out += benchlib.table(["what", "seconds", "× by hand"], rows)
    out += [
        "",
        "evaluate = hash check, load, read, predict, all regression metrics, PSI drift of "
        "7 features against the 100k training rows, latency, size; recorded = plus one "
        f"evaluation run per version. Prediction alone: {latency}.",
    ]
    print("\n".join(out))


if __name__ == "__main__":
    main()
