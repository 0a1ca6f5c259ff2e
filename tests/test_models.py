"""Model logging and loading with real, small, trained models."""

from __future__ import annotations

import pickle
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import runsite
import runsite.pyfunc
import runsite.sklearn
import runsite.xgboost
from runsite.models import LibraryVersionWarning

pd = pytest.importorskip("pandas")
sklearn_datasets = pytest.importorskip("sklearn.datasets")
from sklearn.feature_extraction import DictVectorizer  # noqa: E402
from sklearn.linear_model import Ridge  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402


def diabetes() -> tuple[Any, Any]:
    X, y = sklearn_datasets.load_diabetes(return_X_y=True, as_frame=True)
    return X, y


def records_data() -> tuple[list[dict[str, Any]], np.ndarray]:
    """Taxi-like records: a categorical zone pair and a numeric distance."""
    X, y = diabetes()
    recs = [
        {
            "zone": f"z{int(row.sex > 0)}_{int(row.bmi > 0)}",
            "age": float(row.age),
            "bp": float(row.bp),
        }
        for row in X.itertuples()
    ]
    return recs, y.to_numpy()


class MeanModel:
    """A plain Python model (the "python" flavor)."""

    def __init__(self, offset: float) -> None:
        self.offset = offset

    def predict(self, X: Any) -> np.ndarray:
        return np.asarray(X, dtype=float).sum(axis=1) + self.offset


def log(model: Any, **kw: Any) -> runsite.models.ModelInfo:
    with runsite.start_run(log_git=False):
        return runsite.log_model(model, "model", **kw)


def test_sklearn_with_dictvectorizer_preprocessor(store: Path) -> None:
    recs, y = records_data()
    dv = DictVectorizer()
    X = dv.fit_transform(recs)
    model = Ridge(alpha=0.5).fit(X, y)
    info = log(model, preprocessor=dv, input_example=recs[:3])
    assert info.model_uri.startswith("runs:/") and info.flavor == "sklearn"
    loaded = runsite.load_model(info.model_uri)
    expected = model.predict(dv.transform(recs))
    np.testing.assert_array_equal(loaded.predict(recs), expected)
    np.testing.assert_array_equal(loaded.predict(pd.DataFrame(recs)), expected)
    np.testing.assert_array_equal(loaded.predict(recs[0]), expected[:1])
    assert isinstance(loaded.native, Ridge) and isinstance(loaded.preprocessor, DictVectorizer)
    meta = loaded.metadata
    assert meta["preprocessor"]["input"] == "records"
    assert meta["signature"]["inputs"]["columns"] == [
        {"name": "zone", "type": "string"},
        {"name": "age", "type": "double"},
        {"name": "bp", "type": "double"},
    ]
    assert meta["signature"]["outputs"] == {"type": "tensor", "dtype": "float64", "shape": [-1]}
    assert loaded.input_example == recs[:3]
    folder = Path(info.path)
    reqs = (folder / "requirements.txt").read_text().splitlines()
    import sklearn

    assert f"scikit-learn=={sklearn.__version__}" in reqs and any(
        r.startswith("numpy==") for r in reqs
    )
    assert meta["libraries"]["scikit-learn"] == sklearn.__version__
    assert meta["python_version"] == ".".join(map(str, sys.version_info[:3]))
    assert set(meta["files"]) == {
        "model.pkl",
        "preprocessor.pkl",
        "requirements.txt",
        "input_example.json",
    }
    assert meta["size_bytes"] == sum((folder / f).stat().st_size for f in meta["files"])


def test_sklearn_pipeline_accepts_frame_records_and_array(store: Path) -> None:
    X, y = diabetes()
    model = make_pipeline(StandardScaler(), Ridge()).fit(X, y)
    info = log(model, input_example=X.head(5))
    loaded = runsite.pyfunc.load_model(info.model_uri)
    expected = model.predict(X)
    np.testing.assert_allclose(loaded.predict(X), expected)
    np.testing.assert_allclose(loaded.predict(X.to_dict(orient="records")), expected)
    native = runsite.sklearn.load_model(info.model_uri)
    np.testing.assert_array_equal(native.predict(X), expected)
    assert loaded.metadata["signature"]["inputs"]["type"] == "columns"


