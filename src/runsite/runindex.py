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

FILE_NAME = "runs-v4.parquet"  # v4: the columnar index (v3 was runs-v3.json); + .sqlite
_FORMAT = "runsite-run-index-1"
_OPEN_STAMPED = (record.RUN_JSON, record.EVENTS, record.METRICS_JSONL, record.METRICS_PARQUET)
# An ended run is immutable and its summary comes from run.json and the end event.
_ENDED_STAMPED = (record.RUN_JSON, record.EVENTS)
# Past this many filter columns a store's keys are not all given a column: a filter on a
# key without one is evaluated row by row (never wrongly: see ``column_name``).
MAX_COLUMNS = 4000
_EXACT = 2**53  # integers Arrow's float64 holds exactly
_PRELOAD_MIN = 200  # fewer runs than this: one query each costs no more
_PRELOAD_BATCH = 5000
_FOLD_ROWS = 5000  # runs read from their files between two RunIndex._fold


def stamp(run_dir: str, ended: bool) -> str:
    """Size and mtime of the files a run's summary is read from ('-' for a missing one)."""
    return _stamp(run_dir, ended)[0]


def _stamp(run_dir: str, ended: bool) -> tuple[str, tuple[int, int] | None]:
    """``stamp`` and, from the same ``stat``, events.jsonl's ``quick_stamp``."""
    out = []
    events = None
    for name in _ENDED_STAMPED if ended else _OPEN_STAMPED:
        try:
            st = os.stat(f"{run_dir}/{name}")
            out.append(f"{st.st_size}:{st.st_mtime_ns}")
            if name == record.EVENTS:
                events = (st.st_size, st.st_mtime_ns)
        except FileNotFoundError:
            out.append("-")
    return "/".join(out), events


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


_BASE = ["key", "stamp", "ended", "has_warnings"]


class IndexFileError(OSError):
    """The index file could not be read after it was opened (the rows it gave are gone:
    answer this question without the index)."""


