"""The markdown report ``runsite models check --base`` writes for a pull request."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from runsite import fmt, redact
from runsite.errors import RunsiteError

if TYPE_CHECKING:
    from runsite.registry.api import Registry
    from runsite.registry.manifest import ModelVersion, RegisteredModel
    from runsite.registry.results import CheckResult, GateResult
    from runsite.store import RunRecord


_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
# Line breaks, control characters and bidirectional overrides (which would make text
# read differently from what it is) become spaces.
_BLANKS = frozenset(
    [chr(c) for c in range(32)]
    + [chr(c) for c in range(0x7F, 0xA0)]
    + ["\u2028", "\u2029", "\u200e", "\u200f", "\u061c"]
    + [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)]
)


def md_text(value: Any, limit: int | None = None) -> str:
    """Text from data, safe in markdown and in a table cell: every ASCII punctuation
    character is backslash-escaped (CommonMark allows it for all of them), so no link,
    image, autolink, emphasis, HTML tag or entity can come from data (checked with
    cmark-gfm, GitHub's parser), and line breaks, control characters and bidirectional
    overrides become spaces. ``limit`` shortens it (with ``…``)."""
    text = str(value)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    out = []
    for ch in text:
        if ch == "@":
            # Escaping is not enough for e-mail autolinks (cmark-gfm finds them in the
            # unescaped text): an invisible word joiner after the @ breaks the address.
            out.append("\\@\u2060")
        elif ch in _PUNCT:
            out.append("\\" + ch)
        elif ch in _BLANKS:
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def md_code(value: Any, table: bool = True) -> str:
    """``value`` as a code span that nothing in it can close: the fence is one backtick
    longer than the longest run of backticks inside. In a table cell a ``|`` is escaped
    (GitHub removes the backslash inside code spans in tables)."""
    text = "".join(" " if ch in _BLANKS else ch for ch in str(value))
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


def _num(value: Any) -> str:
    """A number as we format it (digits, ``.``, ``-``, ``e``: nothing markdown reads)."""
    return fmt.num(value, digits=6)


def _value(value: Any) -> str:
    """A param or tag value from data."""
    return md_text(_num(value), 80)


def _transition_line(t: Any) -> str:
    model = md_text(t.model)
    if t.kind == "registered":
        return f"**{model}** v{t.version}: registered ({md_text(t.to_stage)})"
    if t.kind == "stage":
        return f"**{model}** v{t.version}: {md_text(t.from_stage)} → **{md_text(t.to_stage)}**"
    if t.kind == "alias":
        if t.to_version is None:
            return f"**{model}** @{md_text(t.alias)} removed (was v{t.from_version})"
        was = f" (was v{t.from_version})" if t.from_version else ""
        return f"**{model}** @{md_text(t.alias)} → v{t.to_version}{was}"
    return f"**{model}** v{t.version}: removed from the manifest"


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


def _comparison(reg: Registry, gate: GateResult, hidden: Callable[[str], bool]) -> list[str]:
    cand, inc = gate.candidate, gate.incumbent
    # The runs the gate read (from the base where it holds them), so the table shows
    # the evidence that decided, not what the pull request's copy of a run says.
    rc = gate.candidate_run or _run(reg, cand)
    ri = gate.incumbent_run if inc is not None else None
    head_inc = f"v{inc.version} (production)" if inc else "current production"
    lines = [
        f"### {md_text(gate.model)}: v{cand.version} (candidate) vs {head_inc}",
        "",
        f"| | v{cand.version} (candidate) | {head_inc} |",
        "|---|---|---|",
        f"| run | {md_code(cand.run_id)} {md_text(rc.run_name, 80) if rc else ''} | "
        + (f"{md_code(inc.run_id)} {md_text(ri.run_name, 80) if ri else ''}" if inc else "–")
        + " |",
    ]
    if gate.metric:
        mark = "✅" if gate.passed else "❌"
        lines.append(
            f"| **{md_text(gate.metric)}** (gate, {md_text(gate.goal)}) | "
            f"{_num(gate.candidate_value)} {mark} | "
            f"{_num(gate.incumbent_value)} |"
        )
    if rc is not None:
        shared = sorted(set(rc.metrics) & set(ri.metrics)) if ri else sorted(rc.metrics)
        for key in shared:
            if key == gate.metric:
                continue
            other = _num(ri.metrics[key]["last"]) if ri else "–"
            lines.append(f"| {md_text(key)} | {_num(rc.metrics[key]['last'])} | {other} |")
        if ri is not None:
            # The job summary of a public repository is public: params the site leaves
            # out are left out here too, and secret-looking values are masked.
            for key in sorted(k for k in set(rc.params) | set(ri.params) if not hidden(k)):
                a, b = rc.params.get(key), ri.params.get(key)
                if a != b:
                    a, b = redact.mask_value(key, a), redact.mask_value(key, b)
                    lines.append(f"| param {md_code(key)} | {_value(a)} | {_value(b)} |")
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
                f"{md_text(i.get('name'), 60)} {md_code(str(i.get('hash'))[7:19])}"
                for i in rec.inputs
            )

        lines.append(f"| data | {data(rc)} | {data(ri)} |")
    lines.append("")
    lines.append(f"Gate: {'passed' if gate.passed else '**failed**'} — {md_text(gate.reason)}")
    lines.append("")
    return lines


def markdown_report(
    reg: Registry,
    result: CheckResult,
    models: dict[str, RegisteredModel],
    base_models: dict[str, RegisteredModel],
    hidden_params: Callable[[str], bool] | None = None,
) -> str:
    """Every value from a run or the manifest goes through ``md_text`` or ``md_code``: a
    run name, param or reason cannot add a link, an image, HTML or close a code span in
    the job summary. ``hidden_params(key)``: params the site leaves out (``site.yaml``)."""
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
        lines += [
            f"- {md_code(p.where(), table=False)} {md_text(p.message)}" for p in result.problems
        ]
        lines.append("")
    for gate in result.gates:
        lines += _comparison(reg, gate, hidden_params or (lambda key: False))
    for ev in result.evidence:
        lines += _evidence(ev)
    return "\n".join(lines).rstrip() + "\n"


def _drift(record: Any) -> str:
    drift = record.drift if record is not None else {}
    if not drift.get("available"):
        return "unknown"
    drifted = list(drift.get("drifted") or [])
    return "drifted: " + ", ".join(md_text(d) for d in drifted[:5]) if drifted else "none"


def _evidence(ev: Any) -> list[str]:
    """The evidence gate's comparison: both versions on the same new data."""
    inc = f"v{ev.incumbent} (production)" if ev.incumbent is not None else "current production"
    mark = "✅" if ev.passed else "❌"
    lines = [
        f"### {md_text(ev.model)}: evidence for v{ev.candidate} (candidate) vs {inc}",
        "",
    ]
    if ev.candidate_eval is None:
        lines += [f"{mark} {md_text(ev.reason)}", ""]
        return lines
    c, i = ev.candidate_eval, ev.incumbent_eval
    lines += [
        f"Evaluated on **{md_text(ev.data_name)}** "
        f"{md_code(str(ev.data_hash)[:19], table=False)}…, "
        "data the candidate was not trained on.",
        "",
        f"| | v{ev.candidate} (candidate) | {inc} |",
        "|---|---|---|",
        f"| **{md_text(ev.metric)}** ({md_text(ev.goal)}"
        + (f", by ≥ {_num(ev.margin)}" if ev.margin else "")
        + f") | {_num(ev.candidate_value)} {mark} | "
        + (_num(ev.incumbent_value) if i else "–")
        + " |",
    ]
    # drift has its own row; the row count is the data's, the same on both sides
    skip = {ev.metric, "drift_features", "drift_max_psi", "example_count"}
    shared = [k for k in c.metrics if k not in skip and (i is None or k in i.metrics)]
    for key in shared[:8]:
        other = _num(i.metrics[key]) if i else "–"
        lines.append(f"| {md_text(key)} | {_num(c.metrics[key])} | {other} |")
    lines.append(f"| drift vs training data | {_drift(c)} | {_drift(i) if i else '–'} |")
    lines.append(
        f"| evaluation run | {md_code(c.run_id)} | " + (md_code(i.run_id) if i else "–") + " |"
    )
    lines += ["", f"Evidence: {'passed' if ev.passed else '**failed**'} — {md_text(ev.reason)}", ""]
    return lines
