"""Real data and real models for the evaluation tests: scikit-learn's bundled diabetes
data as this month's training data, and a shifted copy as "next month"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import runsite


def diabetes_rows() -> tuple[list[dict[str, Any]], np.ndarray]:
    from sklearn.datasets import load_diabetes

    data = load_diabetes()
    rows = []
    for x in data.data:
        row = dict(zip(data.feature_names, map(float, x), strict=True))
        row["sex"] = "F" if row.pop("sex") > 0 else "M"
        rows.append(row)
    return rows, data.target


def write_csv(path: Path, rows: list[dict[str, Any]], y: np.ndarray) -> Path:
    cols = list(rows[0])
    lines = [",".join([*cols, "target"])]
    lines += [
        ",".join([*(str(r[c]) for c in cols), f"{t:g}"]) for r, t in zip(rows, y, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def next_month(
    rows: list[dict[str, Any]], y: np.ndarray, shift: float = 0.03
) -> tuple[list[dict[str, Any]], np.ndarray]:
    """The same patients a month on: bmi and s5 shifted up, more women, targets up a bit."""
    out = []
    for i, r in enumerate(rows):
        r = dict(r)
        r["bmi"] += shift
        r["s5"] += shift
        if i % 3 == 0:
            r["sex"] = "F"
        out.append(r)
    return out, y * 1.05


def train_versions(data_dir: Path, experiment: str = "diabetes") -> tuple[str, str]:
    """Two logged models (ridge: weak, forest: strong) trained on train.csv; run ids."""
    from sklearn.ensemble import GradientBoostingRegressor
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import Ridge

    rows, y = diabetes_rows()
    data_dir.mkdir(parents=True, exist_ok=True)
    train = write_csv(data_dir / "train.csv", rows, y)
    dv = DictVectorizer(sparse=False).fit(rows)
    X = dv.transform(rows)
    runsite.set_experiment(experiment)
    ids = []
    for name, model in (
        ("ridge", Ridge(alpha=10.0)),
        ("gbm", GradientBoostingRegressor(n_estimators=60, max_depth=2, random_state=0)),
    ):
        with runsite.start_run(run_name=name) as run:
            runsite.log_input(train, name="train", context="training")
            model.fit(X, y)
            pred = model.predict(X)
            runsite.log_param("family", name)
            runsite.log_metric("rmse", float(np.sqrt(np.mean((pred - y) ** 2))))
            runsite.log_model(model, "model", preprocessor=dv, input_example=rows[:3])
        ids.append(run.run_id)
    return ids[0], ids[1]


def evaluated_store(root: Path) -> tuple[Path, str, str]:
    """Two registered versions (v1 production, v2 staging) of "diabetes", each evaluated
    on two months of new data ("april": little shift, "may": bmi and s5 shifted). Returns
    the store and the two source runs."""
    from runsite.registry import Registry
    from runsite.registry.evaluate import evaluate_versions

    store = root / "runs"
    runsite.set_store(store)
    weak, strong = train_versions(root / "data")
    runsite.register_model(f"runs:/{weak}/model", "diabetes", description="Disease *progression*.")
    runsite.register_model(f"runs:/{strong}/model", "diabetes")
    runsite.set_model_stage("diabetes", 1, "production")
    runsite.set_model_stage("diabetes", 2, "staging")
    rows, y = diabetes_rows()
    reg = Registry(store)
    for name, shift in (("april", 0.0), ("may", 0.04)):
        moved, ty = next_month(rows, y, shift=shift)
        evaluate_versions(
            reg, "diabetes", write_csv(root / "data" / f"{name}.csv", moved, ty), "target"
        )
    return store, weak, strong
