"""``runsite models …``: the registry on the command line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from runsite.cli.common import Group, echo_json, json_option, key_values, store_option, table
from runsite.record import STAGES

if TYPE_CHECKING:
    from runsite.registry.api import Change, Registry
    from runsite.registry.manifest import Manifest


def _registry(store: str) -> Registry:
    from runsite.registry import Registry

    return Registry(store)


def _site_hidden_params(store_root: Path, base_ref: str | None) -> Callable[[str], bool]:
    """Params the public site leaves out, by the store's ``site.yaml`` and (with a base)
    the base's: the report is published as a job summary, and a pull request that drops
    an exclude pattern must not publish what the base hides."""
    import tempfile

    from runsite import gitio
    from runsite.site import config as site_config

    configs = [site_config.load(store_root)]
    base_text = (
        gitio.show_file(store_root, base_ref, store_root / site_config.FILENAME)
        if base_ref
        else None
    )
    if base_text is not None:
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / site_config.FILENAME).write_text(base_text, "utf-8")
            configs.append(site_config.load(Path(tmp)))
    return lambda key: any(cfg.excluded("params", key) for cfg in configs)


def branch_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--branch",
        metavar="NAME",
        help="Commit the change on a new branch NAME (from HEAD), ready to push as a pull "
        "request; the working tree is left as it was.",
    )(f)


def _apply(
    reg: Registry,
    change: Callable[[Manifest], Change],
    branch: str | None,
    include: list[Path] | None = None,
) -> None:
    if branch:
        from runsite.registry.branch import apply_on_branch

        done, sha = apply_on_branch(reg, change, branch, include or [])
        click.echo(
            f"{_summary(done)}\ncommitted on branch {branch} ({sha[:10]}): "
            "push it and open a pull request.\nIt takes effect when the pull request is "
            f"merged: until then {reg.path.name} here is unchanged."
        )
    else:
        done = reg.apply_change(change)
        click.echo(
            f"{_summary(done)}\n{reg.path} updated. Commit it with:\n"
            f"  git commit -m {_shell_quote(done.commit_message().strip())} {reg.path}"
        )


def _summary(done: Change) -> str:
    return "\n".join([done.summary, *done.details])


def _shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


@click.group(cls=Group)
def models() -> None:
    """The model registry: register, stage, alias, check, history, pull."""


@models.command("register")
@click.argument("run_ref", metavar="RUN-REF")
@click.argument("name")
@click.option("--description", help="Markdown description of this version.")
@click.option(
    "--tag", "tags", multiple=True, metavar="KEY=VALUE", help="A version tag (repeatable)."
)
@branch_option
@store_option
def register(
    run_ref: str,
    name: str,
    description: str | None,
    tags: tuple[str, ...],
    branch: str | None,
    store: str,
) -> None:
    """Register a logged model as the next version of NAME.

    RUN-REF is runs:/RUN_ID/MODEL, RUN_ID/MODEL, or RUN_ID when the run logged one model.
    With --branch the run must be committed already (the pull request needs it)."""
    tag_map = key_values(tags, "--tag")
    reg = _registry(store)
    change = reg.register_change(run_ref, name, description, tag_map)
    rec, _ = reg.run_model(run_ref)
    _apply(reg, change, branch, [rec.path])


@models.command("stage")
@click.argument("name")
@click.argument("version")
@click.argument("stage", type=click.Choice(STAGES, case_sensitive=False))
@click.option("--reason", help="Why: goes into the commit message, which git keeps as history.")
@click.option("--archive-existing", is_flag=True, help="Archive the versions now in STAGE.")
@branch_option
@store_option
def stage(
    name: str,
    version: str,
    stage: str,
    reason: str | None,
    archive_existing: bool,
    branch: str | None,
    store: str,
) -> None:
    """Move VERSION of NAME to STAGE."""
    reg = _registry(store)
    _apply(reg, reg.stage_change(name, version, stage, reason, archive_existing), branch)


@models.command("alias")
@click.argument("name")
@click.argument("alias")
@click.argument("version", required=False)
@click.option("--delete", is_flag=True, help="Remove the alias.")
@click.option("--reason", help="Why: goes into the commit message.")
@branch_option
@store_option
def alias(
    name: str,
    alias: str,
    version: str | None,
    delete: bool,
    reason: str | None,
    branch: str | None,
    store: str,
) -> None:
    """Point ALIAS of NAME at VERSION (models:/NAME@ALIAS), or --delete it."""
    if delete == (version is not None):
        raise click.UsageError("give a VERSION, or --delete without one")
    reg = _registry(store)
    _apply(reg, reg.alias_change(name, alias, version, reason), branch)


@models.command("describe")
@click.argument("name")
@click.argument("description")
@click.option("--version", help="Describe this version instead of the model.")
@store_option
def describe(name: str, description: str, version: str | None, store: str) -> None:
    """Set the markdown DESCRIPTION of model NAME (or of one --version)."""
    click.echo(_registry(store).describe(name, description, version).summary)


@models.command("tag")
@click.argument("name")
@click.argument("key")
@click.argument("value", required=False)
@click.option("--version", help="Tag this version instead of the model.")
@click.option("--delete", is_flag=True, help="Remove the tag.")
@store_option
def tag(
    name: str, key: str, value: str | None, version: str | None, delete: bool, store: str
) -> None:
    """Set tag KEY to VALUE on model NAME (or one --version), or --delete it."""
    if delete == (value is not None):
        raise click.UsageError("give a VALUE, or --delete without one")
    click.echo(_registry(store).tag(name, key, value, version).summary)


@models.command("list")
@store_option
@json_option
def list_(store: str, as_json: bool) -> None:
    """List registered models with their stages and aliases."""
    found = _registry(store).list_models()
    if as_json:
        echo_json([m.to_dict() for m in found])
        return
    rows = []
    for m in found:
        latest = max((v.version for v in m.versions), default=None)
        prod = ", ".join(f"v{v.version}" for v in m.in_stage("production")) or "-"
        staging = ", ".join(f"v{v.version}" for v in m.in_stage("staging")) or "-"
        aliases = ", ".join(f"@{a}=v{n}" for a, n in sorted(m.aliases.items())) or "-"
        rows.append(
            [m.name, len(m.versions), f"v{latest}" if latest else "-", prod, staging, aliases]
        )
    click.echo(table(["MODEL", "VERSIONS", "LATEST", "PRODUCTION", "STAGING", "ALIASES"], rows))


@models.command("show")
@click.argument("name")
@store_option
@json_option
def show(name: str, store: str, as_json: bool) -> None:
    """Show model NAME: every version with stage, aliases and source run."""
    from runsite.registry.evidence import version_summaries

    reg = _registry(store)
    m = reg.get_model(name)
    summaries = version_summaries(reg, m)
    if as_json:
        doc = m.to_dict()
        for v, s in zip(doc["versions"], summaries, strict=True):
            v.update(s.to_dict())
        echo_json(doc)
        return
    click.echo(f"model {m.name}")
    if m.description:
        click.echo(m.description.rstrip())
    metric = summaries[0].metric if summaries else None
    rows = [
        [
            f"v{v.version}",
            v.stage,
            ", ".join(f"@{a}" for a in v.aliases) or "-",
            v.run_id,
            s.run_name or "-",
            _fmt(s.training_value),
            _fmt(s.evaluation_value) + (f" ({s.evaluation_data})" if s.evaluation_data else ""),
            v.registered or "-",
        ]
        for v, s in zip(m.versions, summaries, strict=True)
    ]
    key = metric or "METRIC"
    click.echo(
        table(
            [
                "VERSION",
                "STAGE",
                "ALIASES",
                "RUN",
                "RUN NAME",
                f"{key} (TRAINING)",
                f"{key} (LATEST EVALUATION)",
                "REGISTERED",
            ],
            rows,
        )
    )


@models.command("history")
@click.argument("name", required=False)
@click.option("--rev", default="HEAD", show_default=True, help="Read history up to this revision.")
@store_option
@json_option
def history_cmd(name: str | None, rev: str, store: str, as_json: bool) -> None:
    """Stage and alias transitions from git history of the manifest, newest first."""
    from runsite.registry import history

    reg = _registry(store)
    if not history.history_available(reg.path.parent):
        raise click.ClickException(f"{reg.path} is not in a git repository: no history available")
    found = history.history(reg.path.parent, reg.path, rev=rev, model=name)
    if as_json:
        echo_json([t.to_dict() for t in found])
        return
    rows = []
    for t in found:
        if t.kind == "alias":
            what = f"@{t.alias} → v{t.to_version}" if t.to_version else f"@{t.alias} removed"
        elif t.kind == "registered":
            what = f"registered ({t.to_stage})"
        elif t.kind == "stage":
            what = f"{t.from_stage} → {t.to_stage}"
        else:
            what = t.kind
        pr = f"#{t.pr}" if t.pr else "-"
        rows.append(
            [
                t.date[:16].replace("T", " "),
                t.model,
                f"v{t.version}",
                what,
                t.author,
                pr,
                t.commit[:8],
                (t.reason or "").splitlines()[0][:60] if t.reason else "",
            ]
        )
    click.echo(
        table(
            ["DATE (UTC)", "MODEL", "VERSION", "CHANGE", "AUTHOR", "PR", "COMMIT", "REASON"], rows
        )
    )


@models.command("check")
@click.option(
    "--base",
    "base_ref",
    metavar="REF",
    help="Compare with the manifest at REF (e.g. main) and gate the change.",
)
@click.option(
    "--summary",
    type=click.Path(dir_okay=False),
    help="Append the markdown report to this file ($GITHUB_STEP_SUMMARY).",
)
@store_option
@json_option
def check_cmd(base_ref: str | None, summary: str | None, store: str, as_json: bool) -> None:
    """Validate the manifest and the promotion policy (what CI runs on a pull request).

    Exits 1 when there is any problem."""
    from runsite.registry.check import check

    reg = _registry(store)
    base_text = None
    base_runs = None
    if base_ref:
        from runsite.registry.branch import manifest_at
        from runsite.registry.runs_check import GitRuns, base_commit

        base_text = manifest_at(reg, base_ref)
        base_runs = GitRuns(reg.store.root, base_commit(reg.store.root, base_ref))
    try:
        result = check(
            reg,
            base_text,
            has_base=base_ref is not None,
            base_runs=base_runs,
            hidden_params=_site_hidden_params(reg.store.root, base_ref),
        )
    finally:
        if base_runs is not None:
            base_runs.close()
    if summary and result.report:
        with open(summary, "a", encoding="utf-8") as f:
            f.write(result.report + "\n")
    if as_json:
        echo_json(
            {
                "ok": result.ok,
                "problems": [
                    {"where": p.where(str(reg.path)), "message": p.message} for p in result.problems
                ],
                "gates": [
                    {
                        "model": g.model,
                        "version": g.candidate.version,
                        "passed": g.passed,
                        "reason": g.reason,
                    }
                    for g in result.gates
                ],
                "evidence": [e.to_dict() for e in result.evidence],
            }
        )
    else:
        if result.report:
            click.echo(result.report)
        for p in result.problems:
            click.echo(p.format(str(reg.path)), err=True)
        if result.ok:
            click.echo(f"{reg.path}: ok")
    if not result.ok:
        raise SystemExit(1)


@models.command("pull")
@click.argument("spec", metavar="NAME[/VERSION|/STAGE|@ALIAS]")
@click.option(
    "--out", required=True, type=click.Path(file_okay=False), help="Folder to copy the model into."
)
@click.option(
    "--trust-pickle",
    is_flag=True,
    help="Copy it even when a pickle imports more than its flavor needs (a model you trust).",
)
@store_option
def pull(spec: str, out: str, trust_pickle: bool, store: str) -> None:
    """Copy a registered model to --out after verifying its hashes and scanning its
    pickles (nothing is unpickled)."""
    reg = _registry(store)
    mv = reg.resolve(spec)
    reg.pull(spec, Path(out), trust=trust_pickle)
    click.echo(f"{mv.name} v{mv.version} ({mv.stage}) → {out}")


@models.command("predict")
@click.argument("model_uri", metavar="MODEL-URI")
@click.option(
    "--input",
    "input_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="The rows to score: .parquet, .csv or .tsv.",
)
@click.option(
    "--output",
    "output_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="Where to write the predictions: .parquet or .csv.",
)
@store_option
def predict_cmd(model_uri: str, input_path: str, output_path: str, store: str) -> None:
    """Score a data file with a model (hashes checked first) on this machine."""
    from runsite.models.batch import predict_file

    n = predict_file(model_uri, input_path, output_path, store)
    click.echo(f"{n} predictions → {output_path}")


def _fmt(value: Any) -> str:
    from runsite import fmt

    return fmt.num(value, digits=5) if value is not None else "-"


@models.command("evaluate")
@click.argument("name")
@click.option(
    "--data", "data", required=True, type=click.Path(dir_okay=False), help="CSV/Parquet file."
)
@click.option("--target", required=True, help="The column holding the true values.")
@click.option(
    "--versions",
    metavar="LIST",
    help="Comma-separated versions, stages or aliases (default: production and staging).",
)
@click.option(
    "--model-type", type=click.Choice(["regressor", "classifier"]), help="Default: guessed."
)
@click.option("--experiment", help="Experiment of the evaluation runs (default NAME-evaluation).")
@click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE", help="Run tag (repeatable).")
@click.option("--drift-threshold", type=float, default=0.2, show_default=True, help="PSI.")
@click.option(
    "--propose", is_flag=True, help="Commit the decision and the evaluation runs on a branch."
)
@click.option("--branch", metavar="NAME", help="Branch for --propose (default: ACTION-NAME-vN).")
@click.option(
    "--trust-pickle",
    is_flag=True,
    help="Load versions even when a pickle imports more than its flavor needs (models you trust).",
)
@store_option
@json_option
def evaluate_cmd(
    name: str,
    data: str,
    target: str,
    versions: str | None,
    model_type: str | None,
    experiment: str | None,
    tags: tuple[str, ...],
    drift_threshold: float,
    propose: bool,
    branch: str | None,
    trust_pickle: bool,
    store: str,
    as_json: bool,
) -> None:
    """Score versions of NAME on new data, record one evaluation run per version, and
    give a verdict by the registry's key metric and gate. Exit 1 when a version could
    not be evaluated (its files fail their hash, or a pickle imports more than its
    flavor needs and --trust-pickle is not given: it is never unpickled)."""
    from runsite.registry.evaluate import evaluate_versions
    from runsite.registry.evaluate import propose as propose_change

    if branch and not propose:
        raise click.UsageError("--branch goes with --propose")
    tag_map = key_values(tags, "--tag")
    reg = _registry(store)
    specs = [v for v in (versions or "").split(",") if v.strip()] or None
    ev = evaluate_versions(
        reg,
        name,
        data,
        target,
        specs,
        model_type,
        experiment,
        tag_map,
        drift_threshold,
        trust=trust_pickle,
    )
    proposed = None
    if propose and ev.decision:
        done, sha, branch_name = propose_change(reg, ev, branch)
        proposed = {"branch": branch_name, "commit": sha, "change": done.summary}
    if as_json:
        echo_json({**ev.to_dict(), "proposed": proposed})
    else:
        keys = list(dict.fromkeys(k for r in ev.results for k in r.metrics))
        if ev.metric in keys:
            keys.remove(ev.metric)
            keys.insert(0, ev.metric)
        head = ["", *[f"v{r.version} ({r.stage})" for r in ev.results]]
        rows = [
            [k + (" *" if k == ev.metric else ""), *[_fmt(r.metrics.get(k)) for r in ev.results]]
            for k in keys
        ]
        rows.append(["latency ms/row", *[_fmt(r.latency_ms_per_row) for r in ev.results]])
        from runsite import fmt

        rows.append(
            ["size", *[fmt.size(r.size_bytes) if r.size_bytes else "-" for r in ev.results]]
        )
        rows.append(
            [
                "drift",
                *[
                    (
                        f"{len(r.drift['drifted'])} drifted"
                        + (f" ({', '.join(r.drift['drifted'][:3])})" if r.drift["drifted"] else "")
                        if r.drift.get("available")
                        else "unavailable"
                    )
                    for r in ev.results
                ],
            ]
        )
        rows.append(["run", *[r.run_id or "-" for r in ev.results]])
        click.echo(f"{name} on {ev.data['path']} ({ev.data['rows']} rows, {ev.data['hash'][:19]}…)")
        click.echo(table(head, rows))
        for r in ev.results:
            if r.error:
                click.echo(f"v{r.version}: not evaluated: {r.error}", err=True)
            elif not r.drift.get("available"):
                click.echo(f"v{r.version}: drift unavailable: {r.drift.get('reason')}")
        click.echo(f"* key metric ({ev.goal})\nverdict: {ev.verdict}")
        if proposed:
            click.echo(
                f"proposed on branch {proposed['branch']} ({proposed['commit'][:10]}): "
                f"{proposed['change']}; it takes effect when the pull request is merged"
            )
        elif propose:
            click.echo("nothing to propose")
    if not ev.ok:
        raise SystemExit(1)