def test_xgboost_sklearn_api_and_booster(store: Path) -> None:
    xgb = pytest.importorskip("xgboost")
    X, y = diabetes()
    reg = xgb.XGBRegressor(n_estimators=20, max_depth=3).fit(X, y)
    with runsite.start_run(log_git=False):
        a = runsite.xgboost.log_model(reg, "reg")
        b = runsite.log_model(reg.get_booster(), "booster")
    for info in (a, b):
        assert info.flavor == "xgboost"
        files = sorted(p.name for p in Path(info.path).iterdir())
        assert "model.ubj" in files and "model.pkl" not in files  # XGBoost's format, not pickle
    expected = reg.predict(X)
    np.testing.assert_array_equal(runsite.load_model(a.model_uri).predict(X), expected)
    np.testing.assert_array_equal(runsite.load_model(b.model_uri).predict(X), expected)
    assert type(runsite.xgboost.load_model(a.model_uri)).__name__ == "XGBRegressor"
    assert type(runsite.xgboost.load_model(b.model_uri)).__name__ == "Booster"
    with pytest.raises(runsite.InvalidInput, match="xgboost flavor, not sklearn"):
        runsite.sklearn.load_model(a.model_uri)


def test_python_flavor_and_path_uri(store: Path) -> None:
    info = log(MeanModel(1.5), input_example=np.ones((2, 3)))
    loaded = runsite.load_model(info.path)  # a plain folder path works too
    data = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(loaded.predict(data), MeanModel(1.5).predict(data))
    assert loaded.metadata["flavor"] == "python"
    assert loaded.metadata["signature"]["inputs"] == {
        "type": "tensor",
        "dtype": "float64",
        "shape": [-1, 3],
    }


def test_model_is_recorded_in_the_run(store: Path) -> None:
    info = log(Ridge().fit([[0.0], [1.0]], [0.0, 1.0]))
    (rec,) = runsite.Store(store).runs()
    (model,) = rec.models
    assert model["name"] == "model" and model["flavor"] == "sklearn" and model["hash"] == info.hash
    paths = {a["path"] for a in rec.artifacts}
    assert {"model/model.yaml", "model/model.pkl", "model/requirements.txt"} <= paths
    from runsite.models.manifest import model_hash

    assert model_hash(Path(info.path)) == info.hash


class Evil:
    def __reduce__(self) -> tuple[Any, ...]:
        return (exec, ("open(__import__('os').environ['PWNED_FILE'], 'w').write('pwned')",))


