"""``runsite experiments …`` and ``runsite runs …``: the store on the command line."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from runsite import fmt
from runsite.cli.common import Group, echo_json, json_option, store_option, table


def _open_store(path: str) -> Any:
    from runsite.store import Store

    return Store(path)


def _time(ms: int | None) -> str:
    return fmt.time(ms, seconds=True).removesuffix(" UTC")


def _num(value: Any) -> str:
    return fmt.num(value, digits=6)


def _warn(store: Any) -> None:
    for w in dict.fromkeys(store.warnings):
        click.echo(f"warning: {w}", err=True)


# ---------------------------------------------------------------------- experiments


@click.group(cls=Group)
def experiments() -> None:
    """List the experiments of a store and set their description and key metric."""


@experiments.command("list")
@store_option
@json_option
def experiments_list(store: str, as_json: bool) -> None:
    """List experiments with their run counts and last activity."""
    st = _open_store(store)
    out = []
    for exp in st.experiments():
        runs = st.runs(exp.experiment_id)
        out.append(
            {
                "experiment_id": exp.experiment_id,
                "name": exp.name,
                "runs": len(runs),
                "last_start_time": max((r.start_time for r in runs), default=None),
            }
        )
    if as_json:
        echo_json(out)
    else:
        rows = [
            [e["experiment_id"], e["name"], e["runs"], _time(e["last_start_time"])] for e in out
        ]
        click.echo(table(["ID", "NAME", "RUNS", "LAST RUN (UTC)"], rows))
    _warn(st)


@experiments.command("set")
@click.argument("experiment")
@click.option("--description", help="Markdown shown on the experiment's page ('' removes it).")
@click.option(
    "--description-file",
    type=click.File("r", encoding="utf-8"),
    help="Read it from a file ('-': stdin).",
)
@click.option("--key-metric", help="The metric the site ranks runs by ('' removes it).")
@store_option
def experiments_set(
    experiment: str,
    description: str | None,
    description_file: Any,
    key_metric: str | None,
    store: str,
) -> None:
    """Set EXPERIMENT's description and/or key metric (in its experiment.yaml, keeping
    the file's comments)."""
    if description is not None and description_file is not None:
        raise click.UsageError("give --description or --description-file, not both")
    if description_file is not None:
        description = description_file.read()
    if description is None and key_metric is None:
        raise click.UsageError("give --description, --description-file or --key-metric")
    exp = _open_store(store).update_experiment(
        experiment, description=description, key_metric=key_metric
    )
    click.echo(
        f"{exp.name}: key metric {exp.key_metric or '(the one most runs log first)'}, "
        f"description {len(exp.description)} characters ({exp.path}/experiment.yaml)"
    )


# ---------------------------------------------------------------------- runs


@click.group(cls=Group)
def runs() -> None:
    """List, show, search and delete runs."""


def _runs_output(found: Sequence[Any], as_json: bool) -> None:
    if as_json:
        echo_json([r.to_dict() for r in found])
        return
    rows = []
    for r in found:
        shown = list(r.metrics.items())[:3]
        metrics = ", ".join(f"{k}={_num(v['last'])}" for k, v in shown)
        if len(r.metrics) > 3:
            metrics += ", …"
        commit = (r.commit or "-")[:8] + ("*" if r.dirty else "")
        rows.append(
            [
                r.run_id,
                r.run_name,
                r.experiment_id,
                r.status,
                _time(r.start_time),
                fmt.duration(r.duration),
                commit,
                metrics,
            ]
        )
    click.echo(
        table(
            [
                "RUN ID",
                "NAME",
                "EXPERIMENT",
                "STATUS",
                "START (UTC)",
                "DURATION",
                "COMMIT",
                "METRICS (last)",
            ],
            rows,
        )
    )


@runs.command("list")
@click.argument("experiment", required=False)
@click.option("--max-results", type=click.IntRange(min=1), help="Show at most this many runs.")
@store_option
@json_option
def runs_list(experiment: str | None, max_results: int | None, store: str, as_json: bool) -> None:
    """List runs (of EXPERIMENT, or of all experiments), newest first."""
    st = _open_store(store)
    found = st.runs(experiment)
    _runs_output(found[:max_results] if max_results else found, as_json)
    _warn(st)


