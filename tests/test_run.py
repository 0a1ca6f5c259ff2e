"""The logging API: what lands on disk, read back through the store."""

from __future__ import annotations

import json
import math
import os
import threading
import time
from pathlib import Path

import pytest

import runsite
from runsite import record


def only_run(store: Path) -> runsite.RunRecord:
    runs = runsite.Store(store).runs()
    assert len(runs) == 1
    return runs[0]


def test_params_metrics_tags_round_trip(store: Path, quiet_git: None) -> None:
    runsite.set_experiment("NYC Taxi")
    with runsite.start_run(run_name="ridge", tags={"team": "search"}, description="first") as r:
        assert runsite.log_param("alpha", 0.5) == 0.5
        runsite.log_params({"model": "ridge", "depth": 3, "flag": True, "none": None})
        for i in range(10):
            runsite.log_metric("rmse", 10.0 / (i + 1), step=i)
        runsite.log_metrics({"a": 1, "b": 2.5}, step=7)
        runsite.set_tag("stage", "dev")
        runsite.set_tags({"stage": "review", "k": 1})
    rec = only_run(store)
    assert rec.run_id == r.run_id
    assert rec.experiment == "NYC Taxi" and rec.experiment_id == "nyc-taxi"
    assert rec.status == "FINISHED" and rec.end_time is not None and rec.duration >= 0
    assert rec.params == {"alpha": 0.5, "model": "ridge", "depth": 3, "flag": True, "none": None}
    assert rec.data.params["flag"] == "True"
    assert rec.tags == {"team": "search", "stage": "review", "k": "1"}
    assert rec.metrics["rmse"] == {
        "last": 1.0,
        "min": 1.0,
        "max": 10.0,
        "count": 10,
        "last_step": 9,
    }
    assert rec.metrics["a"]["last_step"] == 7
    assert [n["text"] for n in rec.notes] == ["first"]
    table = rec.metric_history("rmse")
    assert table["step"].to_pylist() == list(range(10))
    assert table["value"].to_pylist() == [10.0 / (i + 1) for i in range(10)]


def test_closed_run_layout_is_compacted(store: Path, quiet_git: None) -> None:
    with runsite.start_run() as r:
        runsite.log_metric("loss", 1.0)
    files = sorted(p.name for p in r.path.iterdir())
    assert files == ["events.jsonl", "metrics.parquet", "run.json"]  # artifacts/ comes with one
    header = json.loads((r.path / "run.json").read_text())
    assert header["format"] == record.FORMAT_VERSION
    assert header["run_id"] == r.run_id and header["experiment"] == "Default"
    for key in ("user", "host", "pid", "command", "python", "packages", "start_time"):
        assert key in header
    assert "pyarrow" in {k.lower() for k in header["packages"]}


def test_default_steps_count_per_key(store: Path, quiet_git: None) -> None:
    with runsite.start_run():
        for _ in range(3):
            runsite.log_metric("a", 1.0)
        runsite.log_metric("b", 1.0)
        runsite.log_metric("a", 2.0, step=10)
        runsite.log_metric("a", 3.0)
    steps = only_run(store).metric_history("a")["step"].to_pylist()
    assert steps == [0, 1, 2, 10, 11]


def test_nan_and_infinity_are_kept(store: Path, quiet_git: None) -> None:
    with runsite.start_run():
        for i, v in enumerate([1.0, math.nan, math.inf, -math.inf, 2.0]):
            runsite.log_metric("x", v, step=i)
        runsite.log_metric("all_nan", math.nan)
    rec = only_run(store)
    values = rec.metric_history("x")["value"].to_pylist()
    assert values[0] == 1.0 and math.isnan(values[1]) and values[2:] == [math.inf, -math.inf, 2.0]
    assert rec.metrics["x"]["min"] == -math.inf and rec.metrics["x"]["max"] == math.inf
    assert math.isnan(rec.metrics["all_nan"]["last"]) and math.isnan(rec.metrics["all_nan"]["min"])


def test_last_is_value_at_highest_step(store: Path, quiet_git: None) -> None:
    with runsite.start_run():
        runsite.log_metric("m", 5.0, step=10)
        runsite.log_metric("m", 7.0, step=2)
    assert only_run(store).metrics["m"]["last"] == 5.0


