"""Stage 2 of a build: turn collected data into pages (path, HTML).

Every URL is relative (``root`` climbs from a page to the site root), so the site works
from ``file://``, from a sub-path on GitHub Pages and behind any static server. Pages are
flat files (``runs/<id>.html``, not ``runs/<id>/``): a folder link opens a directory
listing from ``file://``.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from runsite import fmt, validate
from runsite.registry import evidence
from runsite.site import charts, markup, theme, versions
from runsite.site import data as data_files
from runsite.site.collect import ExperimentView, SiteData, dataset_groups
from runsite.site.config import SiteConfig
from runsite.store import RunRecord
from runsite.version import __version__

TEXT_PREVIEW_BYTES = 100_000
CHART_RUNS = 2_000  # runs drawn in an experiment's overview charts (the newest)
SYSTEM_PREFIX = "system/"  # runsite.system_metrics' keys (MLflow's names)
CHARTS_SHOWN = 6  # charts drawn at once on a page; the rest behind "N more metrics"
FALLBACK_ROWS = 500  # rows of the no-JavaScript runs table
TABLE_PREVIEW_ROWS = 50
IMAGE_EXT = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg"}
TEXT_EXT = {".txt", ".log", ".py", ".patch", ".diff", ".toml", ".ini", ".cfg", ".sh", ".r", ".sql"}


@dataclass
class PageContext:
    path: str
    html: str
    origin: str


def _kind(path: str) -> str:
    ext = Path(path).suffix.lower()
    if ext in IMAGE_EXT:
        return "image"
    if ext in (".md", ".markdown"):
        return "markdown"
    if ext in (".html", ".htm"):
        return "html"
    if ext == ".json":
        return "json"
    if ext in (".yaml", ".yml"):
        return "yaml"
    if ext in (".csv", ".tsv"):
        return "table"
    if ext in TEXT_EXT:
        return "text"
    return "file"


class Renderer:
    COMPARE_PATH = "compare.html"

    def __init__(
        self, data: SiteData, cfg: SiteConfig, theme_info: theme.Theme, built_at: int | None
    ) -> None:
        self.data = data
        self.cfg = cfg
        self.built_at = built_at
        self.warnings: list[str] = []
        self._fetch_memo: dict[str, Path | None] = {}
        self._storage: Any = False  # the store's object storage settings, read when needed
        self.env = theme.environment(
            theme_info.dirs,
            {
                "dt": fmt.time,
                "dur": fmt.duration,
                "num": fmt.num,
                "size": fmt.size,
                "markdown": lambda text: theme.Markup(markup.render(text)),
                "short": lambda sha: (sha or "")[:8],
                "anchor": lambda h: data_files.dataset_anchor(str(h)),
            },
            sandboxed=theme_info.sandboxed,
        )
        self.children: dict[str, list[str]] = {}
        for run in data.runs.values():
            if run.parent_run_id:
                self.children.setdefault(run.parent_run_id, []).append(run.run_id)
        for kids in self.children.values():
            kids.sort()
        self.versions_by_run: dict[str, list[Any]] = versions.versions_by_run(data.models)
        self.exp_by_slug = {e.slug: e for e in data.experiments}
        self._columns: dict[str, tuple[list[RunRecord], list[data_files.TableColumn]]] = {}
        # What every page shows besides its own data (a run page's cache key adds its own).
        self.context_key = hashlib.sha256(
            json.dumps([data.title, data.github, built_at]).encode()
        ).hexdigest()[:16]

    def experiment_name(self, run: RunRecord) -> str:
        view = self.exp_by_slug.get(run.experiment_id)
        return view.experiment.name if view else run.experiment

    # ------------------------------------------------------------------ paths

    @staticmethod
    def run_path(run_id: str) -> str:
        return f"runs/{run_id}.html"

    @staticmethod
    def experiment_path(slug: str) -> str:
        return f"experiments/{slug}.html"

    @staticmethod
    def model_path(name: str) -> str:
        return f"models/{name}.html"

    @staticmethod
    def version_path(name: str, version: int) -> str:
        return versions.version_path(name, version)

    def _render(self, template: str, path: str, origin: str, **ctx: Any) -> PageContext:
        root = "../" * path.count("/")
        context = dict(
            root=root,
            site={
                "title": self.data.title,
                "version": __version__,
                "built_at": self.built_at,
                "github": self.data.github,
                "history_file": self.data.history_file,
                "has_models": bool(self.data.models),
            },
            run_path=self.run_path,
            experiment_path=self.experiment_path,
            model_path=self.model_path,
            version_path=self.version_path,
            runs_by_id=self.data.runs,
            nav="",
            **ctx,
        )
        return PageContext(path, theme.render(self.env, template, context), origin)

    # ------------------------------------------------------------------ index pages

    def index_pages(self) -> list[PageContext]:
        """Home, registry, model, datasets and 404 pages (experiment pages: see
        ``experiment_page``)."""
        d = self.data
        recent = sorted(d.runs.values(), key=lambda r: r.start_time, reverse=True)[:10]
        pages = [
            self._render(
                "home.html",
                "index.html",
                "the home page",
                experiments=d.experiments,
                recent=recent,
                models=d.models,
            ),
            self._render(
                "registry.html",
                "registry.html",
                "the registry page",
                models=d.models,
                history=d.history,
                problems=d.registry_problems,
                metrics=self._version_metrics(),
            ),
            self._render(
                "datasets.html",
                "datasets.html",
                "the datasets page",
                datasets=d.datasets,
                groups=dataset_groups(d.datasets),
                dataset_versions=versions.dataset_links(d.models, d.runs),
            ),
            self._render("404.html", "404.html", "the 404 page"),
        ]
        for model in d.models:
            pages += self.model_pages(model)
        return pages

    def model_pages(self, model: Any) -> list[PageContext]:
        """The model's page (its versions compared on the latest common evaluation) and
        a page per version."""
        d = self.data
        runs = list(d.runs.values())
        records = evidence.evaluations_of(model.name, runs)
        metric, goal = evidence.key_metric(
            model, [r for mv in model.versions if (r := d.runs.get(mv.run_id))] + runs
        )
        timeline = [t for t in d.history or [] if t.model == model.name]
        data_hash, common = versions.latest_common(records)
        common_views = versions.evaluation_views(common, d.runs, self.run_path)
        chart = None
        if metric and records:
            rows = versions.chart_rows(
                versions.evaluation_views(records, d.runs, self.run_path),
                metric,
                "../",
                by_version=True,
            )
            if rows:
                chart = self._chart("chart-evaluations", metric, rows, by_version=True)
        pages = [
            self._render(
                "model.html",
                self.model_path(model.name),
                f"model {model.name}",
                model=model,
                history=d.history is not None,
                timeline=timeline,
                metrics=self._version_metrics(),
                key_metric=metric,
                goal=goal,
                common=common_views,
                common_hash=data_hash,
                common_columns=versions.metric_columns(metric, common),
                evaluations=records,
                eval_chart=chart,
            )
        ]
        for mv in model.versions:
            pages.append(self.version_page(model, mv, metric, goal, records, timeline))
        return pages

    def _chart(self, cid: str, metric: str, rows: list[dict[str, Any]], **kw: Any) -> Any:
        return {
            "id": cid,
            "key": metric,
            "json": theme.Markup(charts.to_json(charts.evaluation_chart(metric, rows, **kw))),
            "controls": False,
            "defer": False,
            "notes": [],
        }

    def version_page(
        self,
        model: Any,
        mv: Any,
        metric: str | None,
        goal: str,
        records: list[Any],
        timeline: list[Any],
    ) -> PageContext:
        run = self.data.runs.get(mv.run_id)
        meta: dict[str, Any] = self._model_meta(run, mv.artifact) if run else {}
        example = None
        if run and meta:
            with contextlib.suppress(Exception):
                folder = validate.confined(run.artifacts_dir, mv.artifact, "model folder")
                example = versions.read_example(folder, meta)
        mine = [r for r in records if r.version == mv.version]
        views = versions.evaluation_views(mine, self.data.runs, self.run_path)
        chart = None
        if metric:
            rows = versions.chart_rows(views, metric, "../../")
            if rows:
                chart = self._chart("chart-version", metric, rows)
        path = self.version_path(model.name, mv.version)
        return self._render(
            "version.html",
            path,
            f"model {model.name} v{mv.version}",
            model=model,
            mv=mv,
            run=run,
            experiment=self.exp_by_slug.get(run.experiment_id) if run else None,
            meta=meta,
            example=example,
            key_metric=metric,
            goal=goal,
            evaluations=list(reversed(views)),  # newest first in the table
            columns=versions.metric_columns(metric, mine),
            eval_chart=chart,
            history=self.data.history is not None,
            timeline=[t for t in timeline if t.version == mv.version],
            dataset_ids={
                i.get("hash"): data_files.dataset_anchor(str(i.get("hash")))
                for i in (run.inputs if run else [])
            },
        )

    def _version_metrics(self) -> dict[tuple[str, int], tuple[str, float] | None]:
        """(model, version) → (metric, value) shown beside registered versions: the
        model's gate metric, else its experiment's key metric."""
        out: dict[tuple[str, int], tuple[str, float] | None] = {}
        for model in self.data.models:
            for mv in model.versions:
                run = self.data.runs.get(mv.run_id)
                metric = model.policy.get("metric")
                if metric is None and run is not None:
                    view = self.exp_by_slug.get(run.experiment_id)
                    metric = view.key_metric if view else None
                value = run.metrics.get(metric, {}).get("last") if run and metric else None
                out[(model.name, mv.version)] = (
                    (metric, value) if metric and value is not None else None
                )
        return out

    def experiment_outputs(self, view: ExperimentView) -> list[PageContext]:
        """The experiment's page and its runs table's manifest (the chunks: see
        ``experiment_chunks``)."""
        columns = self.table_columns(view)
        varying = self.varying(view)
        prefix, suffix = self.run_path("\0").split("\0")  # the JS makes a run's link
        rows = list(reversed(view.runs))  # oldest first
        manifest = data_files.experiment_manifest(
            view,
            columns,
            {f"params.{k}" for k in varying} | {f"tags.{k}" for k in self._varying_tags(view)},
            quote(self.experiment_chunk_folder(view.slug)),
            (prefix, suffix),
            self._run_versions(view.runs),
            rows,
        )
        if manifest["chunks"] == 1:
            # one chunk: every column in the manifest, one file instead of dozens
            manifest["inline"] = [
                data_files.chunk_payload(view.slug, c, 0, c.values(rows)) for c in columns
            ]
        else:
            # the newest rows: the table's first page shows them without a chunk file
            first = max(0, len(rows) - data_files.HEAD_ROWS)
            manifest["head"] = [
                data_files.chunk_payload(view.slug, c, -1, c.values(rows[first:]), first)
                for c in columns
            ]
        return [
            self.experiment_page(view, varying),
            PageContext(
                self.experiment_data_path(view.slug),
                data_files.push(manifest),
                f"experiment {view.slug}",
            ),
        ]

    @staticmethod
    def experiment_chunk_folder(slug: str) -> str:
        return f"data/experiments/{slug}/"

    def experiment_chunk_path(self, slug: str, column: data_files.TableColumn, chunk: int) -> str:
        return f"{self.experiment_chunk_folder(slug)}{column.file}-{chunk}.js"

    def experiment_chunks(
        self,
        view: ExperimentView,
        rows: list[RunRecord],
        chunk: int,
        columns: list[data_files.TableColumn],
    ) -> list[PageContext]:
        """Chunk ``chunk`` of each of ``columns``: ``rows`` are that chunk's runs."""
        return [
            PageContext(
                self.experiment_chunk_path(view.slug, c, chunk),
                data_files.push(data_files.chunk_payload(view.slug, c, chunk, c.values(rows))),
                f"experiment {view.slug}",
            )
            for c in columns
        ]

    def table_columns(self, view: ExperimentView) -> list[data_files.TableColumn]:
        """The runs table's columns (data_files.table_columns), worked out once a build."""
        memo = self._columns.get(view.slug)
        if memo is None or memo[0] is not view.runs:
            memo = self._columns[view.slug] = (view.runs, data_files.table_columns(view.runs))
        return memo[1]

    def varying(self, view: ExperimentView) -> list[str]:
        """The params whose values differ between the experiment's runs (missing counts
        as the text 'None')."""
        keys = [c.key for c in self.table_columns(view) if c.section == "params"]
        runs = view.runs
        out = []
        for k in keys:
            first = validate.canonical_str(runs[0].params.get(k))
            # stops at the first run that differs: a swept param costs a few runs, not all
            if any(validate.canonical_str(r.params.get(k)) != first for r in runs):
                out.append(k)
        return out

    def _varying_tags(self, view: ExperimentView) -> list[str]:
        keys = [c.key for c in self.table_columns(view) if c.section == "tags"]
        return [k for k in keys if data_files.varies(r.tags.get(k) for r in view.runs)]

    def _run_versions(self, runs: list[RunRecord]) -> dict[str, list[tuple[str, str]]]:
        """Run id → ("name vN", page) of the versions each run became."""
        return {
            r.run_id: [
                (f"{mv.name} v{mv.version}", self.version_path(mv.name, mv.version))
                for mv in self.versions_by_run[r.run_id]
            ]
            for r in runs
            if r.run_id in self.versions_by_run
        }

    def experiment_page(self, view: ExperimentView, varying: list[str]) -> PageContext:
        # (the keys the table's columns were made of: not found again in 100,000 runs)
        columns = self.table_columns(view)
        params = [c.key for c in columns if c.section == "params"]
        # system/… metrics stay on each run's page (its "System metrics" section)
        metrics = list(
            dict.fromkeys(
                c.key for c in columns if c.section == "metrics" and not _is_system(c.key)
            )
        )
        if view.key_metric in metrics:
            metrics.remove(view.key_metric)
            metrics.insert(0, view.key_metric)
        tags = [c.key for c in columns if c.section == "tags"]
        chart_list: list[dict[str, Any]] = []
        # Overview charts: the newest runs only, so a 10,000-run page stays quick to draw.
        charted = view.runs[:CHART_RUNS]
        for metric in metrics:
            rows = [
                {
                    "run": r.run_name,
                    "start": r.start_time,
                    "value": r.metrics[metric]["last"],
                    "status": r.status,
                    "url": f"../{self.run_path(r.run_id)}",
                }
                for r in charted
                if metric in r.metrics
            ]
            if rows:
                payload = theme.Markup(charts.to_json(charts.runs_chart(metric, rows)))
                chart_list.append(
                    {
                        "id": f"chart-{len(chart_list)}",
                        "json": payload,
                        "key": metric,
                        "controls": False,
                        "notes": [],
                        # past the first few, a chart is drawn when its section is opened
                        "defer": len(chart_list) >= CHARTS_SHOWN,
                    }
                )
        return self._render(
            "experiment.html",
            self.experiment_path(view.slug),
            f"experiment {view.slug}",
            view=view,
            params=params,
            varying=varying,
            metrics=metrics,
            tags=tags,
            charts=chart_list,
            charted_runs=min(len(view.runs), CHART_RUNS),
            run_versions=self._run_versions(view.runs),
            fallback_rows=FALLBACK_ROWS,
        )

    # ------------------------------------------------------------------ run pages

    @staticmethod
    def run_data_path(run_id: str) -> str:
        return f"data/runs/{run_id}.js"

    @staticmethod
    def experiment_data_path(slug: str) -> str:
        return f"data/experiments/{slug}.js"

    def run_outputs(self, run: RunRecord) -> list[PageContext]:
        """The run's page and its data file (metric series for the compare page)."""
        from runsite import arrowio

        warnings: list[str] = []
        table = arrowio.sort_metrics(arrowio.read_metrics(run.path, warnings))
        self.warnings += warnings
        made = charts.metric_charts(table)
        series = {
            key: {
                "step": c["data"]["series"]["step"],
                "time": c["time"],
                "value": c["data"]["series"]["value"],
            }
            for key, c in made.items()
        }
        payload = data_files.run_payload(run, series, self.run_path(run.run_id))
        return [
            self.run_page(run, made),
            PageContext(
                self.run_data_path(run.run_id), data_files.push(payload), f"run {run.run_id}"
            ),
        ]

    def search_index(
        self, runs: list[RunRecord] | None = None, parts: list[str] | None = None
    ) -> PageContext:
        """``data/search.js``: the entries of ``runs`` (oldest first) in it, or the paths
        of the ``parts`` that hold them (``search_part``)."""
        entries = data_files.search_run_entries(runs, self.run_path)[::-1] if runs else None
        payload = data_files.search_payload(
            self.data, self.experiment_path, self.model_path, entries, parts
        )
        return PageContext("data/search.js", data_files.push(payload), "the search index")

    @staticmethod
    def search_part_path(part: int) -> str:
        return f"data/search/runs-{part}.js"

    def search_part(self, part: int, runs: list[RunRecord]) -> PageContext:
        """Part ``part`` of the search index: the entries of ``runs`` (oldest first)."""
        entries = data_files.search_run_entries(runs, self.run_path)
        return PageContext(
            self.search_part_path(part),
            data_files.push(data_files.search_part_payload(part, entries)),
            "the search index",
        )

    @staticmethod
    def vocabulary() -> PageContext:
        """``data/vocabulary.js``: the run attributes, for query.js and runs.js."""
        payload = data_files.vocabulary_payload()
        return PageContext("data/vocabulary.js", data_files.push(payload), "the run vocabulary")

    def compare_page(self) -> PageContext:
        """``compare.html``: runs picked in the URL (``#runs=a,b``), drawn by compare.js
        from their data files with the specs made here once."""
        return self._render(
            "compare.html",
            self.COMPARE_PATH,
            "the compare page",
            specs=theme.Markup(charts.compare_specs_json()),
        )

    def run_page(self, run: RunRecord, made: dict[str, dict[str, Any]]) -> PageContext:
        # Curves only where there are steps; a value logged once is a number in the table.
        # System metrics (``system/…``, sampled by runsite.system_metrics) get their own
        # section, below the run's own metrics.
        curves = [k for k, c in made.items() if c["points"] > 1]
        chart_list = self._curve_charts([k for k in curves if not _is_system(k)], made, "chart")
        system_charts = self._curve_charts([k for k in curves if _is_system(k)], made, "sys")
        try:
            packages = run.packages
        except Exception:  # a run.json readable enough for the summary but not fully
            packages = {}
        view = self.exp_by_slug.get(run.experiment_id)
        return self._render(
            "run.html",
            self.run_path(run.run_id),
            f"run {run.run_id}",
            run=run,
            experiment=view,
            charts=chart_list,
            metrics={k: m for k, m in run.metrics.items() if not _is_system(k)},
            system_metrics={
                k[len(SYSTEM_PREFIX) :]: m for k, m in run.metrics.items() if _is_system(k)
            },
            system_charts=system_charts,
            artifacts=self._artifact_views(run),
            models=[(m, self.versions_by_run.get(run.run_id, [])) for m in run.models],
            model_meta={m["name"]: self._model_meta(run, m["name"]) for m in run.models},
            children=[
                self.data.runs[c] for c in self.children.get(run.run_id, []) if c in self.data.runs
            ],
            parent=self.data.runs.get(run.parent_run_id or ""),
            packages=packages,
            dataset_ids={
                i.get("hash"): data_files.dataset_anchor(str(i.get("hash"))) for i in run.inputs
            },
            evaluated=versions.evaluated_version(run, self.data.models),
        )

    def _curve_charts(
        self, curves: list[str], made: dict[str, dict[str, Any]], prefix: str
    ) -> list[dict[str, Any]]:
        chart_list: list[dict[str, Any]] = []
        for keys in charts.related_groups(curves):
            chart = charts.curve_chart(keys, made)
            chart_list.append(
                {
                    "id": f"{prefix}-{len(chart_list)}",
                    "key": " · ".join(keys),
                    "json": theme.Markup(charts.to_json(chart)),
                    "controls": chart["controls"],
                    "defer": len(chart_list) >= CHARTS_SHOWN,
                    "notes": [
                        f"{k}: {made[k]['shown']} of {made[k]['points']} points shown "
                        "(minimum and maximum of every stretch kept)"
                        for k in keys
                        if made[k]["shown"] < made[k]["points"]
                    ],
                }
            )
        return chart_list

    def _model_meta(self, run: RunRecord, name: str) -> dict[str, Any]:
        from runsite.errors import RunsiteError
        from runsite.models.manifest import read_manifest, read_regular

        try:
            folder = validate.confined(run.artifacts_dir, name, "model folder")
            meta = read_manifest(folder)
            req = folder / "requirements.txt"
            text = read_regular(req).decode("utf-8", "replace") if req.exists() else ""
        except RunsiteError as exc:
            self.warnings.append(f"run {run.run_id}: model {name}: {exc}")
            return {}
        meta["requirements_text"] = text
        return meta

    def _publishable(self, run: RunRecord, art: dict[str, Any]) -> Path | None:
        """The artifact's file when it may be copied into the site, else None."""
        rel = str(art.get("path") or "")
        try:
            rel = validate.safe_relpath(rel)
        except Exception:
            return None
        src = run.artifacts_dir / rel
        if not src.is_file():
            if art.get("url") and int(art.get("size") or 0) <= self.cfg.max_artifact_bytes:
                return self._fetched(run, rel, art)
            return None
        if not validate.inside(run.path, src):
            self.warnings.append(
                f"run {run.run_id}: artifact {rel} is a symlink that points outside its run "
                "folder; not copied (nothing outside the store is ever published)"
            )
            return None
        if src.stat().st_size > self.cfg.max_artifact_bytes:
            return None
        return src

    def _fetched(self, run: RunRecord, rel: str, art: dict[str, Any]) -> Path | None:
        """A file kept in object storage, fetched into the local cache and checked against
        its recorded hash; ``None`` (with a warning) when that fails."""
        import hashlib

        from runsite import objstore
        from runsite.errors import RunsiteError

        key = f"{run.run_id}/{rel}"
        if key in self._fetch_memo:
            return self._fetch_memo[key]
        pointer = objstore.pointer_path(run.artifacts_dir / rel)
        got: Path | None = None
        try:
            if not validate.inside(self.data.store.root, pointer) or pointer.is_symlink():
                raise RunsiteError(f"pointer {pointer} leads outside the store")
            local = objstore.open_pointer(self.data.store.root, pointer, f"artifact {key}")
            with local.open("rb") as f:
                digest = hashlib.file_digest(f, "sha256").hexdigest()
            if digest != art.get("sha256"):
                raise RunsiteError(f"{local} does not match the recorded sha256")
            got = local
        except (RunsiteError, OSError) as exc:
            self.warnings.append(f"run {run.run_id}: artifact {rel} not published: {exc}")
        self._fetch_memo[key] = got
        return got

    def _public_link(self, art: dict[str, Any]) -> str | None:
        from runsite import objstore
        from runsite.errors import RunsiteError

        if self._storage is False:
            try:
                self._storage = objstore.load_config(self.data.store.root)
            except RunsiteError as exc:
                self.warnings.append(str(exc))
                self._storage = None
        sha = str(art.get("sha256") or "")
        if self._storage is None or not art.get("url"):
            return None
        return self._storage.public_link(sha)

    def artifact_files(self, run: RunRecord) -> list[tuple[str, Path]]:
        """(output path, source file) of every artifact this run publishes."""
        out = []
        for art in run.artifacts:
            src = self._publishable(run, art)
            if src is not None:
                out.append((f"runs/{run.run_id}/artifacts/{published_path(art['path'])}", src))
        return out

    def _artifact_views(self, run: RunRecord) -> list[dict[str, Any]]:
        views = []
        for art in sorted(run.artifacts, key=lambda a: str(a.get("path"))):
            path = str(art.get("path"))
            src = self._publishable(run, art)
            kind = _kind(path)
            view: dict[str, Any] = {
                "path": path,
                "size": art.get("size"),
                "kind": kind,
                "url": f"{run.run_id}/artifacts/{quote(published_path(path))}" if src else None,
                "preview": None,
                "truncated": False,
                "system": bool(art.get("system")),
                "sha256": art.get("sha256") if art.get("url") else None,
                "link": None if src else self._public_link(art),
                "model": any(path.startswith(m["name"] + "/") for m in run.models),
                "text": None,
                "table": None,
                "html": None,
            }
            if src is not None and kind == "image" and path.lower().endswith(".svg"):
                # Its published copy is text (see published_path); the page shows the image
                # from a data: URI, where an <img> never runs script.
                if src.stat().st_size <= SVG_PREVIEW_BYTES:
                    encoded = base64.b64encode(src.read_bytes()).decode("ascii")
                    view["preview"] = "data:image/svg+xml;base64," + encoded
                else:
                    kind = view["kind"] = "file"
            if src is not None and kind == "file" and _looks_like_text(src):
                kind = view["kind"] = "text"  # MLmodel, LICENSE, … : text without a suffix
            if src is not None and kind in ("text", "json", "yaml", "markdown", "table"):
                raw = src.read_bytes()[:TEXT_PREVIEW_BYTES]
                text = raw.decode("utf-8", "replace")
                view["truncated"] = src.stat().st_size > TEXT_PREVIEW_BYTES
                if kind == "json":
                    with contextlib.suppress(ValueError):
                        text = json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
                if kind == "markdown":
                    view["html"] = theme.Markup(markup.render(text))
                elif kind == "table":
                    view["table"] = _csv_preview(
                        text, "\t" if path.lower().endswith(".tsv") else ","
                    )
                else:
                    view["text"] = text
            views.append(view)
        return views


