"""``search_runs(output_format="pandas")``: runs as a DataFrame with MLflow's columns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from runsite.errors import RunsiteError

if TYPE_CHECKING:
    from runsite.store import RunRecord


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
    rows = []
    for r in runs:
        row: dict[str, Any] = {
            "run_id": r.run_id,
            "experiment_id": r.experiment_id,
            "status": r.status,
            "artifact_uri": r.info.artifact_uri,
            "start_time": pd.to_datetime(r.start_time, unit="ms", utc=True),
            "end_time": pd.to_datetime(r.end_time, unit="ms", utc=True) if r.end_time else None,
            "tags.mlflow.runName": r.run_name,
        }
        row.update({f"metrics.{k}": v["last"] for k, v in r.metrics.items()})
        row.update({f"params.{k}": str(v) for k, v in r.params.items()})
        row.update({f"tags.{k}": v for k, v in r.all_tags.items()})
        rows.append(row)
    return pd.DataFrame(rows)