def test_param_is_immutable(store: Path, quiet_git: None) -> None:
    with runsite.start_run():
        runsite.log_param("lr", 0.1)
        runsite.log_param("lr", 0.1)  # same value again is fine
        runsite.log_param("lr", "0.1")  # MLflow logs strings: the same text is the same value
        with pytest.raises(runsite.InvalidInput, match=r"'lr'.*0\.1.*0\.2"):
            runsite.log_param("lr", 0.2)
        with pytest.raises(runsite.InvalidInput, match="'lr'"):
            runsite.log_params({"ok": 1, "depth": 3, "lr": 0.5})
    rec = only_run(store)
    assert rec.params == {"lr": 0.1}  # the refused batch logged nothing


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (12, "must be a string"),
        ("", "must not be empty"),
        ("a" * 251, "limit is 250"),
        ("bad;key", "not allowed"),
        ("../escape", "'..'"),
        ("/abs", "must not start with '/'"),
    ],
)
def test_bad_keys_are_refused_and_nothing_is_lost(
    store: Path, quiet_git: None, key: object, message: str
) -> None:
    with runsite.start_run():
        runsite.log_param("kept", 1)
        runsite.log_metric("kept", 1.0)
        for call in (
            lambda: runsite.log_param(key, 1),  # type: ignore[arg-type]
            lambda: runsite.log_metric(key, 1.0),  # type: ignore[arg-type]
            lambda: runsite.set_tag(key, "x"),  # type: ignore[arg-type]
        ):
            with pytest.raises(runsite.InvalidInput, match=message):
                call()
    rec = only_run(store)
    assert rec.params == {"kept": 1} and rec.metrics["kept"]["count"] == 1 and not rec.warnings


def test_bad_values_are_refused_naming_the_key(store: Path, quiet_git: None) -> None:
    with runsite.start_run():
        with pytest.raises(runsite.InvalidInput, match="metric 'loss' must be a number"):
            runsite.log_metric("loss", "0.5")  # type: ignore[arg-type]
        with pytest.raises(runsite.InvalidInput, match="metric 'loss' must be a number"):
            runsite.log_metric("loss", [1])  # type: ignore[arg-type]
        with pytest.raises(runsite.InvalidInput, match="step of metric 'loss'"):
            runsite.log_metric("loss", 1.0, step=1.5)  # type: ignore[arg-type]
        with pytest.raises(runsite.InvalidInput, match="limit is 6000"):
            runsite.log_param("long", "x" * 6001)
        with pytest.raises(runsite.InvalidInput, match="limit is 8000"):
            runsite.set_tag("long", "x" * 8001)
        with pytest.raises(runsite.InvalidInput, match="metric 'bad'"):
            runsite.log_metrics({"good": 1.0, "bad": "x"})
    rec = only_run(store)
    assert rec.params == {} and rec.metrics == {} and rec.tags == {}


def test_numpy_scalars_are_accepted(store: Path, quiet_git: None) -> None:
    np = pytest.importorskip("numpy")
    with runsite.start_run():
        runsite.log_metric("loss", np.float32(0.5), step=np.int64(3))
    assert only_run(store).metrics["loss"]["last_step"] == 3


def test_logging_after_end_is_an_error(store: Path, quiet_git: None) -> None:
    r = runsite.start_run()
    r.log_metric("x", 1.0)
    runsite.end_run()
    for call in (
        lambda: r.log_metric("x", 2.0),
        lambda: r.log_param("p", 1),
        lambda: r.set_tag("t", "v"),
        lambda: r.log_text("x", "a.txt"),
    ):
        with pytest.raises(runsite.RunStateError, match="has ended"):
            call()
    rec = only_run(store)
    assert rec.metrics["x"]["count"] == 1 and rec.params == {} and rec.artifacts == []


def test_end_status_is_checked(store: Path, quiet_git: None) -> None:
    runsite.start_run()
    with pytest.raises(runsite.InvalidInput, match="FINISHED, FAILED, KILLED"):
        runsite.end_run("DONE")
    runsite.end_run("failed")
    assert only_run(store).status == "FAILED"


