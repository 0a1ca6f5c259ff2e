"""The command line, through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import runsite
from runsite.cli import main


@pytest.fixture
def populated(store: Path) -> Path:
    runsite.set_experiment("NYC Taxi")
    for name, alpha, rmse in [("ridge", 0.5, 6.2), ("lasso", 1.0, 5.1), ("xgb", 0.1, 4.3)]:
        with runsite.start_run(run_name=name, log_git=False):
            runsite.log_params({"alpha": alpha, "model": name})
            runsite.log_metric("rmse", rmse + 1, step=0)
            runsite.log_metric("rmse", rmse, step=1)
    runsite.set_experiment("other")
    with runsite.start_run(run_name="solo", log_git=False):
        runsite.set_tag("kind", "<b>x</b>")
    return store


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_experiments_list(populated: Path) -> None:
    code, out, _ = invoke("experiments", "list", "--store", str(populated))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["ID", "NAME", "RUNS"]
    assert any(line.startswith("nyc-taxi") and " 3 " in line for line in lines)
    code, out, _ = invoke("experiments", "list", "--store", str(populated), "--json")
    data = json.loads(out)
    assert {e["experiment_id"]: e["runs"] for e in data} == {"nyc-taxi": 3, "other": 1}
    assert {e["name"] for e in data} == {"NYC Taxi", "other"}


def test_runs_list_and_json(populated: Path) -> None:
    code, out, _ = invoke("runs", "list", "NYC Taxi", "--store", str(populated))
    assert code == 0
    names = [line.split()[1] for line in out.splitlines()[1:]]
    assert names == ["xgb", "lasso", "ridge"]  # newest first
    code, out, _ = invoke("runs", "list", "--store", str(populated), "--json", "--max-results", "2")
    data = json.loads(out)
    assert len(data) == 2 and data[0]["run_name"] == "solo"
    assert data[1]["metrics"]["rmse"]["last"] == 4.3


def test_runs_show(populated: Path) -> None:
    rec = runsite.Store(populated).runs("nyc-taxi")[0]
    code, out, _ = invoke("runs", "show", rec.run_id[:10], "--store", str(populated))
    assert code == 0
    assert rec.run_id in out and "FINISHED" in out and "alpha" in out and "4.3" in out
    code, out, _ = invoke("runs", "show", rec.run_id, "--store", str(populated), "--json")
    assert json.loads(out)["params"] == {"alpha": 0.1, "model": "xgb"}


def test_runs_search(populated: Path) -> None:
    code, out, _ = invoke(
        "runs",
        "search",
        "metrics.rmse < 6 and params.alpha >= 0.5",
        "--store",
        str(populated),
        "--json",
    )
    assert code == 0, out
    assert [r["run_name"] for r in json.loads(out)] == ["lasso"]
    code, out, _ = invoke(
        "runs",
        "search",
        "metrics.rmse.max > 0",
        "--order-by",
        "metrics.rmse ASC",
        "--store",
        str(populated),
        "--json",
    )
    assert [r["run_name"] for r in json.loads(out)] == ["xgb", "lasso", "ridge"]


def test_store_from_environment(populated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNSITE_STORE", str(populated))
    code, out, _ = invoke("runs", "list", "other", "--json")
    assert code == 0 and json.loads(out)[0]["tags"] == {"kind": "<b>x</b>"}


def test_errors_are_one_clean_line(populated: Path) -> None:
    code, _, err = invoke("runs", "search", "metrics.rmse <", "--store", str(populated))
    assert code == 1 and "Traceback" not in err
    assert err.startswith("Error: ") and "position" in err
    code, _, err = invoke("runs", "show", "zzzzzzzzzz", "--store", str(populated))
    assert code == 1 and err.strip() == f"Error: no run 'zzzzzzzzzz' in store {populated}"
    code, _, err = invoke("runs", "list", "nope", "--store", str(populated))
    assert code == 1 and len(err.strip().splitlines()) == 1 and "no experiment 'nope'" in err


def test_usage_errors_exit_2() -> None:
    code, _, err = invoke("runs", "show")
    assert code == 2 and "Missing argument" in err
    code, _, _ = invoke("nonsense")
    assert code == 2


def all_commands():  # type: ignore[no-untyped-def]
    def walk(group, path):  # type: ignore[no-untyped-def]
        for name, cmd in group.commands.items():
            yield [*path, name], cmd
            if hasattr(cmd, "commands"):
                yield from walk(cmd, [*path, name])

    return list(walk(main, []))


def test_every_command_has_help() -> None:
    for path, cmd in all_commands():
        assert cmd.help, f"runsite {' '.join(path)} has no help text"
        code, out, _ = invoke(*path, "--help")
        assert code == 0 and "Usage:" in out


def test_every_command_is_documented() -> None:
    docs = (Path(__file__).parent.parent / "docs" / "cli.md").read_text()
    leaves = [path for path, cmd in all_commands() if not hasattr(cmd, "commands")]
    assert len(leaves) >= 14
    for path in leaves:
        assert f"`runsite {' '.join(path)}" in docs, (
            f"runsite {' '.join(path)} is not in docs/cli.md"
        )
