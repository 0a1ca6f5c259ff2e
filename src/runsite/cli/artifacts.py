"""``runsite artifacts``: finish uploads to object storage (see docs/storage.md)."""

from __future__ import annotations

from pathlib import Path

import click

from runsite.cli.common import Group, echo_json, json_option, store_option, table


@click.group(cls=Group)
def artifacts() -> None:
    """Artifacts kept in object storage."""


@artifacts.command("pending")
@store_option
@json_option
def pending_cmd(store: str, as_json: bool) -> None:
    """List artifact uploads that have not finished on this machine."""
    from runsite import objstore

    todo = objstore.pending(Path(store))
    if as_json:
        echo_json(todo)
        return
    rows = [[d.get("run_id"), d.get("path"), d.get("size"), d.get("url")] for d in todo]
    click.echo(table(["RUN", "PATH", "SIZE", "URL"], rows) if rows else "no pending uploads")


@artifacts.command("push")
@store_option
def push_cmd(store: str) -> None:
    """Upload every pending artifact (e.g. after working offline); exit 1 if any fails."""
    from runsite import objstore
    from runsite.errors import RunsiteError

    done, errors = objstore.push(Path(store))
    for d in done:
        click.echo(f"uploaded {d.get('path')} of run {d.get('run_id')} to {d.get('url')}")
    if errors:
        raise RunsiteError(f"{len(errors)} uploads failed; they stay pending: " + "; ".join(errors))
    if not done:
        click.echo("nothing to push")


@artifacts.command("gc")
@click.option("--yes", is_flag=True, help="Remove the objects (default: only list them).")
@store_option
@json_option
def gc_cmd(yes: bool, store: str, as_json: bool) -> None:
    """List (or, with --yes, remove) objects in the artifact store that no run of this
    checkout references. Merge or fetch every branch whose runs you keep first."""
    from runsite import objstore

    cfg = objstore.load_config(Path(store))
    garbage = objstore.collect_garbage(Path(store), delete=yes)
    if as_json:
        echo_json([{"sha256": k, "size": v, "removed": yes} for k, v in garbage.items()])
        return
    for sha, size in garbage.items():
        url = cfg.object_url(sha) if cfg else sha
        click.echo(f"{'removed' if yes else 'unreferenced'}  {size:>12}  {url}")
    total = sum(garbage.values())
    verb = "removed" if yes else "would remove (run with --yes)"
    click.echo(f"{len(garbage)} objects, {total} bytes: {verb}")
