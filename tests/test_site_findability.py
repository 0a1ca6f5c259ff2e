"""What people expect to find on the site: metric names in the search, previews of the
text files in a model folder, short class names with the full path on hover."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LinearRegression

import runsite
from browser_support import chromium
from runsite.site import build
from site_helpers import loads, parse, text_of


@pytest.fixture
def site(store: Path, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    runsite.set_experiment("Taxi Trips")
    ids = {}
    for name, rmse in (("a", 6.0), ("b", 4.0), ("c", 5.0)):
        with runsite.start_run(run_name=name) as run:
            runsite.log_metric("rmse", rmse)
            runsite.log_metric("val loss", rmse / 2)
            if name == "b":
                vec = DictVectorizer()
                X = vec.fit_transform([{"x": 1.0}, {"x": 2.0}])
                runsite.log_model(
                    LinearRegression().fit(X, [1.0, 2.0]),
                    "model",
                    preprocessor=vec,
                    input_example=[{"x": 1.0}],
                )
                (run.artifacts_dir / "model" / "NOTES").write_text("trained on <two> rows\n")
                run.log_artifact(str(run.artifacts_dir / "model" / "NOTES"), "model")
        ids[name] = run.run_id
    runsite.set_experiment("Churn")
    with runsite.start_run(run_name="d"):
        runsite.log_metric("auc", 0.8)
    out = tmp_path / "site"
    build(store, out)
    return out, ids


def _entries(site: Path) -> list[list[str]]:
    text = (site / "data/search.js").read_text()
    payload = loads(re.search(r"\.push\((.*)\);\s*$", text, re.S).group(1))
    return payload["entries"]


def test_every_metric_of_every_experiment_is_in_the_search_index(site: tuple) -> None:
    out, _ = site
    metrics = [e for e in _entries(out) if e[0] == "metric"]
    assert sorted((e[1], e[2]) for e in metrics) == [
        ("auc", "Churn · 1 run"),
        ("rmse", "Taxi Trips · 3 runs"),
        ("val loss", "Taxi Trips · 3 runs"),
    ]
    urls = {e[1]: e[3] for e in metrics}
    assert urls["rmse"] == "experiments/taxi-trips.html#sort=metrics.rmse+ASC"
    assert urls["auc"] == "experiments/churn.html#sort=metrics.auc+DESC"
    assert urls["val loss"] == "experiments/taxi-trips.html#sort=metrics.%60val+loss%60+ASC"


@pytest.mark.browser
def test_a_metric_found_in_the_search_opens_the_table_sorted_best_first(site: tuple) -> None:
    out, _ = site
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto((out / "index.html").as_uri())
        page.wait_for_function("() => window.runsiteSearch !== undefined")
        page.locator("#site-search-input").press_sequentially("rmse", delay=5)
        link = page.locator("#site-search-results a.gs-item", has_text="rmse").first
        link.wait_for()
        assert "Taxi Trips" in link.inner_text()
        link.click()
        page.wait_for_selector("#runs-app[data-ready]")
        names = page.locator("#runs-app tbody .rt-name").all_inner_texts()
        assert [n.strip() for n in names] == ["b", "c", "a"]
        for key in ("val loss", "auc"):
            page.goto((out / "index.html").as_uri())
            page.wait_for_function("() => window.runsiteSearch !== undefined")
            page.locator("#site-search-input").press_sequentially(key, delay=5)
            item = page.locator("#site-search-results a.gs-item", has_text=key).first
            item.click()
            page.wait_for_selector("#runs-app[data-ready]")
            state = page.evaluate("() => window.runsiteRunsTable.state()")
            assert state["sort"]["desc"] is (key == "auc")


def test_model_folder_text_files_have_previews_and_binaries_do_not(site: tuple) -> None:
    out, ids = site
    page = parse(out / f"runs/{ids['b']}.html")
    items = {
        text_of(li.find(class_="artifact-head").find("a")): li
        for li in page.select("li.artifact.in-model")
    }
    assert {"model/model.yaml", "model/requirements.txt", "model/NOTES"} <= set(items)
    for name in ("model/model.yaml", "model/requirements.txt", "model/input_example.json"):
        details = items[name].find("details", class_="model-file")
        assert details is not None and details.find("pre") is not None, name
    notes = items["model/NOTES"].find("pre")
    assert notes is not None and notes.get_text() == "trained on <two> rows\n"
    for name in ("model/model.pkl", "model/preprocessor.pkl"):
        assert items[name].find("pre") is None, name


def test_classes_show_their_own_name_and_the_full_path_on_hover(site: tuple) -> None:
    out, ids = site
    card = parse(out / f"runs/{ids['b']}.html").find("article", class_="model-card")
    facts = dict(zip([text_of(t) for t in card.find_all("dt")], card.find_all("dd"), strict=True))
    cls = facts["Class"].find("span")
    assert text_of(cls) == "LinearRegression"
    assert cls["title"] == "sklearn.linear_model._base.LinearRegression"
    pre = facts["Preprocessor"].find("span")
    assert text_of(pre) == "DictVectorizer"
    assert (
        pre["title"].startswith("sklearn.feature_extraction.")
        and "._dict_vectorizer." in pre["title"]
    )


def test_datasets_page_groups_versions_of_a_path_with_contexts_and_model_versions(
    store: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    train, val = data / "train.csv", data / "val.csv"
    train.write_text("x,y\n1,2\n2,4\n")
    val.write_text("x,y\n3,6\n")
    runsite.set_experiment("exp")
    model = LinearRegression().fit([[1.0], [2.0]], [2.0, 4.0])
    with runsite.start_run(run_name="old") as old:
        runsite.log_input(train, name="train")
        runsite.log_input(val, name="val", context="validation")
        runsite.log_model(model, "model")
    runsite.register_model(f"runs:/{old.run_id}/model", "reg")
    train.write_text("x,y\n1,2\n2,4\n3,6\n")  # a new version of the same path
    with runsite.start_run(run_name="new") as new:
        runsite.log_input(train, name="train")
        runsite.log_input(train, name="train again", context="evaluation")
    out = tmp_path / "site"
    build(store, out)
    doc = parse(out / "datasets.html")
    groups = doc.select("section.dataset-group")
    keys = [text_of(g.find(class_="ds-key")) for g in groups]
    assert sorted(keys) == ["data/train.csv", "data/val.csv"]  # as logged (cwd-relative)
    by_key = dict(zip(keys, groups, strict=True))
    rows = by_key["data/train.csv"].select("table.ds-versions tbody tr")
    assert len(rows) == 2  # two hashes of one path, newest first
    new_hash = runsite.Store(store).run(new.run_id).inputs[0]["hash"]
    old_hash = runsite.Store(store).run(old.run_id).inputs[0]["hash"]
    assert [tr["id"] for tr in rows] == ["d-" + h.split(":")[1][:16] for h in (new_hash, old_hash)]
    cells = [[text_of(td) for td in tr.find_all("td")] for tr in rows]
    assert "latest" in cells[0][0] and "stale for reg v1" in cells[1][0]
    assert cells[0][4] == "training, evaluation" and cells[1][4] == "training"
    assert cells[0][3] == "3" and cells[1][3] == "2"
    assert cells[0][6] == "–" and cells[1][6] == "Trained: reg v1"
    assert rows[1].find_all("td")[6].find("a")["href"] == "models/reg/v1.html"
    assert rows[0].find("span", title=True)["title"] == new_hash
    vrow = by_key["data/val.csv"].select_one("tbody tr")
    vcells = [text_of(td) for td in vrow.find_all("td")]
    assert vcells[4] == "validation" and vcells[6] == "Trained: reg v1 (validation)"
    # every data-input link of a run page lands on its version's row
    for rid in (old.run_id, new.run_id):
        for a in parse(out / f"runs/{rid}.html").select('a[href^="../datasets.html#"]'):
            assert doc.find(id=a["href"].split("#")[1]).name == "tr"
