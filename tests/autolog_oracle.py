"""The same autologged fits under real MLflow or runsite; prints what each run holds.

``python autolog_oracle.py mlflow|runsite WORKDIR`` (a subprocess per tracker: autolog
patches the libraries process-wide). One JSON line per run on stdout, oldest first.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

warnings.simplefilter("ignore")


def fits() -> list[tuple[str, Any]]:
    """(label, zero-argument fit) in the order they run."""
    import xgboost as xgb
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    xd, yd = load_diabetes(return_X_y=True)
    xi, yi = load_iris(return_X_y=True)
    xb, yb = load_breast_cancer(return_X_y=True)
    xb, yb = xb[:200], yb[:200]

    def train() -> Any:
        dtrain = xgb.DMatrix(xb[:150], label=yb[:150])
        dval = xgb.DMatrix(xb[150:], label=yb[150:])
        return xgb.train(
            {"objective": "binary:logistic", "eval_metric": ["logloss", "error"], "seed": 0},
            dtrain,
            num_boost_round=20,
            evals=[(dtrain, "train"), (dval, "val")],
            early_stopping_rounds=3,
            verbose_eval=False,
        )

    return [
        ("linear", lambda: LinearRegression().fit(xd, yd)),
        ("logistic", lambda: LogisticRegression(max_iter=500).fit(xi, yi)),
        (
            "pipeline",
            lambda: Pipeline(
                [("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=500))]
            ).fit(xb, yb),
        ),
        (
            "grid",
            lambda: GridSearchCV(
                DecisionTreeClassifier(random_state=0), {"max_depth": [1, 2, 3]}, cv=3
            ).fit(xi, yi),
        ),
        (
            "random",
            lambda: RandomizedSearchCV(
                DecisionTreeClassifier(random_state=0),
                {"min_samples_leaf": [1, 5, 10, 20]},
                n_iter=3,
                cv=3,
                random_state=0,
            ).fit(xi, yi),
        ),
        (
            "xgb_sklearn",
            lambda: xgb.XGBClassifier(n_estimators=8, max_depth=2, random_state=0).fit(
                xb, yb, eval_set=[(xb, yb)], verbose=False
            ),
        ),
        ("xgb_train", train),
        # a forest's labels are taken from its probabilities, with sample weights
        (
            "forest",
            lambda: RandomForestClassifier(n_estimators=5, max_depth=3, random_state=0).fit(
                xi, yi, sample_weight=np.linspace(0.5, 1.5, len(yi))
            ),
        ),
    ]


def describe(mlflow: Any, client: Any, run_id: str) -> dict[str, Any]:
    run = mlflow.get_run(run_id)
    data = run.data
    histories = {}
    for key in data.metrics:
        points = client.get_metric_history(run_id, key)
        if len(points) > 1:
            histories[key] = [[p.step, p.value] for p in points]
    return {
        "run_id": run_id,
        "parent": data.tags.get("mlflow.parentRunId"),
        "start": run.info.start_time,
        "params": dict(data.params),
        "metrics": dict(data.metrics),
        "histories": histories,
        "tags": {
            k: v
            for k, v in data.tags.items()
            if k in ("estimator_name", "estimator_class", "mlflow.autologging")
        },
        "artifacts": sorted(a.path for a in client.list_artifacts(run_id)),
        "html": estimator_html(client, run_id),
    }


def estimator_html(client: Any, run_id: str) -> str | None:
    """The scikit-learn repr inside the run's estimator.html (each tracker wraps it in a
    page of its own), its element ids (a process-wide counter) and object addresses
    normalized and a search's timings (the ``cv_results_`` and ``refit_time_`` rows)
    left out."""
    import re
    import tempfile

    if "estimator.html" not in {a.path for a in client.list_artifacts(run_id)}:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        text = Path(client.download_artifacts(run_id, "estimator.html", tmp)).read_text("utf-8")
    body = text.split("<body>", 1)[1].rsplit("</body>", 1)[0].strip()
    body = re.sub(r"(sk-[a-z]+-id-)\d+", r"\1N", body)
    # addresses in reprs ("<...Tree object at 0x7f...>", cut to "tree...x7f...&gt;")
    body = re.sub(r"x[0-9a-f]{8,}", "x…", body)
    name = r"(?:cv_results_|refit_time_)"
    row = (
        rf"<tr[^>]*>(?:(?!</tr>).)*?(?:--doc-link-{name};|<td class=\"param\">\s*{name}\s*</td>)"
        r"(?:(?!</tr>).)*</tr>"
    )
    return re.sub(row, "", body, flags=re.S)


def main() -> None:
    which, work = sys.argv[1], Path(sys.argv[2])
    if which == "mlflow":
        import mlflow
        from mlflow.tracking import MlflowClient

        mlflow.set_tracking_uri(f"sqlite:///{work}/mlflow.db")
    else:
        import runsite as mlflow  # type: ignore[no-redef]
        from runsite.tracking import MlflowClient  # type: ignore[assignment]

        mlflow.set_tracking_uri(str(work / "runs"))
    mlflow.set_experiment("autolog")
    mlflow.autolog()
    for _label, fit in fits():
        np.random.seed(0)
        fit()
    mlflow.autolog(disable=True)
    client = MlflowClient()
    exp = mlflow.get_experiment_by_name("autolog")
    runs = client.search_runs([exp.experiment_id], max_results=1000)
    described = sorted(
        (describe(mlflow, client, r.info.run_id) for r in runs), key=lambda d: d["start"]
    )
    for d in described:
        print(json.dumps(d, sort_keys=True))


if __name__ == "__main__":
    main()
