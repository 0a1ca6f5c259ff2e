"""The site as an attacker would try it: a pull request can commit anything in the
repository (run folders, ``site.yaml``, a theme, a prepared ``site/``), and CI builds it
with write access to GitHub Pages. Each test is one attack that used to get through.

See docs/security.md for the trust model these tests hold the builder to.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

import runsite
from runsite.cli import main
from runsite.site import build
from runsite.site.writer import MANIFEST, BuildError


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def one_run(store: Path, **params: object) -> str:
    runsite.set_experiment("exp")
    with runsite.start_run(run_name="r") as run:
        runsite.log_params(params or {"alpha": 1})
        runsite.log_metric("rmse", 5.0)
    return run.info.run_id


def tree(root: Path) -> dict[str, bytes]:
    """Every regular file under ``root`` (without following links) and its bytes."""
    out: dict[str, bytes] = {}
    for top, _dirs, names in os.walk(root):
        for name in names:
            p = Path(top) / name
            if not p.is_symlink():
                out[p.relative_to(root).as_posix()] = p.read_bytes()
    return out


# --------------------------------------------------------------------------- item 10:
# the output folder was committed by someone else


@pytest.mark.parametrize(
    "entry",
    [
        "../README.md",
        "runs/../../README.md",
        "ABSOLUTE",  # replaced by the absolute path of README.md
        "./../README.md",
        "runs/..",
        "..",
    ],
)
def test_a_forged_build_record_cannot_delete_outside_the_output_folder(
    store: Path, tmp_path: Path, entry: str
) -> None:
    one_run(store)
    readme = tmp_path / "README.md"
    readme.write_text("the repository's readme\n")
    site = tmp_path / "site"
    site.mkdir()
    entry = str(readme) if entry == "ABSOLUTE" else entry
    (site / MANIFEST).write_text(json.dumps({entry: ["0" * 64], "index.html": ["0" * 64]}))
    result = build(store, site)
    assert readme.read_text() == "the repository's readme\n"
    assert (site / "index.html").is_file()
    assert any("outside the output folder" in w for w in result.warnings), result.warnings
    # the next record holds only what this build wrote
    record = json.loads((site / MANIFEST).read_text())
    assert all(not k.startswith("/") and ".." not in k.split("/") for k in record)


def test_a_forged_build_record_naming_a_folder_or_link_removes_nothing_there(
    store: Path, tmp_path: Path
) -> None:
    one_run(store)
    site = tmp_path / "site"
    build(store, site)
    (site / "keep").mkdir()
    (site / "keep" / "mine.txt").write_text("mine")
    record = json.loads((site / MANIFEST).read_text())
    record["keep"] = ["0" * 64]  # a folder, not a file the build wrote
    (site / MANIFEST).write_text(json.dumps(record))
    build(store, site)
    assert (site / "keep" / "mine.txt").read_text() == "mine"


@pytest.mark.parametrize("where", ["runs", "data", "static", "index.html", "runs/nested"])
def test_a_symlink_in_the_output_folder_stops_the_build_before_writing(
    store: Path, tmp_path: Path, where: str
) -> None:
    one_run(store)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("ssh key\n")
    site = tmp_path / "site"
    build(store, site)
    target = site / where
    if target.is_dir():
        import shutil

        shutil.rmtree(target)
    elif target.exists():
        target.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.symlink_to(outside / "secret.txt" if where.endswith(".html") else outside)
    before_outside = tree(outside)
    before_site = tree(site)
    with pytest.raises(BuildError, match="symlink"):
        build(store, site)
    code, _, err = cli("build", str(store), "--out", str(site))
    assert code == 1 and "symlinks" in err and str(target) in err and "Traceback" not in err
    assert tree(outside) == before_outside  # nothing written or removed through the link
    assert tree(site) == before_site
    # --clean deletes the folder (the link itself, never its target) and builds afresh
    build(store, site, clean=True)
    assert tree(outside) == before_outside
    assert not any(p.is_symlink() for p in site.rglob("*"))


def test_an_output_folder_that_is_a_symlink_is_refused(store: Path, tmp_path: Path) -> None:
    one_run(store)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "site").symlink_to(elsewhere)
    for clean in (False, True):
        with pytest.raises(BuildError, match="is a symlink"):
            build(store, tmp_path / "site", clean=clean)
    assert list(elsewhere.iterdir()) == []


def test_a_planted_temporary_file_link_is_not_written_through(store: Path, tmp_path: Path) -> None:
    """The writer writes ``.<name>.tmp`` then renames it: a link planted under that name
    (it is a dotfile, easy to miss in a review) must not receive the page."""
    one_run(store)
    site = tmp_path / "site"
    build(store, site)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (site / "index.html").unlink()  # forces a rewrite of index.html
    record = json.loads((site / MANIFEST).read_text())
    record.pop("index.html")
    (site / MANIFEST).write_text(json.dumps(record))
    (site / ".index.html.tmp").symlink_to(victim)
    with pytest.raises(BuildError, match="symlink"):
        build(store, site)
    assert victim.read_text() == "precious\n"


def test_a_symlinked_staging_folder_is_not_followed(store: Path, tmp_path: Path) -> None:
    runsite.set_experiment("exp")
    with runsite.start_run(run_name="big"):
        for step in range(3000):  # a page big enough to be staged on disk
            runsite.log_metric("rmse", 1.0 / (step + 1), step=step)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    (tmp_path / ".site.staging").symlink_to(outside)
    build(store, tmp_path / "site")
    assert (outside / "keep.txt").read_text() == "keep"
    assert sorted(p.name for p in outside.iterdir()) == ["keep.txt"]
