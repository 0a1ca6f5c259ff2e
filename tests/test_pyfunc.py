"""runsite.pyfunc.PythonModel: artifacts checked and copied, pickles scanned, clear errors
(the answers themselves are compared with MLflow's in tests/test_pyfunc_oracle.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import runsite
from pyfunc_models import AddN
from runsite.errors import InvalidInput, RunsiteError, UnsafePickle
from runsite.models.api import scan_model


def _log(tmp_path: Path, model: Any, **kw: Any) -> Any:
    (tmp_path / "offset.txt").write_text("0.5")
    (tmp_path / "words").mkdir(exist_ok=True)
    (tmp_path / "words" / "a.txt").write_text("a")
    with runsite.start_run(log_git=False):
        return runsite.pyfunc.log_model(
            name="m",
            python_model=model,
            artifacts={"offset": tmp_path / "offset.txt", "words": tmp_path / "words"},
            **kw,
        )


def test_artifacts_are_checked_copies(store: Path, tmp_path: Path) -> None:
    info = _log(tmp_path, AddN(1))
    (tmp_path / "offset.txt").write_text("9")  # the model keeps its own copy
    m = runsite.pyfunc.load_model(info.model_uri)
    inner = m.unwrap_python_model()
    assert inner.offset == 0.5 and inner.words == ["a"]
    assert m.predict({"x": 1.0}).tolist() == [2.5]
    from runsite.models import pythonmodel

    given = Path(pythonmodel._contexts[inner].artifacts["offset"])
    assert given.read_text() == "0.5" and not given.is_relative_to(store)  # a private copy
    folder = Path(info.path)
    assert (folder / "artifacts" / "offset.txt").read_text() == "0.5"
    # a changed artifact byte in the store refuses the model, as any model file
    (folder / "artifacts" / "offset.txt").write_text("0.7")
    with pytest.raises(RunsiteError, match=r"offset\.txt"):
        runsite.pyfunc.load_model(info.model_uri)


def test_a_class_pickled_by_value_needs_trust(store: Path, tmp_path: Path) -> None:
    class Local(runsite.pyfunc.PythonModel):  # not importable: cloudpickle takes its code
        def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
            return [len(model_input)]

    with runsite.start_run(log_git=False):
        info = runsite.pyfunc.log_model(name="local", python_model=Local())
    with pytest.raises(UnsafePickle, match="cloudpickle"):
        runsite.pyfunc.load_model(info.model_uri)
    assert any("cloudpickle" in p for p in scan_model(Path(info.path)))  # models check too
    assert runsite.pyfunc.load_model(info.model_uri, trust=True).predict([1, 2]) == [2]


def test_bad_input_is_a_clear_error(store: Path, tmp_path: Path) -> None:
    with runsite.start_run(log_git=False):
        with pytest.raises(InvalidInput, match="needs python_model="):
            runsite.pyfunc.log_model(name="x")
        with pytest.raises(InvalidInput, match=r"artifacts\['a'\].*not a file or folder"):
            runsite.pyfunc.log_model(
                name="x", python_model=AddN(1), artifacts={"a": tmp_path / "nope"}
            )
        with pytest.raises(InvalidInput, match="only local files"):
            runsite.pyfunc.log_model(
                name="y", python_model=AddN(1), artifacts={"a": "s3://bucket/key"}
            )
        with pytest.raises(InvalidInput, match="artifacts= is for python_model"):
            runsite.log_model(_Plain(), "p", artifacts={"a": tmp_path})
        with pytest.raises(InvalidInput, match="code_paths not supported"):
            runsite.pyfunc.log_model(name="z", python_model=AddN(1), code_paths=["src"])
    sig = runsite.infer_signature([{"x": 1.0}], params={"k": 3})
    assert sig["params"] == [{"name": "k", "type": "long", "default": 3, "shape": None}]
    with pytest.raises(InvalidInput, match="param default"):
        runsite.infer_signature([{"x": 1.0}], params={"k": object()})


class _Plain:
    def predict(self, data: Any) -> Any:
        return data


def test_served_python_model_gets_the_request_params(store: Path, tmp_path: Path) -> None:
    import asyncio
    import json

    from pyfunc_models import Echo

    sig = runsite.infer_signature([{"x": 1.0}], params={"k": 3})
    with runsite.start_run(log_git=False):
        info = runsite.pyfunc.log_model(name="echo", python_model=Echo(), signature=sig)
    app = runsite.pyfunc.scoring_app(info.model_uri)

    def post(doc: Any) -> tuple[int, Any]:
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": json.dumps(doc).encode()}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "method": "POST",
            "path": "/invocations",
            "headers": [(b"content-type", b"application/json")],
        }
        asyncio.run(app(scope, receive, send))
        return sent[0]["status"], json.loads(sent[1]["body"])

    rows = [{"x": 1.0}, {"x": 2.0}]
    status, got = post({"dataframe_records": rows, "params": {"k": 5}})
    assert status == 200 and got["predictions"]["params"] == {"k": 5}
    assert post({"dataframe_records": rows})[1]["predictions"]["params"] == {"k": 3}
    status, got = post({"dataframe_records": rows, "params": [1]})
    assert status == 400 and "params must be an object" in got["message"]
