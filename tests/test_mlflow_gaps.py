"""The rest of the MLflow drop-in: ``runsite.artifacts.download_artifacts``, ``datasets.*``
filters, the active-experiment default of ``search_runs`` and ``runsite exec``."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

import runsite
from mlflow_support import run_mlflow
from runsite.cli import main
from runsite.errors import InvalidInput, NotFound, QueryError


def _walk(base: Path) -> list[str]:
    return sorted(p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file())


def _run_with_files(store: Path) -> str:
    runsite.set_store(store)
    with runsite.start_run(log_git=False) as r:
        runsite.log_text("a", "f.txt")
        runsite.log_text("b", "d/g.txt")
        runsite.log_text("c", "d/e/h.txt")
    return r.run_id


# The layouts download_artifacts gives, as real MLflow gives them (tests below compare).
_CASES = {
    "file": {"artifact_path": "f.txt"},
    "dir": {"artifact_path": "d"},
    "root": {},
    "uri_file": {"uri": "d/g.txt"},
    "uri_dir_slash": {"uri": "d/"},
}


def _layouts(download: object, rid: str, tmp: Path) -> dict[str, list[object]]:
    out: dict[str, list[object]] = {}
    for name, case in _CASES.items():
        dst = tmp / name
        dst.mkdir()
        if "uri" in case:
            got = download(artifact_uri=f"runs:/{rid}/{case['uri']}", dst_path=str(dst))  # type: ignore[operator]
        else:
            got = download(run_id=rid, dst_path=str(dst), **case)  # type: ignore[operator]
        out[name] = [os.path.relpath(got, dst), _walk(dst)]
    return out


def test_download_artifacts_layouts(store: Path, tmp_path: Path) -> None:
    rid = _run_with_files(store)
    got = _layouts(runsite.artifacts.download_artifacts, rid, tmp_path)
    assert got == {
        "file": ["f.txt", ["f.txt"]],
        "dir": ["d", ["d/e/h.txt", "d/g.txt"]],
        "root": [".", ["d/e/h.txt", "d/g.txt", "f.txt"]],
        "uri_file": ["g.txt", ["g.txt"]],
        "uri_dir_slash": [".", ["e/h.txt", "g.txt"]],
    }
    with pytest.raises(InvalidInput, match="exactly one"):
        runsite.artifacts.download_artifacts(artifact_uri=f"runs:/{rid}/f.txt", run_id=rid)
    with pytest.raises(NotFound):
        runsite.artifacts.download_artifacts(run_id=rid, artifact_path="nope.txt")
    with pytest.raises(InvalidInput):
        runsite.artifacts.download_artifacts(run_id=rid, artifact_path="../../etc/passwd")
    # a temporary folder by default
    assert (
        Path(runsite.artifacts.download_artifacts(run_id=rid, artifact_path="f.txt")).read_text()
        == "a"
    )


def test_download_artifacts_of_a_registered_model(store: Path, tmp_path: Path) -> None:
    from sklearn.linear_model import LinearRegression

    runsite.set_store(store)
    with runsite.start_run(log_git=False) as r:
        runsite.sklearn.log_model(LinearRegression().fit([[0], [1]], [0, 1]), "model")
    runsite.register_model(f"runs:/{r.run_id}/model", "m")
    got = Path(runsite.artifacts.download_artifacts("models:/m/1", dst_path=str(tmp_path)))
    assert got == tmp_path.resolve()
    assert (got / "model.yaml").is_file() and (got / "model.pkl").is_file()
    (r.artifacts_dir / "model" / "model.pkl").write_bytes(b"changed")
    with pytest.raises(runsite.errors.StoreFormatError, match="does not match"):
        runsite.artifacts.download_artifacts("models:/m/1", dst_path=str(tmp_path / "again"))


_MLFLOW_LAYOUTS = """
import json, os, sys, tempfile
from pathlib import Path
import mlflow
mlflow.set_tracking_uri(f"sqlite:///{sys.argv[1]}/m.db")
with mlflow.start_run() as r:
    for name, text in [("f.txt", "a"), ("d/g.txt", "b"), ("d/e/h.txt", "c")]:
        mlflow.log_text(text, name)
