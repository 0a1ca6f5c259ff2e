"""Stage 1 of a build: read everything the site shows, write nothing.

Exclusions from the site config are applied here, so nothing left out can reach a page.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from runsite import record, redact
from runsite.entities import Experiment, RunInputs
from runsite.errors import InvalidInput, RunsiteError
from runsite.run import GIT_DIFF_ARTIFACT
from runsite.site.config import SiteConfig
from runsite.store import RunRecord, Store


@dataclass
class ExperimentView:
    experiment: Experiment
    runs: list[RunRecord]
    key_metric: str | None
    goal: str  # "minimize" or "maximize"
    best: RunRecord | None = None
    statuses: dict[str, int] = field(default_factory=dict)
    last_activity: int | None = None

    @property
    def slug(self) -> str:
        return self.experiment.experiment_id


@dataclass
class DatasetVersion:
    hash: str
    names: list[str]
    paths: list[str]
    size: int | None
    rows: int | None
    schema: dict[str, str] | None
    kind: str
    runs: list[RunRecord] = field(default_factory=list)
    stale_for: list[str] = field(default_factory=list)  # "model vN" trained on it, now stale
    first_seen: int = 0
    contexts: list[str] = field(default_factory=list)  # training, validation, evaluation …
    # (registered version, context) for each version whose source run logged this data
    trained: list[tuple[Any, str | None]] = field(default_factory=list)


@dataclass
class DatasetGroup:
    """The versions (hashes) of one dataset: one path, else one name, else one hash."""

    key: str
    by: str  # "path", "name" or "hash"
    versions: list[DatasetVersion]  # newest first

    @property
    def names(self) -> list[str]:
        return list(dict.fromkeys(n for v in self.versions for n in v.names))

    @property
    def runs(self) -> int:
        return len({r.run_id for v in self.versions for r in v.runs})


@dataclass
class SiteData:
    title: str
    store: Store
    experiments: list[ExperimentView]
    runs: dict[str, RunRecord]
    models: list[Any]  # registry.manifest.RegisteredModel
    registry_problems: list[str]
    history: list[Any] | None  # registry.history.Transition, None outside git
    history_file: str | None  # the name of the recorded history shown (--registry-history)
    datasets: list[DatasetVersion]
    github: str | None  # https://github.com/owner/repo when the remote is on GitHub
    warnings: list[str]


_MINIMIZE_HINTS = ("loss", "error", "rmse", "mse", "mae", "mape", "perplexity", "time", "latency")


def guess_goal(metric: str | None) -> str:
    """Lower is better for losses and errors, higher for the rest (accuracy, auc, r2)."""
    if metric is None:
        return "minimize"
    low = metric.lower()
    return "minimize" if any(h in low for h in _MINIMIZE_HINTS) else "maximize"


class PublishedRun(RunRecord):
    """A run as the site publishes it (``_filtered``): its full ``run.json`` (with the
    package list) is read when a page asks for it, and redacted like the rest. The
    summary's header (``git``, and ``_s`` for the derived tags) is redacted when first
    asked for: most runs of a rebuild never are."""

    _cfg: SiteConfig
    _store_summary: Mapping[str, Any]  # the store's record's summary

    @cached_property
    def header(self) -> dict[str, Any]:
        return _published_header(record.read_header(self.path), self._cfg)

    @cached_property
    def published_header(self) -> dict[str, Any]:
        """The summary's ``run.json`` (no package list), as the site may show it."""
        return _published_header(self._store_summary["header"], self._cfg)

    @property
    def _s(self) -> Mapping[str, Any]:
        return {**self._store_summary, "header": self.published_header}

    @_s.setter
    def _s(self, summary: Mapping[str, Any]) -> None:
        self.__dict__["_store_summary"] = summary
        self.__dict__.pop("published_header", None)

    def remote_mentions(self, text: str) -> bool:
        """Whether the git remote the run recorded contains ``text``: a test that costs
        less than ``git`` (which redacts the header); never shown."""
        git = self._store_summary["header"].get("git")
        remote = git.get("remote") if isinstance(git, dict) else None
        return isinstance(remote, str) and text in remote

    @property
    def git(self) -> dict[str, Any] | None:
        git = self.published_header.get("git")
        return git if isinstance(git, dict) else None

    @git.setter
    def git(self, value: dict[str, Any] | None) -> None:
        raise AttributeError("a published run's git is its summary's, redacted")


