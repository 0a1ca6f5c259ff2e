"""The run-row vocabulary, ``runsite.attributes``: the one list of a run's attributes and
their types. Python's rows (``RunRecord.to_row``), the query language, the pandas frame,
the site's data files and, through ``data/vocabulary.js``, query.js and runs.js all read
it. These tests fail when one of them disagrees with it, or with another.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import runsite
from runsite import attributes
from runsite.errors import QueryError
from runsite.search import Comparison, parse
from runsite.site import data as data_files
from site_helpers import data_file, table_column

ROOT = Path(__file__).resolve().parent.parent
THEME = ROOT / "themes" / "default"


@pytest.fixture
def varied(repo: Path, quiet_git: None) -> Path:
    """A store in a real git repository whose runs give every attribute a value somewhere,
    and leave each one missing somewhere: clean and dirty commits, a parent and its
    child, a failed run, and a run that never ended (written by hand, outside git)."""
    from site_store import write_run_by_hand

    store = repo / "runs"
    runsite.set_store(store)
    runsite.set_experiment("exp")
    with runsite.start_run(run_name="clean"):
        runsite.log_metric("rmse", 1.0)
    (repo / "train.py").write_text("print('changed')\n")  # the work tree is dirty now
    with runsite.start_run(run_name="parent"), runsite.start_run(run_name="child", nested=True):
        runsite.log_param("p", 1)
    with pytest.raises(RuntimeError), runsite.start_run(run_name="failed"):
        raise RuntimeError("boom")
    write_run_by_hand(store / "exp", "20260101T000000-unended", "unended", torn=False)
    return store


def _python_rows(store: Path) -> dict[str, dict[str, Any]]:
    return {r.run_id: r.to_row()["attributes"] for r in runsite.Store(store).runs()}


# --------------------------------------------------------------------------- Python


def test_rows_carry_exactly_the_vocabulary_with_its_types(varied: Path) -> None:
    rows = _python_rows(varied)
    assert len(rows) == 5
    kinds: dict[str, set[type]] = {
        attributes.TEXT: {str},
        attributes.TIME: {int},
        attributes.DURATION: {int},
        attributes.FLAG: {bool},
    }
    for row in rows.values():
        assert tuple(row) == attributes.NAMES
        for a in attributes.ATTRIBUTES:
            value = row[a.name]
            assert value is None or type(value) in kinds[a.type], (a.name, value)
    by_name = {row["run_name"]: row for row in rows.values()}
    # every attribute present in some run; those that may be missing are missing somewhere
    for name in attributes.NAMES:
        assert any(row[name] is not None for row in rows.values()), name
    assert by_name["clean"]["dirty"] is False and by_name["child"]["dirty"] is True
    assert by_name["child"]["parent_run_id"] == by_name["parent"]["run_id"]
    assert by_name["failed"]["status"] == "FAILED"
    unended = by_name["unended"]
    assert (unended["end_time"], unended["duration"], unended["commit"]) == (None, None, None)


def test_the_query_language_knows_the_vocabulary_and_nothing_else() -> None:
    for a in attributes.ATTRIBUTES:
        node = parse(f"attributes.{a.name} IS NULL")
        assert isinstance(node, Comparison) and node.ident.key == a.name
        assert node.ident.numeric == (a.type in attributes.NUMERIC_TYPES), a.name
    for alias, name in attributes.ALIASES.items():
        node = parse(f"attributes.{alias.upper()} IS NULL")
        assert isinstance(node, Comparison) and node.ident.key == name
    with pytest.raises(QueryError) as err:
        parse("attributes.nope = 'x'")
    known = ", ".join([*attributes.NAMES, *attributes.ALIASES])
    assert str(err.value).startswith(f"unknown attribute 'nope' (known: {known}) (at")
    for field in attributes.DATASET_FIELDS:
        assert isinstance(parse(f"datasets.{field} = 'x'"), Comparison)


def test_the_pandas_frame_types_times_by_the_vocabulary(varied: Path) -> None:
    pd = pytest.importorskip("pandas")
    frame = runsite.search_runs(
        store=str(varied), search_all_experiments=True, output_format="pandas"
    )
    assert list(frame.columns[:6]) == [
        "run_id",
        "experiment_id",
        "status",
        "artifact_uri",
        "start_time",
        "end_time",
    ]
    dtype = frame["start_time"].dtype
    assert isinstance(dtype, pd.DatetimeTZDtype) and str(dtype.tz) == "UTC"

    def ms(t: int) -> Any:
        return pd.Timestamp(t, unit="ms", tz="UTC")

    rows = {r.run_id: r for r in runsite.Store(varied).runs()}
    for _, line in frame.iterrows():
        run = rows[line["run_id"]]
        assert line["start_time"] == ms(run.start_time)
        assert line["status"] == run.status
        if run.end_time is None:
            assert pd.isna(line["end_time"])
        else:
            assert line["end_time"] == ms(run.end_time)


def test_docs_list_the_vocabulary() -> None:
    """docs/search.md's table of attributes: the same names, aliases and types."""
    text = (ROOT / "docs" / "search.md").read_text("utf-8")
    table = text.split("### Attributes", 1)[1].split("\n\n", 2)[1]
    documented = {}
    for line in table.splitlines()[2:]:
        name, aliases, kind = (cell.strip() for cell in line.strip("|").split("|"))
        documented[name.strip("`")] = ({a.strip("`") for a in aliases.split(",") if a}, kind)
    assert list(documented) == list(attributes.NAMES)
    for a in attributes.ATTRIBUTES:
        aliases, kind = documented[a.name]
        assert aliases == {k for k, v in attributes.ALIASES.items() if v == a.name}, a.name
        word = {"text": "text", "time": "number", "duration": "number", "flag": "the text"}
        assert kind.startswith(word[a.type]), (a.name, kind)


