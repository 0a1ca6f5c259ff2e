"""What ``runsite models check`` finds: its problems, metric gates and transitions.

Apart from ``check`` so that the report (``report.py``) can read a result without the
checker and the checker can write the report: no cycle between the two.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from runsite.registry.manifest import ModelVersion, Problem

if TYPE_CHECKING:
    from runsite.store import RunRecord


@dataclass
class GateResult:
    model: str
    candidate: ModelVersion
    incumbent: ModelVersion | None
    metric: str | None
    goal: str | None
    candidate_value: float | None = None
    incumbent_value: float | None = None
    passed: bool = True
    reason: str = ""
    # The runs the values come from (with a base: as the base recorded them, if there).
    candidate_run: RunRecord | None = None
    incumbent_run: RunRecord | None = None


@dataclass
class CheckResult:
    problems: list[Problem] = field(default_factory=list)
    gates: list[GateResult] = field(default_factory=list)
    transitions: list[Any] = field(default_factory=list)
    evidence: list[Any] = field(default_factory=list)  # registry.evidence.EvidenceResult
    report: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems
