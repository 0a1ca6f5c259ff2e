"""Charts: Vega-Lite specs made with Altair, data shipped as compact columns.

The only module that imports Altair. A spec is built once per chart kind and reused
(Altair's validation costs milliseconds per chart, thousands of charts per site); the
data travels beside it as named columnar datasets that the theme's charts.js expands.
Long series are downsampled so a page stays small while minima and maxima stay visible.
"""

from __future__ import annotations

import copy
import json
import math
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

MAX_POINTS = 800  # per series on a page: 400 buckets, each keeping its min and max


def downsample(steps: list[int], values: list[float], max_points: int = MAX_POINTS) -> list[int]:
    """Indices to keep: all of them for a short series; else, per bucket of neighbouring
    points, the lowest and the highest value (NaN skipped), plus the first and last."""
    n = len(steps)
    if n <= max_points:
        return list(range(n))
    buckets = max(1, max_points // 2)
    keep = {0, n - 1}
    for b in range(buckets):
        lo, hi = n * b // buckets, n * (b + 1) // buckets
        best_lo = best_hi = None
        for i in range(lo, hi):
            v = values[i]
            if v != v:
                continue
            if best_lo is None or v < values[best_lo]:
                best_lo = i
            if best_hi is None or v > values[best_hi]:
                best_hi = i
        if best_lo is not None and best_hi is not None:
            keep.update((best_lo, best_hi))
    return sorted(keep)


def _num(v: float | None) -> float | None:
    """JSON-safe: None for NaN and ±inf."""
    return v if v is not None and math.isfinite(v) else None


def _json_numbers(values: list[Any]) -> str:
    """A JSON array of numbers, short: 7 significant digits, null for NaN/±inf/None."""
    return (
        "["
        + ",".join(
            "null"
            if v is None or not math.isfinite(v)
            else (str(v) if isinstance(v, int) else f"{v:.7g}")
            for v in values
        )
        + "]"
    )


def to_json(chart: dict[str, Any]) -> str:
    """The ``{"spec": …, "data": …}`` payload for charts.js, safe inside a
    ``<script type="application/json">`` element (``<``, ``>``, ``&`` escaped)."""
    columns = []
    for name, cols in chart["data"].items():
        fields = ",".join(
            f"{json.dumps(field)}:"
            + (
                _json_numbers(vals)
                if all(v is None or isinstance(v, int | float) for v in vals)
                else json.dumps(vals)
            )
            for field, vals in cols.items()
        )
        columns.append(f"{json.dumps(name)}:{{{fields}}}")
    spec = json.dumps(chart["spec"], separators=(",", ":"))
    text = f'{{"spec":{spec},"data":{{{",".join(columns)}}}}}'
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@cache
def _base_spec(kind: str) -> str:
    import altair as alt

    data = alt.NamedData(name="series")
    if kind in ("line", "line_points"):
        chart = (
            alt.Chart(data)
            .mark_line(point=kind == "line_points", interpolate="linear")
            .encode(
                x=alt.X("step:Q", title="step"),
                y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)),
                tooltip=[alt.Tooltip("step:Q"), alt.Tooltip("value:Q", format=".6g")],
            )
        )
    elif kind == "runs":
        chart = (
            alt.Chart(data)
            .mark_circle(size=60, opacity=0.8)
            .encode(
                x=alt.X("start:T", title="run start"),
                y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)),
                color=alt.Color("status:N", title="status"),
                tooltip=[
                    alt.Tooltip("run:N", title="run"),
                    alt.Tooltip("value:Q", format=".6g"),
                    alt.Tooltip("status:N"),
                ],
                href=alt.Href("url:N"),
            )
        )
    else:  # pragma: no cover - programming error
        raise ValueError(kind)
    spec = chart.properties(width="container", height=220).to_dict()
    return json.dumps(spec)


def _spec(kind: str, title: str) -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(_base_spec(kind))
    spec["title"] = {"text": title, "anchor": "start", "fontSize": 13}
    return spec


def metric_charts(table: pa.Table) -> dict[str, dict[str, Any]]:
    """One line chart per metric key of a run's metric table (key, step, timestamp, value)."""
    import pyarrow.compute as pc

    out: dict[str, dict[str, Any]] = {}
    if table.num_rows == 0:
        return out
    for key in sorted(pc.unique(table["key"]).to_pylist()):
        part = table.filter(pc.equal(table["key"], key))
        steps = part["step"].to_pylist()
        values = part["value"].to_pylist()
        stamps = part["timestamp"].to_pylist()
        keep = downsample(steps, values)
        out[key] = {
            # short series get a dot per point: one point alone draws no line
            "spec": _spec("line_points" if len(keep) <= 60 else "line", key),
            "data": {
                "series": {
                    "step": [steps[i] for i in keep],
                    "value": [values[i] for i in keep],
                }
            },
            "points": len(steps),
            "shown": len(keep),
            "time": [stamps[i] for i in keep],  # for the compare page's wall-time axis
        }
    return out


