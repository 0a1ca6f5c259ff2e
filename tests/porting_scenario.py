"""The calls of docs/porting.md's "same" rows, written once against MLflow's API.

``observe`` takes the modules to use, so the same lines run in a subprocess with real
MLflow (``python porting_scenario.py WORKDIR`` prints the observations as JSON) and
in-process with ``import runsite as mlflow``. Each key of the result is one thing a row
claims; tests/test_porting_oracle.py compares them key by key. Ids, times and paths
differ by design, so observations keep only what a script could rely on (a run's tags,
a file's bytes, whether an id matches).
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any


def _raises(call: Any) -> str:
    try:
        call()
    except Exception:  # MLflow raises MlflowException, runsite RunsiteError subclasses
        return "raises"
    return "ok"


def _files(client: Any, run_id: str, path: str | None = None) -> list[list[Any]]:
    out = []
    for f in client.list_artifacts(run_id, path):
        out.append([f.path, f.is_dir, f.file_size])
        if f.is_dir:
            out.extend(_files(client, run_id, f.path))
    return out


def _source(dataset: Any) -> Any:
    """A dataset's source; for the running code, the keys of its tags (where the script
    and its checkout are differs between the two processes)."""
    if dataset.source_type != "code":
        return dataset.source
    return sorted(k for k in json.loads(dataset.source)["tags"] if ".git." not in k)


def observe(mlflow: Any, facade: Any, client_cls: Any, entities: Any, uri: str, work: Path) -> dict:
    import numpy as np
    from sklearn.linear_model import LinearRegression

    os.chdir(work)
    out: dict[str, Any] = {}
    before_set = mlflow.is_tracking_uri_set()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(mlflow.get_tracking_uri())  # the same store: accepted by both
    out["uris"] = {
        "is_set": [before_set, mlflow.is_tracking_uri_set()],
        "registry_is_tracking": mlflow.get_registry_uri() == mlflow.get_tracking_uri(),
    }
    client = client_cls()

    exp = mlflow.set_experiment("Эксперимент 1")
    again = mlflow.set_experiment("Эксперимент 1")
    out["set_experiment"] = {
        "name": exp.name,
        "type": type(exp).__name__,
        "same_id_again": again.experiment_id == exp.experiment_id,
        "by_name": mlflow.get_experiment_by_name("Эксперимент 1").experiment_id
        == exp.experiment_id,
    }
    out["get_experiment_by_name_missing"] = mlflow.get_experiment_by_name("nope") is None

    outside = mlflow.active_run()
    (work / "a.txt").write_text("a")
    (work / "tree" / "sub").mkdir(parents=True)
    (work / "tree" / "b.txt").write_text("bb")
    (work / "tree" / "sub" / "c.txt").write_text("ccc")
    with mlflow.start_run(run_name="a", tags={"t": 1}, description="desc") as r:
        rid = r.info.run_id
        active = mlflow.active_run()
        out["active_run"] = {
            "outside": outside is None,
            "inside": active.info.run_id == rid,
            "has_data": hasattr(active, "data"),
            "is_active_run": isinstance(active, mlflow.ActiveRun),
        }
        out["start_run_while_active"] = _raises(mlflow.start_run)
        with mlflow.start_run(run_name="child", nested=True) as child:
            child_id = child.info.run_id
        mlflow.log_params({"a": 0.5, "b": True, "c": None, "d": [1, 2], "e": 1e-5, "g": 3})
        mlflow.log_param("f", "s")
        relog_same = _raises(lambda: mlflow.log_param("a", 0.5))
        relog_other = _raises(lambda: mlflow.log_param("a", 0.7))
        mlflow.set_tag("k", 1)
        mlflow.set_tags({"x": 2.5, "y": None})
        mlflow.set_tag("gone", "v")
        mlflow.delete_tag("gone")
        out["delete_tag_missing"] = _raises(lambda: mlflow.delete_tag("missing"))
        uri_root = mlflow.get_artifact_uri()
        uri_sub = mlflow.get_artifact_uri("x/y")
        mlflow.log_text("héllo\n", "t/x.txt")
        mlflow.log_dict({"b": 1, "a": [1, 2], "c": {"z": None, "y": "é"}}, "d.json")
        mlflow.log_dict({"b": 1, "a": [1, 2], "c": {"z": None, "y": "é"}}, "d.yaml")
        mlflow.log_dict({"b": 1}, "d.yml")
        mlflow.log_table(
            {"c": [1.0, math.nan, math.inf], "s": ["a", "b", "c"], "i": [1, 2, 3]}, "tab.json"
        )
        mlflow.log_table({"a": [1, 2]}, "grow.json")
        mlflow.log_table({"a": [3], "b": ["x"]}, "grow.json")  # appended, as MLflow does
        mlflow.log_artifact(str(work / "a.txt"))
        mlflow.log_artifact(str(work / "a.txt"), artifact_path="one/two")
        mlflow.log_artifacts(str(work / "tree"))
        mlflow.log_artifacts(str(work / "tree"), artifact_path="copied")
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots()
        ax.plot([0, 1], [1, 0])
        mlflow.log_figure(fig, "figs/line.png")
        mlflow.log_figure(fig, "line.svg")
        plt.close(fig)
        rgb = (np.arange(4 * 5 * 3).reshape(4, 5, 3) % 256).astype("uint8")
        mlflow.log_image(rgb, "img/rgb.png")
        mlflow.log_image(np.linspace(0.0, 1.0, 12).reshape(3, 4), "img/grey.png")
        with warnings.catch_warnings(record=True) as caught:  # rescaled, with a warning
            warnings.simplefilter("always")
            mlflow.log_image(np.linspace(-1.0, 3.0, 6).reshape(2, 3), "img/rescaled.png")
        mlflow.log_image(np.array([[True, False]]), "img/mask.png")
        bad_image = _raises(lambda: mlflow.log_image(np.full((2, 2), 300), "img/bad.png"))
        for step, v in enumerate([3.0, 2.0, 1.5]):
            mlflow.log_metric("loss", v, step=step)
        mlflow.log_metrics({"acc": 0.5, "f1": 0.25}, step=4)
        M = entities.Metric
        # Several points at the highest step: MLflow's "latest" is the largest timestamp.
        client.log_batch(rid, metrics=[M("tie", 1.0, 1000, 5), M("tie", 2.0, 3000, 5)])
        client.log_batch(rid, metrics=[M("tie", 3.0, 2000, 5), M("tie", 0.5, 1000, 4)])
        client.log_batch(rid, metrics=[M("eq", 2.0, 1000, 1), M("eq", 1.0, 1000, 1)])
    out["start_run"] = {
        "child_parent": client.get_run(child_id).data.tags.get("mlflow.parentRunId") == rid
    }
    out["relog_param"] = [relog_same, relog_other]
    out["active_after"] = mlflow.active_run() is None
    last = mlflow.last_active_run()
    out["last_active_run"] = {
        "id": last.info.run_id == rid,
        "status": last.info.status,
        "params": last.data.params,
    }
    run = mlflow.get_run(rid)
    # where the script and its git checkout are: the same test file, seen from two cwd's
    out["params"] = run.data.params
    out["tags"] = {
        k: v
        for k, v in run.data.tags.items()
        if k not in ("mlflow.user", "mlflow.source.name") and not k.startswith("mlflow.source.git")
    }
    out["metrics"] = run.data.metrics
    out["get_run_info"] = {
        "run_id": run.info.run_id == rid,
        "run_name": run.info.run_name,
        "status": run.info.status,
        "lifecycle_stage": run.info.lifecycle_stage,
        "start_time": type(run.info.start_time).__name__,
        "ordered": run.info.start_time <= run.info.end_time,
        "user_id": run.info.user_id == run.data.tags["mlflow.user"],
        "artifact_uri": run.info.artifact_uri.endswith(f"{rid}/artifacts"),
    }
    out["get_artifact_uri"] = [uri_root.split(rid)[1], uri_sub.split(rid)[1]]
    out["metric_history"] = [
        [m.key, m.value, m.step, type(m.timestamp).__name__]
        for m in client.get_metric_history(rid, "loss")
    ]
    out["artifacts"] = _files(client, rid)
    out["artifacts_sub"] = _files(client, rid, "copied")
    files = {}
    for name in ("t/x.txt", "d.json", "d.yaml", "d.yml", "tab.json", "grow.json"):
        local = mlflow.artifacts.download_artifacts(
            run_id=rid, artifact_path=name, dst_path=str(work / "dl")
        )
        files[name] = Path(local).read_bytes().decode()
    out["files"] = files
    out["table"] = json.loads(files["tab.json"])
    from PIL import Image

    images = {}
    for name in ("rgb", "grey", "rescaled", "mask"):
        local = mlflow.artifacts.download_artifacts(
            run_id=rid, artifact_path=f"img/{name}.png", dst_path=str(work / "dl")
        )
        with Image.open(local) as im:
            images[name] = [im.mode, list(im.size), np.asarray(im).tolist()]
    out["log_image"] = {"images": images, "bad": bad_image, "warned": len(caught) == 1}

    ended = []
    for status in (None, "FAILED", "KILLED"):
        started = mlflow.start_run()
        mlflow.end_run() if status is None else mlflow.end_run(status=status)
        ended.append(client.get_run(started.info.run_id).info.status)
    out["end_run"] = ended

    # parent_run_id=: a child of an ended run; another parent inside an active run raises
    with mlflow.start_run(parent_run_id=rid) as late_child:
        pass
    with mlflow.start_run():
        mismatch = _raises(lambda: mlflow.start_run(nested=True, parent_run_id=child_id))
    out["parent_run_id"] = {
        "parent": client.get_run(late_child.info.run_id).data.tags.get("mlflow.parentRunId") == rid,
        "mismatch": mismatch,
        "none_active": mlflow.active_run() is None,
    }

    V = entities.ViewType
    out["view_type"] = [int(V.ACTIVE_ONLY), int(V.DELETED_ONLY), int(V.ALL)]
    out["submodules"] = {
        n: hasattr(mlflow, n)
        for n in ("sklearn", "xgboost", "pyfunc", "models", "tracking", "client", "entities")
    } | {n: hasattr(mlflow, n) for n in ("artifacts", "data", "exceptions")}

    frame = facade.search_runs()
    out["search_runs_frame"] = {
        "type": type(frame).__name__,
        "columns": sorted(c for c in frame.columns if not c.startswith("tags.mlflow.source")),
        "names": [n for n in frame["tags.mlflow.runName"] if n in ("a", "child")],
        "rows": len(frame),
        "unknown": len(facade.search_runs(experiment_ids=["424242"])),
    }

    # models: scikit-learn, registered by name, loaded by every URI form
    X = np.array([[0.0, 1.0], [1.0, 0.5], [2.0, 2.0], [3.0, 1.0]])
    y = X @ np.array([1.5, -2.0]) + 0.25
    with mlflow.start_run() as r:
        mlflow.sklearn.log_model(
            LinearRegression().fit(X, y),
            name="model",
            input_example=X[:2],
            registered_model_name="skm",
            pip_requirements=["scikit-learn"],  # MLflow would infer them in a subprocess
        )
        sk_id = r.info.run_id
    native = mlflow.sklearn.load_model(f"runs:/{sk_id}/model")
    loaded = {}
    client.set_registered_model_alias("skm", "champion", 1)
    for u in (
        f"runs:/{sk_id}/model",
        "models:/skm/1",
        "models:/skm/latest",
        "models:/skm@champion",
    ):
        loaded[u.replace(sk_id, "ID")] = np.round(
            np.asarray(mlflow.pyfunc.load_model(u).predict(X)), 9
        ).tolist()
    out["pyfunc_model_type"] = isinstance(
        mlflow.pyfunc.load_model("models:/skm/1"), mlflow.pyfunc.PyFuncModel
    )
    mv = client.get_model_version("skm", 1)
    out["sklearn_model"] = {
        "native": type(native).__name__,
        "coef": np.round(native.coef_, 9).tolist(),
        "registered": [int(mv.version), mv.current_stage, mv.run_id == sk_id],
    }
    out["model_uris"] = loaded

    # a signature built by hand (mlflow.models.ModelSignature, mlflow.types.schema)
    import importlib

    import pandas as pd

    types = importlib.import_module(f"{mlflow.__name__}.types.schema")
    hand = mlflow.models.ModelSignature(
        inputs=types.Schema([types.ColSpec("double", "a"), types.ColSpec("double", "b")]),
        outputs=types.Schema([types.ColSpec("double")]),
    )
    ab = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.5, 0.0, 1.0]})
    with mlflow.start_run() as r:
        mlflow.sklearn.log_model(
            LinearRegression().fit(ab, [1.0, 2.0, 4.0]),
            name="hand",
            signature=hand,
            pip_requirements=["scikit-learn"],
        )
    signed = mlflow.pyfunc.load_model(f"runs:/{r.info.run_id}/hand")
    out["model_signature"] = {
        "names": hand.inputs.input_names(),
        "predict": np.round(np.asarray(signed.predict(ab)), 9).tolist(),
        "reordered": np.round(np.asarray(signed.predict(ab[["b", "a"]].assign(c=1))), 9).tolist(),
        "ints": _raises(lambda: signed.predict(pd.DataFrame({"a": [1, 2], "b": [0, 1]}))),
        "int32": _raises(
            lambda: signed.predict(pd.DataFrame({"a": [1, 2], "b": [0, 1]}, dtype="int32"))
        ),
        "float32": _raises(lambda: signed.predict(ab.astype("float32"))),
        "missing": _raises(lambda: signed.predict(ab[["a"]])),
        "text": _raises(lambda: signed.predict(ab.assign(b=["x", "y", "z"]))),
    }
    out["get_model_version"] = {
        "version": [type(mv.version).__name__, int(mv.version)],
        "current_stage": mv.current_stage,
        "run_id": mv.run_id == sk_id,
        "aliases": list(mv.aliases),
        "name": mv.name,
    }
    client.delete_registered_model_alias("skm", "champion")
    out["delete_alias"] = {
        "aliases": list(client.get_model_version("skm", 1).aliases),
        "by_alias": _raises(lambda: client.get_model_version_by_alias("skm", "champion")),
    }

    from xgboost import XGBRegressor

    with mlflow.start_run() as r:
        mlflow.xgboost.log_model(
            XGBRegressor(n_estimators=4, max_depth=2).fit(X, y),
            name="xgb",
            pip_requirements=["xgboost"],
        )
    xgb = mlflow.xgboost.load_model(f"runs:/{r.info.run_id}/xgb")
    out["xgboost_model"] = {
        "native": type(xgb).__name__,
        "predict": np.round(xgb.predict(X).astype(float), 5).tolist(),
        "pyfunc": np.round(
            np.asarray(mlflow.pyfunc.load_model(f"runs:/{r.info.run_id}/xgb").predict(X), float),
            5,
        ).tolist(),
    }

    # A client's tracking_uri is its own: the process keeps its store.
    before = mlflow.get_tracking_uri()
    other = client_cls(tracking_uri=str(work / "other"))
    out["client_tracking_uri"] = {
        "active_kept": mlflow.get_tracking_uri() == before,
        "other_sees_ours": other.get_experiment_by_name("Эксперимент 1") is not None,
        "ours": client_cls().get_experiment_by_name("Эксперимент 1") is not None,
    }

    # system metrics: one sample a second, each logged at once
    mlflow.set_system_metrics_sampling_interval(1)
    mlflow.set_system_metrics_samples_before_logging(1)
    with mlflow.start_run(log_system_metrics=True) as r:
        time.sleep(2.6)
    sm = client.get_run(r.info.run_id).data.metrics
    out["system_metrics"] = {
        "names": sorted(k for k in sm if not k.startswith("system/gpu")),
        "steps": sorted(
            {
                m.step
                for m in client.get_metric_history(
                    r.info.run_id, "system/cpu_utilization_percentage"
                )
            }
        )[:2],
    }

    # data inputs: MLflow's run.inputs.dataset_inputs, log_input and log_inputs
    import pandas as pd

    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    train = mlflow.data.from_pandas(frame, source="data/train.csv", name="train", targets="a")
    evals = mlflow.data.from_numpy(np.arange(6.0).reshape(3, 2), source="s3://b/e.npy", name="ev")
    more = mlflow.data.from_pandas(frame[["b"]], name="more")
    with mlflow.start_run() as r:
        mlflow.log_input(train, context="training", tags={"k": "v"})
        mlflow.log_inputs([evals, more], contexts=["eval", None], tags_list=[None, {"t": "1"}])
    out["dataset_inputs"] = sorted(
        [
            i.dataset.name,
            i.dataset.digest,
            i.dataset.source_type,
            _source(i.dataset),
            i.dataset.schema,
            i.dataset.profile,
            sorted([t.key, t.value] for t in i.tags),
        ]
        for i in client.get_run(r.info.run_id).inputs.dataset_inputs
    )

    # experiments: MLflow's filter and order (created one after the other, each with a run)
    for name in ("b-exp", "a-exp", "c-other"):
        mlflow.set_experiment(name)
        with mlflow.start_run():
            time.sleep(0.002)

    def names(**kw: Any) -> list[str]:
        return [e.name for e in mlflow.search_experiments(**kw) if e.name != "Default"]

    a_exp = mlflow.get_experiment_by_name("a-exp")
    first = client.search_experiments(max_results=2, filter_string="name LIKE '%-%'")
    second = client.search_experiments(
        max_results=2, filter_string="name LIKE '%-%'", page_token=first.token
    )
    out["search_experiments"] = {
        "default_order": names(),
        "like": names(filter_string="name LIKE '%-exp'"),
        "ilike_by_name": names(filter_string="name ILIKE '%EXP'", order_by=["name ASC"]),
        "desc": names(order_by=["name DESC"]),
        "eq": names(filter_string="name = 'a-exp'"),
        "and": names(filter_string="attribute.name != 'a-exp' AND name LIKE '%exp%'"),
        "quoted": names(filter_string="name = 'attributes.name'"),
        "last_update": names(order_by=["last_update_time ASC"])[-2:],
        "max_results": len(mlflow.search_experiments(max_results=2)),
        "deleted": names(view_type=entities.ViewType.DELETED_ONLY),
        "pages": [len(first), len(second), second.token is None],
        "times": [
            type(a_exp.creation_time).__name__,
            a_exp.creation_time <= a_exp.last_update_time,
        ],
        "bad_filter": _raises(lambda: mlflow.search_experiments(filter_string="run_id = 'x'")),
    }

    # create_experiment, get_experiment, experiment tags
    made = mlflow.create_experiment("Made Here", tags={"team": "ops"})
    mlflow.set_experiment("Made Here")
    mlflow.set_experiment_tag("stage", 2)
    mlflow.set_experiment_tags({"more": "x"})
    client.set_experiment_tag(made, "by", "client")
    mlflow.set_experiment_tag("gone", "x")
    mlflow.delete_experiment_tag("gone")
    client.set_experiment_tag(made, "gone2", "x")
    client.delete_experiment_tag(made, "gone2")
    got_exp = mlflow.get_experiment(made)
    try:
        mlflow.create_experiment("Made Here")
        again = "ok"
    except mlflow.MlflowException as exc:  # MLflow's base exception, runsite's too
        again = f"raises MlflowException {isinstance(exc, mlflow.exceptions.MlflowException)}"
    out["create_experiment"] = {
        "id_type": type(made).__name__,
        "name": got_exp.name,
        "tags": {k: v for k, v in got_exp.tags.items() if not k.startswith("mlflow.")},
        "again": again,
        "by_name": mlflow.get_experiment_by_name("Made Here").experiment_id == made,
    }

    # a run made and logged through the client, outside the active run
    cr = client.create_run(made, run_name="by-client", tags={"src": "client"})
    crid = cr.info.run_id
    client.log_param(crid, "p", 1)
    client.log_metric(crid, "m", 2.0, step=3)
    client.set_tag(crid, "gone", "x")
    client.delete_tag(crid, "gone")
    client.log_text(crid, "hi", "c/t.txt")
    client.log_dict(crid, {"b": 1, "a": 2}, "c/d.json")
    client.log_artifact(crid, str(work / "a.txt"), "c")
    client.log_artifacts(crid, str(work / "tree"), "c/tree")
    client.log_table(crid, {"a": [1, 2]}, "c/tab.json")
    mlflow.log_metric("fluent", 1.0, 2, True, run_id=crid)  # MLflow's positional order
    mlflow.log_metrics({"more": 0.5}, step=1, synchronous=True, run_id=crid)
    mlflow.log_params({"q": 2}, synchronous=True, run_id=crid)
    active_during = mlflow.active_run() is None
    client.set_terminated(crid, "FAILED")
    cr_run = client.get_run(crid)
    out["client_run"] = {
        "run_name": cr_run.info.run_name,
        "status": cr_run.info.status,
        "params": cr_run.data.params,
        "metrics": cr_run.data.metrics,
        "tags": {
            k: v
            for k, v in cr_run.data.tags.items()
            if k not in ("mlflow.user", "mlflow.source.name", "mlflow.source.type")
            and not k.startswith("mlflow.source.git")
        },
        "artifacts": _files(client, crid),
        "not_active": active_during,
        "in_experiment": cr_run.info.experiment_id == made,
    }

    # save_model / load_model by path; get_parent_run; delete_run hides a run from search
    model = LinearRegression().fit(X, y)
    mlflow.sklearn.save_model(model, str(work / "saved"), pip_requirements=["scikit-learn"])
    saved = mlflow.sklearn.load_model(str(work / "saved"))
    out["save_model"] = {
        "native": type(saved).__name__,
        "predict": np.round(saved.predict(X), 9).tolist(),
        "pyfunc": np.round(
            np.asarray(mlflow.pyfunc.load_model(str(work / "saved")).predict(X)), 9
        ).tolist(),
        "exists_again": _raises(lambda: mlflow.sklearn.save_model(model, str(work / "saved"))),
    }
    out["get_parent_run"] = {
        "child": mlflow.get_parent_run(child_id).info.run_id == rid,
        "top": mlflow.get_parent_run(rid) is None,
        "client": client.get_parent_run(child_id).info.run_id == rid,
    }
    names_by_id = {}
    for i, rows in enumerate(([1.5, 2.5], [3.5])):
        with mlflow.start_run(run_name=f"t{i}") as t:
            mlflow.log_table({"x": rows, "label": [f"r{i}"] * len(rows)}, "preds.json")
            mlflow.log_table({"x": [0.0]}, "other.json")
        names_by_id[t.info.run_id] = f"t{i}"
    loaded = mlflow.load_table("preds.json", extra_columns=["run_id", "status"])
    loaded["run_id"] = loaded["run_id"].map(names_by_id)
    one = mlflow.load_table("preds.json", run_ids=[t.info.run_id])
    out["load_table"] = {
        "columns": list(loaded.columns),
        "dtypes": [str(d) for d in loaded.dtypes],
        "rows": loaded.to_dict(orient="records"),
        "one": one.to_dict(orient="records"),
        "missing": _raises(lambda: mlflow.load_table("nope.json")),
    }
    # registry deletes and renames
    v2 = mlflow.register_model(f"runs:/{sk_id}/model", "skm")
    client.set_registered_model_alias("skm", "second", v2.version)
    client.set_model_version_tag("skm", 1, "k", "v")
    client.set_model_version_tag("skm", 1, "gone", "x")
    client.delete_model_version_tag("skm", 1, "gone")
    client.set_registered_model_tag("skm", "team", "ops")
    client.set_registered_model_tag("skm", "gone", "x")
    client.delete_registered_model_tag("skm", "gone")
    client.delete_model_version("skm", v2.version)
    after_delete = {
        "versions": sorted(int(m.version) for m in client.search_model_versions("name = 'skm'")),
        "alias_gone": _raises(lambda: client.get_model_version_by_alias("skm", "second")),
        "version_tags": dict(client.get_model_version("skm", 1).tags),
        "model_tags": dict(client.get_registered_model("skm").tags),
        "v2_gone": _raises(lambda: client.get_model_version("skm", 2)),
    }
    renamed = client.rename_registered_model("skm", "skm-renamed")
    after_rename = {
        "returns": renamed is None,
        "name": client.get_registered_model("skm-renamed").name,
        "old_gone": _raises(lambda: client.get_registered_model("skm")),
        "loads": np.round(
            np.asarray(mlflow.pyfunc.load_model("models:/skm-renamed/1").predict(X)), 9
        ).tolist(),
        "same_name": _raises(lambda: client.rename_registered_model("skm-renamed", "skm-renamed")),
    }
    client.delete_registered_model("skm-renamed")
    out["registry_deletes"] = {
        "after_delete": after_delete,
        "after_rename": after_rename,
        "deleted": [m.name for m in client.search_registered_models("name LIKE 'skm%'")],
    }
    before = len(facade.search_runs(experiment_ids=[made]))
    mlflow.delete_run(crid)
    out["delete_run"] = [before, len(facade.search_runs(experiment_ids=[made])) - before]
    return out


if __name__ == "__main__":  # real MLflow, in a clean process
    # for the second client's store only (a folder); the scenario's own store is sqlite
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    import mlflow
    import mlflow.entities
    from mlflow import MlflowClient

    work = Path(sys.argv[1])
    result = observe(mlflow, mlflow, MlflowClient, mlflow.entities, f"sqlite:///{work}/m.db", work)
    print(json.dumps(result))
