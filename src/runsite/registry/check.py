"""``runsite models check``: the CI gate for a pull request that changes the registry.

1. The manifest is valid: schema, versions whose run and model folder exist, hashes
   that still match, aliases on existing versions.
2. The policy holds: at most ``max_production_versions`` production versions per model
   (default 1) and, with a metric gate, a version moving to production is at least as
   good as the one it replaces.
3. With a base (``--base main``), a markdown report of what the change does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from runsite import record, validate
from runsite.errors import NotFound, RunsiteError, StoreFormatError
from runsite.registry.manifest import (
    FILENAME,
    Manifest,
    ModelVersion,
    Problem,
    RegisteredModel,
    models_of,
    parse,
    problem,
)
from runsite.registry.results import CheckResult, GateResult

if TYPE_CHECKING:
    from runsite.registry.api import Registry
    from runsite.registry.runs_check import GitRuns
    from runsite.store import RunRecord


def _version_node(doc: Any, name: str, number: int) -> Any:
    for v in doc["models"][name].get("versions") or []:
        if isinstance(v, dict) and v.get("version") == number:
            return v
    return doc["models"][name]


def _check_store(reg: Registry, doc: Any, models: dict[str, RegisteredModel]) -> list[Problem]:
    from runsite.models.api import scan_model

    out: list[Problem] = []
    for model in models.values():
        for mv in model.versions:
            node = _version_node(doc, model.name, mv.version)
            label = f"{model.name} v{mv.version}"
            try:
                rec = reg.store.run(mv.run_id)
            except (NotFound, RunsiteError) as exc:
                out.append(
                    problem(
                        f"{label}: run {mv.run_id!r} not found in the store ({exc})", node, "run"
                    )
                )
                continue
            try:
                folder = validate.confined(rec.artifacts_dir, mv.artifact, f"{label}: artifact")
            except RunsiteError as exc:
                out.append(problem(str(exc), node, "artifact"))
                continue
            if not (folder / record.MODEL_YAML).is_file():
                out.append(
                    problem(
                        f"{label}: run {mv.run_id} has no model {mv.artifact!r}", node, "artifact"
                    )
                )
                continue
            # The hash from the bytes (never a cache), every file's hash, no symlink, and
            # a static scan of every pickle: nothing is unpickled.
            for message in scan_model(folder, mv.hash):
                key = "hash" if "does not match the model folder" in message else "artifact"
                out.append(problem(f"{label}: {message}", node, key))
            if rec.status not in record.END_STATUSES:
                out.append(
                    problem(f"{label}: run {mv.run_id} has not ended ({rec.status})", node, "run")
                )
    return out


def _check_policy(doc: Any, models: dict[str, RegisteredModel]) -> list[Problem]:
    out: list[Problem] = []
    for model in models.values():
        limit = int(model.policy.get("max_production_versions") or 1)
        prod = model.in_stage("production")
        if len(prod) > limit:
            versions = ", ".join(f"v{v.version}" for v in prod)
            out.append(
                problem(
                    f"{model.name} has {len(prod)} production versions ({versions}); the policy "
                    f"allows {limit}. Archive the old one (--archive-existing does it).",
                    doc["models"],
                    model.name,
                )
            )
    return out


def metric_value(rec: RunRecord, metric: str, aggregate: str = "last") -> float | None:
    stats = rec.metrics.get(metric)
    if not stats:
        return None
    value = stats.get(aggregate)
    return float(value) if value is not None else None


def _evidence(
    reg: Registry, base_runs: GitRuns | None, run_id: str, from_base_only: bool
) -> tuple[RunRecord | None, str | None]:
    """The run whose metrics are the evidence, and why there is none. With a base, a run
    the base already holds as ended is read from the base's git objects: a pull request
    that edits its files changes nothing here. ``from_base_only`` (the incumbent, which
    the base made production) never falls back to the pull request's copy."""
    if base_runs is not None:
        try:
            rec = base_runs.run(run_id)
        except RunsiteError as exc:
            return None, str(exc)
        if rec is not None and (from_base_only or rec.status in record.END_STATUSES):
            return rec, None
        if from_base_only:
            return None, f"run {run_id} is not in the store at the base"
    try:
        return reg.store.run(run_id), None
    except RunsiteError as exc:
        return None, str(exc)


