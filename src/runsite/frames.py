"""``search_runs(output_format="pandas")``: runs as a DataFrame with MLflow's columns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from runsite import attributes
from runsite.errors import RunsiteError

if TYPE_CHECKING:
    from runsite.store import RunRecord


# MLflow's columns of search_runs' DataFrame, in its order, before metrics/params/tags.
_MLFLOW_COLUMNS = ("run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time")


def have_pandas() -> bool:
    """Whether pandas can be imported (the MLflow façade falls back to a list without it)."""
    import importlib.util

    return importlib.util.find_spec("pandas") is not None


def runs_frame(runs: Sequence[RunRecord]) -> Any:
    try:
        import pandas as pd
    except ImportError:
        raise RunsiteError(
            "output_format='pandas' needs pandas: pip install 'runsite[pandas]'"
        ) from None

    def cell(name: str, value: Any) -> Any:
        # the attribute's type (runsite.attributes) gives the dtype: times are MLflow's
        # timezone-aware timestamps
        if value is not None and attributes.BY_NAME[name].type == attributes.TIME:
            return pd.to_datetime(value, unit="ms", utc=True)
        return value

    rows = []
    for r in runs:
        attrs = attributes.values(r)
        own = {"experiment_id": r.experiment_id, "artifact_uri": r.info.artifact_uri}
        row: dict[str, Any] = {
            c: cell(c, attrs[c]) if c in attrs else own[c] for c in _MLFLOW_COLUMNS
        }
        row["tags.mlflow.runName"] = attrs["run_name"]
        row.update({f"metrics.{k}": v["last"] for k, v in r.metrics.items()})
        row.update({f"params.{k}": str(v) for k, v in r.params.items()})
        row.update({f"tags.{k}": v for k, v in r.all_tags.items()})
        rows.append(row)
    return pd.DataFrame(rows)


def tables_frame(parts: Sequence[tuple[dict[str, list[Any]], dict[str, Any]]]) -> Any:
    """``load_table``: each run's table (its columns) with that run's ``extra`` columns
    added to every row (a name the table has gets a ``_`` appended, as MLflow does),
    the runs' rows one after another."""
    try:
        import pandas as pd
    except ImportError:
        raise RunsiteError("load_table needs pandas: pip install 'runsite[pandas]'") from None
    frames = []
    for columns, extra in parts:
        frame = pd.DataFrame(columns)
        for name, value in extra.items():
            frame[f"{name}_" if name in frame else name] = value
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
