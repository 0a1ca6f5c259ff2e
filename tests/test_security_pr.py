"""Crafted pull requests against the CI checks, in real git repositories: forged
evidence for the metric gate, edits to closed runs, impostor run folders."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import runsite
from conftest import git
from runsite.cli import main

Ridge = pytest.importorskip("sklearn.linear_model").Ridge


def cli(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout, r.stderr


def train(rmse: float, name: str = "ridge") -> str:
    X = np.arange(20.0).reshape(10, 2)
    with runsite.start_run(run_name=name) as run:
        runsite.log_param("alpha", rmse)
        runsite.log_metric("rmse", rmse)
        runsite.log_model(Ridge(alpha=rmse).fit(X, X.sum(axis=1)), "model")
    return run.run_id


def run_dir(store: Path, run_id: str) -> Path:
    (found,) = list(store.glob(f"*/{run_id}"))
    return found


def forge_metric(folder: Path, key: str, value: float) -> None:
    """Rewrite the run's recorded summary of ``key`` (the end event) to ``value``."""
    events = folder / "events.jsonl"
    lines = []
    for line in events.read_text().splitlines():
        rec = json.loads(line)
        if rec.get("metrics") and key in rec["metrics"]:
            for agg in ("last", "min", "max"):
                rec["metrics"][key][agg] = value
        lines.append(json.dumps(rec))
    events.write_text("\n".join(lines) + "\n")


@pytest.fixture
def promoted(repo: Path) -> tuple[Path, str, str]:
    """main: v1 (rmse 4) in production with an rmse gate; v2 (rmse 6.5) registered.
    The current branch is ``pr`` (made from main)."""
    store = repo / "runs"
    runsite.set_store(store)
    runsite.set_experiment("taxi")
    good, worse = train(4.0, "good"), train(6.5, "worse")
    s = ("--store", str(store))
    assert cli("models", "register", f"{good}/model", "taxi", *s)[0] == 0
    assert cli("models", "register", f"{worse}/model", "taxi", *s)[0] == 0
    reg = store / "registry.yaml"
    reg.write_text(
        reg.read_text().replace("format: 1\n", "format: 1\npolicy:\n  metric: rmse\n", 1)
    )
    assert cli("models", "stage", "taxi", "1", "production", *s)[0] == 0
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "v1 in production")
    git(repo, "checkout", "-qb", "pr")
    return store, good, worse


def promote_v2(store: Path, repo: Path, message: str) -> tuple[int, str, str]:
    s = ("--store", str(store))
    assert cli("models", "stage", "taxi", "2", "production", "--archive-existing", *s)[0] == 0
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)
    return cli("models", "check", "--base", "main", *s)


# -------------------------------------------------------------- forged evidence (attack 2)


def test_editing_the_incumbents_metrics_does_not_pass_a_worse_model(
    repo: Path, promoted: tuple[Path, str, str]
) -> None:
    store, good, _ = promoted
    forge_metric(run_dir(store, good), "rmse", 9.0)  # the incumbent now looks worse
    assert runsite.Store(store).run(good).metrics["rmse"]["last"] == 9.0
    code, out, err = promote_v2(store, repo, "promote v2; quietly 'fix' v1's rmse")
    assert code == 1, out
    assert "rmse 6.5 is worse than v1's 4" in err
    assert "| **rmse** (gate, minimize) | 6.5 ❌ | 4 |" in out  # the report shows the base's 4
    # ... and the runs check names the edit.
    code, out, err = cli("runs", "check", "--base", "main", "--store", str(store))
    assert code == 1
    assert f"taxi/{good}: run {good} ended (FINISHED) before the base and this change " in err
    assert "modifies it (events.jsonl)" in err


def test_editing_the_candidates_closed_run_does_not_help_it(
    repo: Path, promoted: tuple[Path, str, str]
) -> None:
    store, _, worse = promoted
    forge_metric(run_dir(store, worse), "rmse", 1.0)  # the candidate now looks better
    code, _, err = promote_v2(store, repo, "promote v2 with a better-looking rmse")
    assert code == 1
    assert "rmse 6.5 is worse than v1's 4" in err