sys.path.insert(0, sys.argv[2])
from test_mlflow_gaps import _layouts
out = _layouts(mlflow.artifacts.download_artifacts, r.info.run_id, Path(sys.argv[1]) / "out")
print(json.dumps(out))
"""


@pytest.mark.slow
def test_download_artifacts_layouts_match_mlflow(store: Path, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    theirs = run_mlflow(
        ["-c", _MLFLOW_LAYOUTS, str(tmp_path), str(Path(__file__).parent)], tmp_path
    )
    rid = _run_with_files(store)
    (tmp_path / "ours").mkdir()
    assert _layouts(runsite.artifacts.download_artifacts, rid, tmp_path / "ours") == theirs


def test_datasets_filters(store: Path, tmp_path: Path) -> None:
    runsite.set_store(store)
    (tmp_path / "train.csv").write_text("a,b\n1,2\n")
    (tmp_path / "eval.csv").write_text("a,b\n3,4\n")
    with runsite.start_run(run_name="both", log_git=False) as both:
        runsite.log_input(tmp_path / "train.csv", context="training")
        info = runsite.log_input(tmp_path / "eval.csv", name="holdout", context="eval")
    with runsite.start_run(run_name="none", log_git=False):
        pass

    def names(q: str) -> list[str]:
        return [r.run_name for r in runsite.search_runs(q)]

    assert names("datasets.name = 'train.csv'") == ["both"]
    assert names("datasets.context = 'eval'") == ["both"]
    assert names("datasets.name IN ('holdout', 'x')") == ["both"]
    assert names("datasets.name LIKE 'hold%'") == ["both"]
    assert names("datasets.name = 'nope'") == []
    assert names(f"datasets.digest = '{info['hash'].removeprefix('sha256:')}'") == ["both"]
    assert names("datasets.name IS NULL") == ["none"]
    assert names("datasets.context = 'training' and datasets.name = 'holdout'") == ["both"]
    assert sorted(names("not datasets.name = 'nope'")) == ["both"]
    with pytest.raises(QueryError, match="unknown dataset field 'size'"):
        runsite.search_runs("datasets.size = '1'")
    with pytest.raises(QueryError, match="only with strings"):
        runsite.search_runs("datasets.name = 3")
    assert both.run_id


def test_search_runs_defaults_to_the_active_experiment(store: Path) -> None:
    runsite.set_store(store)
    runsite.set_experiment("a")
    with runsite.start_run(run_name="in-a", log_git=False):
        pass
    runsite.set_experiment("b")
    with runsite.start_run(run_name="in-b", log_git=False):
        pass

    def names(**kw: object) -> list[str]:
        return sorted(r.run_name for r in runsite.search_runs(**kw))  # type: ignore[arg-type]

    assert names() == ["in-b"]
    assert names(experiment_ids=["a"]) == ["in-a"]
    assert names(experiment_ids="a") == ["in-a"]
    assert names(experiment_names=["a", "b"]) == ["in-a", "in-b"]
    assert names(search_all_experiments=True) == ["in-a", "in-b"]
    assert names(experiment_ids=["nope"]) == []
    assert names(run_view_type=runsite.entities.ViewType.DELETED_ONLY) == []
    runsite.set_experiment("empty")
    assert names() == []


def test_exec_makes_import_mlflow_mean_runsite(store: Path, tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys
            import mlflow
            import mlflow.sklearn
            from mlflow.tracking import MlflowClient
            print(mlflow.__name__, mlflow.sklearn.__name__, MlflowClient.__module__)
            mlflow.set_experiment("ported")
            with mlflow.start_run(run_name="zero-line"):
                mlflow.log_metric("m", 1.5)
            sys.exit(3)
            """
        )
    )
    env = dict(os.environ, RUNSITE_STORE=str(store))
    proc = subprocess.run(
        [sys.executable, "-m", "runsite", "exec", "--", sys.executable, str(script)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout.split() == ["runsite.mlflow", "runsite.sklearn", "runsite.client"]
    runsite.set_store(store)
    (run,) = runsite.search_runs(experiment_names=["ported"])
    assert run.run_name == "zero-line" and run.metrics["m"]["last"] == 1.5
    assert not (tmp_path / "mlruns").exists()


def test_exec_usage() -> None:
    res = CliRunner().invoke(main, ["exec"])
    assert res.exit_code == 2
    res = CliRunner().invoke(main, ["exec", "--", "no-such-command-xyz"])
    assert res.exit_code == 1 and "no such command" in res.output


def test_a_client_uri_leaves_the_active_store_alone(store: Path, tmp_path: Path) -> None:
    runsite.set_store(store)
    other = tmp_path / "other"
    with runsite.Store(other).start_run(run_name="there", log_git=False):
        pass
    client = runsite.MlflowClient(tracking_uri=str(other))
    assert [r.info.run_name for r in client.search_runs(["default"])] == ["there"]
    assert runsite.get_store_path() == store  # as in MLflow: the client's URI is its own


def test_experiments_client_runs_and_log_inputs(store: Path) -> None:
    import pandas as pd

    from runsite.errors import InvalidInput, QueryError

    for name in ("a", "b"):
        runsite.set_experiment(name)
    (store / "b" / "experiment.yaml").write_text("tags:\n  team: ops\n")
    assert [e.name for e in runsite.search_experiments(filter_string="tags.team = 'ops'")] == ["b"]
    assert runsite.get_experiment_by_name("a").creation_time is None  # no runs yet
    with pytest.raises(runsite.NotFound, match="has no tag 'nope'"):
        runsite.MlflowClient().delete_experiment_tag("b", "nope")
    with pytest.raises(QueryError, match="expected name or tags"):
        runsite.search_experiments(filter_string="creation_time > 0")
    with pytest.raises(InvalidInput, match="order_by clause 'size DESC'"):
        runsite.search_experiments(order_by=["size DESC"])
    ds = runsite.data.from_pandas(pd.DataFrame({"x": [1]}), name="d")
    with runsite.start_run(log_git=False) as r:
        with pytest.raises(InvalidInput, match=r"differ in length \(1, 2, 1\)"):
            runsite.log_inputs([ds], contexts=["a", "b"])
        with pytest.raises(InvalidInput, match="models="):
            runsite.log_inputs([ds], models=[object()])
        runsite.log_inputs([ds, None], contexts=["train", None])
    c = runsite.MlflowClient()
    with pytest.raises(InvalidInput, match="start_time"):
        c.create_run("a", start_time=1)
    made = c.create_run("a")
    c.set_terminated(made.run_id)
    with pytest.raises(runsite.RunStateError, match="immutable"):
        c.log_text(made.run_id, "late", "x.txt")
    with pytest.raises(runsite.MlflowException, match="'b' already exists"):
        runsite.create_experiment("b")
    assert not (store / "a" / "experiment.yaml").exists()  # a plain name needs no file
    (got,) = runsite.get_run(r.run_id).inputs.dataset_inputs
    assert got.dataset.name == "d" and [(t.key, t.value) for t in got.tags] == [
        ("mlflow.data.context", "train")
    ]


def test_a_registry_elsewhere_is_refused(store: Path, tmp_path: Path) -> None:
    from runsite.errors import InvalidInput

    with pytest.raises(InvalidInput, match=r"registry\.yaml in the tracking store"):
        runsite.set_registry_uri(str(tmp_path / "elsewhere"))
    with pytest.raises(InvalidInput, match="a separate registry is not supported"):
        runsite.MlflowClient(registry_uri=f"sqlite:///{tmp_path}/r.db")
    runsite.MlflowClient(tracking_uri=str(store), registry_uri=store.as_uri())  # the same


def test_registry_deletes_and_renames_edit_the_manifest(store: Path) -> None:
    from sklearn.linear_model import LinearRegression

    import runsite.sklearn
    from runsite.errors import InvalidInput

    c = runsite.MlflowClient()
    for name in ("a", "b"):
        with runsite.start_run(log_git=False) as r:
            runsite.sklearn.log_model(LinearRegression().fit([[0], [1]], [0, 1]), "model")
        c.create_model_version(name, f"runs:/{r.run_id}/model")
    (store / "registry.yaml").write_text(
        "# reviewed by the team\n" + (store / "registry.yaml").read_text()
    )
    with pytest.raises(InvalidInput, match="'b' already exists"):
        c.rename_registered_model("a", "b")
    c.rename_registered_model("a", "a2")
    text = (store / "registry.yaml").read_text()
    assert text.startswith("# reviewed by the team") and text.index("a2:") < text.index("b:")
    c.delete_model_version("b", 1)  # its last version: the model goes
    assert [m.name for m in c.search_registered_models()] == ["a2"]
    assert (r.path / "artifacts" / "model").is_dir()  # the run's model folder stays


def test_hand_built_signature_objects(store: Path) -> None:
    import pandas as pd
    from sklearn.linear_model import LinearRegression

    import runsite.sklearn
    from runsite.errors import InvalidInput
    from runsite.types.schema import ColSpec, Schema

    optional = runsite.models.ModelSignature(
        inputs=Schema([ColSpec("double", "a"), ColSpec("double", "b", required=False)])
    )
    assert optional.to_dict()["inputs"]["columns"][1] == {
        "name": "b",
        "type": "double",
        "required": False,
    }
    with runsite.start_run(log_git=False) as r:
        runsite.sklearn.log_model(
            LinearRegression().fit(pd.DataFrame({"a": [0.0, 1.0], "b": [1.0, 0.0]}), [0, 1]),
            "m",
            signature=optional,
        )
        with pytest.raises(InvalidInput, match="signature must be a dict"):
            runsite.sklearn.log_model(LinearRegression(), "n", signature="inputs: a")
    m = runsite.pyfunc.load_model(f"runs:/{r.run_id}/m")
    with pytest.raises(InvalidInput, match=r"missing input columns \['b'\]"):  # documented
        m.predict(pd.DataFrame({"a": [1.0]}))
    with pytest.raises(InvalidInput, match="column type 'float64': one of"):
        ColSpec("float64", "x")
