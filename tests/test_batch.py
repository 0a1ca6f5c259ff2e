"""`runsite models predict`: a data file in, predictions out, on one machine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import runsite
from runsite.cli import main

pd = pytest.importorskip("pandas")
pq = pytest.importorskip("pyarrow.parquet")
Ridge = pytest.importorskip("sklearn.linear_model").Ridge


def cli(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout, r.stderr


@pytest.fixture
def registered(store: Path) -> tuple[object, object]:
    X = pd.DataFrame({"a": np.arange(30.0), "b": np.arange(30.0) % 4})
    with runsite.start_run(log_git=False):
        info = runsite.log_model(Ridge().fit(X, 3 * X["a"] + X["b"]), "model", input_example=X[:2])
    runsite.register_model(info.model_uri, "taxi")
    runsite.set_model_stage("taxi", 1, "production")
    return info, X


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_predict_a_file(registered: tuple[object, object], tmp_path: Path, fmt: str) -> None:
    _, X = registered
    data = tmp_path / f"data.{fmt}"
    X.to_parquet(data) if fmt == "parquet" else X.to_csv(data, index=False)
    out = tmp_path / f"preds.{'csv' if fmt == 'parquet' else 'parquet'}"
    code, stdout, err = cli(
        "models", "predict", "models:/taxi/production", "--input", str(data), "--output", str(out)
    )
    assert code == 0, err
    assert stdout.strip() == f"30 predictions → {out}"
    got = pd.read_csv(out) if out.suffix == ".csv" else pq.read_table(out).to_pandas()
    expected = runsite.load_model("models:/taxi/production").predict(X)
    assert list(got.columns) == ["prediction"]
    assert got["prediction"].to_numpy() == pytest.approx(expected)


def test_predict_bad_input(registered: tuple[object, object], tmp_path: Path) -> None:
    info, X = registered
    data = tmp_path / "data.parquet"
    X.drop(columns=["b"]).to_parquet(data)
    out = tmp_path / "preds.parquet"
    cases = [
        (["--input", str(tmp_path / "none.csv"), "--output", str(out)], "does not exist"),
        (["--input", str(data), "--output", str(tmp_path / "p.txt")], ".parquet or .csv"),
        (["--input", str(data), "--output", str(tmp_path / "no" / "p.csv")], "does not exist"),
        (["--input", str(data), "--output", str(out)], "b"),  # the signature wants column b
    ]
    for args, fragment in cases:
        code, _, err = cli("models", "predict", info.model_uri, *args)  # type: ignore[attr-defined]
        assert code == 1 and fragment in err and err.count("\n") == 1, (args, err)
    assert not out.exists()
