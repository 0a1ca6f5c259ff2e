"""Helpers shared by the tests/test_site_*.py files: small stores logged through the
public API, runs written by hand, the CLI, text of a built site."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

import runsite
from runsite.cli import main
from site_helpers import (
    files,
)

pd = pytest.importorskip("pandas")
Ridge = pytest.importorskip("sklearn.linear_model").Ridge
StandardScaler = pytest.importorskip("sklearn.preprocessing").StandardScaler

FEATURES = ["distance", "duration"]
RMSE = [6.0, 5.5, 5.0, 4.75, 4.5]
R2 = [0.5, 0.6, 0.7]
T0 = 1_700_000_000_000


def log_small_model(alpha: float, *, preprocessor: bool = True, example: bool = True) -> None:
    """A Ridge on 10 rows. The default (a preprocessor and an input example, so a
    signature) gives the richest model card; the plain cases have tests of their own."""
    frame = pd.DataFrame(np.arange(20.0).reshape(10, 2), columns=FEATURES)
    target = frame.sum(axis=1)
    scaler = StandardScaler().fit(frame.to_numpy())
    X = scaler.transform(frame.to_numpy()) if preprocessor else frame.to_numpy()
    model = Ridge(alpha=alpha).fit(X, target)
    kwargs: dict[str, Any] = {}
    if preprocessor:
        kwargs["preprocessor"] = scaler
    if example:
        kwargs["input_example"] = frame.head(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # sklearn's feature-name notices
        runsite.log_model(model, "model", **kwargs)


def small_store(n: int = 2, experiment: str = "exp") -> list[str]:
    """``n`` quick runs (params, two metric steps, a text artifact) in the current store."""
    runsite.set_experiment(experiment)
    ids = []
    for i in range(n):
        with runsite.start_run(run_name=f"run-{i}") as r:
            runsite.log_param("i", i)
            runsite.log_metric("loss", 1.0 / (i + 1), step=0)
            runsite.log_metric("loss", 0.5 / (i + 1), step=1)
            runsite.log_text(f"output of run {i}\n", "out.txt")
        ids.append(r.run_id)
    return ids


def write_run_by_hand(
    exp_dir: Path,
    run_id: str,
    name: str,
    *,
    params: dict[str, Any] | None = None,
    metrics: dict[str, list[float]] | None = None,
    torn: bool = True,
    ended: bool = False,
    fmt: int = 1,
) -> Path:
    """A run folder written without runsite: run.json, events.jsonl and metrics.jsonl.
    ``torn``: both JSONL files end in half a line, as when a process is SIGKILLed while
    writing; without ``ended`` there is no status event (the run never ended)."""
    run_dir = exp_dir / run_id
    run_dir.mkdir(parents=True)
    header = {
        "format": fmt,
        "run_id": run_id,
        "run_name": name,
        "experiment": exp_dir.name,
        "experiment_id": exp_dir.name,
        "start_time": T0,
        "parent_run_id": None,
        "user": "someone",
        "host": "a-host-that-is-not-this-one",
        "pid": 4_000_000,
        "command": ["train.py"],
        "entry_point": "train.py",
        "python": {"version": "3.11.0"},
        "git": None,
        "runsite_version": "0.1.0",
        "packages": {},
    }
    (run_dir / "run.json").write_text(json.dumps(header), "utf-8")
    events = [
        {"type": "param", "t": T0 + 1, "key": k, "value": v} for k, v in (params or {}).items()
    ]
    if ended:
        events.append({"type": "status", "t": T0 + 99, "status": "FINISHED", "end_time": T0 + 99})
    text = "".join(json.dumps(e) + "\n" for e in events)
    (run_dir / "events.jsonl").write_text(
        text + ('{"type": "param", "t": 1, "key": "half' if torn else ""), "utf-8"
    )
    points = [
        {"k": k, "v": v, "s": s, "t": T0 + s}
        for k, values in (metrics or {}).items()
        for s, v in enumerate(values)
    ]
    (run_dir / "metrics.jsonl").write_text(
        "".join(json.dumps(p) + "\n" for p in points) + ('{"k": "loss", "v": 0.' if torn else ""),
        "utf-8",
    )
    return run_dir


def runs_by_name(store: Path) -> dict[str, runsite.RunRecord]:
    return {r.run_name: r for r in runsite.Store(store).runs()}


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def all_text(site: Path) -> str:
    return "\n".join(data.decode("utf-8", "replace") for data in files(site).values())


def row_links(table: Any, prefix: str = "") -> list[str]:
    """The site links of a table's rows (not the GitHub commit links), under ``prefix``."""
    return [
        a["href"]
        for a in table.select("tbody tr a")
        if not a["href"].startswith("https://") and a["href"].startswith(prefix)
    ]
