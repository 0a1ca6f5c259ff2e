"""A week-2 MLOps-Zoomcamp-style course script: tracking, a DictVectorizer preprocessor
logged next to the model, MlflowClient registry calls, loading by stage and alias.

Written once against MLflow's API; ``run_course`` takes the modules to use, so the same
lines run with ``import mlflow`` and with ``import runsite as mlflow``.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np


def _trips(n: int, seed: int) -> tuple[list[dict[str, Any]], np.ndarray]:
    rng = np.random.default_rng(seed)
    zones = ["43_151", "166_239", "75_74", "41_42"]
    dicts, y = [], []
    for _ in range(n):
        zone = zones[int(rng.integers(len(zones)))]
        distance = float(rng.uniform(0.5, 12.0))
        dicts.append({"PU_DO": zone, "trip_distance": distance})
        y.append(3.0 * distance + 2.0 * zones.index(zone) + float(rng.normal(0, 1.5)))
    return dicts, np.array(y)


def run_course(mlflow: Any, MlflowClient: Any, ViewType: Any, uri: str, workdir: Path) -> dict:
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import Lasso
    from sklearn.metrics import mean_squared_error

    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("nyc-taxi-experiment")

    train_dicts, y_train = _trips(300, 1)
    val_dicts, y_val = _trips(100, 2)
    dv = DictVectorizer(sparse=False)
    X_train = dv.fit_transform(train_dicts)
    X_val = dv.transform(val_dicts)
    preprocessor = workdir / "preprocessor.b"
    with open(preprocessor, "wb") as f_out:
        pickle.dump(dv, f_out)

    for alpha in (0.01, 0.5, 3.0):
        with mlflow.start_run():
            mlflow.set_tag("developer", "cristian")
            mlflow.log_params({"train-data-path": "synthetic", "alpha": alpha})
            lr = Lasso(alpha=alpha).fit(X_train, y_train)
            rmse = mean_squared_error(y_val, lr.predict(X_val)) ** 0.5
            mlflow.log_metric("rmse", rmse)
            mlflow.log_artifact(str(preprocessor), artifact_path="preprocessor")
            mlflow.sklearn.log_model(lr, artifact_path="models_mlflow")

    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("nyc-taxi-experiment")
    runs = client.search_runs(
        experiment_ids=experiment.experiment_id,
        filter_string="metrics.rmse < 100",
        run_view_type=ViewType.ACTIVE_ONLY,
        max_results=5,
        order_by=["metrics.rmse ASC"],
    )
    chosen = [(r.data.params["alpha"], round(r.data.metrics["rmse"], 6)) for r in runs]

    model_name = "nyc-taxi-regressor"
    for r in runs[:2]:
        mlflow.register_model(model_uri=f"runs:/{r.info.run_id}/models_mlflow", name=model_name)
    latest_before = [
        (int(v.version), v.current_stage) for v in client.get_latest_versions(model_name)
    ]

    client.transition_model_version_stage(model_name, 2, "Staging", archive_existing_versions=False)
    client.transition_model_version_stage(
        model_name, 1, "Production", archive_existing_versions=False
    )
    client.transition_model_version_stage(
        model_name, 2, "Production", archive_existing_versions=True
    )
    client.update_model_version(model_name, 2, description="promoted by the course script")
    client.set_registered_model_alias(model_name, "champion", 1)
    stages = {
        int(v.version): v.current_stage
        for v in (client.get_model_version(model_name, n) for n in (1, 2))
    }
    latest_production = [
        int(v.version) for v in client.get_latest_versions(model_name, ["Production"])
    ]
    by_alias = int(client.get_model_version_by_alias(model_name, "champion").version)

    best_run_id = runs[0].info.run_id
    dst = workdir / "downloaded"
    dst.mkdir()
    path = client.download_artifacts(run_id=best_run_id, path="preprocessor", dst_path=str(dst))
    with open(os.path.join(path, "preprocessor.b"), "rb") as f_in:
        dv2 = pickle.load(f_in)

    test_dicts, _ = _trips(20, 3)
    X_test = dv2.transform(test_dicts)
    production = mlflow.pyfunc.load_model(f"models:/{model_name}/Production")
    champion = mlflow.sklearn.load_model(f"models:/{model_name}@champion")
    return {
        "chosen": chosen,
        "latest_before": latest_before,
        "stages": stages,
        "latest_production": latest_production,
        "by_alias": by_alias,
        "description": client.get_model_version(model_name, 2).description,
        "downloaded": sorted(os.listdir(path)),
        "production_predictions": np.asarray(production.predict(X_test)).tolist(),
        "champion_predictions": champion.predict(X_test).tolist(),
    }
