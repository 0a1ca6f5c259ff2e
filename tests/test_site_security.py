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


# --------------------------------------------------------------------------- item 1:
# a theme named by the store's site.yaml is data, not code

EXAMPLES = Path(__file__).resolve().parent.parent / "example_runs"

# Each payload tries to run a command, read a file or reach Python internals from a
# template. ``PWNED`` is the marker file a successful escape would create.
ESCAPES = [
    "{{ cycler.__init__.__globals__.os.system('touch PWNED') }}",
    "{{ joiner.__init__.__globals__.os.system('touch PWNED') }}",
    "{{ namespace.__init__.__globals__.os.system('touch PWNED') }}",
    "{{ lipsum.__globals__['os'].system('touch PWNED') }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ run_path.__globals__['os'].system('touch PWNED') }}",
    "{{ self._TemplateReference__context }}",
    "{{ site.__class__.__init__ }}",
    "{{ experiments.__class__.__base__.__subclasses__() }}",
    "{{ '{0.__class__.__init__.__globals__}'.format(cycler) }}",
    "{{ 'x' | attr('__class__') }}",
    "{% set d = {} %}{{ d.update({'a': 1}) }}",
    "{% set l = [] %}{{ l.append(1) }}",
    "{{ 'a' * 100000000 }}",
    "{{ [1] * 100000000 }}",
    "{{ 10 ** 100000000 }}",
]


def store_theme(store: Path, templates: dict[str, str], name: str = ".theme") -> Path:
    theme = store / name
    for rel, text in templates.items():
        (theme / "templates" / rel).parent.mkdir(parents=True, exist_ok=True)
        (theme / "templates" / rel).write_text(text)
    (theme / "static").mkdir(parents=True, exist_ok=True)
    (store / "site.yaml").write_text(f"theme: {name}\n")
    return theme


@pytest.mark.parametrize("payload", ESCAPES)
def test_a_theme_from_site_yaml_cannot_run_code(store: Path, tmp_path: Path, payload: str) -> None:
    one_run(store)
    store_theme(
        store,
        {
            "home.html": '{% extends "default:home.html" %}{% block main %}'
            + payload
            + "{% endblock %}"
        },
    )
    code, out, err = cli("build", str(store), "--out", str(tmp_path / "site"))
    assert code == 1, out
    assert "refused by the sandbox" in err or "unsafe" in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "PWNED").exists()
    assert not (tmp_path / "site" / "index.html").exists()  # nothing written


def test_the_same_template_named_on_the_command_line_is_trusted(
    store: Path, tmp_path: Path
) -> None:
    """``--theme`` is the repository owner's choice: the workflow file, not the store."""
    one_run(store)
    theme = tmp_path / "owner-theme"
    (theme / "templates").mkdir(parents=True)
    (theme / "templates" / "home.html").write_text(
        "{{ cycler.__init__.__globals__.os.path.basename('/a/trusted') }}"
    )
    code, _, err = cli("build", str(store), "--out", str(tmp_path / "site"), "--theme", str(theme))
    assert code == 0, err
    assert (tmp_path / "site" / "index.html").read_text() == "trusted"


@pytest.mark.parametrize(
    "theme",
    [
        "../outside-theme",
        "ABSOLUTE",
        "linked",  # a symlink inside the store to the theme outside it
        "exp/../../outside-theme",
    ],
)
def test_site_yaml_cannot_name_a_theme_outside_the_store(
    store: Path, tmp_path: Path, theme: str
) -> None:
    one_run(store)
    outside = tmp_path / "outside-theme"
    (outside / "templates").mkdir(parents=True)
    (outside / "templates" / "home.html").write_text("{{ cycler.__init__.__globals__ }}")
    (store / "linked").symlink_to(outside)
    theme = str(outside) if theme == "ABSOLUTE" else theme
    (store / "site.yaml").write_text(f"theme: {json.dumps(theme)}\n")
    code, _, err = cli("build", str(store), "--out", str(tmp_path / "site"))
    assert code == 1
    assert "theme" in err and "must be a folder inside the store" in err, err
    assert "Traceback" not in err
    assert not (tmp_path / "site").exists()


@pytest.mark.parametrize("where", ["templates/home.html", "static/leak.txt", "static"])
def test_a_store_theme_with_a_symlink_is_refused(store: Path, tmp_path: Path, where: str) -> None:
    """A linked template would be rendered (and a linked static file published) from
    wherever it points: ``~/.ssh/id_rsa`` on the CI machine."""
    one_run(store)
    secret = tmp_path / "id_rsa"
    secret.write_text("PRIVATE KEY\n")
    theme = store_theme(store, {})
    link = theme / where
    if link.is_dir():
        link.rmdir()
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(secret if "." in where else tmp_path)
    code, _, err = cli("build", str(store), "--out", str(tmp_path / "site"))
    assert code == 1 and "symlink" in err, err
    assert not (tmp_path / "site").exists()


def test_an_include_cannot_leave_the_theme(store: Path, tmp_path: Path) -> None:
    one_run(store)
    (tmp_path / "secret.html").write_text("PRIVATE")
    for target in ("../../../secret.html", str(tmp_path / "secret.html"), "default:../../x"):
        store_theme(store, {"home.html": "{% include " + json.dumps(target) + " %}"})
        code, _, err = cli("build", str(store), "--out", str(tmp_path / "site"))
        assert code == 1 and "not found" in err, err
        assert "Traceback" not in err


def test_the_default_theme_renders_the_same_in_the_sandbox(tmp_path: Path) -> None:
    """A store theme that overrides one template extends the default's, so the default
    theme's templates must all work sandboxed: the example store builds byte for byte
    the same, but for the one overridden page."""
    import shutil

    from site_helpers import files, link_problems, parse, script_problems

    store = tmp_path / "store"
    shutil.copytree(EXAMPLES, store)
    (store / "site.yaml").unlink(missing_ok=True)
    build(store, tmp_path / "plain")
    store_theme(
        store,
        {
            "run.html": '{% extends "default:run.html" %}{% block main %}{{ super() }}'
            '<p id="themed">{{ run.run_name }}</p>{% endblock %}',
        },
    )
    result = build(store, tmp_path / "sandboxed")
    assert result.warnings == []
    plain, sandboxed = files(tmp_path / "plain"), files(tmp_path / "sandboxed")
    assert sorted(plain) == sorted(sandboxed)
    differ = sorted(rel for rel in plain if plain[rel] != sandboxed[rel])
    run_pages = sorted(
        rel
        for rel in plain
        if rel.startswith("runs/") and rel.endswith(".html") and "/artifacts/" not in rel
    )
    assert run_pages and differ == sorted([MANIFEST, *run_pages])
    page = parse(tmp_path / "sandboxed" / run_pages[0])
    assert page.find(id="themed") is not None and page.find("table") is not None
    assert link_problems(tmp_path / "sandboxed") == []
    assert script_problems(tmp_path / "sandboxed") == []
