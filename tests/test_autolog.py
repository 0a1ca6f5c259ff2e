"""runsite's autolog in this process: what a fit records, the switches, disable, and
that a fit behaves exactly as without autolog (result, exceptions)."""

from __future__ import annotations

import inspect
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import runsite

sklearn = pytest.importorskip("sklearn")
from sklearn.datasets import load_diabetes, load_iris  # noqa: E402
from sklearn.linear_model import LinearRegression, LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402


@pytest.fixture(autouse=True)
def _autolog_off(store: Path) -> Iterator[None]:
    yield
    runsite.autolog(disable=True)


def _runs() -> list[runsite.store.RunRecord]:
    return sorted(runsite.search_runs(), key=lambda r: r.start_time)


def test_fit_gets_a_run_with_params_metrics_data_and_model() -> None:
    x, y = load_diabetes(return_X_y=True)
    runsite.sklearn.autolog()
    model = LinearRegression().fit(x, y)
    (run,) = _runs()
    assert run.status == "FINISHED"
    assert run.tags["mlflow.autologging"] == "sklearn"
    assert run.tags["estimator_name"] == "LinearRegression"
    assert run.params["fit_intercept"] == "True"
    assert set(run.data.metrics) == {
        "training_mean_squared_error",
        "training_root_mean_squared_error",
        "training_mean_absolute_error",
        "training_r2_score",
        "training_score",
    }
    assert run.data.metrics["training_score"] == pytest.approx(model.score(x, y))
    (data,) = run.inputs
    assert data["context"] == "train" and data["rows"] == 442
    assert data["hash"].startswith("sha256:")
    (logged,) = run.models
    assert logged["name"] == "model" and logged["flavor"] == "sklearn"
    loaded = runsite.sklearn.load_model(f"runs:/{run.run_id}/model")
    np.testing.assert_allclose(loaded.predict(x[:5]), model.predict(x[:5]))
    yaml_text = (run.artifacts_dir / "model" / "model.yaml").read_text()
    assert "signature:" in yaml_text


def test_same_data_same_hash_other_data_other_hash() -> None:
    x, y = load_diabetes(return_X_y=True)
    runsite.sklearn.autolog(log_models=False)
    LinearRegression().fit(x, y)
    LinearRegression().fit(x.copy(), y.copy())
    LinearRegression().fit(x[:-1], y[:-1])
    a, b, c = (r.inputs[0]["hash"] for r in _runs())
    assert a == b != c
    found = runsite.search_runs(f"datasets.digest = '{a.removeprefix('sha256:')}'")
    assert len(found) == 2


def test_active_run_receives_the_fit() -> None:
    x, y = load_iris(return_X_y=True)
    runsite.autolog()
    with runsite.start_run(run_name="mine", log_git=False):
        LogisticRegression(max_iter=300).fit(x, y)
    (run,) = _runs()
    assert run.run_name == "mine"
    assert "mlflow.autologging" not in run.tags
    assert "training_accuracy_score" in run.data.metrics
    assert "training_roc_auc" in run.data.metrics


def test_exclusive_leaves_the_active_run_alone() -> None:
    x, y = load_iris(return_X_y=True)
    runsite.sklearn.autolog(exclusive=True)
    with runsite.start_run(log_git=False):
        LogisticRegression(max_iter=300).fit(x, y)
    (run,) = _runs()
    assert run.params == {} and run.data.metrics == {}


def test_switches_models_datasets_examples() -> None:
    x, y = load_diabetes(return_X_y=True)
    runsite.sklearn.autolog(log_models=False, log_datasets=False)
    LinearRegression().fit(x, y)
    runsite.sklearn.autolog(log_input_examples=True)
    LinearRegression().fit(x, y)
    bare, full = _runs()
    assert bare.models == [] and bare.inputs == []
    assert "training_score" in bare.data.metrics
    assert full.models and full.inputs
    assert any("input_example" in a["path"] for a in full.artifacts), full.artifacts


