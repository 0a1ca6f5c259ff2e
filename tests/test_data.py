"""runsite.data (mlflow.data): datasets with MLflow's digests, checked against real MLflow."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import runsite
import runsite.mlflow
from mlflow_support import run_mlflow
from runsite.errors import InvalidInput

# The same datasets, built by the same code, in MLflow's process and in ours.
CASES = """
import numpy as np
import pandas as pd

def cases(data):
    rng = np.random.default_rng(7)
    big = pd.DataFrame({"x": rng.normal(size=12000), "k": rng.integers(0, 9, 12000)})
    mixed = pd.DataFrame({
        "a": [1.0, 2.5, 3.0], "b": ["x", "y", "z"], "c": [1, 2, 3],
        "d": pd.to_datetime(["2024-01-01"] * 3), "f": np.array([1, 2, 3], dtype="float32"),
        "i": np.array([4, 5, 6], dtype="int32"),
    })
    return {
        "mixed": data.from_pandas(mixed, source="data/train.parquet", name="train", targets="c"),
        "big": data.from_pandas(big, source="s3://bucket/big.parquet"),
        "big_changed_tail": data.from_pandas(big.assign(x=big.x.where(big.index < 11000, 0.0))),
        "url": data.from_pandas(mixed[["a", "b"]], source="https://example.org/a.csv"),
        "numpy": data.from_numpy(np.arange(12.0).reshape(4, 3), targets=np.array([0, 1, 0, 1]),
                                 source="data/x.npy", name="arr"),
        "numpy_dict": data.from_numpy({"b": np.ones((2, 5)), "a": np.zeros((2, 3), "int32")}),
        "given_digest": data.from_pandas(mixed, digest="abc123"),
    }
"""

_MLFLOW = (
    CASES
    + """
import json, sys
import mlflow
out = {k: d.to_dict() for k, d in cases(mlflow.data).items()}
mlflow.set_tracking_uri(f"sqlite:///{sys.argv[1]}/m.db")
ds = cases(mlflow.data)
with mlflow.start_run() as r:
    mlflow.log_input(ds["mixed"], context="training", tags={"k": "v"})
    mlflow.log_input(ds["numpy"], "eval")
found = {}
for f in (f"datasets.digest = '{ds['mixed'].digest}'", "datasets.context = 'eval'",
          "datasets.name = 'arr'", "datasets.name = 'nope'"):
    found[f] = len(mlflow.search_runs(filter_string=f))
inputs = [{"name": i.dataset.name, "digest": i.dataset.digest,
           "tags": {t.key: t.value for t in i.tags}}
          for i in mlflow.get_run(r.info.run_id).inputs.dataset_inputs]
print(json.dumps({"dicts": out, "found": found, "inputs": inputs}))
"""
)


def _mlflow(tmp_path: Path) -> dict[str, Any]:
    return run_mlflow(["-c", _MLFLOW, str(tmp_path)], tmp_path)


def _ours() -> dict[str, Any]:
    scope: dict[str, Any] = {}
    exec(CASES, scope)
    return scope["cases"](runsite.data)


@pytest.mark.slow
def test_datasets_match_mlflow(tmp_path: Path, store: Path) -> None:
    theirs = _mlflow(tmp_path)
    ours = {k: d.to_dict() for k, d in _ours().items()}
    assert set(ours) == set(theirs["dicts"])
    for key, their in theirs["dicts"].items():
        mine = ours[key]
        if their["source_type"] == "code":  # the running code: MLflow's is "-c"
            assert mine["source_type"] == "code"
            assert set(json.loads(mine["source"])["tags"]) == set(
                json.loads(their["source"])["tags"]
            )
            mine, their = dict(mine, source=None), dict(their, source=None)
        assert mine == their, key
    # MLflow's digest reads 10,000 rows: a change past them goes unseen by it
    assert ours["big"]["digest"] == ours["big_changed_tail"]["digest"]

    # log_input(dataset, context=, tags=) and the datasets.* filters find the same runs
    ds = _ours()
    with runsite.start_run(log_git=False) as r:
        runsite.log_input(ds["mixed"], context="training", tags={"k": "v"})
        runsite.log_input(ds["numpy"], "eval")  # MLflow's second positional: the context
    for f, n in theirs["found"].items():
        assert len(runsite.mlflow.search_runs(filter_string=f)) == n, f
    inputs = runsite.get_run(r.run_id).inputs
    assert [(i["name"], i["digest"]) for i in inputs] == [
        (i["name"], i["digest"]) for i in theirs["inputs"]
    ]
    assert inputs[0]["tags"] == {"k": "v"} and inputs[0]["context"] == "training"


def test_dataset_input_records_the_whole_data_hash(store: Path) -> None:
    import pandas as pd

    df = pd.DataFrame({"x": range(20000)})
    changed = df.assign(x=df.x.where(df.index < 15000, -1))
    with runsite.start_run(log_git=False) as r:
        a = runsite.log_input(runsite.data.from_pandas(df, name="d"), context="training")
        b = runsite.log_input(runsite.data.from_pandas(changed, name="d"), context="training")
    assert a["digest"] == b["digest"]  # MLflow's digest: first 10,000 rows only
    assert a["hash"] != b["hash"] and a["hash"].startswith("sha256:")
    assert a["rows"] == 20000 and a["profile"] == '{"num_rows": 20000, "num_elements": 20000}'
    assert len(runsite.get_run(r.run_id).inputs) == 2


def test_mlflow_data_after_import_runsite_as_mlflow() -> None:
    import runsite as mlflow

    assert mlflow.data.from_pandas is runsite.data.from_pandas
    assert runsite.mlflow.data is runsite.data


def test_bad_input_is_a_clear_error(store: Path) -> None:
    import numpy as np
    import pandas as pd

    with pytest.raises(InvalidInput, match="targets column 'y'"):
        runsite.data.from_pandas(pd.DataFrame({"x": [1]}), targets="y")
    with pytest.raises(InvalidInput, match="from_pandas takes a pandas DataFrame"):
        runsite.data.from_pandas([1, 2])  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="features must be a NumPy array"):
        runsite.data.from_numpy([1, 2])
    with pytest.raises(InvalidInput, match="dataset source must be"):
        runsite.data.from_numpy(np.ones(2), source=3)  # type: ignore[arg-type]
    with runsite.start_run(log_git=False), pytest.raises(InvalidInput, match="tags"):
        Path("f.csv").write_text("a\n1\n")
        runsite.log_input("f.csv", tags={"k": "v"})
