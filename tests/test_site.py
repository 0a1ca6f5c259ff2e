"""The static site (``runsite build``): every page rendered from real data and parsed,
links, security, the builder's incremental behaviour, robustness, publishing controls
and the registry's history.

HTML is checked by parsing it (BeautifulSoup with the stdlib ``html.parser``), never by
looking for substrings.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import numpy as np
import pytest
from click.testing import CliRunner

import runsite
from conftest import git
from runsite import fluent
from runsite import run as run_mod
from runsite.cli import main
from runsite.site import build
from runsite.site.writer import MANIFEST, BuildError, Writer
from site_helpers import (
    charts,
    check_frame,
    facts,
    files,
    json_blocks,
    kv_table,
    link_problems,
    mtimes,
    pages,
    parse,
    script_problems,
    section,
    text_of,
    tiny_png,
)

pd = pytest.importorskip("pandas")
Ridge = pytest.importorskip("sklearn.linear_model").Ridge
StandardScaler = pytest.importorskip("sklearn.preprocessing").StandardScaler

FEATURES = ["distance", "duration"]
RMSE = [6.0, 5.5, 5.0, 4.75, 4.5]
R2 = [0.5, 0.6, 0.7]
T0 = 1_700_000_000_000


# --------------------------------------------------------------------------- helpers


def log_small_model(alpha: float, *, preprocessor: bool = True, example: bool = True) -> None:
    """A Ridge on 10 rows. The default (a preprocessor and an input example, so a
    signature) gives the richest model card; the plain cases have tests of their own."""
    frame = pd.DataFrame(np.arange(20.0).reshape(10, 2), columns=FEATURES)
    target = frame.sum(axis=1)
    scaler = StandardScaler().fit(frame.to_numpy())
    X = scaler.transform(frame.to_numpy()) if preprocessor else frame.to_numpy()
    model = Ridge(alpha=alpha).fit(X, target)
    kwargs: dict[str, Any] = {}
    if preprocessor:
        kwargs["preprocessor"] = scaler
    if example:
        kwargs["input_example"] = frame.head(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # sklearn's feature-name notices
        runsite.log_model(model, "model", **kwargs)


def small_store(n: int = 2, experiment: str = "exp") -> list[str]:
    """``n`` quick runs (params, two metric steps, a text artifact) in the current store."""
    runsite.set_experiment(experiment)
    ids = []
    for i in range(n):
        with runsite.start_run(run_name=f"run-{i}") as r:
            runsite.log_param("i", i)
            runsite.log_metric("loss", 1.0 / (i + 1), step=0)
            runsite.log_metric("loss", 0.5 / (i + 1), step=1)
            runsite.log_text(f"output of run {i}\n", "out.txt")
        ids.append(r.run_id)
    return ids


def write_run_by_hand(
    exp_dir: Path,
    run_id: str,
    name: str,
    *,
    params: dict[str, Any] | None = None,
    metrics: dict[str, list[float]] | None = None,
    torn: bool = True,
    ended: bool = False,
    fmt: int = 1,
) -> Path:
    """A run folder written without runsite: run.json, events.jsonl and metrics.jsonl.
    ``torn``: both JSONL files end in half a line, as when a process is SIGKILLed while
    writing; without ``ended`` there is no status event (the run never ended)."""
    run_dir = exp_dir / run_id
    run_dir.mkdir(parents=True)
    header = {
        "format": fmt,
        "run_id": run_id,
        "run_name": name,
        "experiment": exp_dir.name,
        "experiment_id": exp_dir.name,
        "start_time": T0,
        "parent_run_id": None,
        "user": "someone",
        "host": "a-host-that-is-not-this-one",
        "pid": 4_000_000,
        "command": ["train.py"],
        "entry_point": "train.py",
        "python": {"version": "3.11.0"},
        "git": None,
        "runsite_version": "0.1.0",
        "packages": {},
    }
    (run_dir / "run.json").write_text(json.dumps(header), "utf-8")
    events = [
        {"type": "param", "t": T0 + 1, "key": k, "value": v} for k, v in (params or {}).items()
    ]
    if ended:
        events.append({"type": "status", "t": T0 + 99, "status": "FINISHED", "end_time": T0 + 99})
    text = "".join(json.dumps(e) + "\n" for e in events)
    (run_dir / "events.jsonl").write_text(
        text + ('{"type": "param", "t": 1, "key": "half' if torn else ""), "utf-8"
    )
    points = [
        {"k": k, "v": v, "s": s, "t": T0 + s}
        for k, values in (metrics or {}).items()
        for s, v in enumerate(values)
    ]
    (run_dir / "metrics.jsonl").write_text(
        "".join(json.dumps(p) + "\n" for p in points) + ('{"k": "loss", "v": 0.' if torn else ""),
        "utf-8",
    )
    return run_dir


def runs_by_name(store: Path) -> dict[str, runsite.RunRecord]:
    return {r.run_name: r for r in runsite.Store(store).runs()}


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def all_text(site: Path) -> str:
    return "\n".join(data.decode("utf-8", "replace") for data in files(site).values())


def row_links(table: Any, prefix: str = "") -> list[str]:
    """The site links of a table's rows (not the GitHub commit links), under ``prefix``."""
    return [
        a["href"]
        for a in table.select("tbody tr a")
        if not a["href"].startswith("https://") and a["href"].startswith(prefix)
    ]


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
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RUNSITE_CACHE_DIR", str(base / "_cache"))
        mp.delenv("RUNSITE_STORE", raising=False)
        mp.delenv("RUNSITE_EXPERIMENT", raising=False)
        mp.delenv("SOURCE_DATE_EPOCH", raising=False)
        mp.chdir(repo)
        try:
            ids = _make_rich_store(repo)
            result = build(repo / "runs", base / "site")
        finally:
            run_mod.end_open_runs("KILLED")
            fluent._stack.clear()
            fluent._store = None
            fluent._experiment = None
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
        target = datasets.find(id=anchor)
        assert target is not None and target.name == "section"
        full = facts(target.find("dl"))["Full hash"]
        assert text_of(full) == inp["hash"]


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

    # the model's files are listed (and downloadable) but not previewed
    model_items = [li for li in doc.select("li.artifact.in-model")]
    names = {text_of(li.select_one(".artifact-head a")) for li in model_items}
    assert {"model/model.yaml", "model/model.pkl", "model/requirements.txt"} <= names
    assert all(li.select_one(".preview") is None for li in model_items)


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
    assert [a["href"] for a in registered.find_all("a")] == ["../models/taxi-fare.html"]
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
    assert sorted(row_links(table)) == sorted(f"../runs/{rich.ids[n]}.html" for n in names)
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
    assert [tr.find("a")["href"] for tr in rows] == [
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
    sections = doc.select("section.dataset")
    assert len(sections) == len(used) == 2
    shown = {}
    for sec in sections:
        full = text_of(facts(sec.find("dl"))["Full hash"])
        shown[full] = {a["href"] for a in sec.find_all("a")}
        assert sec["id"] == "d-" + full.split(":")[-1][:16]
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
    for name in ("plot.png", "shape.svg"):
        img = items[name].find("img", class_="preview")
        assert img["src"] == f"{r.run_id}/artifacts/{name}"
        assert (site / "runs" / img["src"]).read_bytes() == (src / name).read_bytes()
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


# --------------------------------------------------------------------------- 3. security

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "</script><script>alert(1)</script>",
]
JS_LINKS = '[click me](javascript:alert(1)) <a href="javascript:alert(1)">raw</a>'


def _csv_text(rows: list[list[str]]) -> str:
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def test_payloads_everywhere_stay_inert_text(store: Path, tmp_path: Path) -> None:
    runsite.set_experiment("evil")
    (store / "evil" / "experiment.yaml").write_text(
        json.dumps(  # JSON is YAML
            {
                "name": f"evil {PAYLOADS[0]}",
                "description": " ".join(PAYLOADS) + " " + JS_LINKS,
                "key_metric": "loss",
            }
        )
    )
    ids = []
    for i, p in enumerate(PAYLOADS):
        with runsite.start_run(run_name=p, description=f"{p} {JS_LINKS}") as r:
            runsite.log_param(f"p{i}", p)
            runsite.set_tag("t", p)
            runsite.log_metric("loss", float(i))
            runsite.add_note(f'{p}\n\n<iframe src="javascript:alert(1)"></iframe>\n\n{JS_LINKS}')
            runsite.log_text(p, "a.txt")
            runsite.log_text(f"# {p}\n\n{JS_LINKS}\n\n{p}\n", "b.md")
            runsite.log_dict({"p": p}, "c.json")
            runsite.log_dict({"p": p}, "c.yaml")
            runsite.log_text(_csv_text([["h", p], ["1", p]]), "d.csv")
            runsite.log_text("named\n", p.replace("/", "|") + ".txt")  # the NAME is the payload
        ids.append(r.run_id)
    # keys the logging API refuses can still be written by hand
    hand = write_run_by_hand(
        store / "evil",
        "01h0handwritten00000000000",
        PAYLOADS[3],
        params={PAYLOADS[1]: PAYLOADS[0]},
        metrics={PAYLOADS[3]: [1.0, 2.0], "loss": [9.0]},
        torn=False,
        ended=True,
    )
    with runsite.start_run(run_name="with-model") as r:
        log_small_model(0.1)
    runsite.register_model(
        f"runs:/{r.run_id}/model", "evil-model", description=" ".join(PAYLOADS) + JS_LINKS
    )

    site = tmp_path / "site"
    result = build(store, site)
    assert result.runs == 6

    assert script_problems(site) == []
    for page in pages(site):
        doc = parse(page)
        check_frame(doc, page.name)  # the CSP meta tag is on every page
        for script in doc.find_all("script", type="application/json"):
            assert "</script" not in (script.string or "").lower()
        for a in doc.find_all("a", href=True):
            assert not "".join(a["href"].split()).lower().startswith("javascript:")

    # every payload is shown as text, where it was logged
    for run_id, p in zip(ids, PAYLOADS, strict=True):
        doc = parse(site / "runs" / f"{run_id}.html")
        assert doc.find("h1").find(string=True, recursive=False).strip() == p
        assert text_of(doc.find("title")).startswith(p)
        assert list(kv_table(section(doc, "Params").find("table")).values()) == [p]
        assert kv_table(section(doc, "Tags").find("table")) == {"t": p}
        items = {text_of(li.select_one(".artifact-head a")): li for li in doc.select("li.artifact")}
        assert set(items) == {
            "a.txt",
            "b.md",
            "c.json",
            "c.yaml",
            "d.csv",
            p.replace("/", "|") + ".txt",
        }
        assert items["a.txt"].select_one("pre.preview").get_text() == p
        assert json.loads(items["c.json"].select_one("pre.preview").get_text()) == {"p": p}
        cells = [text_of(c) for c in items["d.csv"].select(".preview th, .preview td")]
        assert cells == ["h", p, "1", p]
        named = items[p.replace("/", "|") + ".txt"].select_one(".artifact-head a")["href"]
        assert (site / "runs" / unquote(urlsplit(named).path)).read_text() == "named\n"
        md = items["b.md"].select_one("div.prose")
        assert md.find("h1") is not None and md.find(["script", "svg"]) is None
        assert all(not a.get("href") for a in md.find_all("a"))  # javascript: links dropped
        for note in doc.select("div.note"):
            assert note.find(["script", "iframe", "svg"]) is None

    experiment = parse(site / "experiments" / "evil.html")
    assert text_of(experiment.find("h1")) == f"evil {PAYLOADS[0]}"
    assert experiment.select_one("div.prose").find(["script", "svg"]) is None
    (loss_chart,) = [p for _, p in charts(experiment) if p["spec"]["title"]["text"] == "loss"]
    assert set(PAYLOADS) <= set(loss_chart["data"]["series"]["run"])  # data, not markup

    doc = parse(site / "runs" / f"{hand.name}.html")
    assert kv_table(section(doc, "Params").find("table")) == {PAYLOADS[1]: PAYLOADS[0]}
    titles = {p["spec"]["title"]["text"] for _, p in charts(doc)}
    assert titles == {PAYLOADS[3]}  # "loss" has one point: a number, not a chart
    assert any(PAYLOADS[3] in json.dumps(block) for block in json_blocks(doc))

    for rel in ("registry.html", "models/evil-model.html"):
        doc = parse(site / rel)
        for prose in doc.select("div.prose"):
            assert prose.find(["script", "svg", "iframe"]) is None


def test_symlinked_artifacts_outside_the_store_are_not_published(
    store: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "token.txt").write_text("TOPSECRET-4242\n")
    runsite.set_experiment("exp")
    with runsite.start_run(run_name="leaky") as r:
        runsite.log_text("harmless\n", "leak.txt")
        runsite.log_text("harmless too\n", "dir/token.txt")
        runsite.log_text("fine\n", "fine.txt")
    # after the run: someone with push access swaps the files for symlinks out of the store
    arts = store / "exp" / r.run_id / "artifacts"
    (arts / "leak.txt").unlink()
    (arts / "leak.txt").symlink_to(secret / "token.txt")
    shutil.rmtree(arts / "dir")
    (arts / "dir").symlink_to(secret, target_is_directory=True)
    (arts / "unlogged.txt").symlink_to(secret / "token.txt")
    (arts / "etc-hostname").symlink_to("/etc/hostname")

    site = tmp_path / "site"
    result = build(store, site)
    outside = [w for w in result.warnings if "outside the store" in w]
    assert any("leak.txt" in w for w in outside) and any("dir/token.txt" in w for w in outside)

    assert "TOPSECRET" not in all_text(site)
    assert not any(p.is_symlink() for p in site.rglob("*"))
    published = {
        p.relative_to(site / "runs" / r.run_id).as_posix()
        for p in (site / "runs" / r.run_id).rglob("*")
        if p.is_file()
    }
    assert published == {"artifacts/fine.txt"}
    doc = parse(site / "runs" / f"{r.run_id}.html")
    for li in doc.select("li.artifact"):
        name = text_of(li.select_one(".artifact-head .mono"))
        if name in ("leak.txt", "dir/token.txt"):
            assert li.find("a") is None and li.select_one(".preview") is None
            assert "(not published)" in text_of(li)
    assert link_problems(site) == []


# --------------------------------------------------------------------------- 4. the builder


def age(site: Path) -> None:
    """Date every file of ``site`` back, so any rewrite shows in its mtime."""
    for p in site.rglob("*"):
        if p.is_file():
            os.utime(p, ns=(1_000_000_000 * 10**9, 1_000_000_000 * 10**9))


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


def test_source_date_epoch_is_the_built_date_and_nothing_else(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bs4 import BeautifulSoup

    small_store(2)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    build(store, tmp_path / "plain")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14 22:13:20 UTC
    build(store, tmp_path / "dated")
    plain, dated = files(tmp_path / "plain"), files(tmp_path / "dated")
    assert sorted(plain) == sorted(dated)
    html = [rel for rel in plain if rel.endswith(".html")]
    assert len(html) == 8
    for rel in plain:
        if rel == MANIFEST:
            continue
        if rel not in html:
            assert plain[rel] == dated[rel], rel
            continue
        a = BeautifulSoup(plain[rel].decode(), "html.parser")
        b = BeautifulSoup(dated[rel].decode(), "html.parser")
        assert "on 2023-11-14 22:13 UTC" in text_of(b.find("footer")), rel
        assert "2023" not in text_of(a.find("footer")) and " on " not in text_of(a.find("footer"))
        a.find("footer").decompose()
        b.find("footer").decompose()
        assert str(a) == str(b), rel


def test_second_build_into_the_same_folder_renders_and_writes_nothing(
    store: Path, tmp_path: Path
) -> None:
    small_store(3)
    site = tmp_path / "site"
    first = build(store, site)
    assert first.rendered_runs == 3 and first.written == first.files > 0
    age(site)
    before, content = mtimes(site), files(site)
    second = build(store, site)
    assert (second.runs, second.rendered_runs, second.written, second.removed) == (3, 0, 0, 0)
    assert second.unchanged == second.files == first.files
    assert mtimes(site) == before
    assert files(site) == content


def test_one_more_run_renders_one_run_page(store: Path, tmp_path: Path) -> None:
    ids = small_store(2)
    site = tmp_path / "site"
    build(store, site)
    age(site)
    before, stamps = files(site), mtimes(site)
    with runsite.start_run(run_name="run-new") as r:
        runsite.log_metric("loss", 0.1)
    result = build(store, site)
    assert (result.runs, result.rendered_runs) == (3, 1)
    after = files(site)
    changed = {rel for rel in after if before.get(rel) != after[rel]}
    assert changed == {
        f"runs/{r.run_id}.html",
        f"data/runs/{r.run_id}.js",
        "experiments/exp.html",
        "data/experiments/exp.js",
        "data/search.js",
        "index.html",
        MANIFEST,
    }
    assert result.written == 6
    for rel in set(before) - changed:
        assert os.stat(site / rel).st_mtime_ns == stamps[rel], rel
    exp = parse(site / "experiments" / "exp.html")
    assert sorted(row_links(exp.find("table", id="runs-table"))) == sorted(
        f"../runs/{i}.html" for i in [*ids, r.run_id]
    )


def test_a_lost_or_corrupt_cache_is_not_an_error(store: Path, tmp_path: Path) -> None:
    small_store(2)
    site = tmp_path / "site"
    build(store, site)
    age(site)
    before = mtimes(site)
    cache = Path(os.environ["RUNSITE_CACHE_DIR"])
    cached = [p for p in cache.rglob("*") if p.is_file()]
    assert cached  # the build did use it
    for p in cached:
        p.write_text("{not json")
    corrupt = build(store, site)
    assert (corrupt.rendered_runs, corrupt.written) == (2, 0)
    for child in cache.iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    lost = build(store, site)
    assert (lost.runs, lost.rendered_runs, lost.written, lost.removed) == (2, 2, 0, 0)
    assert mtimes(site) == before
    assert build(store, site).rendered_runs == 0  # and it is filled again


def test_a_removed_run_disappears_from_the_site(store: Path, tmp_path: Path) -> None:
    ids = small_store(3)
    site = tmp_path / "site"
    build(store, site)
    assert (site / "runs" / ids[1] / "artifacts" / "out.txt").is_file()
    shutil.rmtree(store / "exp" / ids[1])
    result = build(store, site)
    assert result.runs == 2 and result.removed == 3  # the page, its data file, its artifact
    assert not (site / "runs" / f"{ids[1]}.html").exists()
    assert not (site / "runs" / ids[1]).exists()
    assert ids[1] not in all_text(site)
    exp = parse(site / "experiments" / "exp.html")
    assert sorted(row_links(exp.find("table", id="runs-table"))) == sorted(
        f"../runs/{i}.html" for i in (ids[0], ids[2])
    )
    assert link_problems(site) == []


def test_removing_a_parent_run_updates_the_child_page(store: Path, tmp_path: Path) -> None:
    runsite.set_experiment("exp")
    with (
        runsite.start_run(run_name="parent") as parent,
        runsite.start_run(run_name="child", nested=True) as child,
    ):
        runsite.log_metric("loss", 1.0)
    site = tmp_path / "site"
    build(store, site)
    shutil.rmtree(store / "exp" / parent.run_id)
    build(store, site)
    build(store, tmp_path / "fresh")
    rel = f"runs/{child.run_id}.html"
    fresh = facts(parse(tmp_path / "fresh" / rel).select_one("section.overview dl"))
    assert "Parent run" not in fresh
    assert link_problems(site) == []
    assert (site / rel).read_bytes() == (tmp_path / "fresh" / rel).read_bytes()


def test_a_child_run_ending_updates_the_parent_page(store: Path, tmp_path: Path) -> None:
    runsite.set_experiment("exp")
    with runsite.start_run(run_name="parent") as parent:
        pass
    child = runsite.Store(store).start_run("exp", run_name="child", parent_run_id=parent.run_id)
    site = tmp_path / "site"
    rel = f"runs/{parent.run_id}.html"

    def child_status(page: Path) -> str:
        children = facts(parse(page).select_one("section.overview dl"))["Child runs"]
        return text_of(children.select_one(".badge"))

    build(store, site)
    assert child_status(site / rel) == "running"
    child.end()
    build(store, site)
    build(store, tmp_path / "fresh")
    assert child_status(tmp_path / "fresh" / rel) == "finished"
    assert child_status(site / rel) == "finished"


def test_clean_refuses_a_folder_that_is_not_a_runsite_site(store: Path, tmp_path: Path) -> None:
    small_store(1)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notes.md").write_text("mine")
    with pytest.raises(BuildError, match="does not look like a runsite site"):
        build(store, docs, clean=True)
    code, _, err = cli("build", str(store), "--out", str(docs), "--clean")
    assert code != 0 and "does not look like a runsite site" in err
    assert (docs / "notes.md").read_text() == "mine"
    assert sorted(p.name for p in docs.iterdir()) == ["notes.md"]

    site = tmp_path / "site"  # a previous site is wiped, stray files and all
    build(store, site)
    (site / "stray.txt").write_text("x")
    result = build(store, site, clean=True)
    assert not (site / "stray.txt").exists() and (site / "index.html").is_file()
    assert result.written == result.files
    empty = tmp_path / "empty"
    empty.mkdir()
    assert build(store, empty, clean=True).runs == 1


def test_building_into_or_around_the_store_is_refused(store: Path, tmp_path: Path) -> None:
    small_store(1)
    before = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    for out in (store, store / "site", store / "exp", tmp_path):
        with pytest.raises(BuildError, match="outside the store"):
            build(store, out)
        with pytest.raises(BuildError):
            build(store, out, clean=True)
    code, _, err = cli("build", str(store), "--out", str(store / "site"))
    assert code != 0 and "outside the store" in err
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == before


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


def test_writer_refuses_two_outputs_on_one_path(tmp_path: Path) -> None:
    source = tmp_path / "source.txt"
    source.write_text("from a file")
    writer = Writer(tmp_path / "out")
    writer.add("runs/a.html", "<p>one</p>", origin="run a")
    with pytest.raises(BuildError, match=r"two outputs for runs/a\.html: run a and theme file x"):
        writer.add("runs/a.html", b"<p>two</p>", origin="theme file x")
    with pytest.raises(BuildError, match="two outputs"):
        writer.add_file("runs/a.html", source, origin="artifact of run b")
    with pytest.raises(BuildError, match="two outputs"):
        writer.add("/runs/a.html", "<p>three</p>", origin="a leading slash")
    with pytest.raises(BuildError, match="refusing output path"):
        writer.add("../escape.html", "x", origin="escape")
    writer.add_file("runs/b.txt", source, origin="artifact")
    stats = writer.commit()
    assert (stats.files, stats.written) == (2, 2)
    assert (tmp_path / "out/runs/a.html").read_text() == "<p>one</p>"
    assert (tmp_path / "out/runs/b.txt").read_text() == "from a file"
    assert not (tmp_path / "escape.html").exists()
    assert set(json.loads((tmp_path / "out" / MANIFEST).read_text())) == {
        "runs/a.html",
        "runs/b.txt",
    }


# --------------------------------------------------------------------------- 5. robustness


def test_empty_and_missing_stores_build(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    for st in (empty, tmp_path / "missing"):
        site = tmp_path / f"site-{st.name}"
        result = build(st, site)
        assert (result.runs, result.pages) == (0, 5)
        assert {p.relative_to(site).as_posix() for p in pages(site)} == {
            "index.html",
            "registry.html",
            "datasets.html",
            "404.html",
            "compare.html",
        }
        for page in pages(site):
            doc = parse(page)
            check_frame(doc, page.name)
            if page.name not in ("404.html", "compare.html"):  # no data: say so
                assert doc.select_one("p.empty") is not None, page.name
        assert link_problems(site) == [] and script_problems(site) == []
    assert not (tmp_path / "missing").exists()  # building does not create the store


def test_experiment_folder_without_runs(store: Path, tmp_path: Path) -> None:
    small_store(1)
    (store / "later").mkdir()
    (store / "later" / "experiment.yaml").write_text("name: Later\ndescription: Not yet.\n")
    (store / "bare").mkdir()
    site = tmp_path / "site"
    result = build(store, site)
    assert result.runs == 1 and result.warnings == []
    for slug, name in (("later", "Later"), ("bare", "bare")):
        doc = parse(site / "experiments" / f"{slug}.html")
        check_frame(doc, slug)
        assert text_of(doc.find("h1")) == name
        assert doc.find("table", id="runs-table") is None
        assert text_of(doc.select_one("p.empty")) == "No runs in this experiment yet."
    cards = {text_of(c.find("h2")): c for c in parse(site / "index.html").select("a.card")}
    assert set(cards) == {"exp", "Later", "bare"}
    assert text_of(cards["Later"].select_one("p.muted")).startswith("0 runs")
    assert link_problems(site) == []


def test_a_crashed_run_with_torn_lines_builds_with_warnings(store: Path, tmp_path: Path) -> None:
    small_store(1)
    run_dir = write_run_by_hand(
        store / "exp",
        "01h0crashed000000000000000",
        "crashed",
        params={"lr": 0.01},
        metrics={"loss": [1.0, 0.5, 0.25]},
    )
    site = tmp_path / "site"
    result = build(store, site)
    assert result.runs == 2
    torn = [w for w in result.warnings if "incomplete" in w]
    assert {Path(w.split(":")[0]).name for w in torn} == {"events.jsonl", "metrics.jsonl"}

    doc = parse(site / "runs" / f"{run_dir.name}.html")
    check_frame(doc, "crashed run")
    assert text_of(doc.select_one("h1 .badge")) == "unfinished"
    assert text_of(facts(doc.select_one("section.overview dl"))["Ended"]) == "–"
    assert kv_table(section(doc, "Params").find("table")) == {"lr": "0.01"}
    row = section(doc, "Metrics").select_one("tbody tr")
    assert [text_of(td) for td in row.find_all("td")] == ["0.25", "0.25", "1", "3", "2"]
    ((_, payload),) = charts(doc)
    assert payload["data"]["series"]["value"] == [1.0, 0.5, 0.25]
    assert link_problems(site) == []


def test_a_run_of_a_newer_format_is_skipped_with_a_warning(store: Path, tmp_path: Path) -> None:
    (kept,) = small_store(1)
    future = write_run_by_hand(store / "exp", "01h0future0000000000000000", "future", fmt=2)
    site = tmp_path / "site"
    result = build(store, site)
    assert result.runs == 1
    assert any("format 2" in w and future.name in w for w in result.warnings)
    assert not (site / "runs" / f"{future.name}.html").exists()
    assert future.name not in all_text(site)
    assert (site / "runs" / f"{kept}.html").is_file()


def test_cli_build_strict(store: Path, tmp_path: Path) -> None:
    small_store(1)
    out = tmp_path / "site"
    code, stdout, stderr = cli("build", str(store), "--out", str(out), "--strict")
    assert code == 0, stderr
    assert "warning" not in stderr
    m = re.search(r"(\d+) pages, (\d+) runs", stdout)
    assert m is not None and (int(m[1]), int(m[2])) == (7, 1)

    write_run_by_hand(store / "exp", "01h0crashed000000000000000", "crashed", metrics={"loss": [1]})
    code, stdout, stderr = cli("build", str(store), "--out", str(out), "--strict")
    assert code == 1
    warned = [ln for ln in stderr.splitlines() if ln.startswith("warning: ")]
    assert len(warned) == 2 and all("incomplete" in ln for ln in warned)
    assert "--strict: 2 warnings" in stderr
    m = re.search(r"(\d+) pages, (\d+) runs", stdout)
    assert m is not None and (int(m[1]), int(m[2])) == (8, 2)  # the site is still built

    code, stdout, stderr = cli("build", str(store), "--out", str(out))
    assert code == 0 and len([ln for ln in stderr.splitlines() if ln.startswith("warning")]) == 2
    assert "2 warnings" in stdout


# --------------------------------------------------------------------------- 6. publishing


def test_site_yaml_publishing_controls(store: Path, tmp_path: Path) -> None:
    data = tmp_path / "hidden-data.csv"
    data.write_text("HIDDENCOLUMN\n1\n")
    runsite.set_experiment("Hidden Lab")
    with runsite.start_run(run_name="HIDDENEXPRUN") as hidden:
        runsite.log_param("HIDDENEXPPARAM", 1)
        runsite.log_input(data, name="HIDDENDATA")
        runsite.log_text("HIDDENEXPARTIFACT\n", "x.txt")
    hidden_hash = runsite.Store(store).run(hidden.run_id).inputs[0]["hash"]
    runsite.set_experiment("public")
    with runsite.start_run(run_name="private-PRIVRUN") as private:
        runsite.log_param("PRIVPARAM", 1)
        runsite.log_metric("loss", 0.1)
        runsite.log_text("PRIVARTIFACT\n", "p.txt")
    with runsite.start_run(run_name="shown") as shown:
        runsite.log_params({"alpha": 0.5, "api_token": "PARAMVALUESECRET", "api_url": "U"})
        runsite.set_tag("owner", "team-a")
        runsite.set_tag("internal.note", "TAGVALUESECRET")
        runsite.log_metric("loss", 0.5)
        runsite.log_text("kept\n", "kept.txt")
        runsite.log_text("PRIVATEARTIFACT\n", "private/creds.txt")
        runsite.log_text("KEYFILESECRET\n", "server.key")
        runsite.log_text("BIGCONTENT" * 120 + "\n", "big.txt")  # 1.2 KB > 1KB
        runsite.log_text("S" * 1000 + "\n", "small-enough.txt")
    (store / "site.yaml").write_text(
        "title: Public site\n"
        "exclude:\n"
        "  experiments: ['Hidden *']\n"
        "  runs: ['private-*']\n"
        "  params: ['api_*']\n"
        "  tags: ['internal.*']\n"
        "  artifacts: ['private/*', '*.key']\n"
        "max_artifact_size: 1KB\n"
    )
    site = tmp_path / "site"
    result = build(store, site)
    assert result.runs == 1

    text = all_text(site)
    for secret in (
        "Hidden Lab",
        "hidden-lab",
        "HIDDENEXP",
        hidden.run_id,
        "HIDDENDATA",
        "hidden-data",
        "HIDDENCOLUMN",
        hidden_hash.split(":")[-1][:16],
        "PRIVRUN",
        "PRIVPARAM",
        "PRIVARTIFACT",
        private.run_id,
        "api_token",
        "api_url",
        "PARAMVALUESECRET",
        "internal.note",
        "TAGVALUESECRET",
        "private/creds",
        "creds.txt",
        "PRIVATEARTIFACT",
        "server.key",
        "KEYFILESECRET",
        "BIGCONTENT",
    ):
        assert secret not in text, f"{secret!r} was published"

    doc = parse(site / "runs" / f"{shown.run_id}.html")
    assert text_of(doc.find("title")) == "shown · Public site"
    assert kv_table(section(doc, "Params").find("table")) == {"alpha": "0.5"}
    assert kv_table(section(doc, "Tags").find("table")) == {"owner": "team-a"}
    items = {text_of(li.select_one(".artifact-head .mono")): li for li in doc.select("li.artifact")}
    assert set(items) == {"kept.txt", "big.txt", "small-enough.txt"}
    big = items["big.txt"]
    assert big.find("a") is None and big.select_one(".preview") is None
    assert "(not published)" in text_of(big.select_one(".artifact-head"))
    assert items["small-enough.txt"].find("a") is not None
    published = sorted(p.name for p in (site / "runs" / shown.run_id / "artifacts").rglob("*"))
    assert published == ["kept.txt", "small-enough.txt"]
    assert {p.stem for p in (site / "experiments").iterdir()} == {"public"}
    assert link_problems(site) == []


# --------------------------------------------------------------------------- 7. registry history


def as_author(repo: Path, name: str, *args: str) -> None:
    git(repo, "-c", f"user.name={name}", "-c", f"user.email={name.lower()}@example.com", *args)


def test_registry_timeline_from_git_and_without_git(repo: Path, tmp_path: Path) -> None:
    git(repo, "remote", "add", "origin", "https://github.com/acme/proj.git")
    store = repo / "runs"
    runsite.set_store(store)
    runsite.set_experiment("taxi")
    with runsite.start_run(run_name="ridge") as r:
        runsite.log_metric("rmse", 4.0)
        log_small_model(0.1)
    git(repo, "add", "runs")
    git(repo, "commit", "-qm", "train")
    runsite.register_model(f"runs:/{r.run_id}/model", "taxi")
    as_author(repo, "Bob", "add", "runs/registry.yaml")
    as_author(repo, "Bob", "commit", "-qm", "models: register taxi v1")
    git(repo, "checkout", "-qb", "promote")
    runsite.set_model_stage("taxi", 1, "production")
    as_author(
        repo, "Alice", "commit", "-qam", "models: taxi v1 to production\n\nReason: best rmse so far"
    )
    git(repo, "checkout", "-q", "main")
    as_author(
        repo,
        "Maintainer",
        "merge",
        "-q",
        "--no-ff",
        "promote",
        "-m",
        "Merge pull request #7 from x/y",
    )

    site = tmp_path / "site"
    result = build(store, site)
    assert result.warnings == []
    for rel in ("registry.html", "models/taxi.html"):
        doc = parse(site / rel)
        items = doc.select("ol.timeline > li")
        assert len(items) == 2, rel
        promoted, registered = items  # newest first
        assert promoted.select_one(".what .stage-production") is not None
        who = promoted.select_one(".who")
        assert text_of(who).startswith("by Alice")
        pr = who.find("a", string="#7")
        assert pr is not None and pr["href"] == "https://github.com/acme/proj/pull/7"
        commit = who.find("a", class_="mono")
        assert re.fullmatch(r"https://github\.com/acme/proj/commit/[0-9a-f]{40}", commit["href"])
        assert text_of(promoted.select_one(".why")) == "best rmse so far"
        assert text_of(registered.select_one(".who")).startswith("by Bob")
        assert "registered" in text_of(registered.select_one(".what"))
        assert registered.find("a", string=re.compile("^#")) is None  # no pull request
    registry = parse(site / "registry.html")
    assert registry.select_one("ol.timeline .what a")["href"] == "models/taxi.html"
    assert link_problems(site) == []

    # the same store outside any git repository: no history, still a site
    outside = tmp_path / "outside"
    shutil.copytree(store, outside / "runs")
    site2 = tmp_path / "site2"
    result = build(outside / "runs", site2)
    assert result.runs == 1
    for rel in ("registry.html", "models/taxi.html"):
        doc = parse(site2 / rel)
        assert doc.select_one("ol.timeline") is None
        note = doc.find("h2", string="Stage transitions").find_next("p")
        assert text_of(note).startswith("No history available"), rel
        stages = [text_of(b) for b in doc.select("table.versions .badge")]
        assert stages == ["production"]


def test_registry_does_not_name_excluded_runs(store: Path, tmp_path: Path) -> None:
    runsite.set_experiment("public")
    with runsite.start_run(run_name="private-model") as r:
        runsite.log_metric("rmse", 1.0)
        log_small_model(0.1)
    runsite.register_model(f"runs:/{r.run_id}/model", "fare")
    (store / "site.yaml").write_text("exclude:\n  runs: ['private-*']\n")
    site = tmp_path / "site"
    result = build(store, site)
    assert result.runs == 0
    rows = parse(site / "registry.html").select("table.versions tbody tr")
    assert [text_of(tr.find("td")) for tr in rows] == ["v1"]  # the model itself is public
    assert r.run_id not in all_text(site)