@runs.command("show")
@click.argument("run_id")
@store_option
@json_option
def runs_show(run_id: str, store: str, as_json: bool) -> None:
    """Show one run: RUN_ID or an unambiguous prefix of it."""
    st = _open_store(store)
    r = st.run(run_id)
    if as_json:
        from runsite.objstore import pending

        echo_json({**r.to_dict(), "pending_uploads": pending(st.root, r.run_id)})
        _warn(st)
        return
    git = r.git or {}
    lines = [
        f"run        {r.run_id}  ({r.run_name})",
        f"experiment {r.experiment}",
        f"status     {r.status}",
        f"started    {_time(r.start_time)} UTC   duration {fmt.duration(r.duration)}",
        f"user       {r.user}@{r.host}",
        f"git        {git.get('commit') or '-'} {git.get('branch') or ''}"
        + ("  DIRTY" if git.get("dirty") else ""),
    ]
    if r.parent_run_id:
        lines.append(f"parent     {r.parent_run_id}")
    from runsite.objstore import pending

    waiting = pending(st.root, r.run_id)
    if waiting:
        lines.append(
            f"uploads    {len(waiting)} PENDING (run `runsite artifacts push`): "
            + ", ".join(str(d.get("path")) for d in waiting)
        )
    click.echo("\n".join(lines))
    if r.params:
        click.echo("\nparams")
        click.echo(table(["KEY", "VALUE"], sorted(r.params.items())))
    if r.metrics:
        click.echo("\nmetrics")
        rows = [
            [k, _num(v["last"]), _num(v["min"]), _num(v["max"]), v["count"]]
            for k, v in sorted(r.metrics.items())
        ]
        click.echo(table(["KEY", "LAST", "MIN", "MAX", "POINTS"], rows))
    if r.tags:
        click.echo("\ntags")
        click.echo(table(["KEY", "VALUE"], sorted(r.tags.items())))
    if r.inputs:
        click.echo("\ninputs")
        click.echo(
            table(
                ["NAME", "PATH", "HASH", "SIZE"],
                [
                    [i.get("name"), i.get("path"), str(i.get("hash"))[:19], i.get("size")]
                    for i in r.inputs
                ],
            )
        )
    if r.artifacts:
        click.echo("\nartifacts")
        click.echo(table(["PATH", "SIZE"], [[a.get("path"), a.get("size")] for a in r.artifacts]))
    for note in r.notes:
        click.echo(f"\nnote\n{note['text']}")
    if r.error:
        click.echo(f"\nerror\n{r.error['traceback'].rstrip()}")
    _warn(st)


@runs.command("delete")
@click.argument("run_ids", metavar="RUN...", nargs=-1, required=True)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@store_option
def runs_delete(run_ids: tuple[str, ...], yes: bool, store: str) -> None:
    """Delete runs (ids or unambiguous prefixes): their folders are removed. Refuses a
    run a registered version comes from, naming the version, and deletes nothing then."""
    import runsite

    found = runsite.delete_runs(list(run_ids), store=store, dry_run=True)
    rows = [[r.run_id, r.run_name, r.experiment_id, r.status, _time(r.start_time)] for r in found]
    click.echo(table(["RUN ID", "NAME", "EXPERIMENT", "STATUS", "START (UTC)"], rows))
    what = f"{len(found)} run{'' if len(found) == 1 else 's'}"
    if not yes:
        click.confirm(f"Delete {what} (their folders, with every artifact)?", abort=True)
    runsite.delete_runs([r.run_id for r in found], store=store)
    click.echo(f"deleted {what}; commit the removal (git add -A {store}) to publish it")


@runs.command("search")
@click.argument("filter_string", metavar="FILTER", default="")
@click.option("--order-by", multiple=True, help="e.g. 'metrics.rmse ASC' (repeatable).")
@click.option("--experiment", "experiments_", multiple=True, help="Limit to these experiments.")
@click.option("--max-results", type=click.IntRange(min=1), help="Show at most this many runs.")
@store_option
@json_option
def runs_search(
    filter_string: str,
    order_by: tuple[str, ...],
    experiments_: tuple[str, ...],
    max_results: int | None,
    store: str,
    as_json: bool,
) -> None:
    """Search runs with a filter such as "metrics.rmse < 6 and params.model = 'xgb'"
    (grammar: docs/search.md)."""
    st = _open_store(store)
    found = st.search_runs(
        filter_string,
        order_by=list(order_by) or None,
        experiment_names=list(experiments_) or None,
        max_results=max_results,
    )
    _runs_output(found, as_json)
    _warn(st)


@runs.command("check")
@click.option(
    "--base",
    "base_ref",
    metavar="REF",
    required=True,
    help="The branch the change goes into (e.g. origin/main); the check covers the commits "
    "since HEAD left it.",
)
@click.option(
    "--summary",
    type=click.Path(dir_okay=False),
    help="Append the markdown report to this file ($GITHUB_STEP_SUMMARY).",
)
@store_option
@json_option
def runs_check(base_ref: str, summary: str | None, store: str, as_json: bool) -> None:
    """Check the runs a branch adds, changes or deletes (what CI runs on a pull request):
    closed runs unchanged, run ids equal to their folders and unique, records readable.

    Both sides are read from git objects, not the working tree. Exits 1 on any problem."""
    from pathlib import Path

    from runsite.registry.runs_check import check_runs

    result = check_runs(Path(store), base_ref)
    if summary:
        with open(summary, "a", encoding="utf-8") as f:
            f.write(result.report + "\n")
    if as_json:
        echo_json(
            {
                "ok": result.ok,
                "base": result.base_commit,
                "head": result.head_commit,
                "changes": [
                    {"run": c.folder, "change": c.kind, "closed_at_base": c.closed_at_base}
                    for c in result.changes
                ],
                "problems": [
                    {"run": p.folder, "rule": p.rule, "message": p.message} for p in result.problems
                ],
                "warnings": result.warnings,
            }
        )
    else:
        counts = {
            k: sum(c.kind == k for c in result.changes) for k in ("added", "modified", "deleted")
        }
        click.echo(
            f"{store}: {', '.join(f'{n} run(s) {k}' for k, n in counts.items())} "
            f"since {base_ref} ({result.base_commit[:8]})"
        )
        for p in result.problems:
            click.echo(f"{p.format()} [{p.rule}]", err=True)
        for w in result.warnings:
            click.echo(f"warning: {w}", err=True)
        if result.ok:
            click.echo(f"{store}: ok")
    if not result.ok:
        raise SystemExit(1)
