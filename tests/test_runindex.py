"""The run index (runsite.runindex): the columnar evaluation of filters gives exactly what
the row evaluator gives (on the shared cases and on random filters), and search_runs over
the index stays equal to a fresh evaluation while runs are added, still logging, deleted,
or the cache file is damaged (docs/search.md, "Speed")."""

from __future__ import annotations

import json
import math
import os
import random
import shutil
from pathlib import Path
from typing import Any

import pytest

import runsite
from runsite import record, runindex, search
from runsite import store as store_mod

CASES = json.loads(Path(__file__).with_name("search_cases.json").read_text("utf-8"))
_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _rows() -> list[dict[str, Any]]:
    rows = CASES["runs"]
    for run in rows:
        for summary in run["metrics"].values():
            for agg, value in summary.items():
                if isinstance(value, str):
                    summary[agg] = _NONFINITE[value]
    return rows


ROWS = _rows()
FILTER_CASES = [c for c in CASES["cases"] if "ids" in c and not c.get("order_by")]


def _python(rows: list[dict[str, Any]], query: str) -> list[int]:
    match = search.compile_filter(query)
    return [i for i, row in enumerate(rows) if match(row)]


@pytest.mark.parametrize("case", FILTER_CASES, ids=lambda c: c["query"] or "<empty>")
def test_shared_cases(case: dict[str, Any]) -> None:
    got = runindex.evaluate_rows(ROWS, case["query"])
    if got is None:  # (datasets.*, non-ASCII ILIKE): the row evaluator answers
        assert "datasets." in case["query"] or "ILIKE" in case["query"].upper()
        return
    assert [ROWS[i]["run_id"] for i in got] == case["ids"]


def test_most_shared_cases_are_columnar() -> None:
    columnar = [c for c in FILTER_CASES if runindex.evaluate_rows(ROWS, c["query"]) is not None]
    assert len(columnar) >= 0.9 * len(FILTER_CASES)


# ------------------------------------------------------------------ random filters

_TEXTS = [
    "",
    "a",
    "b",
    "ab",
    "A",
    "10",
    "9",
    "1e-3",
    "0.0010",
    ".5",
    "5.",
    "+3",
    " 1",
    "x_y",
    "é",
    "ÉA",
    "%",
    "a\nb",
    "inf",
    "nan",
    "-0",
    "0x10",
]
_NUMS = [-1.0, 0.0, 0.5, 1.0, 3.0, 10.0, math.inf, -math.inf, math.nan, 1e-3]


def _random_rows(rng: random.Random, n: int) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        params = {k: rng.choice(_TEXTS) for k in ("p", "q", "r") if rng.random() < 0.7}
        tags = {k: rng.choice(_TEXTS) for k in ("t", "u") if rng.random() < 0.7}
        metrics = {}
        for k in ("m", "n"):
            if rng.random() < 0.7:
                metrics[k] = {
                    "last": rng.choice(_NUMS),
                    "min": rng.choice(_NUMS),
                    "max": rng.choice(_NUMS),
                    "count": rng.randint(0, 3),
                }
        start = rng.choice([0, 5, 10])
        end = rng.choice([None, 7, 20])
        attributes = {
            "run_id": f"r{i}",
            "run_name": rng.choice(_TEXTS),
            "status": rng.choice(["FINISHED", "FAILED"]),
            "start_time": start,
            "end_time": end,
            "duration": None if end is None else end - start,
            "user": rng.choice(["ana", "bo", ""]),
            "host": "h",
            "experiment": rng.choice(["x", "y"]),
            "commit": rng.choice([None, "abc"]),
            "dirty": rng.choice([None, True, False]),
            "parent_run_id": None,
        }
        rows.append(
            {
                "run_id": f"r{i}",
                "attributes": attributes,
                "params": params,
                "tags": tags,
                "metrics": metrics,
                "datasets": [],
            }
        )
    return rows