def test_deleting_or_shadowing_the_incumbents_run(
    repo: Path, promoted: tuple[Path, str, str]
) -> None:
    store, good, _ = promoted
    # An impostor with the incumbent's id in another experiment, and a worse copy.
    shutil.copytree(run_dir(store, good), store / "other" / good)
    forge_metric(store / "other" / good, "rmse", 9.0)
    code, _, err = promote_v2(store, repo, "promote v2 next to an impostor")
    assert code == 1 and "rmse 6.5 is worse than v1's 4" in err
    code, _, err = cli("runs", "check", "--base", "main", "--store", str(store))
    assert code == 1 and f"other/{good}: run id {good} is also held by taxi/{good}" in err

    # Deleting the incumbent's run: the base still holds its evidence.
    shutil.rmtree(store / "other")
    shutil.rmtree(run_dir(store, good))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "drop v1's run")
    code, _, err = cli("models", "check", "--base", "main", "--store", str(store))
    assert code == 1 and "rmse 6.5 is worse than v1's 4" in err
    code, _, err = cli("runs", "check", "--base", "main", "--store", str(store))
    assert code == 1 and "this change deletes it" in err


def test_a_better_candidate_still_passes(repo: Path, promoted: tuple[Path, str, str]) -> None:
    store, _, _ = promoted
    best = train(3.0, "best")
    s = ("--store", str(store))
    assert cli("models", "register", f"{best}/model", "taxi", *s)[0] == 0
    assert cli("models", "stage", "taxi", "3", "production", "--archive-existing", *s)[0] == 0
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "promote v3")
    code, out, err = cli("models", "check", "--base", "main", *s)
    assert code == 0, err
    assert "| **rmse** (gate, minimize) | 3 ✅ | 4 |" in out
    code, out, err = cli("runs", "check", "--base", "main", *s)
    assert code == 0, err
    assert "1 run(s) added, 0 run(s) modified, 0 run(s) deleted" in out


# -------------------------------------------------------------- the runs check


def _symlink(folder: Path) -> None:
    target = folder / "events.jsonl"
    target.rename(folder / "events.real")
    os.symlink("events.real", target)


def _drop_end(folder: Path) -> None:
    events = folder / "events.jsonl"
    lines = [line for line in events.read_text().splitlines() if '"status"' not in line]
    events.write_text("\n".join(lines) + "\n")


def _new_run_claiming(store: Path, run_id: str) -> None:
    new = store / "taxi" / ("f" * 32)
    shutil.copytree(run_dir(store, run_id), new)


def _bad_types(store: Path, run_id: str) -> None:
    new = store / "taxi" / ("e" * 32)
    shutil.copytree(run_dir(store, run_id), new)
    header = json.loads((new / "run.json").read_text())
    header["run_id"] = "e" * 32
    header["start_time"] = "yesterday"
    (new / "run.json").write_text(json.dumps(header))


# (what the pull request does, expected problem or None when it must pass)
PR_SCENARIOS = {
    "append an event to a closed run": (
        lambda s, r: (run_dir(s, r) / "events.jsonl").open("a").write('{"e":"tag"}\n'),
        "modifies it (events.jsonl)",
    ),
    "rewrite a closed run's metric table": (
        lambda s, r: (run_dir(s, r) / "metrics.parquet").write_bytes(b"PAR1 forged"),
        "modifies it (metrics.parquet)",
    ),
    "swap a closed run's model pickle": (
        lambda s, r: (run_dir(s, r) / "artifacts/model/model.pkl").write_bytes(b"forged"),
        "modifies it (artifacts/model/model.pkl)",
    ),
    "add a file to a closed run": (
        lambda s, r: (run_dir(s, r) / "artifacts/extra.txt").write_text("x"),
        "modifies it (artifacts/extra.txt)",
    ),
    "make a closed run's file executable": (
        lambda s, r: (run_dir(s, r) / "run.json").chmod(0o755),
        "modifies it (run.json)",
    ),
    "replace a closed run's file by a symlink": (
        lambda s, r: _symlink(run_dir(s, r)),
        "modifies it (events.jsonl, events.real)",
    ),
    "reopen a closed run (drop its end event)": (
        lambda s, r: _drop_end(run_dir(s, r)),
        "modifies it (events.jsonl)",
    ),
    "delete a closed run": (
        lambda s, r: shutil.rmtree(run_dir(s, r)),
        "this change deletes it",
    ),
    "move a closed run to another experiment": (
        lambda s, r: shutil.move(run_dir(s, r), s / "elsewhere" / r),
        "this change deletes it",
    ),
    "add a run whose run.json claims another id": (
        lambda s, r: _new_run_claiming(s, r),
        f"run.json claims run id '{{r}}' but its folder is '{'f' * 32}'",
    ),
    "add a folder with an existing run's id": (
        lambda s, r: shutil.copytree(run_dir(s, r), s / "elsewhere" / r),
        "run id {r} is also held by",
    ),
    "add a run with a bad run.json": (
        lambda s, r: _bad_types(s, r),
        "'start_time' must be an integer or null, not str",
    ),
    "add an ordinary new run": (lambda s, r: train(5.0, "new"), None),
    "change an experiment's description": (
        lambda s, r: (s / "taxi" / "experiment.yaml").write_text("description: hi\n"),
        None,
    ),
}