# An HTML artifact is only previewed in a sandboxed iframe, but its copy can also be opened
# directly, on the site's own origin: this policy, put first, forbids it any script.
ARTIFACT_CSP = (
    b'<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
    b"img-src 'self' data:; style-src 'self' 'unsafe-inline'; font-src 'self' data:\">\n"
)


# Artifact types a browser runs script in when their published copy is opened directly
# (static hosts such as GitHub Pages choose the type from the extension): SVG, XHTML, XML
# (an XHTML-namespace <script> or an XSLT stylesheet runs), SSI HTML, web archives, HTML
# components. Their copy is published under the same name plus ".txt" (text/plain: shown
# as text, never run). HTML keeps its name behind a script-forbidding policy instead, so
# the run page can preview it in a sandboxed iframe.
ACTIVE_EXT = frozenset(
    {".svg", ".svgz", ".xhtml", ".xht", ".xml", ".xsl", ".xslt", ".shtml", ".shtm", ".stm"}
    | {".mht", ".mhtml", ".rdf", ".htc", ".hta", ".xsd", ".dtd", ".wml", ".vml"}
)
SVG_PREVIEW_BYTES = 1_000_000


def published_path(path: str) -> str:
    """Where the copy of artifact ``path`` is published (inside its run's folder)."""
    return path + ".txt" if PurePosixPath(path).suffix.lower() in ACTIVE_EXT else path


def published_bytes(path: Path) -> bytes | None:
    """The bytes to publish for an artifact when they differ from the file's (HTML gets
    a script-forbidding policy in front), else None."""
    if path.suffix.lower() in (".html", ".htm"):
        return ARTIFACT_CSP + path.read_bytes()
    return None


def _looks_like_text(path: Path) -> bool:
    """UTF-8 without NUL bytes in its first 4 KB (how git and most viewers decide)."""
    try:
        with path.open("rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    if not head or b"\0" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:  # a multi-byte character cut at the 4 KB edge is fine
        return exc.start >= len(head) - 3
    return True


def _csv_preview(text: str, delimiter: str) -> list[list[str]] | None:
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error:
        return None
    return rows[: TABLE_PREVIEW_ROWS + 1]


def _is_system(key: str) -> bool:
    return key.startswith(SYSTEM_PREFIX)
