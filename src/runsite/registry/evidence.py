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
    TAG_HASH,
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
    model_hash: str | None = None  # the bytes it scored (tag runsite.evaluation.model_hash)

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
                rec.tags.get(TAG_HASH),
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


# ---------------------------------------------------------------------- the evidence gate


@dataclass
class EvidenceResult:
    """The evidence gate for one promotion to production (``require_evaluation``)."""

    model: str
    candidate: int
    incumbent: int | None
    metric: str
    goal: str
    margin: float
    passed: bool = False
    reason: str = ""
    data_name: str | None = None
    data_hash: str | None = None
    candidate_eval: EvaluationRecord | None = None
    incumbent_eval: EvaluationRecord | None = None

    @property
    def candidate_value(self) -> float | None:
        return self.candidate_eval.metrics.get(self.metric) if self.candidate_eval else None

    @property
    def incumbent_value(self) -> float | None:
        return self.incumbent_eval.metrics.get(self.metric) if self.incumbent_eval else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.candidate,
            "incumbent": self.incumbent,
            "metric": self.metric,
            "goal": self.goal,
            "margin": self.margin,
            "passed": self.passed,
            "reason": self.reason,
            "data": {"name": self.data_name, "hash": self.data_hash},
            "candidate_value": self.candidate_value,
            "incumbent_value": self.incumbent_value,
            "candidate_evaluation": self.candidate_eval.run_id if self.candidate_eval else None,
            "incumbent_evaluation": self.incumbent_eval.run_id if self.incumbent_eval else None,
        }


def training_hashes(rec: RunRecord | None) -> set[str]:
    """Hashes of every input the source run logged (training, validation, …): data a
    version has seen is not evidence about new data."""
    return {str(i["hash"]) for i in (rec.inputs if rec else []) if i.get("hash")}


def _valid_for(reg: Registry, mv: ModelVersion, records: list[EvaluationRecord]) -> list[Any]:
    """The evaluations that scored exactly this version's bytes (the run's model-hash tag
    matches the manifest) on data its source run did not see, oldest first."""
    seen = training_hashes(source_run(reg, mv))
    return [
        r
        for r in records
        if r.version == mv.version
        and r.data_hash
        and r.data_hash not in seen
        and r.model_hash == mv.hash
    ]


def evidence_gate(
    reg: Registry,
    model: RegisteredModel,
    candidate: ModelVersion,
    incumbent: ModelVersion | None,
    runs: list[RunRecord] | None = None,
) -> EvidenceResult:
    """Does ``candidate`` have an evaluation on data it was not trained on that beats
    (by the policy's ``min_improvement``) ``incumbent``'s evaluation on the same data?
    Without an incumbent, an evaluation on new data is enough. ``runs``: the runs to
    read evaluations from (default: the store's)."""
    from runsite.models.metrics import goal_of

    metric = str(model.policy.get("metric") or "")
    goal = str(model.policy.get("goal") or (goal_of(metric) if metric else "minimize"))
    margin = float(model.policy.get("min_improvement") or 0.0)
    inc = incumbent.version if incumbent else None
    res = EvidenceResult(model.name, candidate.version, inc, metric, goal, margin)
    records = evaluations_of(model.name, runs if runs is not None else reg.store.runs())
    mine = [r for r in _valid_for(reg, candidate, records) if metric in r.metrics]
    hint = (
        f"runsite models evaluate {model.name} --versions {candidate.version}"
        + (f",{incumbent.version}" if incumbent else "")
        + " --data NEW_DATA --target COLUMN"
    )
    if not mine:
        res.reason = (
            f"v{candidate.version} has no evaluation of {metric} on data it was not trained on; "
            f"run `{hint}` and commit the evaluation runs (--propose does both)"
        )
        return res
    if incumbent is None:
        latest = mine[-1]
        res.passed = True
        res.candidate_eval = latest
        res.data_name, res.data_hash = latest.data_name, latest.data_hash
        res.reason = (
            f"evaluated on {latest.data_name}: {metric} {latest.metrics[metric]:.6g}; "
            "no current production version to beat"
        )
        return res
    theirs = [
        r
        for r in records
        if r.version == incumbent.version and metric in r.metrics and r.model_hash == incumbent.hash
    ]
    by_hash = {r.data_hash: r for r in theirs}  # oldest first: the latest per data wins
    pairs = [(c, by_hash[c.data_hash]) for c in mine if c.data_hash in by_hash]
    if not pairs:
        names = ", ".join(sorted({c.data_name for c in mine}))
        res.reason = (
            f"production v{incumbent.version} has no evaluation on the data v{candidate.version} "
            f"was evaluated on ({names}); evaluate both on the same data: `{hint}`"
        )
        return res
    c, i = max(pairs, key=lambda p: (max(p[0].time, p[1].time), p[0].time))
    res.candidate_eval, res.incumbent_eval = c, i
    res.data_name, res.data_hash = c.data_name, c.data_hash
    cv, iv = c.metrics[metric], i.metrics[metric]
    res.passed = cv <= iv - margin if goal == "minimize" else cv >= iv + margin
    need = f" by at least {margin:g}" if margin else " or match"
    res.reason = (
        f"on {c.data_name}: {metric} {cv:.6g} vs v{incumbent.version}'s {iv:.6g} ({goal}); "
        + ("passes" if res.passed else f"fails: a new production version must beat it{need}")
    )
    return res
