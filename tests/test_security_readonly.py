"""Attack 7 of issue 15, last part: read-only stores and caches (docs/security.md).

`models check` on a read-only checkout failed on its cache. Every read-only command must
work when the store is on a read-only file system and when the cache folder cannot be
created. Honest read-only as root (root ignores permission bits): the store lives on a
tmpfs remounted read-only (EROFS), and RUNSITE_CACHE_DIR points under a regular file
(ENOTDIR) or into the read-only mount.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import runsite
from fs_support import remount_read_only, tmpfs
from runsite.cli import main

Ridge = pytest.importorskip("sklearn.linear_model").Ridge


def _store(path: Path) -> str:
    runsite.set_store(path)
    X = np.arange(20.0).reshape(10, 2)
    with runsite.start_run(log_git=False, run_name="ro") as run:
        runsite.log_param("alpha", 1)
        runsite.log_metric("rmse", 4.0)
        info = runsite.log_model(Ridge().fit(X, X.sum(axis=1)), "model")
        run_id = run.info.run_id
    runsite.register_model(info.model_uri, "taxi")
    return run_id


def _commands(store: Path, run_id: str, out: Path) -> list[list[str]]:
    s = ["--store", str(store)]
    return [
        ["models", "check", *s],
        ["models", "list", *s],
        ["models", "show", "taxi", *s],
        ["models", "pull", "taxi/1", "--out", str(out / "pulled"), *s],
        ["runs", "list", *s],
        ["runs", "show", run_id, *s],
        ["runs", "search", "metrics.rmse < 5", *s],
        ["experiments", "list", *s],
        ["build", str(store), "--out", str(out / "site")],
    ]


def _run_all(store: Path, run_id: str, out: Path) -> None:
    for args in _commands(store, run_id, out):
        r = CliRunner().invoke(main, args)
        assert r.exit_code == 0, (args, r.output, r.exception)
        assert "Traceback" not in r.output, (args, r.output)
    # the library's readers too
    assert [r.info.run_id for r in runsite.search_runs("metrics.rmse < 5")] == [run_id]
    model = runsite.load_model("models:/taxi/1")
    assert model.predict(np.ones((1, 2))).shape == (1,)


@pytest.mark.parametrize("cache", ["under a file", "read-only mount"])
def test_read_only_store_and_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache: str
) -> None:
    mount = tmp_path / "mnt"
    with tmpfs(mount, size="64m"):
        store = mount / "runs"
        run_id = _store(store)
        (mount / "cache").mkdir()
        remount_read_only(mount)
        if cache == "under a file":
            (tmp_path / "a-file").write_text("not a folder")
            monkeypatch.setenv("RUNSITE_CACHE_DIR", str(tmp_path / "a-file" / "cache"))
        else:
            monkeypatch.setenv("RUNSITE_CACHE_DIR", str(mount / "cache"))
        out = tmp_path / "out"
        _run_all(store, run_id, out)
        assert (out / "site" / "index.html").is_file()
        assert (out / "pulled").is_dir()


def test_cache_under_a_file_with_a_writable_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a mount (runs everywhere): the cache folder cannot be created (ENOTDIR)."""
    store = tmp_path / "runs"
    run_id = _store(store)
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv("RUNSITE_CACHE_DIR", str(tmp_path / "a-file" / "cache"))
    _run_all(store, run_id, tmp_path / "out")
