"""Custom models for tests/test_pyfunc_oracle.py, importable in both processes: their base
class is MLflow's when ``PYFUNC_BASE=mlflow`` (the oracle's process), else runsite's."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

if os.environ.get("PYFUNC_BASE") == "mlflow":
    from mlflow.pyfunc import PythonModel
else:
    from runsite.pyfunc import PythonModel


class AddN(PythonModel):  # type: ignore[misc]
    """Adds ``n`` and an offset read from an artifact file; ``params["scale"]`` scales."""

    def __init__(self, n: float) -> None:
        self.n = n

    def load_context(self, context: Any) -> None:
        self.offset = float(Path(context.artifacts["offset"]).read_text())
        folder = Path(context.artifacts["words"])
        self.words = sorted(p.read_text() for p in folder.rglob("*.txt"))
        self.keys = sorted(context.artifacts)
        self.config = context.model_config

    def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
        scale = (params or {}).get("scale", 1.0)
        return (model_input["x"] + self.n + self.offset) * scale


class Echo(PythonModel):  # type: ignore[misc]
    """``predict(model_input, params)`` without a context: what it was given."""

    def predict(self, model_input: Any, params: Any = None) -> Any:
        return {"rows": len(model_input), "type": type(model_input).__name__, "params": params}


def observe(mlflow: Any, work: Path) -> dict[str, Any]:
    """The same custom models logged, loaded and asked to predict; what a script sees."""
    import pandas as pd

    os.chdir(work)
    (work / "offset.txt").write_text("0.5")
    (work / "words" / "sub").mkdir(parents=True)
    (work / "words" / "a.txt").write_text("a")
    (work / "words" / "sub" / "b.txt").write_text("b")
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    sig = mlflow.models.infer_signature(df, pd.Series([0.0]), params={"scale": 1.0})
    echo_sig = mlflow.models.infer_signature(df, params={"k": 3, "name": "n"})
    with mlflow.start_run():
        info = mlflow.pyfunc.log_model(
            name="m",
            python_model=AddN(2),
            artifacts={"offset": str(work / "offset.txt"), "words": "words"},
            signature=sig,
            registered_model_name="addn",
            pip_requirements=["pandas"],
        )
        echo = mlflow.pyfunc.log_model(
            artifact_path="echo", python_model=Echo(), input_example=df, pip_requirements=[]
        )
        echo_params = mlflow.pyfunc.log_model(
            name="echo_params", python_model=Echo(), signature=echo_sig, pip_requirements=[]
        )
    m = mlflow.pyfunc.load_model(info.model_uri)
    inner = m.unwrap_python_model()
    e = mlflow.pyfunc.load_model(echo.model_uri)
    ep = mlflow.pyfunc.load_model(echo_params.model_uri)

    def raises(call: Any) -> str:
        try:
            call()
        except Exception:
            return "raises"
        return "ok"

    mlflow.pyfunc.save_model(
        str(work / "saved"),
        python_model=AddN(1),
        artifacts={"offset": "offset.txt", "words": "words"},
    )
    return {
        "saved": mlflow.pyfunc.load_model(str(work / "saved")).predict(df).tolist(),
        "predict": m.predict(df).tolist(),
        "predict_params": m.predict(df, params={"scale": 2.0}).tolist(),
        "registered": mlflow.pyfunc.load_model("models:/addn/1").predict(df).tolist(),
        "context": [inner.keys, inner.words, inner.config, inner.offset, inner.n],
        "missing_column": raises(lambda: m.predict(pd.DataFrame({"y": [1.0]}))),
        "echo": e.predict(df),
        "echo_records": e.predict([{"x": 1.0}, {"x": 2.0}]),
        "echo_ignored_params": e.predict(df, params={"a": 1}),
        "echo_default_params": ep.predict(df),
        "echo_given_params": ep.predict(df, params={"k": 5, "zz": 1}),
        "echo_bad_param": raises(lambda: ep.predict(df, params={"k": "five"})),
        "no_python_model": raises(lambda: mlflow.pyfunc.log_model(name="x")),
    }


if __name__ == "__main__":  # real MLflow, in a clean process (PYFUNC_BASE=mlflow)
    import json
    import sys

    import mlflow

    work = Path(sys.argv[1])
    mlflow.set_tracking_uri(f"sqlite:///{work}/m.db")
    print(json.dumps(observe(mlflow, work)))
