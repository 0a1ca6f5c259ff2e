"""Evaluating registered versions on new data: metrics, drift, evaluation runs, verdict,
and every kind of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import runsite
from evaluation_helpers import diabetes_rows, next_month, train_versions, write_csv
from runsite.cli import main
from runsite.models import drift, metrics
from runsite.registry import Registry
from runsite.registry.evaluate import TAG_HASH, TAG_MODEL, TAG_VERSION

sklearn_metrics = pytest.importorskip("sklearn.metrics")


def cli(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout, r.stderr


def test_regression_metrics_match_scikit_learn() -> None:
    rng = np.random.default_rng(0)
    y = rng.normal(100, 20, 500)
    p = y + rng.normal(0, 5, 500)
    got = metrics.regression(y, p)
    assert got["rmse"] == pytest.approx(np.sqrt(sklearn_metrics.mean_squared_error(y, p)))
    assert got["mae"] == pytest.approx(sklearn_metrics.mean_absolute_error(y, p))
    assert got["r2"] == pytest.approx(sklearn_metrics.r2_score(y, p))
    assert got["max_error"] == pytest.approx(sklearn_metrics.max_error(y, p))
    assert got["mape"] == pytest.approx(sklearn_metrics.mean_absolute_percentage_error(y, p))


def test_classification_metrics_match_scikit_learn() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 400)
    proba = np.clip(y * 0.6 + rng.uniform(0, 0.5, 400), 0, 1)
    p = (proba > 0.5).astype(int)
    got = metrics.classification(y, p, np.column_stack([1 - proba, proba]), [0, 1])
    assert got["accuracy"] == pytest.approx(sklearn_metrics.accuracy_score(y, p))
    assert got["f1"] == pytest.approx(sklearn_metrics.f1_score(y, p))
    assert got["precision"] == pytest.approx(sklearn_metrics.precision_score(y, p))
    assert got["recall"] == pytest.approx(sklearn_metrics.recall_score(y, p))
    assert got["roc_auc"] == pytest.approx(sklearn_metrics.roc_auc_score(y, proba))
    assert got["log_loss"] == pytest.approx(
        sklearn_metrics.log_loss(y, np.column_stack([1 - proba, proba]))
    )
    y3 = rng.integers(0, 3, 300)
    p3 = np.where(rng.uniform(size=300) < 0.7, y3, rng.integers(0, 3, 300))
    got3 = metrics.classification(y3, p3)
    assert got3["f1"] == pytest.approx(sklearn_metrics.f1_score(y3, p3, average="macro"))


def test_drift_flags_the_shifted_feature_only() -> None:
    rng = np.random.default_rng(2)
    train = {
        "a": rng.normal(0, 1, 2000),
        "b": rng.normal(0, 1, 2000),
        "c": ["x"] * 1000 + ["y"] * 1000,
    }
    new = {
        "a": rng.normal(0, 1, 2000),
        "b": rng.normal(1.0, 1, 2000),
        "c": ["x"] * 1800 + ["z"] * 200,
    }
    out = drift.compare(train, new, ["a", "b", "c"])
    assert out["drifted"] == ["c", "b"] or set(out["drifted"]) == {"b", "c"}
    assert out["features"]["a"]["psi"] < 0.1
    assert out["features"]["b"]["psi"] > 0.2
    assert out["features"]["c"]["unseen"] == ["z"]


@pytest.fixture
def registered(store: Path, tmp_path: Path) -> tuple[Path, Path]:
    weak, strong = train_versions(tmp_path / "data")
    runsite.register_model(f"runs:/{weak}/model", "diabetes")
    runsite.register_model(f"runs:/{strong}/model", "diabetes")
    runsite.set_model_stage("diabetes", 1, "production")
    runsite.set_model_stage("diabetes", 2, "staging")
    rows, y = next_month(*diabetes_rows())
    return store, write_csv(tmp_path / "data" / "next.csv", rows, y)


def test_evaluate_records_one_run_per_version_and_decides(registered: tuple[Path, Path]) -> None:
    store, data = registered
    code, out, err = cli(
        "models",
        "evaluate",
        "diabetes",
        "--data",
        str(data),
        "--target",
        "target",
        "--store",
        str(store),
    )
    assert code == 0, err
    assert "v1 (production)" in out and "v2 (staging)" in out
    assert "verdict: promote v2 to production" in out
    evals = runsite.Store(store).runs("diabetes-evaluation")
    assert len(evals) == 2
    by_version = {r.tags[TAG_VERSION]: r for r in evals}
    reg = Registry(store)
    for v in ("1", "2"):
        rec = by_version[v]
        assert rec.tags[TAG_MODEL] == "diabetes"
        assert rec.tags[TAG_HASH] == reg.get_model_version("diabetes", int(v)).hash
        assert [i["context"] for i in rec.inputs] == ["evaluation"]
        assert {"rmse", "mae", "r2", "mse", "max_error", "mape", "latency_ms_per_row"} <= set(
            rec.metrics
        )
        doc = json.loads((rec.artifacts_dir / "evaluation.json").read_text())
        assert doc["drift"]["available"] is True
        assert "bmi" in doc["drift"]["drifted"] and "s5" in doc["drift"]["drifted"]
        assert "age" not in doc["drift"]["drifted"]
    assert by_version["2"].metrics["rmse"]["last"] < by_version["1"].metrics["rmse"]["last"]


def test_evaluate_json_and_python_api(registered: tuple[Path, Path]) -> None:
    store, data = registered
    code, out, _ = cli(
        "models",
        "evaluate",
        "diabetes",
        "--data",
        str(data),
        "--target",
        "target",
        "--versions",
        "1",
        "--json",
        "--store",
        str(store),
    )
    assert code == 0
    doc = json.loads(out)
    assert [r["version"] for r in doc["results"]] == [1]
    result = runsite.evaluate(
        "models:/diabetes/staging", str(data), targets="target", model_type="regressor"
    )
    assert result.metrics["rmse"] > 0 and result.run_id
    pd = pytest.importorskip("pandas")
    frame = pd.read_csv(data)
    again = runsite.evaluate("models:/diabetes/2", frame, targets="target")
    assert again.metrics["rmse"] == pytest.approx(result.metrics["rmse"])


def _snapshot(store: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in store.rglob("*") if p.is_file()}


def test_bad_data_is_refused_and_nothing_changes(
    registered: tuple[Path, Path], tmp_path: Path
) -> None:
    store, data = registered
    before = _snapshot(store)
    text = data.read_text().splitlines()
    no_target = tmp_path / "no_target.csv"
    no_target.write_text("\n".join(",".join(line.split(",")[:-1]) for line in text) + "\n")
    extra = tmp_path / "extra.csv"
    extra.write_text(
        "\n".join(line + (",zone" if i == 0 else ",3") for i, line in enumerate(text)) + "\n"
    )
    empty = tmp_path / "empty.csv"
    empty.write_text(text[0] + "\n")
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    cases = {
        no_target: "no target column 'target'",
        extra: "does not know: ['zone']",
        empty: "has no rows",
        notes: "not tabular",
        tmp_path / "missing.csv": "does not exist",
    }
    for path, message in cases.items():
        code, _, err = cli(
            "models",
            "evaluate",
            "diabetes",
            "--data",
            str(path),
            "--target",
            "target",
            "--store",
            str(store),
        )
        assert code == 1 and message in err, (path, err)
        assert "Traceback" not in err
    assert _snapshot(store) == before


def test_tampered_version_is_reported_never_loaded(registered: tuple[Path, Path]) -> None:
    store, data = registered
    reg = Registry(store)
    folder = reg.model_folder(reg.get_model_version("diabetes", 1))
    (folder / "model.pkl").write_bytes(b"cos\nsystem\n(S'echo pwned > /tmp/x'\ntR.")
    code, _, err = cli(
        "models",
        "evaluate",
        "diabetes",
        "--data",
        str(data),
        "--target",
        "target",
        "--store",
        str(store),
    )
    assert code == 1
    assert "v1: not evaluated" in err and "does not match the hash" in err
    assert [r.tags[TAG_VERSION] for r in runsite.Store(store).runs("diabetes-evaluation")] == ["2"]


def test_drift_unavailable_when_training_data_changed(
    registered: tuple[Path, Path], tmp_path: Path
) -> None:
    store, data = registered
    train = tmp_path / "data" / "train.csv"
    train.write_text(train.read_text() + train.read_text().splitlines()[1] + "\n")
    code, out, _ = cli(
        "models",
        "evaluate",
        "diabetes",
        "--data",
        str(data),
        "--target",
        "target",
        "--versions",
        "2",
        "--store",
        str(store),
    )
    assert code == 0
    assert "v2: drift unavailable:" in out and "has changed since run" in out


def _hostile_but_working(original: bytes, marker: Path) -> bytes:
    """A pickle that runs code (writes ``marker``) and then gives the real model: what a
    pull request could slip in behind a model that still scores well."""
    import pickle
    import pickletools

    from test_security_core import Payload

    payload = pickletools.optimize(pickle.dumps(Payload(marker), protocol=3))
    return payload[:-1] + pickle.POP + original  # exec(...), drop its result, the model


def test_a_hostile_pickle_is_evaluated_only_with_trust_pickle(
    registered: tuple[Path, Path], tmp_path: Path
) -> None:
    import hashlib

    from runsite import yamlio
    from runsite.models.manifest import model_hash

    store, data = registered
    reg = Registry(store)
    mv = reg.get_model_version("diabetes", 1)
    folder = reg.model_folder(mv)
    marker = tmp_path / "marker"
    pkl = folder / "model.pkl"
    pkl.write_bytes(_hostile_but_working(pkl.read_bytes(), marker))
    manifest = yamlio.load_safe(folder / "model.yaml")  # every hash fixed, as a PR could
    manifest["files"]["model.pkl"] = hashlib.sha256(pkl.read_bytes()).hexdigest()
    (folder / "model.yaml").write_text(yamlio.dump(manifest))
    registry = store / "registry.yaml"
    registry.write_text(registry.read_text().replace(mv.hash, model_hash(folder)))
    args = ["models", "evaluate", "diabetes", "--data", str(data), "--target", "target"]
    args += ["--store", str(store)]
    code, _, err = cli(*args)
    assert code == 1
    assert "v1: not evaluated" in err and "builtins.exec" in err and "--trust-pickle" in err
    assert "Traceback" not in err
    assert not marker.exists()  # refused before anything was unpickled
    assert [r.tags[TAG_VERSION] for r in runsite.Store(store).runs("diabetes-evaluation")] == ["2"]
    code, _, err = cli(*args, "--trust-pickle")
    assert code == 0, err
    assert marker.read_text() == "pwned"  # trusted: loaded (and its code ran)
    versions = [r.tags[TAG_VERSION] for r in runsite.Store(store).runs("diabetes-evaluation")]
    assert sorted(versions) == ["1", "2", "2"]
