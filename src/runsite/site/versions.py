"""What the site shows about registered versions: a page per version (source run, data,
signature, how to load it, stage history, every evaluation over time with drift), the
model page's comparison on the latest common evaluation, and the links from runs and
datasets to versions. Evaluations are read back through ``runsite.registry.evidence``,
as ``models show`` and ``models check`` read them.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from runsite.registry import evidence
from runsite.registry.evaluate import TAG_MODEL, TAG_VERSION

if TYPE_CHECKING:
    from runsite.registry.manifest import ModelVersion, RegisteredModel
    from runsite.store import RunRecord

EXAMPLE_BYTES = 20_000  # an input example shown on the page (the file itself is published)
# Recorded by every evaluation run beside the model's own metrics; shown in their own
# columns (latency, rows) or as the drift badge, not as metrics.
BOOKKEEPING = (
    "latency_ms_per_row",
    "model_size_bytes",
    "example_count",
    "drift_max_psi",
    "drift_features",
)
METRICS_SHOWN = 5  # evaluation metrics in a table, the key metric first


def version_path(name: str, version: int) -> str:
    return f"models/{name}/v{version}.html"


@dataclass
class EvaluationView:
    """One evaluation row: the record plus what the page needs to draw it."""

    record: evidence.EvaluationRecord
    run_url: str | None
    data_anchor: str | None
    drift: dict[str, Any] = field(default_factory=dict)

    @property
    def drift_state(self) -> str:
        """``drift`` (features over the threshold), ``stable`` or ``unknown``."""
        if not self.drift.get("available"):
            return "unknown"
        return "drift" if self.drift.get("drifted") else "stable"

    @property
    def drifted(self) -> list[str]:
        return list(self.drift.get("drifted") or [])

    @property
    def features(self) -> list[tuple[str, dict[str, Any]]]:
        """(feature, its drift) with a PSI, most drifted first."""
        feats = self.drift.get("features") if self.drift.get("available") else None
        if not isinstance(feats, dict):
            return []
        scored = [
            (str(k), f)
            for k, f in feats.items()
            if isinstance(f, dict) and isinstance(f.get("psi"), int | float)
        ]
        return sorted(scored, key=lambda kv: -float(kv[1]["psi"]))


def _anchor(hash_text: str | None) -> str | None:
    return "d-" + hash_text.split(":")[-1][:16] if hash_text else None


def metric_columns(metric: str | None, records: list[evidence.EvaluationRecord]) -> list[str]:
    keys = list(dict.fromkeys(k for r in records for k in r.metrics if k not in BOOKKEEPING))
    if metric in keys:
        keys.remove(metric)
        keys.insert(0, metric)
    return keys[:METRICS_SHOWN]


def evaluation_views(
    records: list[evidence.EvaluationRecord], runs: dict[str, RunRecord], run_path: Any
) -> list[EvaluationView]:
    return [
        EvaluationView(
            r,
            run_path(r.run_id) if r.run_id in runs else None,
            _anchor(r.data_hash),
            r.drift,
        )
        for r in records
    ]


def chart_rows(
    views: list[EvaluationView], metric: str, root: str, by_version: bool = False
) -> list[dict[str, Any]]:
    """Rows for ``charts.evaluation_chart``: one per evaluation, oldest first."""
    from runsite import fmt

    rows = []
    seen: dict[str, int] = {}
    for v in views:
        value = v.record.metrics.get(metric)
        if value is None:
            continue
        label = f"{v.record.data_name} · {fmt.time(v.record.time)[:10]}"
        if not by_version:  # one point per evaluation: the same data twice is two points
            seen[label] = seen.get(label, 0) + 1
            label += f" ({seen[label]})" if seen[label] > 1 else ""
        rows.append(
            {
                "label": label,
                "data": v.record.data_name,
                "time": v.record.time,
                "version": f"v{v.record.version}",
                "value": value,
                "drift": v.drift_state,
                "drifted": ", ".join(v.drifted) or "–",
                "url": f"{root}{v.run_url}" if v.run_url else "",
            }
        )
    return rows


def latest_common(
    records: list[evidence.EvaluationRecord],
) -> tuple[str | None, list[evidence.EvaluationRecord]]:
    """The data hash most recently evaluated for two or more versions, and the latest
    evaluation of each version on it (newest version first)."""
    by_hash: dict[str, dict[int, evidence.EvaluationRecord]] = {}
    for r in records:  # oldest first: a later evaluation of a version replaces earlier
        if r.data_hash:
            by_hash.setdefault(r.data_hash, {})[r.version] = r
    common = [(max(e.time for e in vs.values()), h) for h, vs in by_hash.items() if len(vs) > 1]
    if not common:
        return None, []
    _, best = max(common)
    rows = sorted(by_hash[best].values(), key=lambda r: -r.version)
    return best, rows


def read_example(folder: Any, meta: dict[str, Any]) -> str | None:
    """The input example as indented JSON (cut at ``EXAMPLE_BYTES``), or ``None``."""
    from runsite import validate
    from runsite.errors import RunsiteError
    from runsite.models.manifest import read_regular

    name = meta.get("input_example")
    if not isinstance(name, str) or not name:
        return None
    try:
        raw = read_regular(validate.confined(folder, name, "input example"))
    except (RunsiteError, OSError):
        return None
    text = raw[:EXAMPLE_BYTES].decode("utf-8", "replace")
    with contextlib.suppress(ValueError):
        text = json.dumps(json.loads(raw), indent=2, ensure_ascii=False)[:EXAMPLE_BYTES]
    return text + ("\n…" if len(raw) > EXAMPLE_BYTES else "")


def versions_by_run(models: list[RegisteredModel]) -> dict[str, list[ModelVersion]]:
    out: dict[str, list[ModelVersion]] = {}
    for model in models:
        for mv in model.versions:
            out.setdefault(mv.run_id, []).append(mv)
    return out


def evaluated_version(run: RunRecord, models: list[RegisteredModel]) -> ModelVersion | None:
    """The registered version an evaluation run scored (when it is still registered)."""
    name = run.tags.get(TAG_MODEL)
    if not name:
        return None
    for model in models:
        if model.name == name:
            try:
                found = model.version(int(run.tags.get(TAG_VERSION, "")))
            except ValueError:
                return None
            return found
    return None


def dataset_links(
    models: list[RegisteredModel], runs: dict[str, RunRecord]
) -> dict[str, list[tuple[str, str, str]]]:
    """Data hash → (relation, "name vN", page) for versions trained or evaluated on it."""
    out: dict[str, list[tuple[str, str, str]]] = {}
    for model in models:
        for mv in model.versions:
            src = runs.get(mv.run_id)
            for inp in src.inputs if src else []:
                if inp.get("hash"):
                    entry = (
                        "trained",
                        f"{mv.name} v{mv.version}",
                        version_path(mv.name, mv.version),
                    )
                    if entry not in out.setdefault(str(inp["hash"]), []):
                        out[str(inp["hash"])].append(entry)
    for run in runs.values():
        scored = evaluated_version(run, models)
        if scored is None:
            continue
        for inp in run.inputs:
            if inp.get("context") == "evaluation" and inp.get("hash"):
                label = f"{scored.name} v{scored.version}"
                entry = ("evaluated", label, version_path(scored.name, scored.version))
                if entry not in out.setdefault(str(inp["hash"]), []):
                    out[str(inp["hash"])].append(entry)
    for entries in out.values():
        entries.sort(key=lambda e: (e[0], e[1].rsplit(" v", 1)[0], int(e[1].rsplit(" v", 1)[1])))
    return out
