"""The site's page per registered version: source run, data, signature, how to load it,
stage history and every evaluation over time with drift; the model page's comparison on
the latest common evaluation; links from registry, runs, datasets and the runs table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import runsite
from evaluation_helpers import diabetes_rows, evaluated_store, train_versions, write_csv
from runsite.registry import Registry
from runsite.registry.evaluate import evaluate_versions
from runsite.site import build
from site_helpers import (
    charts,
    check_frame,
    data_file,
    facts,
    link_problems,
    parse,
    section,
    table_column,
    text_of,
)

pytest.importorskip("sklearn")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("versions")
    store, weak, strong = evaluated_store(tmp)
    out = tmp / "site"
    build(store, out)
    return {"out": out, "store": store, "weak": weak, "strong": strong}


def test_version_page_shows_source_data_signature_and_loading(site: dict[str, Any]) -> None:
    out = site["out"]
    doc = parse(out / "models" / "diabetes" / "v2.html")
    check_frame(doc, "version page")
    assert text_of(doc.find("h1")).startswith("diabetes v2 staging")
    f = facts(doc.select_one("dl.facts"))
    assert text_of(f["Source run"]).startswith("gbm")
    assert f["Source run"].find("a")["href"] == f"../../runs/{site['strong']}.html"
    assert "dirty" in text_of(f["Commit"]) or "clean working tree" in text_of(f["Commit"])
    assert text_of(f["Hash"]) == Registry(site["store"]).get_model_version("diabetes", 2).hash
    assert "KB" in text_of(f["Size"]) or "MB" in text_of(f["Size"])
    # classes by their own names, the import path (private modules too) on hover
    shown = f["Model"].find("span", title=True)
    assert text_of(shown) == shown["title"].rsplit(".", 1)[-1] != shown["title"]
    assert "._" not in text_of(f["Model"])
    load = text_of(section(doc, "Load it"))
    assert 'runsite.load_model("models:/diabetes/2")' in load
    assert "runsite models pull diabetes/2 --out model/" in load
    train = section(doc, "Training data")
    link = train.select_one("td a")
    assert link["href"].startswith("../../datasets.html#d-")
    sig = text_of(section(doc, "Signature"))
    assert "bmi" in sig and "sex" in sig and "Input example" in sig
    assert "requirements.txt" in sig
    params = text_of(section(doc, "Params"))
    assert "family" in params and "gbm" in params


def test_version_page_lists_every_evaluation_with_drift_and_a_chart(
    site: dict[str, Any],
) -> None:
    doc = parse(site["out"] / "models" / "diabetes" / "v1.html")
    ev = section(doc, "Evaluations")
    table = ev.select_one("table.evaluations")
    heads = [text_of(th) for th in table.select("thead th")]
    assert heads[:4] == ["Evaluated", "Data", "Rows", "rmse ★"]
    rows = table.select("tbody tr")
    assert [text_of(r.select("td")[1]).split()[0] for r in rows] == ["may", "april"]
    badges = [text_of(r.select_one(".badge")) for r in rows]
    assert badges[0].startswith("drift:") and "bmi" in badges[0]  # may: shifted
    assert badges[1] in ("no drift", "drift: sex")  # april: only more women
    assert all(r.select_one("td a")["href"].startswith("../../datasets.html#d-") for r in rows)
    ((_, payload),) = charts(doc)
    series = payload["data"]["series"]
    assert [s.split(" · ")[0] for s in series["label"]] == ["april", "may"]  # oldest first
    assert series["version"] == ["v1", "v1"]
    assert series["drift"][1] == "drift"
    assert payload["spec"]["title"]["text"] == "rmse per evaluation"
    assert "Drift on may (latest), per feature" in text_of(ev)


def test_model_page_compares_versions_on_the_latest_common_evaluation(
    site: dict[str, Any],
) -> None:
    doc = parse(site["out"] / "models" / "diabetes.html")
    h3 = next(h for h in doc.find_all("h3") if "latest common evaluation" in text_of(h))
    assert "may" in text_of(h3)
    table = doc.select_one("table.compare-versions")
    rows = table.select("tbody tr")
    assert [text_of(r.select_one("td")) for r in rows] == ["v2", "v1"]
    heads = [text_of(th) for th in table.select("thead th")]
    rmse = heads.index("rmse ★")
    v2, v1 = (float(text_of(r.select("td")[rmse])) for r in rows)
    assert v2 < v1  # the boosted model is better on May data too
    ((_, payload),) = charts(doc)
    assert sorted(set(payload["data"]["series"]["version"])) == ["v1", "v2"]
    assert len(payload["data"]["series"]["value"]) == 4


def test_links_from_registry_runs_datasets_and_runs_table(site: dict[str, Any]) -> None:
    out = site["out"]
    reg = parse(out / "registry.html")
    hrefs = {a["href"] for a in reg.select("table.versions a")}
    assert {"models/diabetes/v1.html", "models/diabetes/v2.html"} <= hrefs
    run = parse(out / "runs" / f"{site['strong']}.html")
    assert any(a["href"] == "../models/diabetes/v2.html" for a in run.select("article a"))
    datasets = parse(out / "datasets.html")
    text = text_of(datasets).replace(" ,", ",")
    assert "Trained: diabetes v1, diabetes v2" in text
    assert text.count("Evaluated: diabetes v1, diabetes v2") == 2  # april and may
    # An evaluation run says which version it evaluated.
    store = runsite.Store(site["store"])
    eval_run = store.runs("diabetes-evaluation")[0]
    page = parse(out / "runs" / f"{eval_run.run_id}.html")
    dd = facts(page.select_one("dl.facts"))["Evaluated"]
    assert dd.find("a")["href"].startswith("../models/diabetes/v")
    # The experiment's runs table: which runs became which versions (fallback and data).
    exp = next(e for e in store.experiments() if e.name == "diabetes")
    page = parse(out / "experiments" / f"{exp.experiment_id}.html")
    heads = [text_of(th) for th in page.select("#runs-table thead th")]
    assert "Versions" in heads
    manifest = data_file(out / "data" / "experiments" / f"{exp.experiment_id}.js")
    ids = table_column(out, manifest, "a-id")  # versions: row index → the versions
    by_id = {ids[int(i)]: v for i, v in manifest["versions"].items()}
    assert by_id[site["strong"]] == [["diabetes v2", "models/diabetes/v2.html"]]
    assert link_problems(out) == []


def test_hostile_names_and_values_are_escaped(tmp_path: Path) -> None:
    store = tmp_path / "runs"
    runsite.set_store(store)
    weak, _ = train_versions(tmp_path / "data", experiment="<b>exp</b>")
    runsite.register_model(f"runs:/{weak}/model", "m", description="<script>alert(1)</script>")
    Registry(store).tag("m", "team", "<img src=x onerror=alert(1)>", version=1)
    rows, y = diabetes_rows()
    data = write_csv(tmp_path / "data" / "<i>x&y.csv", rows, y)
    evaluate_versions(Registry(store), "m", data, "target", ["1"])
    build(store, tmp_path / "site")
    html = (tmp_path / "site" / "models" / "m" / "v1.html").read_text()
    doc = parse(tmp_path / "site" / "models" / "m" / "v1.html")
    assert doc.find("img") is None and doc.find("i") is None and "<i>x" not in html
    assert not [s for s in doc.find_all("script") if "alert" in (s.string or "")]
    assert "&lt;i&gt;x&amp;y" in html  # the data's name, escaped
