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


def test_committed_example_store_builds_strict_and_checks(tmp_path: Path) -> None:
    """example_runs/ is what the README's main command builds: it must stay valid."""
    from click.testing import CliRunner

    from runsite.cli import main

    store = ROOT / "example_runs"
    result = CliRunner().invoke(
        main, ["build", str(store), "--out", str(tmp_path / "site"), "--strict"]
    )
    assert result.exit_code == 0, result.output
    assert "11 runs" in result.stdout
    check = CliRunner().invoke(main, ["models", "check", "--store", str(store)])
    assert check.exit_code == 0, check.output
    (model,) = Registry(store).list_models()
    assert sorted(v.stage for v in model.versions) == ["production", "staging"]


def test_committed_example_store_holds_no_machine_details() -> None:
    """The demo is committed and published: no local path, user, host or pid in it."""
    import json
    import re

    store = ROOT / "example_runs"
    local = re.compile(rb"(?<![\w.])/(?:work|tmp|root|home|Users|private|var/folders)/")
    texts = [p for p in store.rglob("*") if p.is_file() and p.suffix not in {".png", ".pkl"}]
    assert texts
    leaks = [str(p.relative_to(store)) for p in texts if local.search(p.read_bytes())]
    assert not leaks, leaks
    headers = sorted(store.glob("*/*/run.json"))
    assert len(headers) == 11
    for header in headers:
        doc = json.loads(header.read_text())
        assert (doc["user"], doc["host"], doc["pid"]) == ("demo", "demo", 0), header
        assert doc["git"]["remote"] is None and doc["python"]["executable"] == "python"