def test_pipeline_is_one_run_with_deep_params() -> None:
    x, y = load_iris(return_X_y=True)
    runsite.autolog()
    pipe = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=300))])
    pipe.fit(x, y)
    (run,) = _runs()
    assert run.tags["estimator_name"] == "Pipeline"
    assert run.params["clf__max_iter"] == "300"
    assert run.params["scale__with_mean"] == "True"
    # available_if descriptors still answer as the library's
    assert not hasattr(pipe, "fit_transform")
    assert hasattr(Pipeline([("scale", StandardScaler())]), "fit_transform")


def test_grid_search_parent_and_child_runs() -> None:
    x, y = load_iris(return_X_y=True)
    runsite.sklearn.autolog(max_tuning_runs=2)
    search = GridSearchCV(LogisticRegression(max_iter=300), {"C": [0.01, 0.1, 1.0]}, cv=3)
    search.fit(x, y)
    runs = _runs()
    (parent,) = [r for r in runs if r.parent_run_id is None]
    children = [r for r in runs if r.parent_run_id == parent.run_id]
    assert len(runs) == 3 and len(children) == 2  # the 2 best of 3 candidates
    assert parent.params["best_C"] == str(search.best_params_["C"])
    assert parent.data.metrics["best_cv_score"] == pytest.approx(search.best_score_)
    assert {m["name"] for m in parent.models} == {"model", "best_estimator"}
    assert {c.params["C"] for c in children} <= {"0.01", "0.1", "1.0"}
    assert all("mean_test_score" in c.data.metrics for c in children)
    assert runsite.search_runs(f"tags.mlflow.parentRunId = '{parent.run_id}'")


def test_disable_puts_the_library_back() -> None:
    before = {
        "lr": LinearRegression.__dict__["fit"],
        "pipe": inspect.getattr_static(Pipeline, "fit_transform").fn,
    }
    assert "fit" not in GridSearchCV.__dict__
    runsite.autolog()
    assert LinearRegression.__dict__["fit"] is not before["lr"]
    assert "fit" in GridSearchCV.__dict__
    runsite.autolog(disable=True)
    assert LinearRegression.__dict__["fit"] is before["lr"]
    assert inspect.getattr_static(Pipeline, "fit_transform").fn is before["pipe"]
    assert "fit" not in GridSearchCV.__dict__
    x, y = load_diabetes(return_X_y=True)
    LinearRegression().fit(x, y)
    assert _runs() == []


def test_a_failing_fit_raises_its_own_error_and_fails_the_run() -> None:
    runsite.sklearn.autolog()
    with pytest.raises(ValueError) as caught:
        LinearRegression().fit([[1.0], [np.nan]], [1.0, 2.0])
    assert "NaN" in str(caught.value)
    (run,) = _runs()
    assert run.status == "FAILED"


class _BadPredict(LinearRegression):
    """A user's estimator whose predict breaks after a good fit."""

    def predict(self, X):  # type: ignore[no-untyped-def]
        raise RuntimeError("predict is broken")


