"""`runsite sql` and `runsite export parquet`: the store's views in DuckDB answer what
search_runs answers, and the exported Parquet files hold the same rows."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

import runsite
from runsite import sql
from runsite.cli import main
from runsite.errors import InvalidInput
from runsite.store import Store

pytest.importorskip("duckdb")
pq = pytest.importorskip("pyarrow.parquet")
Ridge = pytest.importorskip("sklearn.linear_model").Ridge

DOCS = Path(__file__).resolve().parent.parent / "docs"


def cli(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout, r.stderr


@pytest.fixture
def filled(store: Path, tmp_path: Path) -> Path:
    """Two experiments, nested runs, a NaN metric, an input, a model and a registered
    version, one run left open (its points still in metrics.jsonl)."""
    data = tmp_path / "train.csv"
    data.write_text("x,y\n1,2\n3,4\n")
    runsite.set_experiment("taxi")
    for i in range(6):
        with runsite.start_run(run_name=f"r{i}", log_git=False, tags={"team": "ab"[i % 2]}):
            runsite.log_params({"alpha": i / 10, "model": "xgb" if i % 3 else "lin", "n": i})
            for step in range(5):
                runsite.log_metric("rmse", 10.0 / (step + 1 + i), step=step)
            runsite.log_metric("acc", math.nan if i == 4 else i / 6)
            if i == 2:
                runsite.log_input(data, context="training")
                with runsite.start_run(run_name="child", nested=True, log_git=False):
                    runsite.log_metric("rmse", 0.5)
            if i == 5:
                X = np.arange(20.0).reshape(10, 2)
                info = runsite.log_model(Ridge().fit(X, X.sum(axis=1)), "model")
    runsite.register_model(info.model_uri, "taxi", tags={"owner": "ml"})
    runsite.set_experiment("other")
    with runsite.start_run(run_name="o1", log_git=False):
        runsite.log_param("model", "xgb")
        runsite.log_metric("rmse", 2.5)
    open_run = runsite.start_run(run_name="open", log_git=False)
    runsite.log_metric("rmse", 7.0, step=0)
    runsite.log_metric("rmse", 6.0, step=1)
    open_run._metrics.flush()  # what its writer thread does every 0.25 s
    return store


def canonical(rows: list[dict[str, Any]]) -> list[str]:
    """Rows as sorted JSON strings (NaN compares equal to itself here)."""
    return sorted(json.dumps(r, sort_keys=True, default=str) for r in rows)


def ids(table: Any) -> set[str]:
    return set(table.column("run_id").to_pylist())


# (search_runs filter, the same question in SQL)
EQUIVALENT = [
    ("metrics.rmse < 2", "SELECT run_id FROM latest_metrics WHERE key = 'rmse' AND value < 2"),
    (
        "metrics.rmse < 3 and params.model = 'xgb'",
        "SELECT m.run_id FROM latest_metrics m JOIN params p USING (run_id) "
        "WHERE m.key = 'rmse' AND m.value < 3 AND p.key = 'model' AND p.value = 'xgb'",
    ),
    ("tags.team = 'a'", "SELECT run_id FROM tags WHERE key = 'team' AND value = 'a'"),
    ("params.alpha = '0.2'", "SELECT run_id FROM params WHERE key = 'alpha' AND value = '0.2'"),
    ("attributes.status = 'FINISHED'", "SELECT run_id FROM runs WHERE status = 'FINISHED'"),
    ("attributes.run_name LIKE 'r%'", "SELECT run_id FROM runs WHERE run_name LIKE 'r%'"),
    (
        "tags.mlflow.parentRunId != ''",
        "SELECT run_id FROM tags WHERE key = 'mlflow.parentRunId' AND value != ''",
    ),
    (
        "metrics.acc >= 0.5",  # DuckDB orders NaN above every number; search never matches it
        "SELECT run_id FROM latest_metrics WHERE key = 'acc' AND value >= 0.5 AND NOT isnan(value)",
    ),
]


def test_nan_compares_as_duckdb_says(filled: Path) -> None:
    """The difference docs/storage.md warns about: `value >= x` is true for NaN in SQL."""
    q = "SELECT run_id FROM latest_metrics WHERE key = 'acc' AND value >= 0.5"
    nan_run = next(r for r in Store(filled).runs() if r.run_name == "r4")
    assert nan_run.run_id in ids(sql.query(q, filled))
    assert nan_run.run_id not in {r.run_id for r in Store(filled).search_runs("metrics.acc >= 0.5")}


@pytest.mark.parametrize(("filter_string", "query"), EQUIVALENT)
def test_sql_answers_what_search_runs_answers(filled: Path, filter_string: str, query: str) -> None:
    expected = {r.run_id for r in Store(filled).search_runs(filter_string)}
    assert expected  # every question has an answer, so the comparison means something
    assert ids(sql.query(query, filled)) == expected


def test_order_and_limit_match_search_runs(filled: Path) -> None:
    found = Store(filled).search_runs(
        "params.model = 'xgb'", order_by=["metrics.rmse ASC"], max_results=3
    )
    result = sql.query(
        "SELECT m.run_id FROM latest_metrics m JOIN params p USING (run_id) "
        "WHERE p.key = 'model' AND p.value = 'xgb' AND m.key = 'rmse' ORDER BY m.value LIMIT 3",
        filled,
    )
    assert result.column("run_id").to_pylist() == [r.run_id for r in found]


def test_views_hold_what_the_store_holds(filled: Path) -> None:
    st = Store(filled)
    runs = st.runs()
    assert sql.query("SELECT count(*) AS n FROM runs", filled)["n"][0].as_py() == len(runs)
    # the full history: every point of every run, closed (Parquet) and open (JSONL) alike
    points = sum(r.metrics_table().num_rows for r in runs)
    assert sql.query("SELECT count(*) AS n FROM metrics", filled)["n"][0].as_py() == points
    open_run = next(r for r in runs if r.run_name == "open")
    hist = sql.query(
        f"SELECT step, value FROM metrics WHERE run_id = '{open_run.run_id}' ORDER BY step",
        filled,
    )
    assert sql.rows(hist) == [{"step": 0, "value": 7.0}, {"step": 1, "value": 6.0}]
    r0 = next(r for r in runs if r.run_name == "r0")
    hist = sql.query(
        f"SELECT value FROM metrics WHERE run_id = '{r0.run_id}' AND key = 'rmse' ORDER BY step",
        filled,
    )
    assert hist["value"].to_pylist() == pytest.approx([10.0, 5.0, 10 / 3, 2.5, 2.0])
    # NaN survives as NaN; the summary matches the record
    nan = sql.query("SELECT value FROM latest_metrics WHERE key = 'acc' AND isnan(value)", filled)
    assert nan.num_rows == 1
    child = next(r for r in runs if r.run_name == "child")
    row = sql.rows(sql.query(f"SELECT * FROM runs WHERE run_id = '{child.run_id}'", filled))[0]
    assert row["parent_run_id"] == child.parent_run_id and row["status"] == "FINISHED"
    assert row["start_time"] == child.start_time and row["duration_ms"] == child.duration
    (inp,) = sql.rows(sql.query("SELECT * FROM inputs", filled))
    assert inp["context"] == "training" and inp["rows"] == 2 and inp["hash"].startswith("sha256:")
    (mv,) = sql.rows(sql.query("SELECT * FROM model_versions", filled))
    assert (mv["name"], mv["version"], mv["stage"], mv["tags"]) == (
        "taxi",
        1,
        "none",
        {"owner": "ml"},
    )
    linked = sql.query("SELECT r.run_name FROM model_versions v JOIN runs r USING (run_id)", filled)
    assert linked["run_name"].to_pylist() == ["r5"]
    arts = sql.query("SELECT path FROM artifacts WHERE path LIKE 'model/%'", filled)
    assert "model/model.yaml" in arts["path"].to_pylist()
    exps = sql.query("SELECT experiment_id, name FROM experiments ORDER BY 1", filled)
    assert sql.rows(exps) == [
        {"experiment_id": "other", "name": "other"},
        {"experiment_id": "taxi", "name": "taxi"},
    ]


def test_a_query_reads_only_the_views_it_names(filled: Path) -> None:
    (filled / "registry.yaml").write_text("models: [unclosed\n")  # a broken manifest
    assert sql.query("SELECT count(*) AS n FROM runs", filled)["n"][0].as_py() == 9
    with pytest.raises(Exception, match="registry"):
        sql.query("SELECT * FROM model_versions", filled)


def test_the_metric_history_of_closed_runs_is_read_without_pandas(store: Path) -> None:
    # (pyarrow imports pandas when an array is built from a Python list: 0.2 s of a new
    # process's query at 100,000 runs; the metric cache and the scan build none)
    runsite.set_experiment("taxi")
    for i in range(3):
        with runsite.start_run(run_name=f"r{i}", log_git=False):
            runsite.log_metric("rmse", 1.0 + i)
    code = (
        "import sys; from runsite import sql\n"
        f"t = sql.query('SELECT count(*) AS n, sum(value) AS s FROM metrics', {str(store)!r})\n"
        "print(t['n'][0].as_py(), t['s'][0].as_py(), 'pandas' in sys.modules)"
    )
    sql.query("SELECT count(*) FROM metrics", store)  # (indexes the runs, fills the cache)
    src = str(Path(runsite.__file__).parents[1])  # (this runsite, wherever the test runs)
    env = {**os.environ, "PYTHONPATH": src}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.split() == ["3", "6.0", "False"]


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("", "the query is empty"),
        ("SELECT * FROM nope", "nope"),
        ("SELECT nope FROM runs", "nope"),
        ("SELEC 1", "syntax"),
    ],
)
def test_bad_sql_is_one_clear_error(filled: Path, query: str, fragment: str) -> None:
    with pytest.raises(InvalidInput, match=re.compile(fragment, re.IGNORECASE)):
        sql.query(query, filled)
    code, _, err = cli("sql", query, "--store", str(filled))
    assert code == 1 and err.count("\n") == 1 and "SQL error" in err
    assert "views: " in err or not query


def test_missing_store_is_an_error(tmp_path: Path) -> None:
    code, _, err = cli("sql", "SELECT 1", "--store", str(tmp_path / "none"))
    assert code == 1 and "no store at" in err


def test_cli_table_json_and_csv(filled: Path) -> None:
    q = "SELECT key, count(*) AS n, min(value) AS lo FROM metrics GROUP BY key ORDER BY key"
    code, out, _ = cli("sql", q, "--store", str(filled))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["key", "n", "lo"]
    assert [ln.split()[0] for ln in lines[1:]] == ["acc", "rmse"]
    code, out, _ = cli("sql", q, "--json", "--store", str(filled))
    rows = json.loads(out)
    assert code == 0 and [r["key"] for r in rows] == ["acc", "rmse"]
    assert rows == [
        {k: (v if not isinstance(v, float) or not math.isnan(v) else "NaN") for k, v in r.items()}
        for r in sql.rows(sql.query(q, filled))
    ]
    code, out, _ = cli(
        "sql", "SELECT 'a,b' AS s, 1.0/3 AS x, 'nan'::DOUBLE AS y", "--csv", "--store", str(filled)
    )
    assert code == 0 and out == 's,x,y\n"a,b",0.3333333333333333,NaN\n'
    code, _, err = cli("sql", "SELECT 1", "--csv", "--json", "--store", str(filled))
    assert code == 2 and "not both" in err


def test_export_parquet_writes_every_view(filled: Path, tmp_path: Path) -> None:
    out = tmp_path / "exported"
    code, stdout, _ = cli("export", "parquet", str(out), "--store", str(filled))
    assert code == 0, stdout
    assert sorted(p.stem for p in out.glob("*.parquet")) == sorted(sql.VIEWS)
    for name in sql.VIEWS:
        exported = pq.read_table(out / f"{name}.parquet")
        live = sql.query(f"SELECT * FROM {name}", filled)
        assert exported.column_names == live.column_names == list(sql.VIEWS[name][1])
        assert exported.schema.equals(live.schema), name
        assert canonical(sql.rows(exported)) == canonical(sql.rows(live)), name
    with pytest.raises(InvalidInput, match="inside the store"):
        sql.export_parquet(filled / "exported", filled)
    assert not (filled / "exported").exists()


def test_every_view_and_column_is_documented() -> None:
    text = (DOCS / "storage.md").read_text()
    section = text[text.index("## SQL") :]
    for name, (_, columns) in sql.VIEWS.items():
        assert f"`{name}`" in section, name
        for col in columns:
            assert f"`{col}`" in section, f"{name}.{col}"
