"""Data files the site's JavaScript reads: ``data/*.js`` pushed onto ``RUNSITE_DATA``.

Loaded with ``<script src>`` (a ``fetch`` of a local file fails from ``file://``). They are
JavaScript, not JSON, so NaN and ±Infinity travel as themselves. Columns, not objects:
10,000 runs stay a few MB. The shapes are documented in docs/site.md.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from runsite import attributes, validate

if TYPE_CHECKING:
    from runsite.site.collect import ExperimentView, SiteData
    from runsite.store import RunRecord


# A metric key the query language reads without quotes after ``metrics.``.
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def dataset_anchor(hash_text: str) -> str:
    """The id of a dataset's card on datasets.html (``d-`` and 16 hex digits of its
    hash); the run pages and the search index link to it."""
    return "d-" + hash_text.split(":")[-1][:16]


def _js(obj: Any) -> str:
    # json.dumps writes NaN / Infinity / -Infinity: valid JavaScript (not JSON), kept on
    # purpose; ensure_ascii keeps every string safe whatever it contains.
    return json.dumps(obj, separators=(",", ":"), allow_nan=True)


def push(payload: dict[str, Any]) -> str:
    return f"(window.RUNSITE_DATA=window.RUNSITE_DATA||[]).push({_js(payload)});\n"


def vocabulary_payload() -> dict[str, Any]:
    """``data/vocabulary.js``: the run attributes (runsite.attributes), which query.js and
    runs.js read rather than keep a list of their own."""
    return {"kind": "vocabulary", **attributes.vocabulary()}


def experiment_payload(
    view: ExperimentView,
    run_path: Any,
    versions: dict[str, list[tuple[str, str]]] | None = None,
) -> dict[str, Any]:
    """The experiment's runs as columns; ``versions`` (run id → ("name vN", page)) adds
    ``runs.versions``: the registered versions each run became (``null`` for none)."""
    runs = view.runs
    params = sorted({k for r in runs for k in r.params})
    tags = sorted({k for r in runs for k in r.tags})
    metrics = sorted({k for r in runs for k in r.metrics})
    return {
        "kind": "experiment",
        "slug": view.slug,
        "name": view.experiment.name,
        "keyMetric": view.key_metric,
        "goal": view.goal,
        "runs": {
            **{a.column: [getattr(r, a.name) for r in runs] for a in attributes.ATTRIBUTES},
            "url": [run_path(r.run_id) for r in runs],
            **(
                {"versions": [[list(v) for v in versions.get(r.run_id, [])] or None for r in runs]}
                if versions
                else {}
            ),
        },
        "params": {
            k: [validate.canonical_str(r.params[k]) if k in r.params else None for r in runs]
            for k in params
        },
        "tags": {k: [r.tags.get(k) for r in runs] for k in tags},
        "metrics": {
            k: {
                agg: [r.metrics[k][agg] if k in r.metrics else None for r in runs]
                for agg in ("last", "min", "max", "count")
            }
            for k in metrics
        },
    }


def run_payload(
    run: RunRecord, series: dict[str, dict[str, list[Any]]], url: str
) -> dict[str, Any]:
    return {
        "kind": "run",
        **{a.column: getattr(run, a.name) for a in attributes.ATTRIBUTES},
        "url": url,
        "experimentId": run.experiment_id,
        "params": {k: validate.canonical_str(v) for k, v in sorted(run.params.items())},
        "tags": dict(sorted(run.tags.items())),
        "inputs": [{"name": i.get("name"), "hash": i.get("hash")} for i in run.inputs],
        "metrics": {
            k: {agg: m[agg] for agg in ("last", "min", "max", "count")}
            for k, m in sorted(run.metrics.items())
        },
        "series": series,
    }


def search_payload(
    data: SiteData, run_path: Any, experiment_path: Any, model_path: Any
) -> dict[str, Any]:
    """Entries ``[kind, title, detail, url, text]``; ``text`` is what matching looks at
    (lower-cased), ``url`` is relative to the site root."""
    from runsite.site.collect import guess_goal

    entries: list[list[str]] = []
    for view in data.experiments:
        exp = view.experiment
        entries.append(
            [
                "experiment",
                exp.name,
                f"{len(view.runs)} runs",
                experiment_path(view.slug),
                f"{exp.name} {view.slug} {' '.join(exp.tags.values())}".lower(),
            ]
        )
    for view in data.experiments:
        # One entry per metric key of an experiment: finds "rmse" without repeating the
        # name in 10,000 run entries; opens the runs table sorted best first.
        counts = Counter(k for r in view.runs for k in r.metrics)
        for key, n in sorted(counts.items()):
            order = "ASC" if guess_goal(key) == "minimize" else "DESC"
            ident = f"metrics.{key}" if _PLAIN_KEY.match(key) else f"metrics.`{key}`"
            entries.append(
                [
                    "metric",
                    key,
                    f"{view.experiment.name} · {n} run{'' if n == 1 else 's'}",
                    f"{experiment_path(view.slug)}#{urlencode({'sort': f'{ident} {order}'})}",
                    f"{key} {view.experiment.name} {view.slug}".lower(),
                ]
            )
    for run in sorted(data.runs.values(), key=lambda r: r.start_time, reverse=True):
        words = [
            run.run_name,
            run.run_id,
            run.experiment,
            *run.tags.values(),
            *(f"{k}={validate.canonical_str(v)}" for k, v in run.params.items()),
        ]
        entries.append(
            [
                "run",
                run.run_name,
                f"{run.experiment} · {run.status.lower()}",
                run_path(run.run_id),
                " ".join(words).lower(),
            ]
        )
    for model in data.models:
        entries.append(
            [
                "model",
                model.name,
                f"{len(model.versions)} versions",
                model_path(model.name),
                f"{model.name} {' '.join(model.tags.values())}".lower(),
            ]
        )
        for mv in model.versions:
            entries.append(
                [
                    "version",
                    f"{model.name} v{mv.version}",
                    mv.stage,
                    model_path(model.name),
                    " ".join(
                        # the source run's id only when that run is published
                        [model.name, f"v{mv.version}", mv.stage, *mv.aliases]
                        + ([mv.run_id] if mv.run_id in data.runs else [])
                    ).lower(),
                ]
            )
    for ds in data.datasets:
        anchor = dataset_anchor(ds.hash)
        title = ", ".join(ds.names) or ds.hash[7:19]
        entries.append(
            [
                "dataset",
                title,
                ds.hash[7:19],
                f"datasets.html#{anchor}",
                f"{' '.join(ds.names)} {' '.join(ds.paths)} {ds.hash}".lower(),
            ]
        )
    return {"kind": "search", "entries": entries}