def _published_header(header: dict[str, Any], cfg: SiteConfig) -> dict[str, Any]:
    """``run.json`` as the site may show it: secret-looking command-line values masked,
    what ``hide:`` names left out."""
    header = dict(header)
    # Hidden keys become null (templates and data files see "not recorded").
    for key in ("command", "user", "host", "packages"):
        if key in cfg.hide:
            header[key] = None
    if isinstance(header.get("command"), list | str):
        header["command"] = redact.mask_command(header["command"])
    if isinstance(header.get("git"), dict):
        # every key the pages read, present (a header written by another tool, or an
        # older runsite, may lack some: "not recorded", never a failed build)
        git: dict[str, Any] = dict.fromkeys(("commit", "branch", "remote", "dirty", "dirty_files"))
        git.update(header["git"])
        if "git_remote" in cfg.hide:
            git["remote"] = None
        elif isinstance(git.get("remote"), str):
            git["remote"] = redact.mask_text(git["remote"])
        header["git"] = git
    return header


def _published_mapping(values: dict[str, Any], kind: str, cfg: SiteConfig) -> dict[str, Any]:
    """``values`` without what the config excludes, secret-looking values masked; the
    same dict when that changes nothing (the usual case: no copy per run of 100,000)."""
    kept = (
        {k: v for k, v in values.items() if not cfg.excluded(kind, k)}
        if cfg.exclude.get(kind)
        else values
    )
    return redact.masked_mapping(kept)


def _filtered(run: RunRecord, cfg: SiteConfig) -> RunRecord:
    """The run as the public site shows it (the store keeps the true record): excluded
    params, tags and artifacts left out, secret-looking values masked
    (``runsite.redact``), the uncommitted-changes patch left out unless ``publish_diff``,
    and what ``hide:`` names removed."""
    # (a shallow copy by hand: copy.copy cost more than all the rest of this, per run)
    out = PublishedRun.__new__(PublishedRun)
    out.__dict__.update(run.__dict__)
    out.params = _published_mapping(run.params, "params", cfg)
    out.tags = _published_mapping(run.tags, "tags", cfg)
    if run.artifacts:
        out.artifacts = [
            a
            for a in run.artifacts
            if not cfg.excluded("artifacts", a.get("path"))
            and (cfg.publish_diff or a.get("path") != GIT_DIFF_ARTIFACT)
        ]
    if run.inputs:
        out.inputs = RunInputs(
            {**i, "path": redact.mask_text(i["path"])} if isinstance(i.get("path"), str) else i
            for i in run.inputs
        )
    out.user = "" if "user" in cfg.hide else run.user
    out.host = "" if "host" in cfg.hide else run.host
    d = out.__dict__
    if "_s" in d:  # (a store's record; a published one keeps its _store_summary)
        d["_store_summary"] = d.pop("_s")  # (PublishedRun._s and .git: redacted)
    d.pop("git", None)
    d.pop("published_header", None)
    d.pop("header", None)  # a full run.json the original may have cached
    d["_cfg"] = cfg
    return out


def _best(runs: list[RunRecord], metric: str | None, goal: str) -> RunRecord | None:
    if not metric:
        return None
    scored = [
        (r.metrics[metric]["last"], r)
        for r in runs
        if metric in r.metrics and not math.isnan(r.metrics[metric]["last"])
    ]
    if not scored:
        return None
    pick = min if goal == "minimize" else max
    return pick(scored, key=lambda s: s[0])[1]


def _experiments(store: Store, cfg: SiteConfig) -> list[ExperimentView]:
    views = []
    for exp in store.experiments():
        if cfg.excluded("experiments", exp.experiment_id, exp.name):
            continue
        runs = [
            _filtered(r, cfg)
            for r in store.runs(exp.experiment_id)
            if not cfg.excluded("runs", r.run_id, r.run_name)
        ]
        key = exp.key_metric
        if key is None:
            firsts = [next(iter(r.metrics)) for r in runs if r.metrics]
            key = Counter(firsts).most_common(1)[0][0] if firsts else None
        goal = guess_goal(key)
        view = ExperimentView(exp, runs, key, goal, _best(runs, key, goal))
        view.statuses = dict(Counter(r.status for r in runs))
        view.last_activity = max((r.end_time or r.start_time for r in runs), default=None)
        views.append(view)
    return views


