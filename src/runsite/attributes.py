"""The run-row vocabulary: a run's attributes, their types, aliases and data-file columns,
defined once.

Everything that shows or filters a run's attributes reads this table: the rows of
``search_runs`` (``RunRecord.to_row``), the query language (names, aliases, which compare
as numbers), the pandas frame, and the site: its data files name their ``runs`` columns
after it, and the build writes it to ``data/vocabulary.js``, which ``query.js`` and
``runs.js`` read instead of keeping a list of their own (docs/architecture.md).

An attribute's ``name`` is also the name of the ``RunRecord`` property that holds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The types of an attribute's value.
TEXT = "text"  # a string (or missing)
TIME = "time"  # milliseconds since the epoch, an int
DURATION = "duration"  # milliseconds, an int
FLAG = "flag"  # a bool; the query language compares it as the text 'true' / 'false'
NUMERIC_TYPES = (TIME, DURATION)  # compared and sorted as numbers


@dataclass(frozen=True)
class Attribute:
    name: str  # attributes.<name> in the query language; the RunRecord property
    type: str  # TEXT, TIME, DURATION or FLAG
    column: str  # runs.<column> in the site's data files (short: 100,000 runs)


ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute("run_id", TEXT, "id"),
    Attribute("run_name", TEXT, "name"),
    Attribute("status", TEXT, "status"),
    Attribute("start_time", TIME, "start"),
    Attribute("end_time", TIME, "end"),
    Attribute("duration", DURATION, "duration"),
    Attribute("user", TEXT, "user"),
    Attribute("host", TEXT, "host"),
    Attribute("experiment", TEXT, "experiment"),
    Attribute("commit", TEXT, "commit"),
    Attribute("dirty", FLAG, "dirty"),
    Attribute("parent_run_id", TEXT, "parent"),
)
BY_NAME: dict[str, Attribute] = {a.name: a for a in ATTRIBUTES}
NAMES: tuple[str, ...] = tuple(BY_NAME)
NUMERIC: frozenset[str] = frozenset(a.name for a in ATTRIBUTES if a.type in NUMERIC_TYPES)
# Other names the query language accepts (MLflow's among them), in the order errors list them.
ALIASES: dict[str, str] = {
    "id": "run_id",
    "name": "run_name",
    "user_id": "user",
    "created": "start_time",
}
# MLflow's fields of a data input (``datasets.<field>``): a run matches when one input does.
DATASET_FIELDS: tuple[str, ...] = ("name", "digest", "context")


def values(run: Any) -> dict[str, Any]:
    """``{name: value}`` of every attribute of ``run`` (a ``RunRecord``)."""
    return {name: getattr(run, name) for name in NAMES}


def vocabulary() -> dict[str, Any]:
    """The vocabulary as JSON-ready data, for the site's JavaScript."""
    return {
        "attributes": [{"name": a.name, "type": a.type, "column": a.column} for a in ATTRIBUTES],
        "numericTypes": list(NUMERIC_TYPES),
        "aliases": dict(ALIASES),
        "datasetFields": list(DATASET_FIELDS),
    }
