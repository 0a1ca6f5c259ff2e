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
    from runsite.arrowio import Table

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


# Axis labels: at most four significant digits, no trailing zeros (54.3, 0.0012, 1.2e+6).
NUMBER_FORMAT = ".4~g"


def padded_domain(values: list[Any]) -> list[float] | None:
    """A y domain around the one value ``values`` hold (a single evaluation, or every
    evaluation scoring the same): ±5 % of it (±1 around 0), so the axis has ticks that
    mean something instead of one tick on a zero-width scale. ``None`` when the values
    differ (or there are none): the chart scales itself."""
    finite = {v for v in values if isinstance(v, int | float) and math.isfinite(v)}
    if len(finite) != 1:
        return None
    (v,) = finite
    pad = abs(v) * 0.05 or 1.0
    return [v - pad, v + pad]


FIT = {"type": "fit", "contains": "padding", "resize": True}  # drawn inside its card
DOTS_UP_TO = 60  # a curve this short gets a dot per point
SMOOTH_FROM = 20  # a curve this long gets smoothing and log-scale controls
BAR_RUNS = 30  # an experiment chart with up to this many runs is bars, one per run
RELATED = ("train", "training", "val", "valid", "validation", "test", "eval")


def _fit(spec: dict[str, Any]) -> dict[str, Any]:
    spec["autosize"] = dict(FIT)
    return spec


@cache
def _base_spec(kind: str) -> str:
    import altair as alt

    data = alt.NamedData(name="series")
    if kind.startswith("curve"):
        # A run's metric curve(s). ``smooth`` is filled by charts.js (an exponential moving
        # average, TensorBoard-style, null while smoothing is off); ``alpha`` dims the raw
        # line while a smoothed one is drawn over it.
        log = kind.endswith("_log")
        multi = "_multi" in kind
        y_scale = alt.Scale(type="log") if log else alt.Scale(zero=False)
        color: dict[str, Any] = (
            {
                "color": alt.Color(
                    "series:N", title=None, sort=None, legend=alt.Legend(orient="bottom")
                )
            }
            if multi
            else {}
        )
        x = alt.X("step:Q", title="step", axis=alt.Axis(tickMinStep=1, format="~s"))
        tooltip = [alt.Tooltip("step:Q"), alt.Tooltip("value:Q", format=".6g")]
        if multi:
            tooltip.insert(0, alt.Tooltip("series:N", title="metric"))
        raw = (
            alt.Chart(data)
            .mark_line(interpolate="linear", strokeWidth=1.6)
            .encode(
                x=x,
                y=alt.Y("value:Q", title=None, scale=y_scale),
                opacity=alt.Opacity("alpha:Q", scale=None, legend=None),
                detail="series:N",
                **color,
            )
        )
        smooth = (
            alt.Chart(data)
            .mark_line(interpolate="linear", strokeWidth=2)
            .encode(x=x, y=alt.Y("smooth:Q", scale=y_scale), detail="series:N", **color)
            .transform_filter("isValid(datum.smooth)")
        )
        points = (
            alt.Chart(data)
            .mark_circle(size=36)
            .encode(
                x=x,
                y=alt.Y("value:Q", scale=y_scale),
                opacity=alt.Opacity("dot:Q", scale=None, legend=None),
                tooltip=tooltip,
                **color,
            )
        )
        chart: Any = alt.layer(raw, smooth, points)
    elif kind in ("runs", "runs_status"):
        # A metric's last value per run against the run's start (many runs).
        chart = (
            alt.Chart(data)
            .mark_circle(size=60, opacity=0.8)
            .encode(
                x=alt.X(
                    "start:T", title="run start (UTC)", scale=alt.Scale(type="utc", nice=False)
                ),
                y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)),
                tooltip=[
                    alt.Tooltip("run:N", title="run"),
                    alt.Tooltip("value:Q", format=".6g"),
                    alt.Tooltip(
                        "start:T",
                        title="started (UTC)",
                        format="%Y-%m-%d %H:%M:%S",
                        formatType="utc",
                    ),
                    alt.Tooltip("status:N"),
                ],
                href=alt.Href("url:N"),
            )
        )
        if kind == "runs_status":
            chart = chart.encode(
                color=alt.Color("status:N", title=None, legend=alt.Legend(orient="bottom"))
            )
    elif kind in ("bars", "bars_status"):
        # A metric's last value, one bar per run (few runs), newest first as in the table.
        chart = (
            alt.Chart(data)
            .mark_bar(height={"band": 0.8})
            .encode(
                y=alt.Y(
                    "label:N", title=None, sort=None, axis=alt.Axis(labelLimit=130, ticks=False)
                ),
                x=alt.X("value:Q", title=None, axis=alt.Axis(tickCount=4)),
                tooltip=[
                    alt.Tooltip("run:N", title="run"),
                    alt.Tooltip("value:Q", format=".6g"),
                    alt.Tooltip("status:N"),
                ],
                href=alt.Href("url:N"),
            )
        )
        if kind == "bars_status":
            chart = chart.encode(
                color=alt.Color("status:N", title=None, legend=alt.Legend(orient="bottom"))
            )
    else:  # pragma: no cover - programming error
        raise ValueError(kind)
    height = {"step": 18} if kind.startswith("bars") else 220
    spec = _fit(chart.properties(width="container", height=height).to_dict())
    return json.dumps(spec)


