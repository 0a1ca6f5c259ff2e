"""The run index: the store's read cache as one columnar file, one row per run.

A row holds the run's summary (what ``Store`` builds a ``RunRecord`` from, as JSON), the
stamps (size and mtime) of the record files it was read from, and — for an ended run —
the values a filter looks at, one column per attribute, param, tag and metric aggregate
(``a:status``, ``p:lr``, ``pn:lr`` the param read as a number, ``t:team``,
``m:last:loss``…). ``search_runs`` evaluates a filter over those columns (Arrow compute)
without building a record per run; ``Store`` reads single summaries from it.

It lives in the user's cache folder (``runsite.cache``), never in the store, and it
decides nothing about trust: an entry is used only while the stamps of the run's files
still match, a missing, unreadable or foreign file is an empty index, and failing to
write it only costs time (docs/format.md, "The read cache").
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from runsite import attributes, record, search

log = logging.getLogger("runsite")

FILE_NAME = "runs-v4.parquet"  # v4: the columnar index (v3 was runs-v3.json)
_FORMAT = "runsite-run-index-1"
_OPEN_STAMPED = (record.RUN_JSON, record.EVENTS, record.METRICS_JSONL, record.METRICS_PARQUET)
# An ended run is immutable and its summary comes from run.json and the end event.
_ENDED_STAMPED = (record.RUN_JSON, record.EVENTS)
# Past this many filter columns a store's keys are not all given a column: a filter on a
# key without one is evaluated row by row (never wrongly: see ``column_name``).
MAX_COLUMNS = 4000
_EXACT = 2**53  # integers Arrow's float64 holds exactly


def stamp(run_dir: str, ended: bool) -> str:
    """Size and mtime of the files a run's summary is read from ('-' for a missing one)."""
    out = []
    for name in _ENDED_STAMPED if ended else _OPEN_STAMPED:
        try:
            st = os.stat(f"{run_dir}/{name}")
            out.append(f"{st.st_size}:{st.st_mtime_ns}")
        except FileNotFoundError:
            out.append("-")
    return "/".join(out)


def quick_stamp(run_dir: str) -> tuple[int, int] | None:
    """events.jsonl's size and mtime: all that can change in an ended run once this
    process has checked its full stamp."""
    try:
        st = os.stat(f"{run_dir}/{record.EVENTS}")
    except FileNotFoundError:
        return None
    return (st.st_size, st.st_mtime_ns)


_ATTRIBUTE_IDENTS = [search.Identifier("attribute", name) for name in attributes.NAMES]


def column_name(ident: search.Identifier, as_number: bool) -> str | None:
    """The index column holding ``ident``'s values (None: the index has no such column)."""
    if ident.kind == "attribute":
        return None if as_number else f"a:{ident.key}"
    if ident.kind == "metric":
        return f"m:{ident.agg}:{ident.key}"
    if ident.kind in ("param", "tag"):
        return f"{ident.kind[0]}{'n' if as_number else ''}:{ident.key}"
    return None


def _number(value: Any) -> float | bool | None:
    """A numeric cell; False when the value is not one Arrow's float64 holds as Python
    compares it."""
    if value is None or type(value) is float:
        return value
    if type(value) is int or type(value) is bool:
        return float(value) if -_EXACT <= value <= _EXACT else False
    return False


def filter_columns(rows: list[dict[str, Any]]) -> tuple[dict[str, Any], set[str]]:
    """Columns (name → (type, values)) of the filter values of ``rows``, built with the
    search module's own getters so a column holds exactly what the row evaluator sees;
    and the names of columns that cannot be built (such a filter goes row by row)."""
    cols: dict[str, tuple[str, list[Any]]] = {}
    bad: set[str] = set()
    n = len(rows)
    for ident in _ATTRIBUTE_IDENTS:
        get = search.getter(ident)
        values = [get(row) for row in rows]
        name = f"a:{ident.key}"
        if ident.numeric:
            nums = [_number(v) for v in values]
            if any(v is False for v in nums):
                bad.add(name)
                continue
            cols[name] = ("float64", nums)
        else:
            cols[name] = ("string", values)
    keys: dict[str, set[str]] = {"params": set(), "tags": set(), "metrics": set()}
    for row in rows:
        for section, seen in keys.items():
            seen.update(row[section])
    for section, prefix in (("params", "p"), ("tags", "t")):
        for key in sorted(keys[section]):
            get = search.getter(search.Identifier(section[:-1], key))
            values = [get(row) for row in rows]
            cols[f"{prefix}:{key}"] = ("string", values)
            cols[f"{prefix}n:{key}"] = (
                "float64",
                [None if v is None else search.to_number(v) for v in values],
            )
    for key in sorted(keys["metrics"]):
        for agg in search.AGGREGATES:
            get = search.getter(search.Identifier("metric", key, agg))
            name = f"m:{agg}:{key}"
            nums = [_number(get(row)) for row in rows]
            if any(v is False for v in nums):
                bad.add(name)
                continue
            cols[name] = ("float64", nums)
    assert all(len(v) == n for _, v in cols.values())
    return cols, bad


