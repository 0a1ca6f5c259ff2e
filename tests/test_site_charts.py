"""site/charts.py: which chart a metric gets, and the specs it is drawn with."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pytest

from runsite.site import charts


def _table(series: dict[str, list[float]]) -> pa.Table:
    rows: dict[str, list[Any]] = {"key": [], "step": [], "timestamp": [], "value": []}
    for key, values in series.items():
        for i, v in enumerate(values):
            rows["key"].append(key)
            rows["step"].append(i)
            rows["timestamp"].append(1_700_000_000_000 + i)
            rows["value"].append(v)
    return pa.table(rows)


def _marks(spec: dict[str, Any]) -> list[str]:
    layers = spec.get("layer") or [spec]
    return [m["mark"] if isinstance(m["mark"], str) else m["mark"]["type"] for m in layers]


@pytest.mark.parametrize(
    ("keys", "groups"),
    [
        (["train_loss", "val_loss", "rmse"], [["train_loss", "val_loss"], ["rmse"]]),
        (["loss_train", "loss_val", "acc"], [["loss_train", "loss_val"], ["acc"]]),
        (
            ["train/acc", "validation/acc", "test/acc"],
            [["train/acc", "validation/acc", "test/acc"]],
        ),
        # a lone train_ key stays alone; unrelated stems do not merge
        (["train_loss", "val_rmse"], [["train_loss"], ["val_rmse"]]),
        (["r2", "rmse"], [["r2"], ["rmse"]]),
    ],
)
def test_related_series_share_a_chart(keys: list[str], groups: list[list[str]]) -> None:
    assert charts.related_groups(keys) == groups


def test_curve_chart_overlays_related_keys_with_a_legend() -> None:
    made = charts.metric_charts(_table({"train_loss": [3, 2, 1], "val_loss": [4, 3, 2.5]}))
    chart = charts.curve_chart(["train_loss", "val_loss"], made)
    cols = chart["data"]["series"]
    assert cols["series"] == ["train_loss"] * 3 + ["val_loss"] * 3
    assert cols["value"] == [3, 2, 1, 4, 3, 2.5]
    layers = chart["spec"]["layer"]
    assert layers[0]["encoding"]["color"]["field"] == "series"
    assert chart["spec"]["autosize"]["type"] == "fit"  # drawn inside its card
    assert chart["controls"] is False  # three points: nothing to smooth
    assert cols["dot"] == [1] * 6  # short: a dot per point


def test_a_long_curve_gets_smoothing_and_a_log_variant() -> None:
    long = [1.0 / (i + 1) for i in range(100)]
    made = charts.metric_charts(_table({"loss": long, "delta": [v - 0.5 for v in long]}))
    loss = charts.curve_chart(["loss"], made)
    assert loss["controls"] is True
    meta = loss["spec"]["usermeta"]["runsite"]
    assert meta["smooth"] is True
    assert meta["log"]["layer"][0]["encoding"]["y"]["scale"]["type"] == "log"
    assert "series" not in loss["data"]["series"]  # one key: no legend, no colour
    assert "color" not in loss["spec"]["layer"][0]["encoding"]
    delta = charts.curve_chart(["delta"], made)
    assert "log" not in delta["spec"]["usermeta"]["runsite"]  # values <= 0: no log scale


def _rows(
    n: int, spread_s: float, statuses: tuple[str, ...] = ("FINISHED",)
) -> list[dict[str, Any]]:
    t0 = int(datetime(2026, 3, 1, 14, 3, tzinfo=UTC).timestamp() * 1000)
    return [
        {
            "run": f"run-{i % 7}",
            "start": t0 + int(i * spread_s * 1000 / max(1, n - 1)),
            "value": float(i),
            "status": statuses[i % len(statuses)],
            "url": f"../runs/01run{i:020d}.html",
        }
        for i in range(n)
    ]


def test_few_runs_are_bars_with_unique_labels_and_no_status_legend() -> None:
    chart = charts.runs_chart("rmse", _rows(11, 4))
    assert _marks(chart["spec"]) == ["bar"]
    cols = chart["data"]["series"]
    assert len(set(cols["label"])) == 11  # two runs of one name are told apart
    assert "color" not in chart["spec"]["encoding"]  # every run FINISHED: nothing to tell
    mixed = charts.runs_chart("rmse", _rows(5, 4, ("FINISHED", "FAILED")))
    assert mixed["spec"]["encoding"]["color"]["field"] == "status"


@pytest.mark.parametrize(
    ("spread_s", "fmt", "first"),
    [
        (0.8, "%H:%M:%S.%L", "14:03:00.000"),
        (4, "%H:%M:%S", "14:03:00"),
        (50 * 60, "%H:%M", "14:10"),
        (30 * 3600, "%b %d %H:%M", "Mar 01 18:00"),
        (20 * 86400, "%b %d", "Mar 05"),  # weekly ticks
        (400 * 86400, "%b %Y", "Apr 2026"),
    ],
)
def test_many_runs_are_dots_on_a_time_axis_formatted_for_its_span(
    spread_s: float, fmt: str, first: str
) -> None:
    rows = _rows(charts.BAR_RUNS + 1, spread_s)
    chart = charts.runs_chart("rmse", rows)
    assert _marks(chart["spec"]) == ["circle"]
    axis = chart["spec"]["encoding"]["x"]["axis"]
    assert axis["format"] == fmt
    assert chart["spec"]["encoding"]["x"]["scale"]["type"] == "utc"
    values = [
        int(
            datetime(
                v["year"], v["month"], v["date"], v["hours"], v["minutes"], v["seconds"], tzinfo=UTC
            ).timestamp()
            * 1000
        )
        + v["milliseconds"]
        for v in axis["values"]
    ]
    assert 2 <= len(values) <= 6 or spread_s < 1  # a handful of ticks whatever the span
    assert values == sorted(values) and rows[0]["start"] <= values[0] <= rows[-1]["start"]

    def label(ms: int) -> str:  # d3's time format in Python: %L is milliseconds
        return datetime.fromtimestamp(ms / 1000, UTC).strftime(
            fmt.replace("%L", f"{ms % 1000:03d}")
        )

    assert label(values[0]) == first
    assert len({label(v) for v in values}) == len(values)  # no two ticks read the same


def test_compare_bars_spec_reads_the_compare_columns() -> None:
    bars = charts.compare_specs()["bars"]
    assert bars["encoding"]["x"]["field"] == "y" and bars["encoding"]["y"]["field"] == "run"
    assert bars["encoding"]["color"]["legend"] is None


def _row(value: float, version: str = "1") -> dict[str, Any]:
    return {
        "label": "2026-03-01",
        "data": "eval.csv",
        "time": 1_772_323_200_000,
        "version": version,
        "value": value,
        "drift": "stable",
        "drifted": "",
        "url": "#",
    }


def test_a_single_evaluation_gets_a_padded_axis_with_short_numbers() -> None:
    chart = charts.evaluation_chart("rmse", [_row(54.336)])
    for layer in chart["spec"]["layer"]:
        y = layer["encoding"]["y"]
        assert y["axis"]["format"] == charts.NUMBER_FORMAT == ".4~g"
        lo, hi = y["scale"]["domain"]
        assert lo < 54.336 < hi and hi - lo == pytest.approx(54.336 * 0.1)
    # the same value twice is one value too; zero gets ±1
    same = charts.evaluation_chart("rmse", [_row(0.0), _row(0.0, "2")], by_version=True)
    assert same["spec"]["layer"][0]["encoding"]["y"]["scale"]["domain"] == [-1.0, 1.0]


def test_evaluations_that_differ_scale_themselves() -> None:
    chart = charts.evaluation_chart("rmse", [_row(54.3), _row(51.0), _row(float("nan"))])
    for layer in chart["spec"]["layer"]:
        assert "domain" not in layer["encoding"]["y"]["scale"]
    assert charts.padded_domain([]) is None
    assert charts.padded_domain([float("nan"), 3.0]) == pytest.approx([2.85, 3.15])


def test_compare_scatter_axes_use_short_numbers() -> None:
    enc = charts.compare_specs()["scatter"]["encoding"]
    assert enc["x"]["axis"]["format"] == enc["y"]["axis"]["format"] == charts.NUMBER_FORMAT
    assert enc["x"]["axis"]["tickCount"] == 8  # not a label every 40 px of a wide card


def test_parallel_coordinates_draw_a_run_with_one_axis_as_a_dot() -> None:
    """A run with a value on one axis only (a sweep's parent, a run of another
    experiment) would be a line through one point: it is a dot instead."""
    layers = charts.compare_specs()["parallel"]["layer"]
    marks = _marks(charts.compare_specs()["parallel"])
    assert marks == ["line", "point", "text"]
    filters = [[t.get("filter") for t in layer.get("transform", [])] for layer in layers[:2]]
    assert "datum.n > 1" in filters[0] and "datum.n === 1" in filters[1]