class RunIndex:
    """The index of one store, in memory and in its cache files: ``path`` (Parquet: the
    stamps and filter columns, read column by column as needed) and ``path`` with the
    suffix ``.sqlite`` (the summaries, read one run at a time)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db_path = path.with_suffix(".sqlite")
        self.keys: list[str] = []
        self.stamps: list[str] = []
        self.ended: list[bool] = []
        self.pos: dict[str, int] = {}
        # key -> events.jsonl stamp when this process last checked the full stamp
        self.checked: dict[str, tuple[int, int] | None] = {}
        self.bad: set[str] = set()
        self.dirty = False
        self._file: Any = None  # the open Parquet file rows 0 … n_file - 1 come from
        self._names: set[str] = set()  # its columns
        self._columns: dict[str, Any] = {}  # columns read from it so far
        self._table: Any = None  # every column of rows 0 … len(keys) - len(_pending) - 1
        self._pending: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
        self._unsaved: dict[str, tuple[str, str]] = {}  # key -> (stamp, summary JSON)
        self._db: Any = None
        self._loaded = False
        self._preloaded: dict[str, tuple[str, Any]] = {}  # key -> (stamp, summary), once

    # ------------------------------------------------------------------ the files

    def load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        from runsite import arrowio

        try:
            handle = arrowio.open_parquet(self.path)
            names, meta = arrowio.parquet_info(handle)
            if meta.get("format") != _FORMAT or not set(_BASE) <= set(names):
                raise ValueError("not a run index of this version")
            base = arrowio.read_columns(handle, _BASE)
            keys = arrowio.array_list(base.column("key"))
            stamps = arrowio.array_list(base.column("stamp"))
            ended = arrowio.array_list(base.column("ended"))
            bad = set(json.loads(meta.get("bad", "[]")))
        except (OSError, ValueError, KeyError) as exc:
            if not isinstance(exc, FileNotFoundError):
                log.debug("runsite: the run index %s is not used: %s", self.path, exc)
            return
        self._file, self._names = handle, set(names)
        self._columns = {name: base.column(name) for name in _BASE}
        self.keys, self.stamps, self.ended, self.bad = keys, stamps, ended, bad
        self.pos = {k: i for i, k in enumerate(keys)}

    def _database(self) -> Any:
        """The summaries database (None when it cannot be opened: then summaries come
        from the runs' files)."""
        if self._db is None:
            import sqlite3

            try:
                self.db_path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.db_path, timeout=10)
                db.execute(
                    "CREATE TABLE IF NOT EXISTS summaries "
                    "(key TEXT PRIMARY KEY, stamp TEXT NOT NULL, summary TEXT NOT NULL)"
                )
                self._db = db
            except (OSError, sqlite3.Error) as exc:
                log.debug("runsite: the run summaries %s are not used: %s", self.db_path, exc)
                self._db = False
        return self._db or None

    def save(self, live: set[str] | None = None) -> None:
        """Write the index when it changed: one row per run, the latest read; with
        ``live`` (every run key of the store, after a full listing) rows of runs that are
        gone are dropped too."""
        if not self.dirty and (live is None or len(live) == len(self.pos)):
            return
        import sqlite3

        from runsite import arrowio

        self.dirty = False
        gone = [] if live is None else [k for k in self.pos if k not in live]
        try:
            db = self._database()
            if db is not None:
                with db:
                    db.executemany(
                        "INSERT OR REPLACE INTO summaries VALUES (?, ?, ?)",
                        [(k, st, text) for k, (st, text) in self._unsaved.items()],
                    )
                    db.executemany("DELETE FROM summaries WHERE key = ?", [(k,) for k in gone])
                self._unsaved.clear()
        except sqlite3.Error as exc:
            log.debug("runsite: could not write the run summaries %s: %s", self.db_path, exc)
        try:
            table = self.table()
            drop = set(gone)
            keep = sorted(p for k, p in self.pos.items() if k not in drop)
            if len(keep) != len(self.keys):
                table = table.take(arrowio.positions(keep))
            table = arrowio.with_schema_metadata(
                table, {"format": _FORMAT, "bad": json.dumps(sorted(self.bad))}
            )
            self.path.parent.mkdir(parents=True, exist_ok=True)
            arrowio.write_parquet_fast(table, self.path)
        except OSError as exc:
            log.debug("runsite: could not write the run index %s: %s", self.path, exc)
        for key in gone:  # (their rows stay in memory, unreachable)
            del self.pos[key]
            self.checked.pop(key, None)

    # ------------------------------------------------------------------ entries

    def fresh(self, key: str, run_dir: str) -> int | None:
        """The row of run ``key`` when its files still have the stamps it was read with."""
        p = self.pos.get(key)
        if p is None:
            return None
        ended = self.ended[p]
        if ended and key in self.checked and self.checked[key] == quick_stamp(run_dir):
            return p
        now, events = _stamp(run_dir, ended)
        if self.stamps[p] != now:
            return None
        if ended:
            self.checked[key] = events
        return p

    def fresh_ended(self, listing: list[tuple[str, str]]) -> list[int | None]:
        """For each (folder, key) of ``listing``: the row of the run when it is an ended
        run whose files still have the stamps it was read with, else None (then ask
        ``fresh``). What ``fresh`` checks, in one loop: this runs for every run of a
        store before each search and SQL query."""
        out: list[int | None] = []
        append = out.append
        get = self.pos.get
        ended, stamps, checked = self.ended, self.stamps, self.checked
        stat = os.stat
        run_json, events = record.RUN_JSON, record.EVENTS
        for run_dir, key in listing:
            p = get(key)
            if p is None or not ended[p]:
                append(None)
                continue
            if key in checked:
                append(p if checked[key] == quick_stamp(run_dir) else None)
                continue
            try:
                a = stat(f"{run_dir}/{run_json}")
                b = stat(f"{run_dir}/{events}")
            except OSError:  # (a file gone: ``fresh`` says what that means)
                append(None)
                continue
            # (the format of ``stamp``)
            if stamps[p] == f"{a.st_size}:{a.st_mtime_ns}/{b.st_size}:{b.st_mtime_ns}":
                checked[key] = (b.st_size, b.st_mtime_ns)
                append(p)
            else:
                append(None)
        return out

    def summary(self, p: int) -> dict[str, Any] | None:
        """The summary of row ``p``; None when the summaries on disk do not hold it as
        it was indexed (then read the run's files)."""
        n_table = len(self.keys) - len(self._pending)
        if p >= n_table:
            return self._pending[p - n_table][0]["summary"]
        key = self.keys[p]
        early = self._preloaded.pop(key, None)
        if early is not None and early[0] == self.stamps[p]:
            return early[1] if isinstance(early[1], dict) else None
        unsaved = self._unsaved.get(key)
        text = None
        if unsaved is not None and unsaved[0] == self.stamps[p]:
            text = unsaved[1]
        else:
            import sqlite3

            db = self._database()
            try:
                found = (
                    db.execute(
                        "SELECT stamp, summary FROM summaries WHERE key = ?", (key,)
                    ).fetchone()
                    if db is not None
                    else None
                )
            except sqlite3.Error:
                found = None
            if found is not None and found[0] == self.stamps[p]:
                text = found[1]
        if text is None:
            return None
        try:
            value = json.loads(text)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def preload(self, keys: list[str]) -> None:
        """Read the summaries of the runs ``keys`` from the database in one query, for the
        ``summary`` calls that follow (each taken once). A whole store's worth of runs is
        read this way in a fraction of the time of one query per run, and decoded in
        batches: one ``json.loads`` per batch shares the dict keys (``p00``, ``last``, …)
        between the batch's runs instead of a copy per run (a third of a summary's memory).
        Stamps are compared at ``summary`` time, as for a single read."""
        wanted = {k for k in keys if k in self.pos and k not in self._unsaved}
        if len(wanted) < _PRELOAD_MIN:
            return
        import sqlite3

        db = self._database()
        if db is None:
            return
        # Read and decoded a batch at a time: the texts of 100,000 runs read at once made
        # the process 126 MB bigger, at the peak and after (the heap does not shrink).
        try:
            cursor = db.execute("SELECT key, stamp, summary FROM summaries")
        except sqlite3.Error:
            return
        while True:
            try:
                rows = cursor.fetchmany(_PRELOAD_BATCH)
            except sqlite3.Error:
                return
            if not rows:
                return
            batch = [r for r in rows if r[0] in wanted]
            values: list[Any] | None = None
            try:
                # (the texts joined: exactly one value each or the count differs, since
                # a text can add a top-level comma but an empty one is a syntax error)
                loaded = json.loads("[" + ",".join(r[2] for r in batch) + "]")
                if isinstance(loaded, list) and len(loaded) == len(batch):
                    values = loaded
            except (ValueError, RecursionError):
                pass
            if values is None:  # (some text is damaged: each one alone)
                values = []
                for r in batch:
                    try:
                        values.append(json.loads(r[2]))
                    except (ValueError, RecursionError):
                        values.append(None)
            for (key, stamp_then, _), value in zip(batch, values, strict=True):
                self._preloaded[key] = (stamp_then, value)

    def forget_preloaded(self) -> None:
        """Drop what ``preload`` read and no ``summary`` call took."""
        self._preloaded.clear()

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
        self._unsaved[key] = (stamp_now, json.dumps(summary, separators=(",", ":")))
        self.keys.append(key)
        self.stamps.append(stamp_now)
        self.ended.append(ended)
        self.pos[key] = len(self.keys) - 1
        self.checked.pop(key, None)
        if ended:
            self.checked[key] = quick_stamp(run_dir)
        self.dirty = True
        p = self.pos[key]
        if len(self._pending) >= _FOLD_ROWS:
            self._fold()
        return p

    def _fold(self) -> None:
        """Turn the rows read so far into columns and write their summaries to the
        database, so that reading a whole store holds ``_FOLD_ROWS`` search rows and
        summary texts at a time, not 100,000 (what the index holds is the same)."""
        import sqlite3

        try:
            self.table()
        except IndexFileError as exc:  # (the file went bad: its rows are gone; keep going)
            log.debug("runsite: %s", exc)
        db = self._database()
        if db is None:
            return  # (the texts stay in memory: summary() reads them there)
        try:
            with db:
                db.executemany(
                    "INSERT OR REPLACE INTO summaries VALUES (?, ?, ?)",
                    [(k, st, text) for k, (st, text) in self._unsaved.items()],
                )
            self._unsaved.clear()
        except sqlite3.Error as exc:
            log.debug("runsite: could not write the run summaries %s: %s", self.db_path, exc)

    def _column(self, name: str) -> Any:
        """Column ``name`` of the rows in the table (None: no such column)."""
        if not self._pending and self._table is None and self._file is not None:
            if name not in self._names:
                return None
            if name not in self._columns:
                from runsite import arrowio

                try:
                    read = arrowio.read_columns(self._file, [name])
                except (OSError, ValueError):
                    # (the file went bad under us: give up the columns, keep correctness)
                    self.bad.add(name)
                    return None
                self._columns[name] = read.column(name)
            return self._columns[name]
        table = self.table()
        return table.column(name) if name in table.column_names else None

    def table(self) -> Any:
        """Every row as an Arrow table (rows added since the last call appended)."""
        from runsite import arrowio

        if self._table is None:
            if self._file is not None:
                try:
                    self._table = arrowio.read_columns(self._file, None)
                except (OSError, ValueError) as exc:
                    self._file, self._columns = None, {}
                    self._forget_file_rows()
                    raise IndexFileError(f"the run index {self.path} is not used: {exc}") from None
            self._file, self._columns = None, {}
        if self._table is None:
            self._table = arrowio.table_of(self._base_columns([]))
        if not self._pending:
            return self._table
        entries = [e for e, _ in self._pending]
        cols = self._base_columns(entries)
        ended_rows = [(i, r) for i, (_, r) in enumerate(self._pending) if r is not None]
        built, bad = filter_columns([r for _, r in ended_rows])
        n_cols = self._table.num_columns
        for name, (type_name, values) in built.items():
            if name in self.bad:
                continue
            new_column = name not in self._table.column_names
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
        table = arrowio.concat_promoting([self._table, arrowio.table_of(cols)])
        self._table = table.drop_columns([c for c in table.column_names if c in self.bad])
        self._pending = []
        return self._table

    def _forget_file_rows(self) -> None:
        """Drop the rows read from an index file that can no longer be read."""
        n_file = len(self.keys) - len(self._pending)
        del self.keys[:n_file], self.stamps[:n_file], self.ended[:n_file]
        self.pos = {k: i for i, k in enumerate(self.keys)}
        self.checked.clear()
        self.dirty = True

    @staticmethod
    def _base_columns(entries: list[dict[str, Any]]) -> dict[str, Any]:
        from runsite import arrowio

        return {
            "key": arrowio.column_array([e["key"] for e in entries], "string"),
            "stamp": arrowio.column_array([e["stamp"] for e in entries], "string"),
            "ended": arrowio.column_array([e["ended"] for e in entries], "bool"),
            "has_warnings": arrowio.column_array([e["has_warnings"] for e in entries], "bool"),
        }

    def values(self, name: str, positions: list[int]) -> list[Any]:
        """Column ``name`` at rows ``positions``, as Python values (None: no such column)."""
        from runsite import arrowio

        column = self._column(name)
        if column is None:
            return [None] * len(positions)
        return arrowio.array_list(arrowio.take(column, arrowio.positions(positions)))

    def has_warnings(self, positions: list[int]) -> list[int]:
        """Those of ``positions`` whose run has warnings."""
        flags = self.values("has_warnings", positions)
        return [p for p, flag in zip(positions, flags, strict=True) if flag]

    def select(self, query: str, positions: list[int]) -> list[int] | None:
        """Which of the rows ``positions`` (ended runs) ``query`` keeps, evaluated over
        the columns; None when the filter needs the row evaluator."""
        from runsite import arrowio

        at = arrowio.positions(positions)
        n = len(positions)

        def column(ident: search.Identifier, as_number: bool) -> Any:
            name = column_name(ident, as_number)
            if name is None or name in self.bad:
                return None
            values = self._column(name)
            if name in self.bad:  # (it could not be read)
                return None
            if values is None:  # no run has it: missing everywhere
                numeric = ident.numeric or as_number
                return arrowio.null_array(n, "float64" if numeric else "string")
            return arrowio.take(values, at)

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
