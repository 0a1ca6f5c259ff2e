"""The demo store: `python examples/train.py` regenerates `example_runs/` from scratch.

A regression task on scikit-learn's bundled diabetes data (nothing is downloaded), shaped
like the NYC-taxi course it stands in for: a few categorical columns turned into one-hot
features by a `DictVectorizer` that is logged with every model. Several model families
and a small sweep log params, per-iteration metrics, data inputs, plots and models; then
the best version is registered and promoted to production, the runner-up to staging.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import Lasso, LinearRegression, Ridge
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

import runsite

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "examples" / "data"


def records() -> tuple[list[dict[str, Any]], np.ndarray]:
    """Rows as dicts: numeric columns plus categorical ones (like taxi zones)."""
    data = load_diabetes()
    rows = []
    for x in data.data:
        row = dict(zip(data.feature_names, map(float, x), strict=True))
        row["sex"] = "F" if row.pop("sex") > 0 else "M"
        row["age_band"] = f"band-{min(int((row['age'] + 0.11) / 0.045), 4)}"
        rows.append(row)
    return rows, data.target


def write_csv(path: Path, rows: list[dict[str, Any]], y: np.ndarray) -> None:
    cols = list(rows[0])
    lines = [",".join([*cols, "target"])]
    lines += [
        ",".join([*(str(r[c]) for c in cols), f"{t:g}"]) for r, t in zip(rows, y, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n")


def scores(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    return {
        "rmse": float(np.sqrt(mean_squared_error(y, pred))),
        "mae": float(mean_absolute_error(y, pred)),
        "r2": float(r2_score(y, pred)),
    }


def plot(y: np.ndarray, pred: np.ndarray, title: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # plots are optional: the demo works without matplotlib
        return
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.scatter(y, pred, s=10, alpha=0.6)
    lo, hi = float(min(y.min(), pred.min())), float(max(y.max(), pred.max()))
    ax.plot([lo, hi], [lo, hi], color="grey", linewidth=1)
    ax.set_xlabel("actual")
    ax.set_ylabel("predicted")
    ax.set_title(title)
    fig.tight_layout()
    runsite.log_figure(fig, "plots/predicted-vs-actual.png")
    plt.close(fig)


def main(store: str = str(ROOT / "example_runs")) -> None:
    if Path(store).exists():
        shutil.rmtree(store)
    runsite.set_store(store)
    exp = runsite.set_experiment("diabetes-progression")
    # experiment.yaml is written by people; the demo writes one to show what it does.
    (Path(exp.path) / "experiment.yaml").write_text(
        "name: Diabetes progression\n"
        "description: |\n"
        "  Predict disease progression one year after baseline from ten measurements\n"
        "  (scikit-learn's bundled *diabetes* data). Sex and an age band are categorical,\n"
        "  one-hot encoded by a `DictVectorizer` logged with every model.\n"
        "key_metric: rmse\n"
    )
    rows, y = records()
    cut = int(len(rows) * 0.8)
    train, val = (rows[:cut], y[:cut]), (rows[cut:], y[cut:])
    DATA.mkdir(parents=True, exist_ok=True)
    write_csv(DATA / "train.csv", *train)
    write_csv(DATA / "validation.csv", *val)

    dv = DictVectorizer(sparse=False)
    X_train = dv.fit_transform(train[0])
    X_val = dv.transform(val[0])
    results: list[tuple[float, str, str]] = []

    def finish(name: str, model: Any, run: runsite.Run) -> None:
        pred = model.predict(X_val)
        runsite.log_metrics(scores(val[1], pred))
        plot(val[1], pred, name)
        runsite.log_model(model, "model", preprocessor=dv, input_example=val[0][:3])
        results.append((scores(val[1], pred)["rmse"], run.run_id, name))

    def start(name: str, params: dict[str, Any], family: str) -> runsite.Run:
        run = runsite.start_run(run_name=name, tags={"family": family})
        runsite.log_params(params)
        runsite.log_input(DATA / "train.csv", name="train", context="training")
        runsite.log_input(DATA / "validation.csv", name="validation", context="validation")
        return run

    with start("linear", {"model": "linear"}, "linear") as run:
        model = LinearRegression().fit(X_train, train[1])
        finish("linear", model, run)

    for alpha in (0.01, 0.1, 1.0):
        for kind, cls in (("ridge", Ridge), ("lasso", Lasso)):
            name = f"{kind}-{alpha}"
            with start(name, {"model": kind, "alpha": alpha}, "linear") as run:
                model = cls(alpha=alpha, max_iter=10_000).fit(X_train, train[1])
                finish(name, model, run)

    with start("random-forest", {"model": "random_forest", "max_depth": 6}, "trees") as run:
        model = RandomForestRegressor(n_estimators=1, max_depth=6, warm_start=True, random_state=0)
        for n in range(1, 41):  # per-iteration curve: validation error as trees are added
            model.set_params(n_estimators=n).fit(X_train, train[1])
            pred = model.predict(X_val)
            runsite.log_metric("val_rmse", float(np.sqrt(mean_squared_error(val[1], pred))), step=n)
        finish("random-forest", model, run)

    for lr in (0.05, 0.1):
        name = f"gbm-{lr}"
        with start(name, {"model": "gbm", "learning_rate": lr, "max_depth": 3}, "trees") as run:
            model = GradientBoostingRegressor(
                n_estimators=150, learning_rate=lr, max_depth=3, random_state=0
            ).fit(X_train, train[1])
            for step, pred in enumerate(model.staged_predict(X_val), 1):
                runsite.log_metric(
                    "val_rmse", float(np.sqrt(mean_squared_error(val[1], pred))), step=step
                )
            for step, loss in enumerate(model.train_score_, 1):
                runsite.log_metric("train_loss", float(loss), step=step)
            finish(name, model, run)

    try:
        import xgboost as xgb
    except ImportError:
        print("xgboost not installed: skipping the XGBoost run", file=sys.stderr)
    else:
        with start("xgboost", {"model": "xgboost", "max_depth": 3, "eta": 0.1}, "trees") as run:
            model = xgb.XGBRegressor(n_estimators=150, max_depth=3, learning_rate=0.1)
            model.fit(X_train, train[1], eval_set=[(X_val, val[1])], verbose=False)
            for step, v in enumerate(model.evals_result()["validation_0"]["rmse"], 1):
                runsite.log_metric("val_rmse", float(v), step=step)
            finish("xgboost", model, run)

    results.sort()
    (best_rmse, best_id, best), (_, second_id, second) = results[0], results[1]
    v1 = runsite.register_model(
        f"runs:/{second_id}/model",
        "diabetes-regressor",
        description="Disease progression a year on.",
    )
    v2 = runsite.register_model(f"runs:/{best_id}/model", "diabetes-regressor")
    runsite.set_model_stage(v1.name, v1.version, "staging", reason=f"{second}: runner-up")
    runsite.set_model_stage(v2.name, v2.version, "production", reason=f"{best}: best rmse")
    runsite.set_model_alias(v2.name, "champion", v2.version)
    neutralise(Path(store))
    print(f"{len(results)} runs; production: {best} (rmse {best_rmse:.2f}); staging: {second}")


# What a run header records about the machine that ran it. The demo is committed and
# published: it says "demo" instead (python examples/train.py --neutralise-only STORE
# applies this to a store already written).
NEUTRAL = {"user": "demo", "host": "demo"}


def neutralise(store: Path) -> None:
    """Replace the machine details in every run header of ``store``: user, host, pid,
    interpreter path, platform string, absolute entry point and the git remote."""
    import json

    for header in sorted(store.glob("*/*/run.json")):
        doc = json.loads(header.read_text(encoding="utf-8"))
        doc.update(NEUTRAL)
        doc["pid"] = 0
        entry = doc.get("entry_point")
        if entry and Path(entry).is_absolute():
            doc["entry_point"] = "examples/" + Path(entry).name
        python = doc.get("python") or {}
        if python.get("executable"):
            python["executable"] = "python"
        if python.get("platform"):
            python["platform"] = python["platform"].split("-", 1)[0]
        git = doc.get("git") or {}
        if git.get("remote"):
            git["remote"] = None
        header.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--neutralise-only"]:
        neutralise(Path(sys.argv[2]))
        raise SystemExit(0)
    main(*sys.argv[1:])