@pytest.mark.parametrize("scenario", sorted(PR_SCENARIOS))
def test_runs_check_pull_request_scenarios(
    repo: Path, promoted: tuple[Path, str, str], scenario: str
) -> None:
    store, good, _ = promoted
    (store / "elsewhere").mkdir()
    change, expected = PR_SCENARIOS[scenario]
    change(store, good)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", scenario)
    summary = repo.parent / "summary.md"
    code, out, err = cli(
        "runs", "check", "--base", "main", "--store", str(store), "--summary", str(summary)
    )
    report = summary.read_text()
    if expected is None:
        assert code == 0, err
        assert report.startswith("## runsite runs check: ✅ passed")
    else:
        assert code == 1, out
        assert expected.format(r=good) in err
        assert report.startswith("## runsite runs check: ❌")
        assert "### Problems" in report


def test_open_runs_may_change_and_uncommitted_changes_are_named(
    repo: Path, promoted: tuple[Path, str, str]
) -> None:
    store, _, _ = promoted
    git(repo, "checkout", "-q", "main")
    crashed = train(5.0, "crashed")
    _drop_end(run_dir(store, crashed))  # as if the process died: no end event
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a crashed run")
    git(repo, "checkout", "-qb", "pr2")
    (run_dir(store, crashed) / "events.jsonl").open("a").write('{"e":"note"}\n')
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "touch the open run")
    (store / "taxi" / "untracked.txt").write_text("x")
    code, out, err = cli("runs", "check", "--base", "main", "--store", str(store), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["changes"] == [
        {"run": f"taxi/{crashed}", "change": "modified", "closed_at_base": False}
    ]
    assert "1 uncommitted change(s)" in data["warnings"][0]


def test_runs_check_reads_git_objects_not_the_working_tree(
    repo: Path, promoted: tuple[Path, str, str]
) -> None:
    store, good, _ = promoted
    # An uncommitted edit is not part of the pull request: the check reads HEAD.
    forge_metric(run_dir(store, good), "rmse", 9.0)
    code, _, err = cli("runs", "check", "--base", "main", "--store", str(store))
    assert code == 0 and "uncommitted change(s)" in err
    # A mistyped --store or ref is an error, never an empty success.
    code, _, err = cli("runs", "check", "--base", "main", "--store", str(repo / "nope"))
    assert code == 1 and "no store to check" in err
    code, _, err = cli("runs", "check", "--base", "no-such-branch", "--store", str(store))
    assert code == 1 and "unknown git revision 'no-such-branch'" in err


# -------------------------------------------------------------- the check's report


def github_html(markdown: str) -> str:
    """The report as GitHub renders a job summary (cmark-gfm, GitHub's own parser)."""
    cmarkgfm = pytest.importorskip("cmarkgfm")
    from cmarkgfm.cmark import Options

    return str(
        cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    )


def train_with(rmse: float, name: str, params: dict[str, object]) -> str:
    X = np.arange(20.0).reshape(10, 2)
    with runsite.start_run(run_name=name) as run:
        runsite.log_params(params)
        runsite.log_metric("rmse", rmse)
        runsite.log_model(Ridge(alpha=1.0).fit(X, X.sum(axis=1)), "model")
    return run.run_id


def _promote_new(store: Path, repo: Path, run_id: str) -> tuple[int, str, str]:
    s = ("--store", str(store))
    assert cli("models", "register", f"{run_id}/model", "taxi", *s)[0] == 0
    assert cli("models", "stage", "taxi", "3", "production", "--archive-existing", *s)[0] == 0
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "promote v3")
    summary = repo.parent / "summary.md"
    code, _, err = cli("models", "check", "--base", "main", "--summary", str(summary), *s)
    return code, summary.read_text(), err