def test_logging_failures_are_warnings_and_silent_hides_them() -> None:
    x, y = load_diabetes(return_X_y=True)
    runsite.sklearn.autolog()
    with pytest.warns(UserWarning, match="runsite autolog"):
        model = _BadPredict().fit(x, y)
    assert model.coef_.shape == (10,)
    runsite.sklearn.autolog(silent=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _BadPredict().fit(x, y)
    first, second = _runs()
    assert first.status == second.status == "FINISHED"
    assert first.params["fit_intercept"] == "True"


def _normalized_ids(html: str) -> str:
    # scikit-learn numbers the elements of every HTML repr from a process-wide counter
    import re

    return re.sub(r"(sk-[a-z]+-id-)\d+", r"\1N", html)


def test_estimator_html_is_scikit_learns() -> None:
    """estimator.html from the view that lists attributes without evaluating them is
    byte for byte scikit-learn's ``estimator_html_repr`` (MLflow's artifact): a forest
    (fitted properties), a pipeline, a search, an SVC whose ``predict_proba`` is
    unavailable, an unfitted estimator."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.svm import SVC
    from sklearn.utils import estimator_html_repr

    from runsite.autologging.sklearn import estimator_html

    x, y = load_iris(return_X_y=True)
    fitted = [
        RandomForestClassifier(n_estimators=3, random_state=0).fit(x, y),
        Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())]).fit(x, y),
        GridSearchCV(SVC(), {"C": [0.1, 1.0]}, cv=2).fit(x, y),
        SVC(probability=False).fit(x, y),
        LinearRegression(),
    ]
    for est in fitted:
        ours = estimator_html(est)
        assert "Fitted attributes" in ours or est is fitted[-1]
        assert _normalized_ids(ours) == _normalized_ids(estimator_html_repr(est)), est


def test_signature_and_score_from_the_training_predictions() -> None:
    """The model's signature output and ``training_score`` come from the prediction the
    training metrics made; they are what ``predict`` of the first rows and ``score``
    give (string labels here)."""
    from sklearn.ensemble import RandomForestClassifier

    from runsite.models.manifest import read_manifest
    from runsite.models.signature import infer_signature

    x, y = load_iris(return_X_y=True)
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    runsite.sklearn.autolog()
    model = RandomForestClassifier(n_estimators=3, random_state=0).fit(x, labels)
    (run,) = _runs()
    manifest = read_manifest(run.artifacts_dir / "model")
    assert manifest["signature"] == infer_signature(x[:5], model.predict(x[:5]))
    assert manifest["signature"]["outputs"]["dtype"] == "<U10"  # the labels' own dtype
    assert run.data.metrics["training_score"] == model.score(x, labels)
    assert "Fitted attributes" in (run.artifacts_dir / "estimator.html").read_text()


def test_xgboost_rounds_and_model() -> None:
    xgb = pytest.importorskip("xgboost")
    x, y = load_diabetes(return_X_y=True)
    runsite.xgboost.autolog()
    model = xgb.XGBRegressor(n_estimators=6, max_depth=2).fit(
        x, y, eval_set=[(x[:100], y[:100])], verbose=False
    )
    (run,) = _runs()
    assert run.tags["mlflow.autologging"] == "xgboost"
    assert run.params["max_depth"] == "2" and run.params["num_boost_round"] == "6"
    history = run.metric_history("validation_0-rmse").to_pylist()
    assert [p["step"] for p in history] == list(range(6))
    assert history[-1]["value"] == pytest.approx(
        model.evals_result()["validation_0"]["rmse"][-1], rel=1e-6
    )
    assert {i["context"] for i in run.inputs} == {"train", "eval"}
    loaded = runsite.xgboost.load_model(f"runs:/{run.run_id}/model")
    np.testing.assert_allclose(loaded.predict(x[:3]), model.predict(x[:3]), rtol=1e-6)


def test_import_runsite_does_not_load_autolog_or_libraries() -> None:
    code = (
        "import sys, runsite; "
        "assert 'runsite.autologging' not in sys.modules; "
        "assert 'sklearn' not in sys.modules and 'xgboost' not in sys.modules; "
        "assert callable(runsite.autolog)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_cross_validation_helpers_log_no_runs() -> None:
    import sklearn.model_selection

    x, y = load_iris(return_X_y=True)
    runsite.autolog()
    scores = sklearn.model_selection.cross_val_score(LogisticRegression(max_iter=300), x, y, cv=3)
    assert len(scores) == 3
    assert _runs() == []
    LogisticRegression(max_iter=300).fit(x, y)  # still logged afterwards
    assert len(_runs()) == 1


def test_mlflow_only_switches_are_accepted() -> None:
    runsite.sklearn.autolog(log_post_training_metrics=False, serialization_format="cloudpickle")
    runsite.xgboost.autolog(model_format="ubj")
