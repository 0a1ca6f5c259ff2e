"""``runsite sql`` and ``runsite export``: the store as data (see docs/storage.md#sql)."""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

import click

from runsite import fmt
from runsite.cli.common import echo_json, store_option, table


def _json_value(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    if isinstance(v, list):
        return [_json_value(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _json_value(x) for k, x in v.items()}
    return v


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return fmt.num(v, digits=6)
    if isinstance(v, list | dict):
        return json.dumps(_json_value(v), ensure_ascii=False, default=str)
    return str(v)


def _csv_cell(v: Any) -> str:
    """Full precision (a table rounds to 6 digits); nested values as JSON."""
    if v is None:
        return ""
    if isinstance(v, float | list | dict):
        j = _json_value(v)
        return j if isinstance(j, str) else json.dumps(j, ensure_ascii=False, default=str)
    return str(v)


@click.command("sql")
@click.argument("query", metavar="QUERY")
@click.option("--json", "as_json", is_flag=True, help="Print the rows as a JSON list.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV (a header line, then the rows).")
@store_option
def sql_cmd(query: str, as_json: bool, as_csv: bool, store: str) -> None:
    """Run a SQL query (DuckDB) over the store's views: runs, params, tags, latest_metrics,
    metrics, inputs, artifacts, experiments, model_versions (docs/storage.md#sql)."""
    from runsite import sql

    if as_json and as_csv:
        raise click.UsageError("give --json or --csv, not both")
    result = sql.query(query, store)
    names = list(result.column_names)
    rows = sql.rows(result)
    if as_json:
        echo_json([{k: _json_value(v) for k, v in r.items()} for r in rows])
    elif as_csv:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(names)
        for r in rows:
            writer.writerow([_csv_cell(r[n]) for n in names])
        click.echo(buf.getvalue(), nl=False)
    elif names:
        click.echo(table(names, [[_cell(r[n]) for n in names] for r in rows]))
        click.echo(f"({len(rows)} row{'' if len(rows) == 1 else 's'})", err=True)


@click.group("export")
def export() -> None:
    """Export the store's tables for other engines."""


@export.command("parquet")
@click.argument("out_dir", metavar="DIR", type=click.Path(file_okay=False))
@store_option
def export_parquet_cmd(out_dir: str, store: str) -> None:
    """Write every view of `runsite sql` as DIR/<view>.parquet."""
    from runsite import sql

    counts = sql.export_parquet(out_dir, store)
    click.echo(table(["FILE", "ROWS"], [[f"{out_dir}/{k}.parquet", n] for k, n in counts.items()]))