def test_tampered_pickle_never_runs(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = log(Ridge().fit([[0.0], [1.0]], [0.0, 1.0]))
    marker = tmp_path / "pwned"
    monkeypatch.setenv("PWNED_FILE", str(marker))
    (Path(info.path) / "model.pkl").write_bytes(pickle.dumps(Evil()))
    with pytest.raises(runsite.StoreFormatError, match=r"model\.pkl does not match the hash"):
        runsite.load_model(info.model_uri)
    assert not marker.exists()


def test_tampered_preprocessor_is_refused_before_the_model_loads(store: Path) -> None:
    recs, y = records_data()
    dv = DictVectorizer()
    info = log(Ridge().fit(dv.fit_transform(recs), y), preprocessor=dv)
    with (Path(info.path) / "preprocessor.pkl").open("ab") as f:
        f.write(b"x")
    with pytest.raises(runsite.StoreFormatError, match=r"preprocessor\.pkl"):
        runsite.load_model(info.model_uri)


def test_missing_files_are_named(store: Path) -> None:
    info = log(Ridge().fit([[0.0], [1.0]], [0.0, 1.0]))
    (Path(info.path) / "requirements.txt").unlink()
    with pytest.raises(runsite.NotFound, match=r"requirements\.txt is missing"):
        runsite.load_model(info.model_uri)
    (Path(info.path) / "model.yaml").unlink()
    with pytest.raises(runsite.NotFound, match=r"model\.yaml is missing"):
        runsite.load_model(info.model_uri)
    with pytest.raises(runsite.NotFound, match="no model at"):
        runsite.load_model(Path(info.path).parent / "nothing")


def test_bad_models_and_flavors(store: Path) -> None:
    with runsite.start_run(log_git=False) as r:
        with pytest.raises(runsite.InvalidInput, match="no predict"):
            runsite.log_model(object(), "m")
        with pytest.raises(runsite.InvalidInput, match="known flavors: xgboost, sklearn, python"):
            runsite.log_model(Ridge(), "m", flavor="tensorflow")
        with pytest.raises(runsite.InvalidInput, match="cannot be saved with the sklearn flavor"):
            runsite.log_model(MeanModel(1), "m", flavor="sklearn")
        with pytest.raises(runsite.InvalidInput, match="no transform"):
            runsite.log_model(MeanModel(1), "m", preprocessor=object())
        with pytest.raises(runsite.InvalidInput, match="importable module"):
            runsite.log_model(_local_model(), "m")
        with pytest.raises(runsite.InvalidInput, match=r"'\.\.'"):
            runsite.log_model(MeanModel(1), "../m")
        runsite.log_model(MeanModel(1), "m")
        with pytest.raises(runsite.InvalidInput, match="already has an artifact 'm'"):
            runsite.log_model(MeanModel(2), "m")
    leftovers = [p.name for p in r.artifacts_dir.iterdir()]
    assert leftovers == ["m"]  # failed attempts leave nothing behind
    with pytest.raises(runsite.RunStateError):
        r.log_model(MeanModel(1), "late")


def _local_model() -> Any:
    class Local:
        def predict(self, X: Any) -> Any:
            return X

    return Local()


def test_missing_flavor_library_names_the_extra(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    xgb = pytest.importorskip("xgboost")
    info = log(xgb.XGBRegressor(n_estimators=2).fit([[0.0], [1.0]], [0.0, 1.0]))
    monkeypatch.setitem(sys.modules, "xgboost", None)  # as if it were not installed
    with pytest.raises(runsite.models.MissingLibrary, match=r"pip install 'runsite\[xgboost\]'"):
        runsite.load_model(info.model_uri)


def test_other_library_version_warns_with_both(store: Path) -> None:
    info = log(Ridge().fit([[0.0], [1.0]], [0.0, 1.0]))
    manifest = Path(info.path) / "model.yaml"
    text = manifest.read_text()
    import sklearn

    manifest.write_text(text.replace(f"scikit-learn: {sklearn.__version__}", "scikit-learn: 0.0.1"))
    with pytest.warns(
        LibraryVersionWarning, match=rf"scikit-learn 0\.0\.1.*scikit-learn {sklearn.__version__}"
    ):
        runsite.load_model(info.model_uri)


def test_bad_uris(store: Path) -> None:
    with pytest.raises(runsite.InvalidInput, match="runs:/<run-id>/<model name>"):
        runsite.load_model("runs:/abc")
    with pytest.raises(runsite.NotFound, match="no run"):
        runsite.load_model("runs:/0123456789/model")


def test_skops_format_has_no_pickle_and_loads_without_unpickling(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """serialization_format="skops" (MLflow's name): the model and its preprocessor are
    skops files, nothing in the folder is a pickle, and loading unpickles nothing."""
    pytest.importorskip("skops")
    from sklearn.ensemble import GradientBoostingRegressor

    from runsite.registry import Registry
    from runsite.registry.check import check

    recs, y = records_data()
    dv = DictVectorizer(sparse=False).fit(recs)
    model = GradientBoostingRegressor(n_estimators=20, random_state=0).fit(dv.transform(recs), y)
    with runsite.start_run(log_git=False):
        info = runsite.sklearn.log_model(
            model, "model", preprocessor=dv, input_example=recs[:3], serialization_format="skops"
        )
    folder = Path(info.path)
    names = sorted(p.name for p in folder.iterdir())
    assert "model.skops" in names and "preprocessor.skops" in names
    assert not [n for n in names if n.endswith(".pkl")]
    assert "skops==" in (folder / "requirements.txt").read_text()
    expected = model.predict(dv.transform(recs[:5]))

    def no_pickle(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a skops model was unpickled")

    monkeypatch.setattr(pickle, "loads", no_pickle)
    monkeypatch.setattr(pickle, "load", no_pickle)
    loaded = runsite.load_model(info.model_uri)  # no trust flag
    assert loaded.predict(recs[:5]) == pytest.approx(expected)
    assert type(runsite.sklearn.load_model(info.model_uri)) is GradientBoostingRegressor
    monkeypatch.undo()
    reg = Registry(store)
    reg.register_model(info.model_uri, "taxi")
    assert check(reg).problems == []  # models check knows the format
    bad_format = pytest.raises(runsite.InvalidInput, match="serialization_format 'cloudpickle'")
    with runsite.start_run(log_git=False), bad_format:
        runsite.sklearn.log_model(model, "m2", serialization_format="cloudpickle")


def test_skops_refuses_at_logging_what_it_could_not_load_safely(store: Path) -> None:
    """A custom class (or a function out of the allowed libraries) in a skops model
    would need trust to load on someone else's machine: refused when logging, naming
    it; nothing is left in the run."""
    pytest.importorskip("skops")
    import os

    from sklearn.preprocessing import FunctionTransformer

    X, y = diabetes()
    model = make_pipeline(FunctionTransformer(os.getcwd), Ridge())
    with runsite.start_run(log_git=False) as run:
        with pytest.raises(runsite.InvalidInput, match=r"posix\.getcwd|os\.getcwd"):
            runsite.sklearn.log_model(model, "model", serialization_format="skops")
        fitted = Ridge().fit(X, y)
        with pytest.raises(runsite.InvalidInput, match="for scikit-learn models"):
            runsite.log_model(_Custom(fitted), "custom", serialization_format="skops")
    assert not list(run.path.rglob("*.skops"))
    assert runsite.Store(store).run(run.run_id).artifacts == []


class _Custom:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def predict(self, X: Any) -> Any:
        return self.inner.predict(X)