def _gate(
    reg: Registry,
    doc: Any,
    model: RegisteredModel,
    candidate: ModelVersion,
    incumbent: ModelVersion | None,
    base_runs: GitRuns | None = None,
) -> tuple[GateResult, Problem | None]:
    metric = model.policy.get("metric")
    goal = model.policy.get("goal", "minimize")
    agg = model.policy.get("aggregate", "last")
    gate = GateResult(model.name, candidate, incumbent, metric, goal)
    gate.candidate_run, _ = _evidence(reg, base_runs, candidate.run_id, False)
    missing: str | None = None
    if incumbent is not None:
        gate.incumbent_run, missing = _evidence(reg, base_runs, incumbent.run_id, True)
    if not metric:
        gate.reason = "no metric gate configured"
        return gate, None
    node = _version_node(doc, model.name, candidate.version)
    if gate.candidate_run is not None:
        gate.candidate_value = metric_value(gate.candidate_run, metric, agg)
    if gate.candidate_value is None or math.isnan(gate.candidate_value):
        gate.passed = False
        gate.reason = f"candidate run {candidate.run_id} has no value for metric {metric!r}"
        return gate, problem(
            f"{model.name} v{candidate.version} → production: {gate.reason}", node, "stage"
        )
    if incumbent is None:
        gate.reason = "no current production version to compare with"
        return gate, None
    if gate.incumbent_run is None and base_runs is not None:
        # The base made it production, so the base must hold its evidence: without it a
        # pull request could delete the run and pass any challenger.
        gate.passed = False
        gate.reason = (
            f"the evidence of current production v{incumbent.version} cannot be read from "
            f"the base ({missing})"
        )
        return gate, problem(
            f"{model.name} v{candidate.version} → production: {gate.reason}", node, "stage"
        )
    if gate.incumbent_run is not None:
        gate.incumbent_value = metric_value(gate.incumbent_run, metric, agg)
    if gate.incumbent_value is None or math.isnan(gate.incumbent_value):
        gate.reason = f"current production v{incumbent.version} has no {metric!r}; nothing to beat"
        return gate, None
    c, i = gate.candidate_value, gate.incumbent_value
    better_or_equal = c <= i if goal == "minimize" else c >= i
    if better_or_equal:
        gate.reason = f"{metric} {c:.6g} vs {i:.6g} ({goal})"
        return gate, None
    gate.passed = False
    gate.reason = (
        f"{metric} {c:.6g} is worse than v{incumbent.version}'s {i:.6g} (goal: {goal}); "
        "a new production version must be at least as good as the one it replaces"
    )
    return gate, problem(
        f"{model.name} v{candidate.version} → production fails the metric gate: {gate.reason}",
        node,
        "stage",
    )


def _evidence_gate(
    reg: Registry,
    doc: Any,
    model: RegisteredModel,
    candidate: ModelVersion,
    incumbent: ModelVersion | None,
    result: CheckResult,
    base_runs: GitRuns | None,
) -> list[Problem]:
    from runsite.registry.evidence import evidence_gate

    node = _version_node(doc, model.name, candidate.version)
    if not model.policy.get("metric"):
        return [
            problem(
                f"{model.name}: the policy requires an evaluation but names no metric "
                "(policy.metric) to compare on",
                node,
                "stage",
            )
        ]
    # An evaluation run the base already holds is read as the base recorded it: a pull
    # request that edits the production version's evaluations changes nothing here.
    from runsite.registry.evaluate import TAG_MODEL

    runs = []
    for rec in reg.store.runs():
        if rec.tags.get(TAG_MODEL) != model.name:
            continue
        at_base, _ = _evidence(reg, base_runs, rec.run_id, False) if base_runs else (rec, None)
        runs.append(at_base or rec)
    ev = evidence_gate(reg, model, candidate, incumbent, runs)
    result.evidence.append(ev)
    if ev.passed:
        return []
    return [
        problem(
            f"{model.name} v{candidate.version} → production fails the evidence gate: {ev.reason}",
            node,
            "stage",
        )
    ]


def check(
    reg: Registry,
    base_text: str | None = None,
    has_base: bool = False,
    base_runs: GitRuns | None = None,
    hidden_params: Callable[[str], bool] | None = None,
) -> CheckResult:
    """Validate the registry; with ``has_base``, also gate and report the change from
    ``base_text`` (the manifest at the base ref, ``None`` when it did not exist).
    ``base_runs`` (the store at the base commit) is where the gate reads the evidence of
    runs the base already holds. ``hidden_params(key)``: params the report leaves out
    (those the site's ``site.yaml`` excludes; the report is published too)."""
    result = CheckResult()
    try:
        reg.store.require_store()
    except NotFound as exc:  # a mistyped --store is not an empty success
        result.problems.append(Problem(str(exc)))
        return result
    try:
        manifest = Manifest.load(reg.path)
    except StoreFormatError as exc:
        result.problems.append(Problem(str(exc)))
        return result
    result.problems += manifest.problems()
    if result.problems:
        return result
    doc = manifest.doc
    models = manifest.models()
    result.problems += _check_store(reg, doc, models)
    result.problems += _check_policy(doc, models)
    from runsite.registry import team

    shape = team.validate(doc)
    result.problems += shape or team.model_problems(doc, models)
    if has_base:
        from runsite.registry.history import diff

        base_doc = parse(base_text, f"{FILENAME} at the base") if base_text else None
        base_models = models_of(base_doc)
        result.transitions = diff(base_doc, doc)
        for t in result.transitions:
            if t.kind not in ("stage", "registered") or t.to_stage != "production":
                continue
            model = models[t.model]
            candidate = model.version(t.version)
            if candidate is None:
                continue
            old = base_models.get(t.model)
            prior = [
                v for v in (old.in_stage("production") if old else []) if v.version != t.version
            ]
            incumbent = max(prior, key=lambda v: v.version) if prior else None
            gate, prob = _gate(reg, doc, model, candidate, incumbent, base_runs)
            result.gates.append(gate)
            if prob:
                result.problems.append(prob)
            if model.policy.get("require_evaluation"):
                result.problems += _evidence_gate(
                    reg, doc, model, candidate, incumbent, result, base_runs
                )
        from runsite.registry.report import markdown_report

        result.report = markdown_report(reg, result, models, base_models, hidden_params)
    return result
