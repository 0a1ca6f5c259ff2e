"""Data files the site's JavaScript reads: ``data/*.js`` pushed onto ``RUNSITE_DATA``.

Loaded with ``<script src>`` (a ``fetch`` of a local file fails from ``file://``). They are
JavaScript, not JSON, so NaN and ±Infinity travel as themselves. An experiment's runs are
columns cut into chunk files that the page loads as it needs them (100,000 runs do not
make one 40 MB file). The shapes are documented in docs/site.md.
"""

from __future__ import annotations

import array
import base64
import hashlib
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from runsite import attributes, validate

if TYPE_CHECKING:
    from runsite.site.collect import ExperimentView, SiteData
    from runsite.store import RunRecord


# A metric key the query language reads without quotes after ``metrics.``.
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def dataset_anchor(hash_text: str) -> str:
    """The id of a dataset's card on datasets.html (``d-`` and 16 hex digits of its
    hash); the run pages and the search index link to it."""
    return "d-" + hash_text.split(":")[-1][:16]


def _js(obj: Any) -> str:
    # json.dumps writes NaN / Infinity / -Infinity: valid JavaScript (not JSON), kept on
    # purpose; ensure_ascii keeps every string safe whatever it contains.
    return json.dumps(obj, separators=(",", ":"), allow_nan=True)


def push(payload: dict[str, Any]) -> str:
    return f"(window.RUNSITE_DATA=window.RUNSITE_DATA||[]).push({_js(payload)});\n"


def vocabulary_payload() -> dict[str, Any]:
    """``data/vocabulary.js``: the run attributes (runsite.attributes), which query.js and
    runs.js read rather than keep a list of their own."""
    return {"kind": "vocabulary", **attributes.vocabulary()}


# ----------------------------------------------------------------------------- the runs table

# Rows per chunk file of a column. A filter over 100,000 runs loads every chunk of the
# columns it names (10 files each); the table's first page loads one chunk of each
# column it shows. New runs land in the last chunk, so a rebuild rewrites only that one.
CHUNK_ROWS = 10_000
# The newest rows of every column ride in the manifest (``head``), so the table's first
# page (newest first) loads no chunk of the columns it shows.
HEAD_ROWS = 100
AGGREGATES = ("last", "min", "max", "count")


@dataclass(frozen=True)
class TableColumn:
    """One column of an experiment's runs table, stored as chunk files."""

    section: str  # attributes, params, tags or metrics
    key: str  # the attribute name, param / tag / metric key
    agg: str | None = None  # metrics: last, min, max or count
    file: str = ""  # the chunk files' name: <file>-<chunk>.js

    @property
    def numeric(self) -> bool:
        """Sent as float64 (metrics, times and durations), else as JSON values."""
        if self.section == "metrics":
            return True
        return self.section == "attributes" and self.key in attributes.NUMERIC

    def values(self, runs: list[RunRecord]) -> list[Any]:
        key = self.key
        if self.section == "attributes":
            return [getattr(r, key) for r in runs]
        if self.section == "params":
            return [
                validate.canonical_str(r.params[key]) if key in r.params else None for r in runs
            ]
        if self.section == "tags":
            return [r.tags.get(key) for r in runs]
        agg = self.agg or "last"
        return [r.metrics[key][agg] if key in r.metrics else None for r in runs]


def table_column(
    section: str, key: str, agg: str | None = None, short: str | None = None
) -> TableColumn:
    # A key may hold any character: files are named by a digest (attributes by their
    # column name in runsite.attributes).
    name = short or hashlib.sha256(f"{section}\0{key}\0{agg}".encode()).hexdigest()[:16]
    return TableColumn(section, key, agg, f"{section[0]}-{name}")