def runs_chart(metric: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """A metric's last value per run against the run's start (an experiment's overview).
    ``rows``: dicts with run, start (ms), value, status, url."""
    cols: dict[str, list[Any]] = {"run": [], "start": [], "value": [], "status": [], "url": []}
    for row in rows:
        for k in cols:
            cols[k].append(_num(row[k]) if k == "value" else row[k])
    spec = _spec("runs", metric)
    return {"spec": copy.deepcopy(spec), "data": {"series": cols}}


@cache
def _compare_specs_json() -> str:
    import altair as alt

    data = alt.NamedData(name="series")
    run_color = alt.Color("run:N", title="run", sort=None, legend=alt.Legend(orient="bottom"))
    specs: dict[str, Any] = {}
    for axis in ("step", "time"):
        for log in (False, True):
            x_title = "step" if axis == "step" else "seconds since the run started"
            y_scale = alt.Scale(type="log") if log else alt.Scale(zero=False)
            chart = (
                alt.Chart(data)
                .mark_line(point=False, interpolate="linear", strokeWidth=1.8)
                .encode(
                    x=alt.X("x:Q", title=x_title),
                    y=alt.Y("y:Q", title=None, scale=y_scale),
                    color=run_color,
                    tooltip=[
                        alt.Tooltip("run:N", title="run"),
                        alt.Tooltip("x:Q", title=x_title, format=".6g"),
                        alt.Tooltip("y:Q", title="value", format=".6g"),
                    ],
                )
                .properties(width="container", height=230)
            )
            name = "curves" + ("_time" if axis == "time" else "") + ("_log" if log else "")
            specs[name] = chart.to_dict()

    # Parallel coordinates: long rows (run, key, value); each axis scaled to [0, 1].
    base = (
        alt.Chart(data)
        .transform_filter("isValid(datum.value) && isFinite(datum.value)")
        .transform_joinaggregate(lo="min(value)", hi="max(value)", groupby=["key"])
        .transform_calculate(
            norm="datum.hi === datum.lo ? 0.5 : (datum.value - datum.lo) / (datum.hi - datum.lo)"
        )
    )
    x_axis = alt.X(
        "key:N", sort=None, title=None, axis=alt.Axis(labelAngle=0, labelLimit=140, grid=True)
    )
    lines = base.mark_line(strokeWidth=2, opacity=0.85, point=True).encode(
        x=x_axis,
        y=alt.Y("norm:Q", title=None, axis=None, scale=alt.Scale(domain=[0, 1])),
        color=run_color,
        detail="run:N",
        tooltip=[
            alt.Tooltip("run:N", title="run"),
            alt.Tooltip("key:N", title="axis"),
            alt.Tooltip("value:Q", format=".6g"),
        ],
    )
    ends = (
        base.transform_aggregate(lo="min(lo)", hi="max(hi)", groupby=["key"])
        .transform_fold(["lo", "hi"], as_=["end", "bound"])
        .transform_calculate(pos="datum.end === 'hi' ? 1 : 0")
    )
    labels = ends.mark_text(
        fontSize=10, baseline="middle", dx=4, align="left", color="currentColor", opacity=0.75
    ).encode(
        x=x_axis,
        y=alt.Y("pos:Q", axis=None, scale=alt.Scale(domain=[0, 1])),
        text=alt.Text("bound:Q", format=".4~g"),
    )
    specs["parallel"] = alt.layer(lines, labels).properties(width="container", height=300).to_dict()

    specs["scatter"] = (
        alt.Chart(data)
        .mark_circle(size=110, opacity=0.9)
        .encode(
            x=alt.X("x:Q", title="param", scale=alt.Scale(zero=False)),
            y=alt.Y("y:Q", title="metric", scale=alt.Scale(zero=False)),
            color=run_color,
            tooltip=[
                alt.Tooltip("run:N", title="run"),
                alt.Tooltip("x:Q", title="param"),
                alt.Tooltip("y:Q", title="metric", format=".6g"),
            ],
        )
        .properties(width="container", height=300)
        .to_dict()
    )
    return json.dumps(specs, separators=(",", ":"))


def compare_specs() -> dict[str, dict[str, Any]]:
    """The compare page's Vega-Lite specs, each reading the named dataset ``series`` that
    compare.js fills in the browser: ``curves`` / ``curves_log`` / ``curves_time`` /
    ``curves_time_log`` (fields ``x``, ``y``, ``run``), ``parallel`` (long rows ``run``,
    ``key``, ``value``; every axis normalised to [0, 1]) and ``scatter`` (``x``, ``y``,
    ``run``)."""
    specs: dict[str, dict[str, Any]] = json.loads(_compare_specs_json())
    return specs


def compare_specs_json() -> str:
    """:func:`compare_specs` as JSON safe inside ``<script type="application/json">``."""
    text = _compare_specs_json()
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
