"""Quickstart: log a small sweep, register the best model, promote it, load it back.

Run from anywhere: ``python examples/quickstart.py [STORE]`` (default ``./runs``).
Uses scikit-learn's bundled diabetes data set: nothing is downloaded.
"""

from __future__ import annotations

import sys

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error

import runsite


def main(store: str = "runs") -> None:
    runsite.set_store(store)
    runsite.set_experiment("diabetes")
    data = load_diabetes()  # ships with scikit-learn; plain arrays, no pandas needed
    rows = [dict(zip(data.feature_names, map(float, x), strict=True)) for x in data.data]
    y = data.target
    train, test = slice(0, 350), slice(350, None)
    best = None
    for alpha in (0.01, 0.1, 1.0):
        with runsite.start_run(run_name=f"ridge-{alpha}") as run:
            dv = DictVectorizer()
            X_train = dv.fit_transform(rows[train])
            model = Ridge(alpha=alpha).fit(X_train, y[train])
            runsite.log_params({"model": "ridge", "alpha": alpha})
            predicted = model.predict(dv.transform(rows[test]))
            rmse = float(np.sqrt(mean_squared_error(y[test], predicted)))
            runsite.log_metric("rmse", rmse)
            runsite.log_model(model, "model", preprocessor=dv, input_example=rows[:3])
            print(f"{run.run_name}: rmse {rmse:.2f}")
            if best is None or rmse < best[1]:
                best = (run.run_id, rmse)
    assert best is not None
    mv = runsite.register_model(f"runs:/{best[0]}/model", "diabetes-ridge")
    runsite.set_model_stage(
        mv.name, mv.version, "production", reason="best rmse of the sweep", archive_existing=True
    )
    loaded = runsite.load_model(f"models:/{mv.name}/production")
    print(f"{mv.name} v{mv.version} in production; predicts {loaded.predict(rows[:2])}")


if __name__ == "__main__":
    main(*sys.argv[1:])