def _literal(rng: random.Random, numeric: bool) -> str:
    if numeric or rng.random() < 0.4:
        return rng.choice(["0", "0.5", "1", "3", "10", "1e-3", "-1", "1e999", "-0", ".5"])
    text = rng.choice(_TEXTS).replace("'", "''")
    return f"'{text}'"


def _condition(rng: random.Random) -> str:
    kind = rng.choice(["metric", "param", "tag", "attr", "attrnum"])
    if kind == "metric":
        ident = f"metrics.{rng.choice('mnz')}" + rng.choice(["", ".min", ".max", ".count"])
    elif kind == "param":
        ident = f"params.{rng.choice('pqrz')}"
    elif kind == "tag":
        ident = f"tags.{rng.choice('tuz')}"
    elif kind == "attr":
        ident = f"attributes.{rng.choice(['run_name', 'status', 'user', 'commit', 'dirty'])}"
    else:
        ident = f"attributes.{rng.choice(['start_time', 'end_time', 'duration'])}"
    numeric = kind in ("metric", "attrnum")
    shape = rng.random()
    if shape < 0.1:
        return f"{ident} IS {rng.choice(['', 'NOT '])}NULL"
    if shape < 0.25 and not numeric:
        pattern = rng.choice(["a%", "%b", "%", "_", "a_", "%a%b%", "É%", "10", "x_y", "%\n%"])
        return f"{ident} {rng.choice(['', 'NOT '])}{rng.choice(['LIKE', 'ILIKE'])} '{pattern}'"
    if shape < 0.4:
        as_num = numeric or rng.random() < 0.5
        values = ", ".join(
            _literal(rng, as_num) if as_num else "'" + rng.choice(_TEXTS).replace("'", "''") + "'"
            for _ in range(2)
        )
        if as_num:
            values = ", ".join(rng.choice(["0", "1", "10", ".5", "1e-3"]) for _ in range(2))
        return f"{ident} {rng.choice(['', 'NOT '])}IN ({values})"
    if kind == "attr" and rng.random() < 0.8:  # (a number on a text attribute: row by row)
        lit = "'" + rng.choice(_TEXTS).replace("'", "''") + "'"
    else:
        lit = _literal(rng, numeric)
    return f"{ident} {rng.choice(['=', '!=', '<', '<=', '>', '>=', '<>'])} {lit}"


def _filter(rng: random.Random, depth: int = 0) -> str:
    r = rng.random()
    if depth > 2 or r < 0.4:
        return _condition(rng)
    if r < 0.55:
        return f"NOT ({_filter(rng, depth + 1)})"
    op = rng.choice([" AND ", " OR "])
    return "(" + op.join(_filter(rng, depth + 1) for _ in range(rng.randint(2, 3))) + ")"


def test_random_filters_agree_with_the_row_evaluator() -> None:
    rng = random.Random(20261202)
    rows = _random_rows(rng, 60)
    columnar = 0
    for _ in range(1500):
        query = _filter(rng)
        got = runindex.evaluate_rows(rows, query)
        if got is not None:
            columnar += 1
            assert got == _python(rows, query), query
    assert columnar >= 1000  # most shapes are columnar; the rest went row by row


# ------------------------------------------------------------------ search_runs over a store


def _log(store: Path, exp: str, name: str, **kw: Any) -> str:
    runsite.set_store(store)
    runsite.set_experiment(exp)
    with runsite.start_run(run_name=name, log_git=False) as run:
        runsite.log_params(kw.get("params", {"model": "xgb", "depth": 3}))
        runsite.set_tag("team", kw.get("team", "a"))
        for step, value in enumerate(kw.get("loss", [1.0, 0.5])):
            runsite.log_metric("loss", value, step=step)
    return run.info.run_id


FILTERS = [
    "metrics.loss < 0.6",
    "params.model = 'xgb' and tags.team = 'a'",
    "params.depth > 2 or metrics.loss.max >= 2",
    "attributes.status = 'FINISHED' and attributes.run_name LIKE 'r%'",
    "tags.team IS NULL or not metrics.loss.count = 2",
    "datasets.name = 'x' or params.model = 'cnn'",  # row by row
]


