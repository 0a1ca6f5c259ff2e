"""The README's main command: the quickstart logs, registers, promotes; the site builds.

Run as a user would, in a fresh process, with pandas hidden: the README installs only
``runsite[sklearn]``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import runsite
from runsite.registry import Registry

ROOT = Path(__file__).resolve().parent.parent
NO_PANDAS = """
import runpy, sys

class HidePandas:
    def find_spec(self, name, path=None, target=None):
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError("pandas is not installed (hidden by the test)")

sys.meta_path.insert(0, HidePandas())
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def test_quickstart_then_build(tmp_path: Path) -> None:
    store = tmp_path / "runs"
    env = {**os.environ, "RUNSITE_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run(
        [sys.executable, "-c", NO_PANDAS, str(ROOT / "examples" / "quickstart.py"), str(store)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "in production" in done.stdout
    runs = runsite.Store(store).runs("diabetes")
    assert len(runs) == 3 and {r.status for r in runs} == {"FINISHED"}
    (model,) = Registry(store).list_models()
    assert [v.stage for v in model.versions] == ["production"]
    built = subprocess.run(
        [sys.executable, "-m", "runsite", "build", str(store), "--out", str(tmp_path / "site")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    assert "3 runs" in built.stdout
    assert (tmp_path / "site" / "index.html").is_file()
    assert (tmp_path / "site" / "models" / "diabetes-ridge.html").is_file()


EXAMPLE = ROOT / "example_runs"
HISTORY = EXAMPLE / "registry-history.json"
DAY = 86_400_000


def _build_demo(store: Path, out: Path) -> None:
    """The README's main command (with --strict), in-process."""
    from click.testing import CliRunner

    from runsite.cli import main

    result = CliRunner().invoke(
        main,
        [
            "build", str(store), "--out", str(out), "--strict",
            "--registry-history", str(store / "registry-history.json"),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output


def story_problems(store: Path) -> list[str]:
    """What the demo must show, checked on a store (the committed one, or a fresh one)."""
    import json

    from runsite.registry.history import load_recorded

    problems = []
    st = runsite.Store(store)
    runs = st.runs()
    experiments = {r.experiment_id for r in runs}
    if len(experiments) < 3:
        problems.append(f"{len(experiments)} experiments: {sorted(experiments)}")
    by_id = {r.run_id: r for r in runs}
    children = [r for r in runs if r.parent_run_id]
    parents = {r.parent_run_id for r in children}
    if len(children) < 2 or not parents <= set(by_id):
        problems.append(f"nested runs: {len(children)} children of {parents}")
    if any(by_id[r.parent_run_id].experiment_id != r.experiment_id for r in children):
        problems.append("a child run is not in its parent's experiment")
    failed = [r for r in runs if r.status == "FAILED"]
    errors = [json.loads(x) for r in failed for x in (r.path / "events.jsonl").open()]
    errors = [e for e in errors if e["type"] == "error"]
    if not (
        errors
        and errors[0]["exc_type"] == "FloatingPointError"
        and "diverges" in errors[0]["message"]
        and 'File "train.py"' in errors[0]["traceback"]
    ):
        problems.append(f"no FAILED run with its error: {errors}")
    dirty = [r for r in runs if (r.git or {}).get("dirty")]
    if [r.git["dirty_files"] for r in dirty] != [["M params.json"]]:
        problems.append(f"dirty runs: {[(r.run_name, r.git) for r in dirty]}")
    span = max(r.start_time for r in runs) - min(r.start_time for r in runs)
    if span < 7 * DAY:
        problems.append(f"the runs span {span / DAY:.1f} days")
    if {r.user for r in runs} != {"ada", "lin"}:
        problems.append(f"users: {sorted({r.user for r in runs})}")
    from runsite.registry import Registry

    manifest = Registry(store).manifest()
    history = load_recorded(store / "registry-history.json", manifest.doc)  # replays to it
    reasons = [t.reason for t in history if t.kind == "stage"]
    if len(reasons) < 4 or not all("rmse" in r or "roc_auc" in r for r in reasons):
        problems.append(f"stage reasons: {reasons}")
    if sorted({t.pr for t in history if t.pr}) != [1, 2, 3]:
        problems.append(f"pull requests: {sorted({t.pr for t in history if t.pr})}")
    if {t.email for t in history} != {"ada@example.com", "lin@example.com"}:
        problems.append(f"authors: {sorted({t.author for t in history})}")
    return problems


def machine_leaks(folder: Path) -> list[str]:
    """Files of ``folder`` naming this machine: its home, /work, /tmp, its host name or
    user name (as a run header's user or host, and anywhere when the name is long enough
    not to be a word of minified JavaScript)."""
    import getpass
    import json
    import re
    import socket

    home = Path.home().as_posix()
    names = [n for n in {socket.gethostname(), getpass.getuser()} if len(n) >= 5]
    words = [re.escape(home), r"(?<![\w.])/(?:work|tmp|root|home|Users|private|var/folders)/"]
    pattern = re.compile("|".join(words + [rf"\b{re.escape(n)}\b" for n in names]).encode())
    leaks = [
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file()
        and p.suffix not in {".png", ".pkl", ".parquet"}
        and pattern.search(p.read_bytes())
    ]
    for header in folder.glob("*/*/run.json"):
        doc = json.loads(header.read_text())
        if {doc["user"], doc["host"]} & {socket.gethostname(), getpass.getuser()}:
            leaks.append(f"{header.relative_to(folder)}: user {doc['user']}, host {doc['host']}")
        if doc["git"]["remote"] is not None or doc["python"]["executable"] != "python":
            leaks.append(f"{header.relative_to(folder)}: {doc['git']}, {doc['python']}")
    return leaks


def test_committed_example_store_tells_the_story() -> None:
    assert story_problems(EXAMPLE) == []


def test_committed_example_store_builds_strict_and_checks(tmp_path: Path) -> None:
    """example_runs/ is what the README's main command builds: it must stay valid, and
    its registry pages show the demo's own recorded history."""
    import json

    from click.testing import CliRunner

    from runsite.cli import main
    from site_helpers import parse, text_of

    _build_demo(EXAMPLE, tmp_path / "site")
    check = CliRunner().invoke(main, ["models", "check", "--store", str(EXAMPLE)])
    assert check.exit_code == 0, check.output
    stages = {m.name: sorted(v.stage for v in m.versions) for m in Registry(EXAMPLE).list_models()}
    assert stages == {
        "diabetes-regressor": ["archived", "production"],
        "tumour-classifier": ["staging"],
    }
    doc = parse(tmp_path / "site" / "registry.html")
    assert text_of(doc.select_one(".history-source")).startswith("Recorded history")
    shown = [text_of(w) for w in doc.select("ol.timeline .why")]
    recorded = [t["reason"] for t in json.loads(HISTORY.read_text())]
    assert shown == recorded and len(shown) == 10
    assert not any("Seed" in text_of(w) for w in doc.select("ol.timeline .who"))
    assert machine_leaks(tmp_path / "site") == []


def test_committed_example_store_holds_no_machine_details() -> None:
    """The demo is committed and published: no local path, user, host or pid in it."""
    assert machine_leaks(EXAMPLE) == []
    assert len(list(EXAMPLE.glob("*/*/run.json"))) == 22


def test_the_example_script_tells_the_same_story(tmp_path: Path) -> None:
    """examples/train.py --quick (fewer runs; the full script takes ~7 s more) writes a
    store with the same story, from a throwaway repository, with nothing of this machine;
    its site builds strict."""
    out = tmp_path / "demo"
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "train.py"), str(out), "--quick"],
        cwd=tmp_path,
        env={**os.environ, "RUNSITE_CACHE_DIR": str(tmp_path / "cache")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert story_problems(out) == []
    assert machine_leaks(out) == []
    _build_demo(out, tmp_path / "site")
    assert machine_leaks(tmp_path / "site") == []