def _datasets(runs: list[RunRecord], models: list[Any]) -> list[DatasetVersion]:
    by_hash: dict[str, DatasetVersion] = {}
    latest_by_path: dict[str, tuple[int, str]] = {}
    for run in sorted(runs, key=lambda r: r.start_time):
        for inp in run.inputs:
            h = str(inp.get("hash") or "")
            if not h:
                continue
            dv = by_hash.get(h)
            if dv is None:
                dv = by_hash[h] = DatasetVersion(
                    hash=h,
                    names=[],
                    paths=[],
                    size=inp.get("size"),
                    rows=inp.get("rows"),
                    schema=inp.get("schema"),
                    kind=str(inp.get("kind") or "file"),
                    first_seen=run.start_time,
                )
            pairs = ((dv.names, inp.get("name")), (dv.paths, inp.get("path")))
            for lst, value in (*pairs, (dv.contexts, inp.get("context"))):
                if value and value not in lst:
                    lst.append(value)
            if run not in dv.runs:
                dv.runs.append(run)
            where = inp.get("path")
            if where:
                latest_by_path[str(where)] = (run.start_time, h)
    # A registered model trained on a version of a path that has since been logged
    # with a different hash is trained on stale data.
    run_index = {r.run_id: r for r in runs}
    for model in models:
        for mv in model.versions:
            src = run_index.get(mv.run_id)
            if src is None:
                continue
            for inp in src.inputs:
                dv = by_hash.get(str(inp.get("hash") or ""))
                pair = (mv, inp.get("context"))
                if dv is not None and pair not in dv.trained:
                    dv.trained.append(pair)
                latest = latest_by_path.get(inp.get("path") or "")
                used = str(inp.get("hash") or "")
                if latest and used in by_hash and latest[1] != used and latest[0] > src.start_time:
                    by_hash[used].stale_for.append(f"{mv.name} v{mv.version}")
    return sorted(by_hash.values(), key=lambda d: (-d.first_seen, d.hash))


def dataset_groups(datasets: list[DatasetVersion]) -> list[DatasetGroup]:
    """Versions grouped by the path they were logged from (else their name, else alone),
    groups ordered by their newest version."""
    groups: dict[tuple[str, str], DatasetGroup] = {}
    for dv in datasets:  # newest first already
        by, key = (
            ("path", dv.paths[0])
            if dv.paths
            else ("name", dv.names[0])
            if dv.names
            else ("hash", dv.hash)
        )
        group = groups.get((by, key))
        if group is None:
            group = groups[(by, key)] = DatasetGroup(key, by, [])
        group.versions.append(dv)
    return list(groups.values())


def _github(runs: list[RunRecord]) -> str | None:
    import re

    for run in runs:
        if isinstance(run, PublishedRun) and not run.remote_mentions("github.com"):
            continue  # (not redacting 100,000 headers to find no GitHub remote)
        remote = (run.git or {}).get("remote") or ""
        m = re.match(
            r"^(?:https://|ssh://git@|git@)github\.com[/:]([\w.-]+)/([\w.-]+?)(?:\.git)?/?$", remote
        )
        if m:
            return f"https://github.com/{m.group(1)}/{m.group(2)}"
    return None


def collect(store: Store, cfg: SiteConfig, history_file: Path | None = None) -> SiteData:
    """Read the store, the registry and its history: git history of the manifest, or the
    recorded history in ``history_file`` (validated against the manifest; an error, not
    a warning, when it does not fit: the owner asked for it)."""
    from runsite.registry import Registry
    from runsite.registry import history as registry_history

    experiments = _experiments(store, cfg)
    runs = {r.run_id: r for e in experiments for r in e.runs}
    reg = Registry(store)
    models: list[Any] = []
    problems: list[str] = []
    history = None
    if reg.path.is_file():
        manifest = reg.manifest()
        problems = [p.format(str(reg.path)) for p in manifest.problems()]
        models = list(manifest.models().values())
        for model in models:  # parsed for this build only: masking them changes no file
            model.tags = redact.mask_mapping(model.tags)
            for mv in model.versions:
                mv.tags = redact.mask_mapping(mv.tags)
        if history_file is not None:
            history = registry_history.load_recorded(history_file, manifest.doc)
        else:
            try:
                if registry_history.history_available(reg.path.parent):
                    history = registry_history.history(reg.path.parent, reg.path)
            except RunsiteError as exc:
                problems.append(f"registry history: {exc}")
    elif history_file is not None:
        raise InvalidInput(
            f"--registry-history {history_file}: {reg.path} does not exist, so there is "
            "no registry for the history to describe"
        )
    warnings = list(store.warnings) + problems
    all_runs = list(runs.values())
    return SiteData(
        title=cfg.title,
        store=store,
        experiments=experiments,
        runs=runs,
        models=models,
        registry_problems=problems,
        history=history,
        history_file=history_file.name if history_file is not None else None,
        datasets=_datasets(all_runs, models),
        github=_github(all_runs),
        warnings=warnings,
    )