def _spec(kind: str, title: str) -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(_base_spec(kind))
    spec["title"] = {"text": title, "anchor": "start", "fontSize": 13}
    return spec


def metric_charts(table: Table) -> dict[str, dict[str, Any]]:
    """Per metric key of a run's metric table (key, step, timestamp, value): its series,
    downsampled (``data``), point counts and a line chart (``spec``); a key logged once has
    no chart to draw (``spec`` None): its number is in the metrics table."""
    from runsite import arrowio

    out: dict[str, dict[str, Any]] = {}
    for key, part in arrowio.metrics_by_key(table):
        steps = part["step"].to_pylist()
        values = part["value"].to_pylist()
        stamps = part["timestamp"].to_pylist()
        keep = downsample(steps, values)
        out[key] = {
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


def related_groups(keys: list[str]) -> list[list[str]]:
    """Keys drawn together: ``train_loss`` / ``val_loss`` (also ``loss_train``,
    ``train/loss``, ``validation_loss``…) share a chart; every other key has its own.
    Order follows ``keys``."""
    import re

    prefix = re.compile(rf"^({'|'.join(RELATED)})[_/.-](.+)$", re.IGNORECASE)
    suffix = re.compile(rf"^(.+)[_/.-]({'|'.join(RELATED)})$", re.IGNORECASE)
    stem: dict[str, str] = {}
    for key in keys:
        m = prefix.match(key)
        if m:
            stem[key] = m.group(2).lower()
            continue
        m = suffix.match(key)
        if m:
            stem[key] = m.group(1).lower()
    groups: dict[str, list[str]] = {}
    order: list[str] = []
    for key in keys:
        g = stem.get(key)
        members = [k for k in keys if stem.get(k) == g] if g is not None else []
        name = f"~{g}" if len(members) > 1 else key
        if name not in groups:
            groups[name] = []
            order.append(name)
        groups[name].append(key)
    return [groups[n] for n in order]


def curve_chart(keys: list[str], made: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One chart of the curves of ``keys`` (a related group, coloured by key, or a single
    key). Long curves carry their log-scale variant (``usermeta.runsite``) and
    smoothing, which charts.js applies; its figure gets the controls."""
    multi = len(keys) > 1
    cols: dict[str, list[Any]] = {"step": [], "value": [], "series": [], "alpha": [], "dot": []}
    longest = max(made[k]["shown"] for k in keys)
    positive = True
    for key in keys:
        series = made[key]["data"]["series"]
        n = len(series["step"])
        cols["step"] += series["step"]
        cols["value"] += series["value"]
        cols["series"] += [key] * n
        positive = positive and all(v is None or v > 0 for v in series["value"])
    n = len(cols["step"])
    cols["alpha"] = [1] * n
    cols["dot"] = [1 if longest <= DOTS_UP_TO else 0] * n
    title = keys[0] if not multi else " · ".join(keys)
    kind = "curve_multi" if multi else "curve"
    spec = _spec(kind, title)
    controls = longest >= SMOOTH_FROM
    meta: dict[str, Any] = {"smooth": controls}
    if controls and positive:
        meta["log"] = _spec(kind + "_log", title)
    if controls:
        spec["usermeta"] = {"runsite": meta}
    if not multi:
        del cols["series"]
    return {"spec": spec, "data": {"series": cols}, "controls": controls}


_TIME_STEPS = [  # (tick step in ms, label format), finest first
    (100, "%H:%M:%S.%L"),
    (200, "%H:%M:%S.%L"),
    (500, "%H:%M:%S.%L"),
    *((s * 1000, "%H:%M:%S") for s in (1, 2, 5, 10, 15, 30)),
    *((m * 60_000, "%H:%M") for m in (1, 2, 5, 10, 15, 30)),
    *((h * 3_600_000, "%b %d %H:%M") for h in (1, 2, 3, 6, 12)),
    *((d * 86_400_000, "%b %d") for d in (1, 2, 7, 14)),
]
_MONTH_STEPS = (1, 2, 3, 6, 12)


def _time_axis(starts: list[int], ticks: int = 5) -> dict[str, Any]:
    """Axis settings for run start times (ms, shown in UTC like the rest of the site):
    tick values and label format chosen from the span, so runs started seconds apart
    read 14:03:05, 14:03:10 (not .800 .400) and runs months apart Mar 2026."""
    from datetime import UTC, datetime

    lo, hi = (min(starts), max(starts)) if starts else (0, 0)
    span = hi - lo
    axis: dict[str, Any] = {"labelFlush": True, "labelOverlap": True}
    for step, fmt in _TIME_STEPS:
        if span / step <= ticks:
            first = -(-lo // step) * step
            values = list(range(first, hi + 1, step)) or [lo]
            return {**axis, "format": fmt, "values": [_datetime(v) for v in values]}
    start = datetime.fromtimestamp(lo / 1000, UTC)
    months = (hi - lo) / (30.4 * 86_400_000)
    every = next((m for m in _MONTH_STEPS if months / m <= ticks), 12 * max(1, round(months / 60)))
    values = []
    y, m = start.year, start.month + 1  # the first month start after lo
    while True:
        if m > 12:
            y, m = y + (m - 1) // 12, (m - 1) % 12 + 1
        t = int(datetime(y, m, 1, tzinfo=UTC).timestamp() * 1000)
        if t > hi:
            break
        if (y * 12 + m - 1) % every == 0:
            values.append(t)
        m += 1
    return {**axis, "format": "%b %Y", "values": [_datetime(v) for v in values or [lo]]}


def _datetime(ms: int) -> dict[str, Any]:
    """A Vega-Lite DateTime in UTC (a temporal axis ignores plain numbers as tick values)."""
    from datetime import UTC, datetime

    t = datetime.fromtimestamp(ms / 1000, UTC)
    return {
        "utc": True,
        "year": t.year,
        "month": t.month,
        "date": t.day,
        "hours": t.hour,
        "minutes": t.minute,
        "seconds": t.second,
        "milliseconds": ms % 1000,
    }


def runs_chart(metric: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """A metric's last value per run in an experiment's overview: a bar per run for up
    to ``BAR_RUNS`` runs (in the order given), else a dot per run against its start time.
    Coloured by status only when the runs differ in status.
    ``rows``: dicts with run, start (ms), value, status, url."""
    mixed = len({row["status"] for row in rows}) > 1
    bars = len(rows) <= BAR_RUNS
    cols: dict[str, list[Any]] = {"run": [], "start": [], "value": [], "status": [], "url": []}
    for row in rows:
        for k in cols:
            cols[k].append(_num(row[k]) if k == "value" else row[k])
    if bars:
        seen: dict[str, int] = {}
        for name in cols["run"]:
            seen[name] = seen.get(name, 0) + 1
        cols["label"] = [
            f"{name} ({url.rsplit('/', 1)[-1][-11:-5]})" if seen[name] > 1 else name
            for name, url in zip(cols["run"], cols["url"], strict=True)
        ]
        spec = _spec("bars_status" if mixed else "bars", metric)
    else:
        spec = _spec("runs_status" if mixed else "runs", metric)
        spec["encoding"]["x"]["axis"] = _time_axis([s for s in cols["start"] if s is not None])
    return {"spec": copy.deepcopy(spec), "data": {"series": cols}}


DRIFT_STATES = ("stable", "drift", "unknown")
DRIFT_COLORS = ("#2f7d4f", "#c0392b", "#8a8f98")


@cache
def _evaluation_spec(by_version: bool) -> str:
    import altair as alt

    data = alt.NamedData(name="series")
    x = alt.X(
        "label:N",
        title=None,
        sort=None,  # oldest evaluation first, as given
        axis=alt.Axis(labelAngle=-30, labelLimit=110, labelOverlap=True),
    )
    y = alt.Y(
        "value:Q", title=None, scale=alt.Scale(zero=False), axis=alt.Axis(format=NUMBER_FORMAT)
    )
    tooltip = [
        alt.Tooltip("version:N"),
        alt.Tooltip("data:N", title="data"),
        alt.Tooltip("time:T", title="evaluated (UTC)", format="%Y-%m-%d %H:%M", formatType="utc"),
        alt.Tooltip("value:Q", format=".6g"),
        alt.Tooltip("drift:N"),
        alt.Tooltip("drifted:N", title="drifted features"),
    ]
    detail: dict[str, Any] = (
        {"color": alt.Color("version:N", title=None, legend=alt.Legend(orient="bottom"))}
        if by_version
        else {}
    )
    # a version evaluated once is a point, not a line through one point
    line = (
        alt.Chart(data)
        .mark_line(strokeWidth=1.6)
        .encode(x=x, y=y, detail="version:N", **detail)
        .transform_filter("datum.n > 1")
    )
    points = (
        alt.Chart(data)
        .mark_point(size=90, filled=True, opacity=1)
        .encode(
            x=x,
            y=y,
            shape=alt.Shape(
                "drift:N",
                title="drift",
                scale=alt.Scale(
                    domain=list(DRIFT_STATES), range=["circle", "triangle-up", "square"]
                ),
                legend=alt.Legend(orient="bottom"),
            ),
            color=(
                alt.Color("version:N", title=None, legend=None)
                if by_version
                else alt.Color(
                    "drift:N",
                    title="drift",
                    scale=alt.Scale(domain=list(DRIFT_STATES), range=list(DRIFT_COLORS)),
                    legend=None,
                )
            ),
            tooltip=tooltip,
            href=alt.Href("url:N"),
        )
    )
    chart = alt.layer(line, points).properties(width="container", height=220)
    return json.dumps(_fit(chart.to_dict()))


def evaluation_chart(
    metric: str, rows: list[dict[str, Any]], by_version: bool = False
) -> dict[str, Any]:
    """A key metric per evaluation (monitoring: one point per batch of data scored),
    oldest first; the point's shape and colour say whether that data drifted from the
    training data. With ``by_version``, one line per version. ``rows``: dicts with
    label, data, time (ms), version, value, drift (stable/drift/unknown), drifted, url."""
    cols: dict[str, list[Any]] = {
        k: [] for k in ("label", "data", "time", "version", "value", "drift", "drifted", "url")
    }
    for row in rows:
        for k in cols:
            cols[k].append(_num(row[k]) if k == "value" else row[k])
    per_version = {v: cols["version"].count(v) for v in cols["version"]}
    cols["n"] = [per_version[v] for v in cols["version"]]
    spec: dict[str, Any] = json.loads(_evaluation_spec(by_version))
    domain = padded_domain(cols["value"])
    if domain is not None:
        for layer in spec["layer"]:
            layer["encoding"]["y"]["scale"]["domain"] = domain
    spec["title"] = {"text": f"{metric} per evaluation", "anchor": "start", "fontSize": 13}
    return {"spec": spec, "data": {"series": cols}}


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
            specs[name] = _fit(chart.to_dict())

    # A metric every run logged once: a bar per run.
    specs["bars"] = _fit(
        alt.Chart(data)
        .mark_bar(height={"band": 0.8})
        .encode(
            y=alt.Y("run:N", title=None, sort=None, axis=alt.Axis(labelLimit=130, ticks=False)),
            x=alt.X("y:Q", title=None, axis=alt.Axis(tickCount=4)),
            color=alt.Color("run:N", sort=None, legend=None),
            tooltip=[
                alt.Tooltip("run:N", title="run"),
                alt.Tooltip("y:Q", title="value", format=".6g"),
            ],
        )
        .properties(width="container", height={"step": 18})
        .to_dict()
    )

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
    # a run with a value on one axis only is a dot: a line through one point says nothing
    counted = base.transform_joinaggregate(n="count()", groupby=["run"])
    run_encoding: dict[str, Any] = {
        "x": x_axis,
        "y": alt.Y("norm:Q", title=None, axis=None, scale=alt.Scale(domain=[0, 1])),
        "color": run_color,
        "tooltip": [
            alt.Tooltip("run:N", title="run"),
            alt.Tooltip("key:N", title="axis"),
            alt.Tooltip("value:Q", format=".6g"),
        ],
    }
    lines = (
        counted.transform_filter("datum.n > 1")
        .mark_line(strokeWidth=2, opacity=0.85, point=True)
        .encode(detail="run:N", **run_encoding)
    )
    dots = (
        counted.transform_filter("datum.n === 1")
        .mark_point(filled=True, size=50, opacity=0.85)
        .encode(**run_encoding)
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
    specs["parallel"] = _fit(
        alt.layer(lines, dots, labels).properties(width="container", height=300).to_dict()
    )

    specs["scatter"] = _fit(
        alt.Chart(data)
        .mark_circle(size=110, opacity=0.9)
        .encode(
            # compare.js pads a domain that holds one value (one run, or a param all
            # runs share), as padded_domain does for the evaluation chart
            x=alt.X(
                "x:Q",
                title="param",
                scale=alt.Scale(zero=False),
                # a wide card would get a tick every ~40 px: 30 labels across 0.1 … 1
                axis=alt.Axis(format=NUMBER_FORMAT, tickCount=8),
            ),
            y=alt.Y(
                "y:Q",
                title="metric",
                scale=alt.Scale(zero=False),
                axis=alt.Axis(format=NUMBER_FORMAT),
            ),
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
    ``curves_time_log`` (fields ``x``, ``y``, ``run``), ``bars`` (``y``, ``run``: a metric
    each run logged once), ``parallel`` (long rows ``run``,
    ``key``, ``value``; every axis normalised to [0, 1]) and ``scatter`` (``x``, ``y``,
    ``run``)."""
    specs: dict[str, dict[str, Any]] = json.loads(_compare_specs_json())
    return specs


def compare_specs_json() -> str:
    """:func:`compare_specs` as JSON safe inside ``<script type="application/json">``."""
    text = _compare_specs_json()
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