def _fresh(store: Path, query: str) -> list[str]:
    """The answer of the row evaluator over records read straight from the files."""
    rows = []
    st = runsite.Store(store)
    for exp_dir in st._experiment_dirs():
        for run_dir in st._run_dirs(exp_dir):
            if os.path.isfile(os.path.join(run_dir, record.RUN_JSON)):
                rows.append(
                    store_mod.RunRecord(Path(run_dir), store_mod.read_summary(Path(run_dir)))
                )
    rows.sort(key=lambda r: (r.start_time, r.run_id), reverse=True)
    return [row["run_id"] for row in search.filter_rows([r.to_row() for r in rows], query)]


def _check(store: Path) -> None:
    for query in FILTERS:
        got = [r.run_id for r in runsite.Store(store).search_runs(query)]
        assert got == _fresh(store, query), query


def _forget_process_state() -> None:
    """A new process: nothing in memory, the index file on disk."""
    store_mod._MEMO.clear()
    store_mod._INDEXES.clear()


@pytest.fixture()
def store(tmp_path: Path) -> Path:
    root = tmp_path / "runs"
    _log(root, "a", "r1", loss=[2.0, 0.5])
    _log(root, "a", "r2", params={"model": "cnn", "depth": 1}, loss=[0.9])
    _log(root, "b", "r3", team="b", loss=[0.1, 0.2, 0.3])
    return root


def _index_file() -> Path:
    files = list(Path(os.environ["RUNSITE_CACHE_DIR"]).rglob(runindex.FILE_NAME))
    assert len(files) == 1
    return files[0]