class RunIndex:
    """The index of one store, in memory and in its cache file ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.keys: list[str] = []
        self.stamps: list[str] = []
        self.ended: list[bool] = []
        self.pos: dict[str, int] = {}
        # key -> events.jsonl stamp when this process last checked the full stamp
        self.checked: dict[str, tuple[int, int] | None] = {}
        self.bad: set[str] = set()
        self.dirty = False
        self._table: Any = None  # rows 0 … len(keys) - len(_pending) - 1
        self._pending: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
        self._summaries: Any = None
        self._loaded = False

    # ------------------------------------------------------------------ the file

    def load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        from runsite import arrowio

        try:
            table = arrowio.read_parquet_table(self.path)
            meta = arrowio.schema_metadata(table)
            if meta.get("format") != _FORMAT:
                raise ValueError("not a run index of this version")
            keys = arrowio.array_list(table.column("key"))
            stamps = arrowio.array_list(table.column("stamp"))
            ended = arrowio.array_list(table.column("ended"))
            bad = set(json.loads(meta.get("bad", "[]")))
        except (OSError, ValueError, KeyError) as exc:
            if not isinstance(exc, FileNotFoundError):
                log.debug("runsite: the run index %s is not used: %s", self.path, exc)
            return
        table = arrowio.with_schema_metadata(table, None)
        self._table, self.keys, self.stamps, self.ended, self.bad = table, keys, stamps, ended, bad
        self._summaries = table.column("summary")
        self.pos = {k: i for i, k in enumerate(keys)}

    def save(self, live: set[str] | None = None) -> None:
        """Write the index when it changed: one row per run, the latest read; with
        ``live`` (every run key of the store, after a full listing) rows of runs that are
        gone are dropped too."""
        if not self.dirty and (live is None or len(live) == len(self.pos)):
            return
        from runsite import arrowio

        try:
            table = self.table()
            keep = sorted(p for k, p in self.pos.items() if live is None or k in live)
            if len(keep) != len(self.keys):
                table = table.take(arrowio.positions(keep))
            table = arrowio.with_schema_metadata(
                table, {"format": _FORMAT, "bad": json.dumps(sorted(self.bad))}
            )
            self.path.parent.mkdir(parents=True, exist_ok=True)
            arrowio.write_parquet_fast(table, self.path)
        except OSError as exc:
            log.debug("runsite: could not write the run index %s: %s", self.path, exc)
        self.dirty = False

    # ------------------------------------------------------------------ entries

    def fresh(self, key: str, run_dir: str) -> int | None:
        """The row of run ``key`` when its files still have the stamps it was read with."""
        p = self.pos.get(key)
        if p is None:
            return None
        ended = self.ended[p]
        if ended and key in self.checked and self.checked[key] == quick_stamp(run_dir):
            return p
        if self.stamps[p] != stamp(run_dir, ended):
            return None
        if ended:
            self.checked[key] = quick_stamp(run_dir)
        return p

    def summary(self, p: int) -> dict[str, Any]:
        n_table = len(self.keys) - len(self._pending)
        if p >= n_table:
            return self._pending[p - n_table][0]["summary"]
        value: dict[str, Any] = json.loads(self._summaries[p].as_py())
        return value

    def add(self, key: str, run_dir: str, summary: dict[str, Any], row: dict[str, Any]) -> int:
        """Record a summary just read from the run's files (``row``: its search row)."""
        ended = summary.get("status") is not None
        stamp_now = stamp(run_dir, ended)
        entry = {
            "key": key,
            "stamp": stamp_now,
            "ended": ended,
            "summary": summary,
            "has_warnings": bool(summary.get("warnings")),
        }
        self._pending.append((entry, row if ended else None))
        self.keys.append(key)
        self.stamps.append(stamp_now)
        self.ended.append(ended)
        self.pos[key] = len(self.keys) - 1
        self.checked.pop(key, None)
        if ended:
            self.checked[key] = quick_stamp(run_dir)
        self.dirty = True
        return self.pos[key]

    def table(self) -> Any:
        """Every row as an Arrow table (rows added since the last call appended)."""
        if not self._pending:
            if self._table is None:
                from runsite import arrowio

                self._table = arrowio.table_of(self._base_columns([]))
                self._summaries = self._table.column("summary")
            return self._table
        from runsite import arrowio

        entries = [e for e, _ in self._pending]
        cols = self._base_columns(entries)
        ended_rows = [(i, r) for i, (_, r) in enumerate(self._pending) if r is not None]
        built, bad = filter_columns([r for _, r in ended_rows])
        n_cols = 0 if self._table is None else self._table.num_columns
        for name, (type_name, values) in built.items():
            if name in self.bad:
                continue
            new_column = self._table is None or name not in self._table.column_names
            if new_column and n_cols + len(cols) > MAX_COLUMNS:
                bad.add(name)
                continue
            full: list[Any] = [None] * len(entries)
            for (i, _), v in zip(ended_rows, values, strict=True):
                full[i] = v
            try:
                cols[name] = arrowio.column_array(full, type_name)
            except ValueError:
                bad.add(name)
        self.bad |= bad
        new = arrowio.table_of(cols)
        tables = [new] if self._table is None else [self._table, new]
        table = arrowio.concat_promoting(tables)
        self._table = table.drop_columns([c for c in table.column_names if c in self.bad])
        self._summaries = self._table.column("summary")
        self._pending = []
        return self._table

    @staticmethod
    def _base_columns(entries: list[dict[str, Any]]) -> dict[str, Any]:
        from runsite import arrowio

        return {
            "key": arrowio.column_array([e["key"] for e in entries], "string"),
            "stamp": arrowio.column_array([e["stamp"] for e in entries], "string"),
            "ended": arrowio.column_array([e["ended"] for e in entries], "bool"),
            "has_warnings": arrowio.column_array([e["has_warnings"] for e in entries], "bool"),
            "summary": arrowio.column_array(
                [json.dumps(e["summary"], separators=(",", ":")) for e in entries], "string"
            ),
        }

    def values(self, name: str, positions: list[int]) -> list[Any]:
        """Column ``name`` at rows ``positions``, as Python values (None: no such column)."""
        from runsite import arrowio

        table = self.table()
        if name not in table.column_names:
            return [None] * len(positions)
        return arrowio.array_list(arrowio.take(table.column(name), arrowio.positions(positions)))

    def has_warnings(self, positions: list[int]) -> list[int]:
        """Those of ``positions`` whose run has warnings."""
        from runsite import arrowio

        flags = arrowio.array_list(self.table().column("has_warnings"))
        return [p for p in positions if flags[p]]

    def select(self, query: str, positions: list[int]) -> list[int] | None:
        """Which of the rows ``positions`` (ended runs) ``query`` keeps, evaluated over
        the columns; None when the filter needs the row evaluator."""
        from runsite import arrowio

        table = self.table()
        names = set(table.column_names)
        at = arrowio.positions(positions)
        n = len(positions)

        def column(ident: search.Identifier, as_number: bool) -> Any:
            name = column_name(ident, as_number)
            if name is None or name in self.bad:
                return None
            if name not in names:  # no run has it: missing everywhere
                numeric = ident.numeric or as_number
                return arrowio.null_array(n, "float64" if numeric else "string")
            return arrowio.take(table.column(name), at)

        found = search.evaluate_columns(query, column, n)
        return None if found is None else [positions[i] for i in found]


def evaluate_rows(rows: list[dict[str, Any]], query: str) -> list[int] | None:
    """The positions of ``rows`` (search rows of ended runs) that ``query`` keeps, by the
    columnar evaluation the index uses; None when it needs the row evaluator. For tests
    and benches: the index builds its columns the same way."""
    from runsite import arrowio

    built, bad = filter_columns(rows)
    arrays: dict[str, Any] = {}
    for name, (type_name, values) in built.items():
        try:
            arrays[name] = arrowio.column_array(values, type_name)
        except ValueError:
            bad.add(name)
    n = len(rows)

    def column(ident: search.Identifier, as_number: bool) -> Any:
        name = column_name(ident, as_number)
        if name is None or name in bad:
            return None
        if name not in arrays:
            numeric = ident.numeric or as_number
            return arrowio.null_array(n, "float64" if numeric else "string")
        return arrays[name]

    return search.evaluate_columns(query, column, n)