def test_check_summary_masks_secrets_and_keeps_site_excludes(
    repo: Path, promoted: tuple[Path, str, str]
) -> None:
    store, _, _ = promoted
    git(repo, "checkout", "-q", "main")
    (store / "site.yaml").write_text('exclude:\n  params: ["internal_*"]\n')
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "site: hide internal params")
    git(repo, "checkout", "-q", "pr")
    git(repo, "merge", "-q", "main")
    (store / "site.yaml").write_text("title: mine\n")  # the PR drops the exclude
    run_id = train_with(
        3.0,
        "best",
        {
            "API_KEY": "s3cr3t-1",
            "openai-api-key": "s3cr3t-2",
            "db_password": "s3cr3t-3",
            "internal_cost_center": "s3cr3t-4",
            "dsn": "postgres://me:s3cr3t-5@db/x",
            "data_url": "postgres://me:s3cr3t-6@db/x",
            "n_keys": 12,
        },
    )
    code, report, err = _promote_new(store, repo, run_id)
    assert code == 0, err
    assert "s3cr3t" not in report
    assert "| param `API_KEY` | \\*\\*\\* |" in report
    assert "internal_cost_center" not in report
    assert "| param `n_keys` | 12 |" in report
    assert "postgres\\:\\/\\/me\\:\\*\\*\\*\\@\u2060db\\/x" in report


HOSTILE_NAME = "[✅ Approved by the ML platform team](https://evil.example/approve)"
HOSTILE_VALUES = {
    "a_link": "[approved](https://evil.example/)",
    "b_image": "![](https://evil.example/x.png)",
    "c_html": "<script>alert(1)</script><iframe src=//evil.example>",
    "d_backticks": "a`b``c```d",
    "e_pipe": "x | y | z",
    "f_autolink": "<https://evil.example/> mail@evil.example www.evil.example",
    "g_misc": "<b>bold</b> &lt;entity&gt; **strong** <!-- comment --> \u202eevil",
    "h_lines": "first line\nsecond line",
    "i_closing": "` <b>out</b>",
}


def test_check_report_cannot_be_forged_by_data(repo: Path, promoted: tuple[Path, str, str]) -> None:
    """Attack 11: run names and param values with links, images, HTML and backticks
    render as text in the job summary."""
    store, good, _ = promoted
    run_id = train_with(3.0, HOSTILE_NAME, HOSTILE_VALUES)
    code, report, err = _promote_new(store, repo, run_id)
    assert code == 0, err
    html = github_html(report)
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    tags = {t.name for t in soup.find_all(True)}
    assert tags <= {"h2", "h3", "p", "ul", "li", "table", "thead", "tbody", "tr", "th", "td"} | {
        "code",
        "strong",
        "br",
    }, tags
    assert "evil.example" not in " ".join(str(a.get("href")) for a in soup.find_all("a"))
    assert "<!--" not in html
    # Code spans hold exactly the run ids, hashes and param names: nothing closed them.
    codes = [c.get_text() for c in soup.find_all("code")]
    assert run_id in codes and good in codes
    assert {f"{k}" for k in HOSTILE_VALUES} <= set(codes)
    # The text still says what the data says (escaped, not dropped), on one line.
    text = soup.get_text()
    assert "[✅ Approved by the ML platform team](https://evil.example/approve)" in text
    assert "<script>alert(1)</script>" in text and "a`b``c```d" in text
    assert "<b>bold</b> &lt;entity&gt; **strong** <!-- comment -->" in text
    assert "\u202e" not in text and "first line second line" in text


def test_models_pull_refuses_a_hostile_pickle_unless_trusted(store: Path, tmp_path: Path) -> None:
    import pickle

    from test_security_core import Payload, _rehash

    runsite.set_experiment("taxi")
    X = np.arange(20.0).reshape(10, 2)
    with runsite.start_run(log_git=False):
        info = runsite.log_model(Ridge().fit(X, X.sum(axis=1)), "model")
    folder = Path(info.path)
    marker = tmp_path / "marker"
    (folder / "model.pkl").write_bytes(pickle.dumps(Payload(marker)))
    _rehash(folder)
    s = ("--store", str(store))
    assert cli("models", "register", info.model_uri, "taxi", *s)[0] == 0
    code, _, err = cli("models", "pull", "taxi/1", "--out", str(tmp_path / "a"), *s)
    assert code == 1 and "builtins.exec" in err and "--trust-pickle" in err
    assert not (tmp_path / "a" / "model.pkl").exists()
    code, _, err = cli(
        "models", "pull", "taxi/1", "--out", str(tmp_path / "b"), "--trust-pickle", *s
    )
    assert code == 0, err
    assert (tmp_path / "b" / "model.pkl").read_bytes() == (folder / "model.pkl").read_bytes()
    assert not marker.exists()  # copied, never unpickled