def table_columns(runs: list[RunRecord]) -> list[TableColumn]:
    """Every column of the runs table: the attributes, then params, tags and metrics (one
    column per aggregate) by key."""
    params = sorted({k for r in runs for k in r.params})
    tags = sorted({k for r in runs for k in r.tags})
    metrics = sorted({k for r in runs for k in r.metrics})
    return (
        [table_column("attributes", a.name, short=a.column) for a in attributes.ATTRIBUTES]
        + [table_column("params", k) for k in params]
        + [table_column("tags", k) for k in tags]
        + [table_column("metrics", k, agg) for k in metrics for agg in AGGREGATES]
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def encode_values(values: list[Any], numeric: bool, dictionary: bool = True) -> dict[str, Any]:
    """A chunk of one column. Numbers: ``f64`` (little-endian float64, base64; NaN and
    ±Infinity exact) with a ``missing`` bitmap (bit i of byte i // 8, base64) when some
    are missing. Other values: ``dict`` (the distinct JSON values and one code per row,
    unsigned little-endian of ``width`` bytes, base64) or, when most are distinct,
    ``list`` (the values themselves). Numbers with at most 256 distinct values (counts,
    durations of a sweep) are ``dict`` too: a byte a row instead of eight."""
    n = len(values)
    if numeric and (not dictionary or len({repr(v) for v in values[:4096]}) > 256):
        nums = array.array("d", (0.0 if v is None else float(v) for v in values))
        if sys.byteorder != "little":
            nums.byteswap()
        out: dict[str, Any] = {"enc": "f64", "data": _b64(nums.tobytes())}
        if any(v is None for v in values):
            bits = bytearray((n + 7) // 8)
            for i, v in enumerate(values):
                if v is None:
                    bits[i >> 3] |= 1 << (i & 7)
            out["missing"] = _b64(bytes(bits))
        return out
    index: dict[tuple[str, Any], int] = {}
    distinct: list[Any] = []
    codes = array.array("I")
    for v in values:
        # (type, value): True, 1 and 1.0 are one dict key in Python, three values here;
        # numbers by repr: -0.0 and 0.0, and every NaN, stay apart
        k = (type(v).__name__, repr(v) if numeric else v)
        code = index.get(k)
        if code is None:
            code = index[k] = len(distinct)
            distinct.append(v)
        codes.append(code)
    if numeric and len(distinct) > 256:
        return encode_values(values, numeric, dictionary=False)
    if len(distinct) > max(16, n // 2):
        return {"enc": "list", "values": values}
    width, typecode = (
        (1, "B") if len(distinct) <= 256 else (2, "H") if len(distinct) <= 65536 else (4, "I")
    )
    packed = array.array(typecode, codes) if typecode != "I" else codes
    if sys.byteorder != "little":
        packed.byteswap()
    return {"enc": "dict", "values": distinct, "width": width, "codes": _b64(packed.tobytes())}


def varies(values: Iterable[Any]) -> bool:
    """True when the values (missing included) are not all the same; stops at the first
    that differs."""
    it = iter(values)
    for first in it:
        key = (type(first).__name__, first)
        return any((type(v).__name__, v) != key for v in it)
    return False


def chunk_payload(
    slug: str, column: TableColumn, chunk: int, values: list[Any], first: int | None = None
) -> dict[str, Any]:
    """Chunk ``chunk`` of a column: ``values`` from row ``first`` (by default
    ``chunk × CHUNK_ROWS``)."""
    return {
        "kind": "chunk",
        "slug": slug,
        "file": column.file,
        "chunk": chunk,
        "first": chunk * CHUNK_ROWS if first is None else first,
        "rows": len(values),
        **encode_values(values, column.numeric),
    }


def experiment_manifest(
    view: ExperimentView,
    columns: list[TableColumn],
    varying: set[str],
    folder: str,
    run_page: tuple[str, str],
    versions: dict[str, list[tuple[str, str]]] | None = None,
    rows: list[RunRecord] | None = None,
) -> dict[str, Any]:
    """What the runs table loads first: the columns and where their chunks are.

    Rows are stored oldest first (the reverse of the table's default order), so new runs
    go to the end. ``varying``: the params and tags whose values differ between runs
    (shown by default). ``versions`` (run id → ("name vN", page)) becomes ``versions``:
    row index → the registered versions that run became."""
    rows = list(reversed(view.runs)) if rows is None else rows
    n = len(rows)
    out: dict[str, Any] = {
        "kind": "experiment",
        "format": 3,
        "slug": view.slug,
        "name": view.experiment.name,
        "keyMetric": view.key_metric,
        "goal": view.goal,
        "rows": n,
        "chunkRows": CHUNK_ROWS,
        "chunks": -(-n // CHUNK_ROWS),
        "folder": folder,
        "runPage": list(run_page),
        "columns": [
            {
                "section": c.section,
                "key": c.key,
                **({"agg": c.agg} if c.agg else {}),
                "file": c.file,
                **({"varies": True} if f"{c.section}.{c.key}" in varying else {}),
            }
            for c in columns
        ],
    }
    if versions:
        out["versions"] = {
            str(i): [list(v) for v in versions[r.run_id]]
            for i, r in enumerate(rows)
            if r.run_id in versions
        }
    return out


def run_payload(
    run: RunRecord, series: dict[str, dict[str, list[Any]]], url: str
) -> dict[str, Any]:
    return {
        "kind": "run",
        **{a.column: getattr(run, a.name) for a in attributes.ATTRIBUTES},
        "url": url,
        "experimentId": run.experiment_id,
        "params": {k: validate.canonical_str(v) for k, v in sorted(run.params.items())},
        "tags": dict(sorted(run.tags.items())),
        "inputs": [{"name": i.get("name"), "hash": i.get("hash")} for i in run.inputs],
        "metrics": {
            k: {agg: m[agg] for agg in ("last", "min", "max", "count")}
            for k, m in sorted(run.metrics.items())
        },
        "series": series,
    }


# Runs per part of the search index: a site of more runs lists its runs in parts
# (data/search/runs-<k>.js, oldest runs first), so that a new run rewrites the last part
# only, not a file that holds 100,000 runs.
SEARCH_PART_RUNS = 5000


def search_order(runs: Iterable[RunRecord]) -> list[RunRecord]:
    """Runs in the order the search index's parts hold them: oldest first."""
    return sorted(runs, key=lambda r: (r.start_time, r.run_id))


def search_run_entries(runs: list[RunRecord], run_path: Any) -> list[list[str]]:
    """The search entries of ``runs``, in their order."""
    entries = []
    for run in runs:
        words = [
            run.run_name,
            run.run_id,
            run.experiment,
            *run.tags.values(),
            *(f"{k}={validate.canonical_str(v)}" for k, v in run.params.items()),
        ]
        entries.append(
            [
                "run",
                run.run_name,
                f"{run.experiment} · {run.status.lower()}",
                run_path(run.run_id),
                " ".join(words).lower(),
            ]
        )
    return entries


def search_part_payload(part: int, entries: list[list[str]]) -> dict[str, Any]:
    """``data/search/runs-<part>.js``: entries of runs, oldest first."""
    return {"kind": "search-part", "part": part, "entries": entries}


def search_payload(
    data: SiteData,
    experiment_path: Any,
    model_path: Any,
    runs: list[list[str]] | None = None,
    parts: list[str] | None = None,
) -> dict[str, Any]:
    """Entries ``[kind, title, detail, url, text]``; ``text`` is what matching looks at
    (lower-cased), ``url`` is relative to the site root. The runs' entries are ``runs``
    (newest first), or in the files ``parts`` (``search_part_payload``, paths relative to
    the site root) that search.js loads after this one."""
    from runsite.site.collect import guess_goal

    entries: list[list[str]] = []
    for view in data.experiments:
        exp = view.experiment
        entries.append(
            [
                "experiment",
                exp.name,
                f"{len(view.runs)} runs",
                experiment_path(view.slug),
                f"{exp.name} {view.slug} {' '.join(exp.tags.values())}".lower(),
            ]
        )
    for view in data.experiments:
        # One entry per metric key of an experiment: finds "rmse" without repeating the
        # name in 10,000 run entries; opens the runs table sorted best first.
        counts = Counter(k for r in view.runs for k in r.metrics)
        for key, n in sorted(counts.items()):
            order = "ASC" if guess_goal(key) == "minimize" else "DESC"
            ident = f"metrics.{key}" if _PLAIN_KEY.match(key) else f"metrics.`{key}`"
            entries.append(
                [
                    "metric",
                    key,
                    f"{view.experiment.name} · {n} run{'' if n == 1 else 's'}",
                    f"{experiment_path(view.slug)}#{urlencode({'sort': f'{ident} {order}'})}",
                    f"{key} {view.experiment.name} {view.slug}".lower(),
                ]
            )
    for model in data.models:
        entries.append(
            [
                "model",
                model.name,
                f"{len(model.versions)} versions",
                model_path(model.name),
                f"{model.name} {' '.join(model.tags.values())}".lower(),
            ]
        )
        for mv in model.versions:
            entries.append(
                [
                    "version",
                    f"{model.name} v{mv.version}",
                    mv.stage,
                    model_path(model.name),
                    " ".join(
                        # the source run's id only when that run is published
                        [model.name, f"v{mv.version}", mv.stage, *mv.aliases]
                        + ([mv.run_id] if mv.run_id in data.runs else [])
                    ).lower(),
                ]
            )
    for ds in data.datasets:
        anchor = dataset_anchor(ds.hash)
        title = ", ".join(ds.names) or ds.hash[7:19]
        entries.append(
            [
                "dataset",
                title,
                ds.hash[7:19],
                f"datasets.html#{anchor}",
                f"{' '.join(ds.names)} {' '.join(ds.paths)} {ds.hash}".lower(),
            ]
        )
    out: dict[str, Any] = {"kind": "search", "entries": entries + (runs or [])}
    if parts:
        out["parts"] = parts
    return out
