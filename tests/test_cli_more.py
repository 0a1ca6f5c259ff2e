"""The commands people reach for from other trackers: runs delete, experiments set,
`ui`, `--store` before the command, suggestions for a mistyped command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sklearn.linear_model import Ridge

import runsite
from runsite.cli import main


def invoke(*args: str, stdin: str | None = None, env: dict | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), input=stdin, env=env)
    return result.exit_code, result.stdout, result.stderr


def _runs(n: int) -> list[runsite.Run]:
    out = []
    for i in range(n):
        with runsite.start_run(run_name=f"r{i}", log_git=False) as run:
            runsite.log_metric("rmse", float(i))
        out.append(run)
    return out


def test_runs_delete_asks_and_a_no_keeps_everything(store: Path) -> None:
    a, b = _runs(2)
    code, out, err = invoke("runs", "delete", a.run_id, "--store", str(store), stdin="n\n")
    assert code == 1 and "Aborted" in err
    assert a.run_id in out and "Delete 1 run" in out
    assert a.path.is_dir()
    code, out, _ = invoke(
        "runs", "delete", a.run_id[:20], b.run_id, "--store", str(store), stdin="y\n"
    )
    assert code == 0, out
    assert "deleted 2 runs" in out
    assert not a.path.exists() and not b.path.exists()


def test_runs_delete_yes_and_refusals(store: Path) -> None:
    (a,) = _runs(1)
    with runsite.start_run(run_name="model", log_git=False) as used:
        runsite.log_model(Ridge().fit([[0.0], [1.0]], [0.0, 1.0]), "model")
    runsite.register_model(f"runs:/{used.run_id}/model", "taxi")
    code, _, err = invoke("runs", "delete", a.run_id, used.run_id, "--yes", "--store", str(store))
    assert code == 1
    assert f"run {used.run_id} is taxi v1 (none)" in err and "Traceback" not in err
    assert a.path.is_dir() and used.path.is_dir()
    code, _, err = invoke("runs", "delete", "zzzzzzzz", "--yes", "--store", str(store))
    assert code == 1 and "no run 'zzzzzzzz'" in err
    code, _, err = invoke("runs", "delete", "--store", str(store))
    assert code == 2 and "RUN..." in err
    code, _, _ = invoke("runs", "delete", a.run_id, "-y", "--store", str(store))
    assert code == 0 and not a.path.exists()


def test_experiments_set(store: Path, tmp_path: Path) -> None:
    runsite.set_experiment("NYC Taxi")
    _runs(1)
    desc = tmp_path / "about.md"
    desc.write_text("# Taxi\n\nTrip durations.\n")
    code, _, err = invoke(
        "experiments", "set", "NYC Taxi", "--description-file", str(desc),
        "--key-metric", "rmse", "--store", str(store),
    )  # fmt: skip
    assert code == 0, err
    exp = runsite.Store(store).experiment("nyc-taxi")
    assert (exp.description, exp.key_metric) == ("# Taxi\n\nTrip durations.\n", "rmse")
    code, _, err = invoke("experiments", "set", "nyc-taxi", "--store", str(store))
    assert code == 2 and "--key-metric" in err
    code, _, err = invoke(
        "experiments", "set", "nyc-taxi", "--key-metric", "a/../b", "--store", str(store)
    )
    assert code == 1 and "key metric" in err
    code, _, err = invoke("experiments", "set", "nope", "--key-metric", "x", "--store", str(store))
    assert code == 1 and "no experiment 'nope'" in err
    code, _, _ = invoke("experiments", "set", "nyc-taxi", "--key-metric", "", "--store", str(store))
    assert code == 0 and runsite.Store(store).experiment("nyc-taxi").key_metric is None


def test_runs_show_prints_the_error_of_a_failed_run(store: Path) -> None:
    with pytest.raises(ZeroDivisionError), runsite.start_run(run_name="bad", log_git=False) as r:
        1 / 0  # noqa: B018
    code, out, _ = invoke("runs", "show", r.run_id, "--store", str(store))
    assert code == 0 and "\nerror\nTraceback" in out and "ZeroDivisionError" in out
    code, out, _ = invoke("runs", "show", r.run_id, "--store", str(store), "--json")
    assert json.loads(out)["error"]["exc_type"] == "ZeroDivisionError"


def test_store_before_the_command(store: Path, tmp_path: Path) -> None:
    (a,) = _runs(1)
    code, out, _ = invoke("--store", str(store), "runs", "list", env={"RUNSITE_STORE": "elsewhere"})
    assert code == 0 and a.run_id in out
    empty = tmp_path / "empty"
    # the command's own --store wins over the one before it
    code, out, _ = invoke("--store", str(store), "runs", "list", "--store", str(empty))
    assert code == 0 and a.run_id not in out
    code, out, err = invoke("--store", str(store), "build", "--out", str(tmp_path / "site"))
    assert code == 0, err
    assert (tmp_path / "site" / "runs" / f"{a.run_id}.html").is_file()


def test_ui_is_serve_and_mistyped_commands_get_suggestions() -> None:
    assert main.commands["ui"] is main.commands["serve"]
    code, _, err = invoke("biuld")
    assert code == 2 and "Did you mean 'build'?" in err
    code, _, err = invoke("runs", "serach")
    assert code == 2 and "Did you mean 'search'?" in err
    code, _, err = invoke("modles", "list")
    assert code == 2 and "Did you mean 'models'?" in err
    code, _, err = invoke("xyzzy")
    assert code == 2 and "No such command 'xyzzy'" in err and "Did you mean" not in err
