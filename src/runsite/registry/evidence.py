"""The evidence about registered versions, read back from the store: their source runs,
their key metric, and the evaluation runs that scored them (``runsite models
evaluate``). ``models show``, the site's version pages and the evidence gate of
``models check`` read it from here, so they agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from runsite.errors import RunsiteError
from runsite.registry.evaluate import (
    TAG_MODEL,
    TAG_VERSION,
    evaluation_data_hash,
    evaluation_runs,
    read_evaluation,
)

if TYPE_CHECKING:
    from runsite.registry.api import Registry
    from runsite.registry.manifest import ModelVersion, RegisteredModel
    from runsite.store import RunRecord


def _value(rec: RunRecord, key: str, aggregate: str = "last") -> float | None:
    stats = rec.metrics.get(key)
    if not stats or stats.get(aggregate) is None:
        return None
    value = float(stats[aggregate])
    return None if math.isnan(value) else value


@dataclass
class EvaluationRecord:
    """One evaluation run of one version: the data it scored (name, hash) and its
    metrics, drift and time."""

    run_id: str
    run_name: str
    experiment: str
    version: int
    data_name: str
    data_hash: str | None
    time: int
    metrics: dict[str, float]
    drift: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "run_name": self.run_name,
            "experiment": self.experiment,
            "version": self.version,
            "data_name": self.data_name,
            "data_hash": self.data_hash,
            "time": self.time,
            "metrics": self.metrics,
            "drifted": list(self.drift.get("drifted") or []),
        }


def evaluations_of(
    model: str, runs: list[RunRecord], version: int | None = None
) -> list[EvaluationRecord]:
    """The evaluation runs of ``model`` (of one ``version``) among ``runs``, oldest first."""
    out = []
    for rec in evaluation_runs(runs):
        if rec.tags.get(TAG_MODEL) != model:
            continue
        try:
            number = int(rec.tags.get(TAG_VERSION, ""))
        except ValueError:
            continue
        if version is not None and number != version:
            continue
        data_name = next(
            (str(i.get("name")) for i in rec.inputs if i.get("context") == "evaluation"), ""
        )
        metrics = {k: v for k in rec.metrics if (v := _value(rec, k)) is not None}
        out.append(
            EvaluationRecord(
                rec.run_id,
                rec.run_name,
                rec.experiment,
                number,
                data_name,
                evaluation_data_hash(rec),
                int(rec.start_time or 0),
                metrics,
                dict(read_evaluation(rec).get("drift") or {}),
            )
        )
    return out


def key_metric(model: RegisteredModel, runs: list[RunRecord]) -> tuple[str | None, str]:
    """The model's key metric and its goal: the policy's ``metric``, else rmse or
    accuracy (what ``models evaluate`` would use), whichever its runs have."""
    from runsite.models.metrics import goal_of

    metric = model.policy.get("metric")
    if metric:
        return str(metric), str(model.policy.get("goal") or goal_of(str(metric)))
    for candidate in ("rmse", "accuracy"):
        if any(candidate in r.metrics for r in runs):
            return candidate, goal_of(candidate)
    return None, "minimize"


@dataclass
class VersionSummary:
    """What ``models show`` prints per version."""

    version: int
    run_name: str | None
    metric: str | None
    training_value: float | None
    evaluation_value: float | None
    evaluation_data: str | None
    evaluations: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_name": self.run_name,
            "key_metric": self.metric,
            "training_value": self.training_value,
            "latest_evaluation_value": self.evaluation_value,
            "latest_evaluation_data": self.evaluation_data,
            "evaluations": self.evaluations,
        }


def source_run(reg: Registry, mv: ModelVersion) -> RunRecord | None:
    try:
        return reg.store.run(mv.run_id)
    except RunsiteError:
        return None


def version_summaries(reg: Registry, model: RegisteredModel) -> list[VersionSummary]:
    """Run name, key metric at training and at the latest evaluation, per version."""
    runs = reg.store.runs()
    sources = {mv.version: source_run(reg, mv) for mv in model.versions}
    evals = evaluations_of(model.name, runs)
    metric, _ = key_metric(model, [r for r in sources.values() if r] + runs)
    agg = str(model.policy.get("aggregate") or "last")
    out = []
    for mv in model.versions:
        rec = sources[mv.version]
        mine = [e for e in evals if e.version == mv.version]
        latest = mine[-1] if mine else None
        out.append(
            VersionSummary(
                mv.version,
                rec.run_name if rec else None,
                metric,
                _value(rec, metric, agg) if rec and metric else None,
                latest.metrics.get(metric) if latest and metric else None,
                latest.data_name if latest else None,
                len(mine),
            )
        )
    return out
