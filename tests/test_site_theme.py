"""The static site (``runsite build``): themes: overriding or extending the default
templates and static files.

HTML is checked by parsing it (BeautifulSoup with the stdlib ``html.parser``), never by
looking for substrings.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from runsite.site import build
from runsite.site.writer import MANIFEST
from site_helpers import (
    charts,
    check_frame,
    files,
    kv_table,
    link_problems,
    parse,
    script_problems,
    section,
    text_of,
)
from site_store import (
    cli,
    small_store,
)

# --------------------------------------------------------------------------- themes


def _theme(tmp_path: Path, templates: dict[str, str], static: dict[str, str] | None = None) -> Path:
    theme = tmp_path / "mytheme"
    for rel, text in templates.items():
        (theme / "templates" / rel).parent.mkdir(parents=True, exist_ok=True)
        (theme / "templates" / rel).write_text(text)
    for rel, text in (static or {}).items():
        (theme / "static" / rel).parent.mkdir(parents=True, exist_ok=True)
        (theme / "static" / rel).write_text(text)
    return theme


def test_theme_overriding_only_home(store: Path, tmp_path: Path) -> None:
    (run_id,) = small_store(1)
    build(store, tmp_path / "default")
    theme = _theme(
        tmp_path,
        {
            "home.html": '{% extends "base.html" %}{% block main %}'
            '<h1 id="custom-home">Custom: {{ experiments|length }} experiment</h1>'
            "{% endblock %}"
        },
    )
    code, _, err = cli("build", str(store), "--out", str(tmp_path / "site"), "--theme", str(theme))
    assert code == 0, err
    site = tmp_path / "site"
    home = parse(site / "index.html")
    check_frame(home, "index.html")
    assert text_of(home.find(id="custom-home")) == "Custom: 1 experiment"
    assert home.select_one("div.cards") is None
    # every other page is the default theme's, byte for byte
    default, themed = files(tmp_path / "default"), files(site)
    assert sorted(default) == sorted(themed)
    assert [r for r in default if default[r] != themed[r]] == [MANIFEST, "index.html"]
    run = parse(site / "runs" / f"{run_id}.html")
    assert kv_table(section(run, "Params").find("table")) == {"i": "0"}


def test_theme_extending_the_default_run_template(store: Path, tmp_path: Path) -> None:
    (run_id,) = small_store(1)
    site = tmp_path / "site"
    assert build(store, site).rendered_runs == 1
    theme = _theme(
        tmp_path,
        {
            "run.html": '{% extends "default:run.html" %}{% block main %}{{ super() }}'
            '<section id="extra"><h2>Extra</h2><p>{{ run.run_name }}</p></section>'
            "{% endblock %}"
        },
    )
    result = build(store, site, theme=str(theme))
    assert result.rendered_runs == 1  # a theme change invalidates cached run pages
    run = parse(site / "runs" / f"{run_id}.html")
    check_frame(run, "run page")
    assert text_of(run.find(id="extra")) == "Extra run-0"
    assert kv_table(section(run, "Params").find("table")) == {"i": "0"}  # the default's blocks
    assert len(charts(run)) == 1
    assert parse(site / "index.html").select_one("div.cards a.card") is not None
    assert link_problems(site) == [] and script_problems(site) == []


def test_theme_static_file_overrides_the_default(store: Path, tmp_path: Path) -> None:
    from runsite.site.theme import default_theme_dir

    small_store(1)
    theme = _theme(
        tmp_path, {}, {"css/site.css": "body { color: rebeccapurple; }\n", "img/logo.txt": "x"}
    )
    shutil.move(theme, store / ".theme")  # site.yaml names a folder inside the store
    (store / "site.yaml").write_text("theme: .theme\n")  # from site.yaml this time
    site = tmp_path / "site"
    build(store, site)
    default_static = default_theme_dir() / "static"
    assert (site / "static/css/site.css").read_text() == "body { color: rebeccapurple; }\n"
    assert (site / "static/img/logo.txt").read_text() == "x"
    for rel in ("js/site.js", "js/charts.js", "vendor/vega.min.js"):
        assert (site / "static" / rel).read_bytes() == (default_static / rel).read_bytes()
    assert (
        parse(site / "index.html").find("link", rel="stylesheet")["href"] == "static/css/site.css"
    )
