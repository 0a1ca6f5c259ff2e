"""The markdown report ``runsite models check --base`` writes for a pull request."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from runsite import fmt
from runsite.errors import RunsiteError

if TYPE_CHECKING:
    from runsite.registry.api import Registry
    from runsite.registry.manifest import ModelVersion, RegisteredModel
    from runsite.registry.results import CheckResult, GateResult
    from runsite.store import RunRecord


_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def md_text(value: Any, limit: int | None = None) -> str:
    """Text from data, safe in markdown and in a table cell: every ASCII punctuation
    character is backslash-escaped (CommonMark allows it for all of them), so no link,
    image, autolink, emphasis, HTML tag or entity can come from data, and line breaks and
    other control characters become spaces. ``limit`` shortens it (with ``…``)."""
    text = str(value)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    out = []
    for ch in text:
        if ch in _PUNCT:
            out.append("\\" + ch)
        elif ch < " " or "\x7f" <= ch < "\xa0" or ch in "\u2028\u2029":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def md_code(value: Any, table: bool = True) -> str:
    """``value`` as a code span that nothing in it can close: the fence is one backtick
    longer than the longest run of backticks inside. In a table cell a ``|`` is escaped
    (GitHub removes the backslash inside code spans in tables)."""
    text = "".join(" " if ch < " " or ch in "\x7f\u2028\u2029" else ch for ch in str(value))
    if not text:
        return ""
    longest = run = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith(("`", " ")) or text.endswith(("`", " ")) else ""
    if table:
        text = text.replace("|", "\\|")
    return f"{fence}{pad}{text}{pad}{fence}"


def _cell(text: Any) -> str:
    """Table-safe text: a pipe or a newline would break the markdown table."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("`", "'")


def _num(value: Any) -> str:
    return fmt.num(value, digits=6)


def _transition_line(t: Any) -> str:
    if t.kind == "registered":
        return f"**{_cell(t.model)}** v{t.version}: registered ({t.to_stage})"
    if t.kind == "stage":
        return f"**{_cell(t.model)}** v{t.version}: {t.from_stage} → **{t.to_stage}**"
    if t.kind == "alias":
        if t.to_version is None:
            return f"**{_cell(t.model)}** @{_cell(t.alias)} removed (was v{t.from_version})"
        was = f" (was v{t.from_version})" if t.from_version else ""
        return f"**{_cell(t.model)}** @{_cell(t.alias)} → v{t.to_version}{was}"
    return f"**{_cell(t.model)}** v{t.version}: removed from the manifest"


def _run(reg: Registry, mv: ModelVersion | None) -> RunRecord | None:
    if mv is None:
        return None
    try:
        return reg.store.run(mv.run_id)
    except RunsiteError:
        return None


def _model_size(reg: Registry, mv: ModelVersion, rec: RunRecord | None) -> int | None:
    if rec is None:
        return None
    for m in rec.models:
        if m.get("name") == mv.artifact:
            return int(m.get("size") or 0)
    return None


def _comparison(reg: Registry, gate: GateResult) -> list[str]:
    cand, inc = gate.candidate, gate.incumbent
    # The runs the gate read (from the base where it holds them), so the table shows
    # the evidence that decided, not what the pull request's copy of a run says.
    rc = gate.candidate_run or _run(reg, cand)
    ri = gate.incumbent_run if inc is not None else None
    head_inc = f"v{inc.version} (production)" if inc else "current production"
    lines = [
        f"### {_cell(gate.model)}: v{cand.version} (candidate) vs {head_inc}",
        "",
        f"| | v{cand.version} (candidate) | {head_inc} |",
        "|---|---|---|",
        f"| run | `{cand.run_id}` {_cell(rc.run_name) if rc else ''} | "
        + (f"`{inc.run_id}` {_cell(ri.run_name) if ri else ''}" if inc else "–")
        + " |",
    ]
    if gate.metric:
        mark = "✅" if gate.passed else "❌"
        lines.append(
            f"| **{_cell(gate.metric)}** (gate, {gate.goal}) | "
            f"{_num(gate.candidate_value)} {mark} | "
            f"{_num(gate.incumbent_value)} |"
        )
    if rc is not None:
        shared = sorted(set(rc.metrics) & set(ri.metrics)) if ri else sorted(rc.metrics)
        for key in shared:
            if key == gate.metric:
                continue
            other = _num(ri.metrics[key]["last"]) if ri else "–"
            lines.append(f"| {_cell(key)} | {_num(rc.metrics[key]['last'])} | {other} |")
        if ri is not None:
            for key in sorted(set(rc.params) | set(ri.params)):
                a, b = rc.params.get(key), ri.params.get(key)
                if a != b:
                    lines.append(f"| param `{_cell(key)}` | {_cell(_num(a))} | {_cell(_num(b))} |")
        lines.append(
            f"| model size | {fmt.size(_model_size(reg, cand, rc))} | "
            f"{fmt.size(_model_size(reg, inc, ri)) if inc else '–'} |"
        )
        inc_duration = fmt.duration(ri.duration) if ri else "–"
        lines.append(f"| training duration | {fmt.duration(rc.duration)} | {inc_duration} |")

        def data(rec: RunRecord | None) -> str:
            if rec is None or not rec.inputs:
                return "–"
            return "<br>".join(
                f"{_cell(i.get('name'))} `{str(i.get('hash'))[7:19]}`" for i in rec.inputs
            )

        lines.append(f"| data | {data(rc)} | {data(ri)} |")
    lines.append("")
    lines.append(f"Gate: {'passed' if gate.passed else '**failed**'} — {_cell(gate.reason)}")
    lines.append("")
    return lines


def markdown_report(
    reg: Registry,
    result: CheckResult,
    models: dict[str, RegisteredModel],
    base_models: dict[str, RegisteredModel],
) -> str:
    status = "✅ passed" if result.ok else f"❌ {len(result.problems)} problem(s)"
    lines = [f"## runsite model registry check: {status}", ""]
    if result.transitions:
        lines.append("### Changes")
        lines.append("")
        lines += [f"- {_transition_line(t)}" for t in result.transitions]
        lines.append("")
    else:
        lines += ["No registry changes against the base.", ""]
    if result.problems:
        lines.append("### Problems")
        lines.append("")
        lines += [f"- `{p.where()}` {_cell(p.message)}" for p in result.problems]
        lines.append("")
    for gate in result.gates:
        lines += _comparison(reg, gate)
    for ev in result.evidence:
        lines += _evidence(ev)
    return "\n".join(lines).rstrip() + "\n"


def _drift(record: Any) -> str:
    drift = record.drift if record is not None else {}
    if not drift.get("available"):
        return "unknown"
    drifted = list(drift.get("drifted") or [])
    return "drifted: " + ", ".join(_cell(d) for d in drifted[:5]) if drifted else "none"


def _evidence(ev: Any) -> list[str]:
    """The evidence gate's comparison: both versions on the same new data."""
    inc = f"v{ev.incumbent} (production)" if ev.incumbent is not None else "current production"
    mark = "✅" if ev.passed else "❌"
    lines = [
        f"### {_cell(ev.model)}: evidence for v{ev.candidate} (candidate) vs {inc}",
        "",
    ]
    if ev.candidate_eval is None:
        lines += [f"{mark} {_cell(ev.reason)}", ""]
        return lines
    c, i = ev.candidate_eval, ev.incumbent_eval
    lines += [
        f"Evaluated on **{_cell(ev.data_name)}** `{_cell(str(ev.data_hash)[:19])}…`, "
        "data the candidate was not trained on.",
        "",
        f"| | v{ev.candidate} (candidate) | {inc} |",
        "|---|---|---|",
        f"| **{_cell(ev.metric)}** ({_cell(ev.goal)}"
        + (f", by ≥ {_num(ev.margin)}" if ev.margin else "")
        + f") | {_num(ev.candidate_value)} {mark} | "
        + (_num(ev.incumbent_value) if i else "–")
        + " |",
    ]
    shared = [k for k in c.metrics if k != ev.metric and (i is None or k in i.metrics)]
    for key in shared[:8]:
        other = _num(i.metrics[key]) if i else "–"
        lines.append(f"| {_cell(key)} | {_num(c.metrics[key])} | {other} |")
    lines.append(f"| drift vs training data | {_drift(c)} | {_drift(i) if i else '–'} |")
    lines.append(
        f"| evaluation run | `{_cell(c.run_id)}` | " + (f"`{_cell(i.run_id)}`" if i else "–") + " |"
    )
    lines += ["", f"Evidence: {'passed' if ev.passed else '**failed**'} — {_cell(ev.reason)}", ""]
    return lines