def test_context_manager_statuses(store: Path, quiet_git: None) -> None:
    with pytest.raises(RuntimeError), runsite.start_run(run_name="boom"):
        raise RuntimeError("boom")
    with pytest.raises(KeyboardInterrupt), runsite.start_run(run_name="ctrl-c"):
        raise KeyboardInterrupt
    assert runsite.active_run() is None
    by_name = {r.run_name: r.status for r in runsite.Store(store).runs()}
    assert by_name == {"boom": "FAILED", "ctrl-c": "KILLED"}


def test_nested_runs_record_parent(store: Path, quiet_git: None) -> None:
    with runsite.start_run(run_name="parent") as parent:
        with pytest.raises(runsite.RunStateError, match="already active"):
            runsite.start_run()
        with runsite.start_run(run_name="child", nested=True) as child:
            assert runsite.active_run() is child
            runsite.log_metric("m", 1.0)
        assert runsite.active_run() is parent
    recs = {r.run_name: r for r in runsite.Store(store).runs()}
    assert recs["child"].parent_run_id == parent.run_id
    assert recs["parent"].parent_run_id is None and "m" not in recs["parent"].metrics


def test_auto_start_like_mlflow(store: Path, quiet_git: None) -> None:
    runsite.log_param("p", 1)  # no active run: one is started
    r = runsite.active_run()
    assert r is not None and r.run_name  # a generated readable name
    runsite.end_run()
    assert runsite.last_active_run() is r
    assert only_run(store).params == {"p": 1}


def test_generated_names_and_ids(store: Path, quiet_git: None) -> None:
    ids = []
    for _ in range(5):
        with runsite.start_run() as r:
            ids.append(r.run_id)
            assert len(r.run_name.split("-")) == 3
    assert ids == sorted(ids) and len(set(ids)) == 5


def test_mlflow_shape(store: Path, quiet_git: None) -> None:
    with runsite.start_run(run_name="shape") as r:
        runsite.log_param("alpha", 1)
        runsite.log_metric("rmse", 2.0)
        runsite.set_tag("t", "v")
        assert r.info.status == "RUNNING"
        assert r.data.params == {"alpha": "1"}
        assert r.data.metrics == {"rmse": 2.0}
    assert r.info.run_id == r.run_id and r.info.status == "FINISHED"
    assert r.info.experiment_id == "default" and r.info.run_name == "shape"
    assert r.info.artifact_uri.startswith("file://")
    rec = runsite.search_runs()[0]
    assert rec.info.run_id == r.run_id and rec.data.metrics == {"rmse": 2.0}
    # MLflow's system tags are derived from the header, next to the run's own
    assert {k: v for k, v in rec.data.tags.items() if not k.startswith("mlflow.")} == {"t": "v"}
    assert rec.data.tags["mlflow.runName"] == "shape"


def test_start_run_refuses_resume(store: Path) -> None:
    with pytest.raises(runsite.InvalidInput, match="cannot be resumed"):
        runsite.start_run(run_id="01abc")


def test_mlflow_note_tag_becomes_a_note(store: Path, quiet_git: None) -> None:
    with runsite.start_run():
        runsite.set_tag("mlflow.note.content", "# Title\nbody")
    rec = only_run(store)
    assert rec.notes[0]["text"] == "# Title\nbody" and rec.tags == {}


def test_threads_share_the_fluent_run(store: Path, quiet_git: None) -> None:
    with runsite.start_run():

        def work(n: int) -> None:
            for i in range(500):
                runsite.log_metric(f"t{n}", float(i), step=i)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    rec = only_run(store)
    assert {k: v["count"] for k, v in rec.metrics.items()} == {f"t{n}": 500 for n in range(4)}


def test_object_api_without_global_state(tmp_path: Path, quiet_git: None) -> None:
    st = runsite.Store(tmp_path / "lib-store")
    with st.start_run(experiment="lib", run_name="r1") as r:
        r.log_metric("m", 1.0)
        assert runsite.active_run() is None
    assert [x.run_name for x in st.runs("lib")] == ["r1"]


def test_open_run_reads_as_running(store: Path, quiet_git: None) -> None:
    r = runsite.start_run()
    r.log_metric("m", 3.0)
    r._metrics.flush()
    rec = only_run(store)
    assert rec.status == "RUNNING" and rec.metrics["m"]["last"] == 3.0
    runsite.end_run()
    assert only_run(store).status == "FINISHED"


def test_set_tracking_uri_accepts_file_uris(tmp_path: Path, quiet_git: None) -> None:
    target = tmp_path / "uri store"
    runsite.set_tracking_uri(target.as_uri())
    assert runsite.get_store_path() == target
    runsite.set_tracking_uri("relative/runs")
    assert runsite.get_store_path() == Path("relative/runs")
    with pytest.raises(runsite.InvalidInput, match="no tracking server"):
        runsite.set_tracking_uri("http://localhost:5000")


def test_store_from_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, quiet_git: None
) -> None:
    monkeypatch.setenv("RUNSITE_STORE", str(tmp_path / "env-store"))
    with runsite.start_run():
        pass
    assert len(runsite.Store(tmp_path / "env-store").runs()) == 1


def test_default_store_is_runs_in_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, quiet_git: None
) -> None:
    monkeypatch.chdir(tmp_path)
    with runsite.start_run():
        pass
    assert len(os.listdir(tmp_path / "runs" / "default")) == 1


def test_experiment_names_become_safe_folders(store: Path, quiet_git: None) -> None:
    exp = runsite.set_experiment("../../etc/passwd")
    assert exp.experiment_id == "etc-passwd"
    assert (store / "etc-passwd").is_dir()
    with pytest.raises(runsite.InvalidInput, match="no letters or digits"):
        runsite.set_experiment("../..")
    with pytest.raises(runsite.InvalidInput, match="must not be empty"):
        runsite.set_experiment("  ")


def test_ending_a_run_object_ends_it_as_the_active_run(store: Path, quiet_git: None) -> None:
    r = runsite.start_run(log_git=False)
    r.end()
    assert runsite.active_run() is None and runsite.last_active_run() is r
    with runsite.start_run(log_git=False) as r2:  # not "already active"
        pass
    assert runsite.last_active_run() is r2
    with runsite.Store(store).start_run(experiment="lib", log_git=False):
        pass
    assert runsite.last_active_run() is r2  # the object API leaves global state alone


def test_set_clock_stamps_everything_a_run_and_the_registry_write(
    store: Path, quiet_git: None
) -> None:
    """record.set_clock (how examples/train.py spreads the demo over weeks): the run's
    start, id, events, metric points, end, its model's `created` and the version's
    `registered` date all come from the clock; None gives the system clock back."""
    from runsite.registry import Registry
    from site_store import log_small_model

    now = [1_790_000_000_000]  # 2026-09-21T14:13:20Z

    def clock() -> int:
        now[0] += 1_000
        return now[0]

    record.set_clock(clock)
    try:
        runsite.set_experiment("clocked")
        with runsite.start_run(run_name="r") as run:
            runsite.log_param("p", 1)
            runsite.log_metric("m", 1.0)
            log_small_model(0.1)
        version = runsite.register_model(f"runs:/{run.info.run_id}/model", "clocked")
    finally:
        record.set_clock(None)
    rec = only_run(store)
    start = rec.start_time
    assert 1_790_000_000_000 < start < rec.end_time < now[0] + 1 <= 1_790_000_100_000
    assert rec.run_id < runsite.ids.new_run_id(start + 1)  # the id is made of the start
    events = [json.loads(x) for x in (rec.path / record.EVENTS).read_text().splitlines()]
    assert all(start <= e["t"] <= now[0] for e in events)
    (stamp,) = rec.metric_history("m").column("timestamp").to_pylist()
    assert start <= stamp <= now[0]
    model_yaml = (rec.path / "artifacts" / "model" / "model.yaml").read_text()
    assert "created: '2026-09-21T14:13:" in model_yaml
    (mv,) = Registry(store).get_model("clocked").versions
    assert mv.version == version.version and mv.registered.startswith("2026-09-21T14:13:")
    assert abs(record.now_ms() - time.time() * 1000) < 60_000  # the system's clock again