# --------------------------------------------------------------------------- the site


@pytest.fixture
def built(varied: Path, tmp_path: Path) -> Path:
    from runsite.site import build

    out = tmp_path / "site"
    build(varied, out)
    return out


def test_data_files_name_their_columns_after_the_vocabulary(varied: Path, built: Path) -> None:
    assert data_file(built / "data" / "vocabulary.js") == data_files.vocabulary_payload()
    exp = data_file(built / "data" / "experiments" / "exp.js")
    files = {c["key"]: c["file"] for c in exp["columns"] if c["section"] == "attributes"}
    assert files == {a.name: f"a-{a.column}" for a in attributes.ATTRIBUTES}
    columns = {a.name: table_column(built, exp, files[a.name]) for a in attributes.ATTRIBUTES}
    rows = _python_rows(varied)
    assert sorted(columns["run_id"]) == sorted(rows)
    for i, run_id in enumerate(columns["run_id"]):
        for a in attributes.ATTRIBUTES:
            assert columns[a.name][i] == rows[run_id][a.name], (run_id, a.name)
    for run_id, row in rows.items():
        one = data_file(built / "data" / "runs" / f"{run_id}.js")
        assert {a.column: one[a.column] for a in attributes.ATTRIBUTES} == {
            a.column: row[a.name] for a in attributes.ATTRIBUTES
        }


def test_theme_scripts_name_only_what_the_data_files_hold(varied: Path, built: Path) -> None:
    """The attributes the theme's scripts and templates name are the vocabulary's, and
    every field compare.js reads from a run's data file is in that file."""
    known = set(attributes.NAMES) | set(attributes.ALIASES)
    for path in [*THEME.glob("static/js/*.js"), *THEME.glob("templates/*.html")]:
        text = path.read_text("utf-8")
        # `.attributes.x` (a row's attribute) and `attributes.x` in a query string
        named = set(re.findall(r"\battributes\.([A-Za-z_]\w*)\b(?!\s*\()", text)) - {"map"}
        assert named <= known, f"{path.name} names unknown attributes {named - known}"
    compare = (THEME / "static" / "js" / "compare.js").read_text("utf-8")
    read = set(re.findall(r"\br\.([A-Za-z_]\w*)", compare))
    own = set(re.findall(r"\br\.([A-Za-z_]\w*) =[^=]", compare))  # set by compare.js
    run_id = next(iter(_python_rows(varied)))
    fields = set(data_file(built / "data" / "runs" / f"{run_id}.js"))
    assert read - own <= fields, f"compare.js reads {read - own - fields}, not in run data"


@pytest.mark.browser
def test_runs_js_rows_equal_python_rows(browser: Any, varied: Path, built: Path) -> None:
    """The rows runs.js makes from the data files, in Chromium, are Python's rows: the
    same attributes with the same values and types (null for missing)."""
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto((built / "experiments" / "exp.html").resolve().as_uri())
        page.wait_for_selector("#runs-app[data-ready]", state="attached")
        vocabulary = page.evaluate("window.runsiteQuery.VOCABULARY")
        js_rows = page.evaluate(
            """() => {
                const t = window.runsiteRunsTable.table;
                return t.rows.map((i) => [t.row(i).run_id, t.row(i).attributes]);
            }"""
        )
    finally:
        page.close()
    assert errors == []
    assert vocabulary == data_files.vocabulary_payload()
    assert dict(js_rows) == _python_rows(varied)
    for _, row in js_rows:
        assert list(row) == list(attributes.NAMES)