def test_the_index_file_is_written_and_used(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _check(store)
    assert _index_file().stat().st_size > 0
    _forget_process_state()
    calls: list[Path] = []
    real = store_mod.read_summary
    monkeypatch.setattr(store_mod, "read_summary", lambda p: calls.append(p) or real(p))
    assert len(runsite.Store(store).search_runs("metrics.loss < 0.6")) == 2
    assert calls == []  # served from the index on disk


def test_run_added_deleted_and_still_logging(store: Path) -> None:
    _check(store)
    _forget_process_state()
    _check(store)  # from the file
    _log(store, "b", "r4", loss=[0.05])
    _check(store)
    victim = runsite.Store(store).search_runs("attributes.run_name = 'r1'")[0].path
    shutil.rmtree(victim)
    _check(store)
    _forget_process_state()
    _check(store)
    # a run still logging (its process alive: RUNNING) is evaluated row by row
    runsite.set_store(store)
    runsite.set_experiment("a")
    with runsite.start_run(run_name="live", log_git=False) as live:
        runsite.log_param("model", "xgb")
        runsite.log_metric("loss", 0.01)
        live._metrics.flush()  # (a flush between two reads would make them differ)
        _check(store)
        assert "live" in [
            r.run_name for r in runsite.Store(store).search_runs("attributes.status = 'RUNNING'")
        ]
        runsite.log_metric("loss", 0.9, step=1)
        live._metrics.flush()
        _check(store)
    _check(store)  # ended now
    _forget_process_state()
    _check(store)


def test_fresh_ended_agrees_with_fresh(store: Path) -> None:
    st = runsite.Store(store)
    runs = {r.run_name: r for r in st.runs()}
    runsite.set_store(store)
    runsite.set_experiment("a")
    live = runsite.start_run(run_name="live", log_git=False)
    try:
        _forget_process_state()
        st = runsite.Store(store)
        st.runs()  # indexes the open run too
        _forget_process_state()
        with (runs["r1"].path / record.EVENTS).open("a") as f:  # an ended run edited
            f.write(record.event("tag", key="team", value="z"))
        header = runs["r2"].path / record.RUN_JSON  # the same size, another mtime
        os.utime(header, ns=(header.stat().st_atime_ns, header.stat().st_mtime_ns + 1000))
        (store / "b" / "stray").mkdir()  # not a run: no row
        (store / "b" / "stray" / "note.txt").write_text("x")
        st = runsite.Store(store)
        listing = st._listing(st._experiment_dirs())
        assert len(listing) == 5
        index = st._run_index()

        def agree() -> dict[str, int | None]:
            rows = index.fresh_ended(listing)
            expected = []
            for run_dir, key in listing:
                p = index.fresh(key, run_dir)
                expected.append(p if p is not None and index.ended[p] else None)
            assert rows == expected
            return dict(zip([k.rsplit("/", 1)[1] for _, k in listing], rows, strict=True))

        found = agree()  # a new process
        assert found[runs["r3"].run_id] is not None  # unchanged
        assert found[runs["r1"].run_id] is None  # edited
        assert found[runs["r2"].run_id] is None  # touched
        assert found[live.info.run_id] is None  # still open
        assert found["stray"] is None
        st.runs()  # reads the changed runs again
        with (runs["r3"].path / record.EVENTS).open("a") as f:  # after this process checked it
            f.write(record.event("tag", key="team", value="y"))
        found = agree()
        assert found[runs["r3"].run_id] is None
        assert found[runs["r1"].run_id] is not None and found[runs["r2"].run_id] is not None
    finally:
        live.end()


def test_a_hand_edited_ended_run_is_read_again(store: Path) -> None:
    _check(store)
    run = runsite.Store(store).search_runs("attributes.run_name = 'r2'")[0]
    with (run.path / record.EVENTS).open("a") as f:
        f.write(record.event("tag", key="team", value="z"))
    _check(store)
    assert [r.run_name for r in runsite.Store(store).search_runs("tags.team = 'z'")] == ["r2"]


@pytest.mark.parametrize("damage", ["garbage", "empty", "truncated", "foreign parquet"])
def test_a_damaged_index_file_is_an_empty_index(store: Path, damage: str) -> None:
    _check(store)
    path = _index_file()
    if damage == "garbage":
        path.write_bytes(b"not parquet at all")
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    else:
        from runsite import arrowio

        arrowio.write_parquet(arrowio.columns_table({"key": ["x"]}, {"key": "string"}), path)
    _forget_process_state()
    _check(store)
    _forget_process_state()
    _check(store)  # (rewritten by the previous search)


def test_read_only_cache_folder_still_searches(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a-file").write_text("x")
    monkeypatch.setenv("RUNSITE_CACHE_DIR", str(tmp_path / "a-file" / "cache"))
    _forget_process_state()
    for query in FILTERS:
        got = [r.run_id for r in runsite.Store(store).search_runs(query)]
        assert got == _fresh(store, query)


def test_store_warnings_are_reported_as_by_a_full_read(store: Path) -> None:
    run = runsite.Store(store).search_runs("attributes.run_name = 'r3'")[0]
    with (run.path / record.EVENTS).open("a") as f:
        f.write('{"torn')
    full = runsite.Store(store)
    full.runs()
    _forget_process_state()
    _check(store)
    st = runsite.Store(store)
    st.search_runs("attributes.run_name = 'r1'")  # r3 does not match; its warning stays
    assert sorted(st.warnings) == sorted(full.warnings) and st.warnings


# ------------------------------------------------------------------ the SQL metric cache

ALL_POINTS = "SELECT run_id, key, step, timestamp, value FROM metrics"


def _points(store: Path) -> list[tuple[Any, ...]]:
    from runsite import sql

    rows = sql.rows(sql.query(ALL_POINTS, store))
    return sorted((r["run_id"], r["key"], r["step"], r["timestamp"], r["value"]) for r in rows)


def _points_from_files(store: Path) -> list[tuple[Any, ...]]:
    """The metric history read straight from every run's files (no cache)."""
    out = []
    st = runsite.Store(store)
    for exp_dir in st._experiment_dirs():
        for run_dir in st._run_dirs(exp_dir):
            if os.path.isfile(os.path.join(run_dir, record.RUN_JSON)):
                rec = store_mod.RunRecord(Path(run_dir), store_mod.read_summary(Path(run_dir)))
                for p in rec.metrics_table().to_pylist():
                    out.append((rec.run_id, p["key"], p["step"], p["timestamp"], p["value"]))
    return sorted(out)


def _parts() -> list[Path]:
    return sorted(Path(os.environ["RUNSITE_CACHE_DIR"]).rglob("metrics-v2/part-*.parquet"))


def test_sql_metrics_through_the_cache_equal_the_files(store: Path) -> None:
    pytest.importorskip("duckdb")
    assert _points(store) == _points_from_files(store)
    assert _parts()  # consolidated
    _forget_process_state()
    assert _points(store) == _points_from_files(store)
    _log(store, "b", "r4", loss=[0.05, 0.04])  # added
    assert _points(store) == _points_from_files(store)
    victim = runsite.Store(store).search_runs("attributes.run_name = 'r1'")[0].path
    shutil.rmtree(victim)  # deleted: its part is rewritten without it
    assert _points(store) == _points_from_files(store)
    changed = runsite.Store(store).search_runs("attributes.run_name = 'r3'")[0].path
    from runsite import arrowio

    table = arrowio.read_parquet_table(changed / record.METRICS_PARQUET)
    arrowio.write_metrics_parquet(table.slice(0, 1), changed / record.METRICS_PARQUET)
    assert _points(store) == _points_from_files(store)  # changed by hand: read again
    runsite.set_store(store)
    runsite.set_experiment("a")
    with runsite.start_run(run_name="live", log_git=False) as live:
        runsite.log_metric("loss", 0.3)
        live._metrics.flush()  # (a buffer flushed in between would make the two differ)
        assert _points(store) == _points_from_files(store)  # still logging
    assert _points(store) == _points_from_files(store)


def _manifest() -> Path:
    return next(Path(os.environ["RUNSITE_CACHE_DIR"]).rglob("metrics-v2/manifest.json"))


@pytest.mark.parametrize(
    "damage",
    [
        "foreign manifest",
        "no parts",
        "part gone",
        "entry in two parts",
        "entry not a string",
        "row count",
        "entry of a changed run",
    ],
)
def test_a_damaged_metric_cache_is_not_trusted(store: Path, damage: str) -> None:
    pytest.importorskip("duckdb")
    assert _points(store) == _points_from_files(store)
    _log(store, "b", "r4", loss=[0.05, 0.04])
    expected = _points_from_files(store)
    assert _points(store) == expected
    manifest = _manifest()
    data = json.loads(manifest.read_text())
    first, second = data["parts"].values()  # (r4 went into a part of its own)
    if damage == "foreign manifest":  # (the format of metrics-v1)
        manifest.write_text('{"runs": {"a/x": ["x", "1:2", "part-1.parquet"]}, "parts": {}}')
    elif damage == "no parts":
        # a part that no manifest names is not used (stamp-based checks cannot see inside
        # a part: the manifest names the parts it wrote)
        manifest.write_text(json.dumps({"format": 2, "parts": {}}))
    elif damage == "part gone":
        for part in _parts():
            part.unlink()
    elif damage == "entry in two parts":  # (its points would count twice)
        name = next(n for n, p in data["parts"].items() if p is first)
        shutil.copy(manifest.with_name(name), manifest.with_name("part-copy.parquet"))
        data["parts"]["part-copy.parquet"] = dict(first)
        manifest.write_text(json.dumps(data))
    elif damage == "entry not a string":
        second["runs"].append(7)
        manifest.write_text(json.dumps(data))
    elif damage == "row count":
        second["rows"] += 1
        manifest.write_text(json.dumps(data))
    else:  # a run listed with a stamp its metrics.parquet no longer has
        entry = second["runs"][0]
        second["runs"][0] = entry[: entry.rindex(" ")] + " 1:2"
        manifest.write_text(json.dumps(data))
    _forget_process_state()
    assert _points(store) == expected
    _forget_process_state()
    assert _points(store) == expected  # (and the cache, written again, is right)


def test_the_metric_cache_holds_each_closed_run_once(store: Path) -> None:
    pytest.importorskip("duckdb")
    from runsite import sql

    _points(store)
    _log(store, "b", "r4", loss=[0.05])
    victim = runsite.Store(store).search_runs("attributes.run_name = 'r1'")[0].path
    shutil.rmtree(victim)
    _points(store)
    parts = json.loads(_manifest().read_text())["parts"]
    entries = [e for p in parts.values() for e in p["runs"]]
    runs = runsite.Store(store).runs()
    assert sorted(sql.MetricCache.run_id(e) for e in entries) == sorted(r.run_id for r in runs)
    for r in runs:
        st = os.stat(r.path / record.METRICS_PARQUET)
        entry = f"{r.path.parent.name}/{r.path.name} {st.st_size}:{st.st_mtime_ns}"
        assert entry in entries


def test_sql_metrics_with_an_unwritable_cache(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("duckdb")
    expected = _points_from_files(store)
    (tmp_path / "a-file").write_text("x")
    monkeypatch.setenv("RUNSITE_CACHE_DIR", str(tmp_path / "a-file" / "cache"))
    _forget_process_state()
    assert _points(store) == expected


def test_a_corrupted_metric_part_is_not_used(store: Path) -> None:
    pytest.importorskip("duckdb")
    expected = _points_from_files(store)
    assert _points(store) == expected
    for part in _parts():
        part.write_bytes(b"PAR1 garbage")  # cut: the footer no longer says what was written
    _forget_process_state()
    assert _points(store) == expected
    assert _points(store) == expected  # (and rewritten)


@pytest.mark.parametrize("damage", ["garbage", "stale stamps", "deleted"])
def test_damaged_summaries_are_read_from_the_runs(store: Path, damage: str) -> None:
    _check(store)
    db = _index_file().with_suffix(".sqlite")
    assert db.is_file()
    if damage == "garbage":
        db.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)
    elif damage == "stale stamps":
        import sqlite3

        with sqlite3.connect(db) as con:
            con.execute("UPDATE summaries SET stamp = 'x', summary = '{\"header\": {}}'")
        con.close()
    else:
        db.unlink()
    _forget_process_state()
    _check(store)
    assert [r.run_name for r in runsite.Store(store).runs()] == ["r3", "r2", "r1"]


def _records(store: Path) -> list[dict[str, Any]]:
    return [r.to_dict() for r in runsite.Store(store).runs()]


@pytest.mark.parametrize("damage", ["none", "two values", "not JSON", "a list", "stale stamp"])
def test_summaries_read_in_one_query_equal_the_files(
    store: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    """``Store.runs`` reads the summaries of a whole store in one query (RunIndex.preload,
    batches decoded by one json.loads each): the records are the ones the runs' files
    give, also when an entry is damaged in a way that could shift a batch."""
    monkeypatch.setattr(runindex, "_PRELOAD_MIN", 1)
    monkeypatch.setattr(runindex, "_PRELOAD_BATCH", 2)  # (the damaged entry mid-batch)
    _log(store, "a", "r4")
    expected = _records(store)  # read from the files, index written
    _forget_process_state()
    db = _index_file().with_suffix(".sqlite")
    import sqlite3

    bad = {
        "two values": '{"header": {}}, {"header": {}}',
        "not JSON": '{"header": ',
        "a list": "[1, 2]",
    }
    with sqlite3.connect(db) as con:
        keys = [k for (k,) in con.execute("SELECT key FROM summaries ORDER BY key")]
        assert len(keys) == 4
        if damage in bad:
            con.execute("UPDATE summaries SET summary = ? WHERE key = ?", (bad[damage], keys[0]))
        elif damage == "stale stamp":
            con.execute("UPDATE summaries SET stamp = 'x' WHERE key = ?", (keys[1],))
    con.close()
    calls: list[int] = []
    real = runindex.RunIndex.preload
    monkeypatch.setattr(
        runindex.RunIndex, "preload", lambda self, k: (calls.append(len(k)), real(self, k))
    )
    assert _records(store) == expected
    assert calls == [4]
    index = store_mod._INDEXES[str(_index_file())]
    assert index._preloaded == {}  # (what no record took is not kept)
    _check(store)


def test_a_store_read_in_folds_indexes_the_same(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading a store from the files folds the rows into columns and writes their
    summaries every _FOLD_ROWS runs (bounded memory): searches over that index, in this
    process and in a new one, equal a fresh evaluation, and so do the records."""
    monkeypatch.setattr(runindex, "_FOLD_ROWS", 2)
    _log(store, "a", "r4", params={"model": "xgb", "depth": 9, "extra": "late key"})
    _forget_process_state()
    shutil.rmtree(os.environ["RUNSITE_CACHE_DIR"], ignore_errors=True)  # (read from files)
    expected = _records(store)
    _check(store)
    _forget_process_state()
    assert _records(store) == expected
    _check(store)
    assert [r.run_name for r in runsite.Store(store).search_runs("params.extra = 'late key'")] == [
        "r4"
    ]


def _age(store: Path) -> None:
    """Make the store's folders look last changed a minute ago (a listing of them may be
    kept: see Store._listing)."""
    old = os.stat(store).st_mtime - 60
    for d in [store, *[p for p in store.iterdir() if p.is_dir()]]:
        os.utime(d, (old, old))


def test_a_kept_listing_still_sees_runs_added_and_deleted(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _age(store)
    _check(store)
    calls: list[Path] = []
    real = store_mod.Store._run_folders
    monkeypatch.setattr(
        store_mod.Store, "_run_folders", lambda self, d: calls.append(d) or real(self, d)
    )
    runsite.Store(store).search_runs("metrics.loss < 9")
    runsite.Store(store).runs()
    assert calls == []  # the listing was kept
    _log(store, "a", "r5", loss=[0.01])  # a new folder: experiment a's mtime changes
    runsite.Store(store).search_runs("metrics.loss < 9")
    assert calls  # listed again
    _check(store)
    _age(store)
    _check(store)
    victim = runsite.Store(store).search_runs("attributes.run_name = 'r3'")[0].path
    shutil.rmtree(victim)
    _check(store)
    assert "r3" not in [r.run_name for r in runsite.Store(store).search_runs("metrics.loss < 9")]
    _age(store)
    _check(store)
    (store / "c").mkdir()  # a new experiment: the store folder's mtime changes
    _log(store, "c", "r6", loss=[0.02])
    _check(store)
    assert "r6" in [r.run_name for r in runsite.Store(store).search_runs("metrics.loss < 9")]


def test_a_listing_is_not_kept_for_folders_changed_just_now(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _check(store)  # (the folders were written just now)
    calls: list[Path] = []
    real = store_mod.Store._run_folders
    monkeypatch.setattr(
        store_mod.Store, "_run_folders", lambda self, d: calls.append(d) or real(self, d)
    )
    runsite.Store(store).search_runs("metrics.loss < 9")
    assert calls


def test_the_index_file_is_not_rewritten_when_nothing_changed(store: Path) -> None:
    _check(store)
    victim = runsite.Store(store).search_runs("attributes.run_name = 'r2'")[0].path
    shutil.rmtree(victim)
    runsite.Store(store).search_runs("metrics.loss < 9")  # drops its row
    before = _index_file().stat().st_mtime_ns
    for _ in range(3):
        runsite.Store(store).search_runs("metrics.loss < 9")
        runsite.Store(store).runs()
    assert _index_file().stat().st_mtime_ns == before
    _check(store)
