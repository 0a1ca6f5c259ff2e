"""The static site (``runsite build``): every page rendered from a real store and parsed:
the run, experiment, home, registry, model and datasets pages, links and scripts,
artifact previews, and two builds of one store byte for byte.

HTML is checked by parsing it (BeautifulSoup with the stdlib ``html.parser``), never by
looking for substrings.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import runsite
from conftest import git, module_env
from runsite.site import build
from runsite.site.writer import MANIFEST
from site_helpers import (
    charts,
    check_frame,
    facts,
    files,
    kv_table,
    link_problems,
    pages,
    parse,
    script_problems,
    section,
    text_of,
    tiny_png,
)
from site_store import (
    FEATURES,
    R2,
    RMSE,
    log_small_model,
    row_links,
    runs_by_name,
)

pd = pytest.importorskip("pandas")
Ridge = pytest.importorskip("sklearn.linear_model").Ridge
StandardScaler = pytest.importorskip("sklearn.preprocessing").StandardScaler


# --------------------------------------------------------------------------- the rich store


@dataclass
class Rich:
    repo: Path
    store: Path
    site: Path
    result: Any
    ids: dict[str, str]  # run name → run id

    def page(self, rel: str) -> Any:
        return parse(self.site / rel)

    def run_page(self, name: str) -> Any:
        return self.page(f"runs/{self.ids[name]}.html")


def _make_rich_store(repo: Path) -> dict[str, str]:
    git(repo, "init", "-q")
    git(repo, "config", "user.name", "Test User")
    git(repo, "config", "user.email", "test@example.com")
    git(repo, "remote", "add", "origin", "https://github.com/acme/proj.git")
    (repo / "train.py").write_text("print('train')\n")
    git(repo, "add", "train.py")
    git(repo, "commit", "-qm", "initial")

    data = repo / "data"
    data.mkdir()
    frame = pd.DataFrame(
        {"distance": np.arange(10.0), "duration": np.arange(10.0) * 3, "fare": np.arange(10.0)}
    )
    frame.to_csv(data / "trips.csv", index=False)
    frame.to_parquet(data / "trips.parquet")

    store = repo / "runs"
    runsite.set_store(store)
    runsite.set_experiment("NYC Taxi")
    (store / "nyc-taxi" / "experiment.yaml").write_text(
        "name: NYC Taxi\ndescription: Fares **by** trip.\nkey_metric: rmse\n"
    )
    ids = {}
    with runsite.start_run(run_name="ridge-0.1", description="First *baseline*.") as r:
        runsite.log_params({"alpha": 0.1, "solver": "auto"})
        runsite.set_tag("team", "pricing")
        runsite.add_note("Looks **good**.")
        for step, value in enumerate(RMSE):
            runsite.log_metric("rmse", value, step=step)
        for step, value in enumerate(R2):
            runsite.log_metric("r2", value, step=step)
        runsite.log_input(data / "trips.csv", name="trips")
        runsite.log_input(data / "trips.parquet", name="trips-pq", context="evaluation")
        runsite.log_text("hello from the site\n", "logs/out.txt")
        runsite.log_dict({"alpha": 0.1, "nested": {"k": [1, 2]}}, "config.json")
        runsite.log_dict({"alpha": 0.1, "solver": "auto"}, "config.yaml")
        runsite.log_text("fold,rmse\n1,4.5\n2,4.25\n", "folds.csv")
        runsite.log_text("# Report\n\nThe model is **fine**.\n\n- one\n- two\n", "report.md")
        log_small_model(0.1)
        with runsite.start_run(run_name="fold-1", nested=True) as child:
            runsite.log_metric("rmse", 4.6)
        ids["fold-1"] = child.run_id
    ids["ridge-0.1"] = r.run_id
    with runsite.start_run(run_name="ridge-1.0") as r:
        runsite.log_params({"alpha": 1.0, "solver": "auto"})
        runsite.set_tag("team", "pricing")
        runsite.log_metric("rmse", 5.0, step=0)
        runsite.log_metric("rmse", 4.9, step=1)
        runsite.log_input(data / "trips.csv", name="trips")
        log_small_model(1.0)
    ids["ridge-1.0"] = r.run_id

    runsite.set_experiment("churn")
    with runsite.start_run(run_name="logreg") as r:
        runsite.log_param("C", 1.0)
        runsite.log_metric("auc", 0.8, step=0)
        runsite.log_metric("auc", 0.85, step=1)
        runsite.log_input(data / "trips.csv", name="trips")
    ids["logreg"] = r.run_id

    runsite.register_model(
        f"runs:/{ids['ridge-0.1']}/model", "taxi-fare", description="Predicts **fares**."
    )
    runsite.register_model(f"runs:/{ids['ridge-1.0']}/model", "taxi-fare")
    runsite.set_model_stage("taxi-fare", 1, "production")
    runsite.set_model_stage("taxi-fare", 2, "staging")
    runsite.set_model_alias("taxi-fare", "champion", 1)
    return ids


@pytest.fixture(scope="module")
def rich(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rich]:
    """Two experiments, four runs (one nested), inputs, every text artifact kind, two
    logged models registered as production and staging with an alias; built once."""
    base = tmp_path_factory.mktemp("rich")
    repo = base / "repo"
    repo.mkdir()
    with module_env(base, cwd=repo) as mp:
        mp.delenv("SOURCE_DATE_EPOCH", raising=False)
        ids = _make_rich_store(repo)
        result = build(repo / "runs", base / "site")
        yield Rich(repo, repo / "runs", base / "site", result, ids)


# --------------------------------------------------------------------------- 1. every page


def test_build_result_and_page_set(rich: Rich) -> None:
    ids = rich.ids
    expected = {
        "index.html",
        "registry.html",
        "datasets.html",
        "404.html",
        "compare.html",
        "experiments/nyc-taxi.html",
        "experiments/churn.html",
        "models/taxi-fare.html",
        "models/taxi-fare/v1.html",
        "models/taxi-fare/v2.html",
        *(f"runs/{ids[n]}.html" for n in ("ridge-0.1", "fold-1", "ridge-1.0", "logreg")),
    }
    assert {p.relative_to(rich.site).as_posix() for p in pages(rich.site)} == expected
    assert rich.result.pages == len(expected)
    assert rich.result.runs == 4 and rich.result.rendered_runs == 4
    assert rich.result.warnings == []
    assert (rich.site / MANIFEST).is_file()
    assert (rich.site / "static" / "css" / "site.css").is_file()


def test_every_page_has_title_nav_and_csp(rich: Rich) -> None:
    for page in pages(rich.site):
        check_frame(parse(page), page.relative_to(rich.site).as_posix())
    assert text_of(rich.page("404.html").find("h1")) == "Page not found"
    assert text_of(rich.run_page("ridge-0.1").find("title")).startswith("ridge-0.1")


def test_run_page_overview_params_tags_notes(rich: Rich) -> None:
    doc = rich.run_page("ridge-0.1")
    h1 = doc.find("h1")
    assert h1.find(string=True, recursive=False).strip() == "ridge-0.1"
    assert text_of(h1.select_one(".badge")) == "finished"
    crumbs = doc.select("p.crumbs a")
    assert [a["href"] for a in crumbs] == ["../index.html", "../experiments/nyc-taxi.html"]
    assert text_of(crumbs[1]) == "NYC Taxi"

    overview = facts(doc.select_one("section.overview dl.facts"))
    assert text_of(overview["Run id"]) == rich.ids["ridge-0.1"]
    child_links = overview["Child runs"].find_all("a")
    assert [a["href"] for a in child_links] == [f"../runs/{rich.ids['fold-1']}.html"]
    # a GitHub remote: the commit links to GitHub
    commit = overview["Commit"].find("a")
    assert commit["href"].startswith("https://github.com/acme/proj/commit/")

    assert kv_table(section(doc, "Params").find("table")) == {"alpha": "0.1", "solver": "auto"}
    assert kv_table(section(doc, "Tags").find("table")) == {"team": "pricing"}

    notes = section(doc, "Notes").select("div.note")
    assert [text_of(n) for n in notes] == ["First baseline .", "Looks good ."]
    assert text_of(notes[0].find("em")) == "baseline"
    assert text_of(notes[1].find("strong")) == "good"


def test_run_page_metrics_table_and_one_chart_per_metric(rich: Rich) -> None:
    doc = rich.run_page("ridge-0.1")
    metrics = section(doc, "Metrics")
    table = metrics.find("table")
    heads = [text_of(th) for th in table.select("thead th")]
    assert heads == ["Metric", "Last", "Min", "Max", "Points", "Last step"]
    rows = {
        text_of(tr.find("th")): [text_of(td) for td in tr.find_all("td")]
        for tr in table.select("tbody tr")
    }
    assert rows == {
        "r2": ["0.7", "0.5", "0.7", "3", "2"],
        "rmse": ["4.5", "4.5", "6", "5", "4"],
    }

    blocks = charts(doc)
    assert len(blocks) == 2 == len(metrics.select("figure.rs-chart"))
    by_title = {payload["spec"]["title"]["text"]: payload for _, payload in blocks}
    assert set(by_title) == {"rmse", "r2"}
    for key, values in (("rmse", RMSE), ("r2", R2)):
        payload = by_title[key]
        assert set(payload) == {"spec", "data"}
        assert payload["spec"]["data"] == {"name": "series"}
        series = payload["data"]["series"]
        assert series["step"] == list(range(len(values)))
        assert series["value"] == pytest.approx(values)
    # charts need the vendored scripts, all from static/
    srcs = [s["src"] for s in doc.find_all("script", src=True)]
    assert "../static/js/charts.js" in srcs and "../static/vendor/vega.min.js" in srcs


def test_run_page_data_inputs_link_to_dataset_anchors(rich: Rich) -> None:
    doc = rich.run_page("ridge-0.1")
    datasets = rich.page("datasets.html")
    rec = runs_by_name(rich.store)["ridge-0.1"]
    rows = section(doc, "Data inputs").select("tbody tr")
    assert len(rows) == 2 == len(rec.inputs)
    for tr, inp in zip(rows, rec.inputs, strict=True):
        cells = [text_of(td) for td in tr.find_all("td")]
        assert cells[0] == inp["name"] and cells[2] == inp["path"]
        assert cells[5] == "10"  # rows, read from the CSV and the Parquet file
        assert "distance" in cells[6] and "double" in cells[6]
        link = tr.find("a")
        page, _, anchor = link["href"].partition("#")
        assert page == "../datasets.html" and anchor
        target = datasets.find(id=anchor)  # the version's row in its path's table
        assert target is not None and target.name == "tr"
        assert target.find("span", title=True)["title"] == inp["hash"]


def test_run_page_text_artifact_previews(rich: Rich) -> None:
    doc = rich.run_page("ridge-0.1")
    run_id = rich.ids["ridge-0.1"]
    items = {text_of(li.select_one(".artifact-head a")): li for li in doc.select("li.artifact")}
    for path in ("logs/out.txt", "config.json", "config.yaml", "folds.csv", "report.md"):
        li = items[path]
        href = li.select_one(".artifact-head a")["href"]
        assert href == f"{run_id}/artifacts/{path}"
        copied = rich.site / "runs" / href
        source = rich.store / "nyc-taxi" / run_id / "artifacts" / path
        assert copied.read_bytes() == source.read_bytes()

    assert items["logs/out.txt"].select_one("pre.preview").get_text() == "hello from the site\n"
    shown = items["config.json"].select_one("pre.preview").get_text()
    assert json.loads(shown) == {"alpha": 0.1, "nested": {"k": [1, 2]}}
    assert "solver: auto" in items["config.yaml"].select_one("pre.preview").get_text()

    table = items["folds.csv"].select_one(".preview table")
    assert [text_of(th) for th in table.select("thead th")] == ["fold", "rmse"]
    assert [[text_of(td) for td in tr.find_all("td")] for tr in table.select("tbody tr")] == [
        ["1", "4.5"],
        ["2", "4.25"],
    ]

    prose = items["report.md"].select_one("div.prose.preview")
    assert text_of(prose.find("h1")) == "Report"
    assert text_of(prose.find("strong")) == "fine"
    assert [text_of(li) for li in prose.select("ul li")] == ["one", "two"]
    for li in items.values():  # no artifact of this run is an image or a frame
        assert li.find(["img", "iframe"]) is None

    # the model's files are listed (and downloadable); text ones previewed, folded
    model_items = {
        text_of(li.select_one(".artifact-head a")): li for li in doc.select("li.artifact.in-model")
    }
    assert {"model/model.yaml", "model/model.pkl", "model/requirements.txt"} <= set(model_items)
    for name, li in model_items.items():
        folded = li.select_one("details.model-file:not([open]) .preview")
        assert (folded is not None) == (not name.endswith(".pkl")), name


def test_run_page_model_card(rich: Rich) -> None:
    doc = rich.run_page("ridge-0.1")
    card = section(doc, "Models").select_one("article.model-card")
    h3 = card.find("h3")
    assert h3.find(string=True, recursive=False).strip() == "model"
    assert text_of(h3.select_one(".badge")) == "sklearn"
    card_facts = facts(card.find("dl"))
    assert text_of(card_facts["Class"]).endswith("Ridge")
    assert text_of(card_facts["Preprocessor"]).endswith("StandardScaler")
    registered = card_facts["Registered"]
    assert [a["href"] for a in registered.find_all("a")] == ["../models/taxi-fare/v1.html"]
    assert text_of(registered.find("a")) == "taxi-fare v1"
    assert text_of(registered.select_one(".badge")) == "production"

    sig = card.find("h4", string="Signature").find_next_sibling("div")
    inputs = sig.find("b", string="inputs").parent
    columns = [text_of(li.select_one(".mono")) for li in inputs.select("li")]
    assert columns == FEATURES
    assert text_of(card.select_one("details summary")) == "requirements.txt"
    assert "scikit-learn==" in card.select_one("details pre").get_text()


def test_child_run_page_links_its_parent(rich: Rich) -> None:
    doc = rich.run_page("fold-1")
    parent = facts(doc.select_one("section.overview dl.facts"))["Parent run"]
    assert [a["href"] for a in parent.find_all("a")] == [f"../runs/{rich.ids['ridge-0.1']}.html"]
    assert charts(doc) == []  # one point per metric: numbers in the table, no one-dot chart


def test_experiment_page(rich: Rich) -> None:
    doc = rich.page("experiments/nyc-taxi.html")
    assert text_of(doc.find("h1")) == "NYC Taxi"
    assert text_of(doc.select_one("div.prose strong")) == "by"
    summary = doc.find("h1").find_next("p", class_="muted")
    assert text_of(summary.find("b")) == "rmse"

    table = doc.find("table", id="runs-table")
    rows = table.select("tbody tr")
    names = ("ridge-0.1", "fold-1", "ridge-1.0")
    assert len(rows) == 3
    assert {tr["data-run"] for tr in rows} == {rich.ids[n] for n in names}
    assert sorted(row_links(table, "../runs/")) == sorted(
        f"../runs/{rich.ids[n]}.html" for n in names
    )
    heads = [text_of(th) for th in table.select("thead th")]
    assert heads[6] == "rmse"  # the key metric first
    assert "alpha" in heads and "team" in heads  # params that vary, and tags
    by_run = {tr["data-run"]: [text_of(td) for td in tr.find_all("td")] for tr in rows}
    assert by_run[rich.ids["ridge-0.1"]][6] == "4.5"

    blocks = charts(doc)
    assert [p["spec"]["title"]["text"] for _, p in blocks] == ["rmse", "r2"]
    rmse = blocks[0][1]["data"]["series"]
    assert len(rmse["run"]) == 3
    assert sorted(rmse["url"]) == sorted(f"../runs/{rich.ids[n]}.html" for n in names)

    churn = rich.page("experiments/churn.html")
    table = churn.find("table", id="runs-table")
    assert row_links(table) == [f"../runs/{rich.ids['logreg']}.html"]
    assert "C" not in [text_of(th) for th in table.select("thead th")]  # the same everywhere
    assert text_of(churn.select_one("p.muted.small")).endswith("hidden: C.")


def test_home_page(rich: Rich) -> None:
    doc = rich.page("index.html")
    cards = {text_of(a.find("h2")): a for a in doc.select("div.cards a.card")}
    assert set(cards) == {"NYC Taxi", "churn"}
    assert cards["NYC Taxi"]["href"] == "experiments/nyc-taxi.html"
    best = cards["NYC Taxi"].select_one("p.best")
    assert text_of(best.find("b")) == "rmse" and text_of(best.select_one(".num")) == "4.5"
    recent = doc.find("h2", string="Recent runs").find_next("table")
    assert sorted(row_links(recent, "runs/")) == sorted(f"runs/{i}.html" for i in rich.ids.values())


def test_registry_page_versions_stages_aliases(rich: Rich) -> None:
    doc = rich.page("registry.html")
    (card,) = doc.select("section.card")
    assert card.find("h2").find("a")["href"] == "models/taxi-fare.html"
    assert text_of(card.select_one("div.prose strong")) == "fares"
    rows = card.select("table.versions tbody tr")
    cells = [[td for td in tr.find_all("td")] for tr in rows]
    assert [text_of(c[0]) for c in cells] == ["v2", "v1"]
    assert [c[1].select_one(".badge")["class"] for c in cells] == [
        ["badge", "stage-staging"],
        ["badge", "stage-production"],
    ]
    assert [text_of(c[2]) for c in cells] == ["", "@champion"]
    assert [c[3].find("a")["href"] for c in cells] == [
        f"runs/{rich.ids['ridge-1.0']}.html",
        f"runs/{rich.ids['ridge-0.1']}.html",
    ]
    assert text_of(cells[1][4]) == "rmse 4.5"  # the experiment's key metric
    # in a git checkout, but registry.yaml was never committed: an empty timeline
    assert doc.select_one("ol.timeline") is None
    assert text_of(doc.find("h2", string="Stage transitions").find_next("p")) == (
        "No transitions yet."
    )


def test_model_page(rich: Rich) -> None:
    doc = rich.page("models/taxi-fare.html")
    assert text_of(doc.find("h1")) == "taxi-fare"
    assert [a["href"] for a in doc.select("p.crumbs a")] == ["../registry.html"]
    rows = doc.select("table.versions tbody tr")
    assert [text_of(tr.find("td")) for tr in rows] == ["v2", "v1"]
    assert [tr.select("td")[3].find("a")["href"] for tr in rows] == [
        f"../runs/{rich.ids['ridge-1.0']}.html",
        f"../runs/{rich.ids['ridge-0.1']}.html",
    ]
    assert "models:/taxi-fare/production" in text_of(doc.find("code", string=re.compile("models:")))


def test_datasets_page_lists_each_hash_with_its_runs(rich: Rich) -> None:
    doc = rich.page("datasets.html")
    used: dict[str, set[str]] = {}
    for rec in runsite.Store(rich.store).runs():
        for inp in rec.inputs:
            used.setdefault(inp["hash"], set()).add(f"runs/{rec.run_id}.html")
    rows = doc.select("section.dataset-group table.ds-versions tbody tr")
    assert len(rows) == len(used) == 2  # two paths, one version each
    shown = {}
    for tr in rows:
        full = tr.find("span", title=True)["title"]
        shown[full] = {a["href"] for a in tr.select("td.ds-runs a")}
        assert tr["id"] == "d-" + full.split(":")[-1][:16]
    assert shown == used
    csv_hash = next(i["hash"] for i in runs_by_name(rich.store)["logreg"].inputs)
    assert len(shown[csv_hash]) == 3  # one file, three runs


# --------------------------------------------------------------------------- 2. links, scripts


def test_every_link_is_relative_and_resolves(rich: Rich) -> None:
    assert link_problems(rich.site) == []
    # the check sees every kind of URL the pages carry
    run = rich.run_page("ridge-0.1")
    assert run.find("link", rel="stylesheet")["href"] == "../static/css/site.css"
    assert run.find("a", href=re.compile(r"#d-"))
    assert any(a["href"].startswith("https://github.com/") for a in run.find_all("a"))


def test_only_static_scripts_and_json_data_blocks(rich: Rich) -> None:
    assert script_problems(rich.site) == []
    for page in pages(rich.site):
        root = "../" * (len(page.relative_to(rich.site).parts) - 1)
        for script in parse(page).find_all("script"):
            # our code (static/) and the build's data files (data/), nothing else
            assert script.get("type") == "application/json" or script["src"].startswith(
                (f"{root}static/", f"{root}data/")
            )


def test_image_svg_html_and_binary_artifact_previews(store: Path, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "plot.png").write_bytes(tiny_png())
    (src / "shape.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4" onload="alert(1)">'
        '<script>alert(1)</script><rect width="4" height="4"/></svg>'
    )
    (src / "report.html").write_text("<h1>hi</h1><script>alert(1)</script>")
    (src / "weights.bin").write_bytes(b"\x00\x01")
    runsite.set_experiment("exp")
    with runsite.start_run(run_name="pics") as r:
        for name in ("plot.png", "shape.svg", "report.html", "weights.bin"):
            runsite.log_artifact(src / name)
    site = tmp_path / "site"
    build(store, site)

    doc = parse(site / "runs" / f"{r.run_id}.html")
    items = {text_of(li.select_one(".artifact-head a")): li for li in doc.select("li.artifact")}
    img = items["plot.png"].find("img", class_="preview")
    assert img["src"] == f"{r.run_id}/artifacts/plot.png"
    assert (site / "runs" / img["src"]).read_bytes() == (src / "plot.png").read_bytes()
    # An SVG's published copy is text (inert when opened directly, issue 15); the page
    # shows it from a data: URI in an <img>, where it never runs script.
    img = items["shape.svg"].find("img", class_="preview")
    assert img["src"].startswith("data:image/svg+xml;base64,")
    svg = (src / "shape.svg").read_bytes()
    assert base64.b64decode(img["src"].split(",", 1)[1]) == svg
    link = items["shape.svg"].select_one(".artifact-head a")
    assert link["href"] == f"{r.run_id}/artifacts/shape.svg.txt"
    assert link["download"] == "shape.svg"
    assert (site / "runs" / link["href"]).read_bytes() == svg
    assert doc.find("svg") is None  # an SVG only ever as <img>, never inline
    (frame,) = doc.find_all("iframe")
    assert frame.parent is items["report.html"]
    assert frame.has_attr("sandbox") and "allow-scripts" not in frame["sandbox"]
    assert frame["src"] == f"{r.run_id}/artifacts/report.html"
    assert items["weights.bin"].find(["img", "iframe", "pre", "table"]) is None
    assert link_problems(site) == [] and script_problems(site) == []


@pytest.mark.parametrize("preprocessor, example", [(False, True), (True, False)])
def test_model_card_without_preprocessor_or_signature(
    store: Path, tmp_path: Path, preprocessor: bool, example: bool
) -> None:
    runsite.set_experiment("exp")
    with runsite.start_run(run_name="plain") as r:
        log_small_model(0.5, preprocessor=preprocessor, example=example)
    result = build(store, tmp_path / "site")
    doc = parse(tmp_path / "site" / "runs" / f"{r.run_id}.html")
    card = doc.select_one("article.model-card")
    assert text_of(card.select_one("h3 .badge")) == "sklearn"
    assert ("Preprocessor" in facts(card.find("dl"))) == preprocessor
    assert result.warnings == []


def test_unreadable_model_manifest_is_a_warning(store: Path, tmp_path: Path) -> None:
    runsite.set_experiment("exp")
    with runsite.start_run(run_name="m") as r:
        log_small_model(0.5)
    (store / "exp" / r.run_id / "artifacts" / "model" / "model.yaml").write_text(": [ not yaml")
    result = build(store, tmp_path / "site")
    assert any("model" in w for w in result.warnings)
    doc = parse(tmp_path / "site" / "runs" / f"{r.run_id}.html")
    assert doc.select_one("article.model-card") is not None


def test_artifact_names_are_url_encoded(store: Path, tmp_path: Path) -> None:
    runsite.set_experiment("exp")
    with runsite.start_run(run_name="names"):
        runsite.log_text("one\n", "report #1.txt")
        runsite.log_text("two\n", "what?.txt")
        runsite.log_text("three\n", "100%.txt")
    build(store, tmp_path / "site")
    assert link_problems(tmp_path / "site") == []


# --------------------------------------------------------------------------- two builds


def test_two_builds_into_two_folders_are_byte_identical(
    rich: Rich, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    one = build(rich.store, tmp_path / "one")
    two = build(rich.store, tmp_path / "two")
    assert one.files == two.files == rich.result.files
    a, b = files(tmp_path / "one"), files(tmp_path / "two")
    assert sorted(a) == sorted(b)
    assert [rel for rel in a if a[rel] != b[rel]] == []
    original = files(rich.site)  # built by another process state, another cache folder
    assert [rel for rel in a if a[rel] != original.get(rel)] == []
