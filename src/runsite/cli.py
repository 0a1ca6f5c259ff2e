"""The ``runsite`` command: a thin translation of the library into click commands.

Library errors (``RunsiteError``) become one line on stderr and exit code 1; usage
errors are click's (exit code 2). No traceback for a user's mistake.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from runsite import __version__, fmt
from runsite.cli_common import Group, echo_json, json_option, store_option, table


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


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="runsite")
def main() -> None:
    """runsite: experiment tracking and a model registry with no server."""


# ---------------------------------------------------------------------- experiments


@main.group()
def experiments() -> None:
    """List the experiments of a store."""


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


# ---------------------------------------------------------------------- runs


@main.group()
def runs() -> None:
    """List, show and search runs."""


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
    _warn(st)


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


def _add_groups() -> None:
    from runsite.cli_artifacts import artifacts
    from runsite.cli_init import init_cmd
    from runsite.cli_models import models
    from runsite.cli_site import build_cmd, serve_cmd

    main.add_command(models)
    main.add_command(artifacts)
    main.add_command(build_cmd)
    main.add_command(serve_cmd)
    main.add_command(init_cmd)


_add_groups()

if __name__ == "__main__":  # pragma: no cover
    main()
