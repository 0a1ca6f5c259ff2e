"""``runsite build``: collect → render → write, with a page cache.

1. collect: read the store, the registry and its history (site/collect.py); nothing is
   written.
2. render: every page through the theme's templates; a run page whose inputs did not
   change since the last build (its record stamps, the theme, the config, the registry
   for runs with models) is not read or rendered again: the output file is kept.
3. write: static files first, then pages and artifacts (site/writer.py).

The output depends only on the store (and SOURCE_DATE_EPOCH, when set, for the "built"
date): the same store builds a byte-identical site.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runsite import record
from runsite.cache import JsonCache, store_cache_dir
from runsite.site import collect as collect_mod
from runsite.site import config as config_mod
from runsite.site import theme as theme_mod
from runsite.site.pages import PageContext, Renderer, published_bytes
from runsite.site.writer import BuildError, Writer, check_output_folder
from runsite.store import Store
from runsite.version import __version__

log = logging.getLogger("runsite")


@dataclass
class BuildResult:
    out: Path
    pages: int = 0
    runs: int = 0
    rendered_runs: int = 0
    files: int = 0
    written: int = 0
    unchanged: int = 0
    removed: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"built {self.out}: {self.pages} pages, {self.runs} runs "
            f"({self.rendered_runs} rendered), {self.written} files written, "
            f"{self.unchanged} unchanged, {self.removed} removed in {self.seconds:.1f} s"
            + (f", {len(self.warnings)} warnings" if self.warnings else "")
        )


class _PageCache(JsonCache):
    """Output file → its inputs key and the sha256 of what was written (one string,
    ``key:sha``: 200,000 of them load faster than as pairs), per output folder."""

    def __init__(self, store_root: Path, out: Path) -> None:
        digest = hashlib.sha256(str(out.resolve()).encode()).hexdigest()[:12]
        super().__init__(store_cache_dir(store_root) / f"site-{digest}.json", "page cache")

    def get(self, rel: str, key: str) -> str | None:
        hit = self.data.get(rel)
        if type(hit) is not str or not hit.startswith(key) or hit[len(key) : len(key) + 1] != ":":
            return None
        return hit[len(key) + 1 :] or None

    def put(self, rel: str, key: str, sha: str) -> None:
        self.data[rel] = f"{key}:{sha}"
        self.dirty = True


def _built_at() -> int | None:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return int(epoch) * 1000
    return None


def build(
    store: str | os.PathLike[str],
    out: str | os.PathLike[str] = "site",
    *,
    theme: str | None = None,
    title: str | None = None,
    clean: bool = False,
    progress: Callable[[str], None] | None = None,
    registry_history: str | os.PathLike[str] | None = None,
) -> BuildResult:
    """Build the static site of ``store`` into ``out``.

    ``registry_history``: a file saved by ``runsite models history --json``, shown as the
    registry's stage history instead of git history of ``registry.yaml`` (for a store
    built away from the repository it was made in). It is the caller's: a store never
    names one itself (docs/security.md). Raises ``InvalidInput`` when the file is not
    such a history, or is not the history of this store's manifest."""
    started = time.perf_counter()
    st = Store(store)
    st.require_store()
    out_path = Path(out)
    cfg = config_mod.load(st.root, title=title)
    check_output_folder(out_path, st.root, clean)
    # A theme given here is the caller's (trusted); one named by the store's site.yaml
    # is data from whoever can open a pull request: confined to the store, sandboxed.
    if theme:
        cfg.theme = theme
        theme_info = theme_mod.Theme(theme_mod.resolve_theme(theme))
    elif cfg.theme:
        theme_info = theme_mod.store_theme(st.root, cfg.theme, cfg.source or "site.yaml")
    else:
        theme_info = theme_mod.Theme(theme_mod.resolve_theme(None))

    # 1. collect (no garbage collection while 100,000 runs' records are made: they hold
    # no cycles, and each collection would walk all of them)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        data = collect_mod.collect(
            st, cfg, Path(registry_history) if registry_history is not None else None
        )
    finally:
        if gc_was_enabled:
            gc.enable()
    # What was collected lives until the build ends: frozen, out of the garbage
    # collector's reach, a collection no longer walks 100,000 runs' dicts each time.
    gc.freeze()
    try:
        return _render_and_write(st, out_path, cfg, theme_info, data, started, progress)
    finally:
        gc.unfreeze()


def _render_and_write(
    st: Store,
    out_path: Path,
    cfg: config_mod.SiteConfig,
    theme_info: theme_mod.Theme,
    data: collect_mod.SiteData,
    started: float,
    progress: Callable[[str], None] | None,
) -> BuildResult:
    dirs = theme_info.dirs
    result = BuildResult(out=out_path, runs=len(data.runs))

    # 2. render
    writer = Writer(out_path)
    for rel, path in theme_mod.static_files(dirs).items():
        writer.add_file(f"static/{rel}", path, origin=f"theme file {path}")
    renderer = Renderer(data, cfg, theme_info, built_at=_built_at())
    cache = _PageCache(st.root, out_path)
    base_key = "|".join(
        [__version__, theme_mod.fingerprint(dirs), str(theme_info.sandboxed), cfg.fingerprint()]
    )
    registry_sha = _file_sha(st.root / record.REGISTRY_YAML)

    for page in renderer.index_pages():
        writer.add(page.path, page.html, origin=page.origin)
        result.pages += 1
    vocabulary = renderer.vocabulary()
    writer.add(vocabulary.path, vocabulary.html, origin=vocabulary.origin)
    # The compare page is drawn in the browser: its HTML (the chart specs Altair makes,
    # most of a second) changes only with the theme, the config and the site's context.
    compare_key = hashlib.sha256(
        "\n".join([base_key, "compare", renderer.context_key]).encode()
    ).hexdigest()[:24]
    if not _keep_all(cache, writer, compare_key, [renderer.COMPARE_PATH]):
        _add_all(cache, writer, compare_key, [renderer.compare_page()])
    result.pages += 1
    runs = sorted(data.runs.values(), key=lambda r: r.run_id)
    run_keys = {run.run_id: _run_key(base_key, run, renderer, registry_sha, st) for run in runs}
    _add_search(cache, writer, renderer, base_key, run_keys)
    for view in data.experiments:
        # An experiment page shows its runs' summaries: it changes only when one of them
        # (or experiment.yaml) does. Rendering 10,000-row tables on every build would not.
        rel = renderer.experiment_path(view.slug)
        yml = view.experiment.path + "/experiment.yaml"
        key = hashlib.sha256(
            "\n".join(
                [
                    base_key,
                    renderer.context_key,
                    _file_sha(Path(yml)),
                    str(view.key_metric),
                    registry_sha,  # the runs table's versions column
                ]
                + [run_keys[r.run_id] for r in view.runs]
            ).encode()
        ).hexdigest()[:24]
        if not _keep_all(cache, writer, key, [rel, renderer.experiment_data_path(view.slug)]):
            _add_all(cache, writer, key, renderer.experiment_outputs(view))
        _add_chunks(cache, writer, renderer, view, base_key, run_keys)
        result.pages += 1
    for i, run in enumerate(runs, 1):
        rel = renderer.run_path(run.run_id)
        key = run_keys[run.run_id]
        if not _keep_all(cache, writer, key, [rel, renderer.run_data_path(run.run_id)]):
            _add_all(cache, writer, key, renderer.run_outputs(run))
            result.rendered_runs += 1
            # The page read the run's full run.json (PublishedRun.header): not kept for
            # the rest of the build (100,000 of them were half a GB); read again if asked.
            run.__dict__.pop("header", None)
        for art_rel, src in renderer.artifact_files(run):
            data_out = published_bytes(src)
            if data_out is None:
                writer.add_file(art_rel, src, origin=f"artifact of run {run.run_id}")
            else:
                writer.add(art_rel, data_out, origin=f"artifact of run {run.run_id}")
        result.pages += 1
        if progress and len(runs) >= 200 and i % 200 == 0:
            progress(f"rendered {i}/{len(runs)} runs")

    # 3. write
    try:
        stats = writer.commit()
    except OSError as exc:  # disk full, read-only, I/O error: one line, not a traceback
        where = f" ({exc.filename})" if exc.filename else ""
        raise BuildError(
            f"could not write the site into {out_path}: {exc.strerror or exc}{where}; every "
            "file there is whole (from this build or the previous one): free space and build "
            "again"
        ) from exc
    cache.save()
    result.files = stats.files
    result.written = stats.written
    result.unchanged = stats.unchanged
    result.removed = stats.removed
    result.warnings = list(dict.fromkeys(data.warnings + renderer.warnings + writer.warnings))
    result.seconds = time.perf_counter() - started
    return result


def _add_chunks(
    cache: _PageCache,
    writer: Writer,
    renderer: Renderer,
    view: Any,
    base_key: str,
    run_keys: dict[str, str],
) -> None:
    """The runs table's column chunks. A chunk depends only on its own runs: adding a run
    (it goes last) rewrites the last chunk of each column, a new key adds its column."""
    from runsite.site import data as data_files

    rows = list(reversed(view.runs))  # oldest first
    size = data_files.CHUNK_ROWS
    if len(rows) <= size:
        return  # one chunk: inside the manifest (Renderer.experiment_outputs)
    columns = renderer.table_columns(view)
    for chunk, first in enumerate(range(0, len(rows), size)):
        part = rows[first : first + size]
        key = hashlib.sha256(
            "\n".join([base_key, str(size), *(run_keys[r.run_id] for r in part)]).encode()
        ).hexdigest()[:24]
        stale = [
            c
            for c in columns
            if not _keep_all(
                cache, writer, key, [renderer.experiment_chunk_path(view.slug, c, chunk)]
            )
        ]
        if stale:
            _add_all(cache, writer, key, renderer.experiment_chunks(view, part, chunk, stale))


def _add_search(
    cache: _PageCache, writer: Writer, renderer: Renderer, base_key: str, run_keys: dict[str, str]
) -> None:
    """The search index. Past ``SEARCH_PART_RUNS`` runs, the runs' entries are in parts
    that depend only on their own runs, like the runs table's chunks: a new run (it
    sorts last) rewrites the last part and data/search.js, which lists the parts."""
    from runsite.site import data as data_files

    runs = data_files.search_order(renderer.data.runs.values())
    size = data_files.SEARCH_PART_RUNS
    if len(runs) <= size:
        index = renderer.search_index(runs)
    else:
        parts = []
        for part, first in enumerate(range(0, len(runs), size)):
            chunk = runs[first : first + size]
            rel = renderer.search_part_path(part)
            key = hashlib.sha256(
                "\n".join(
                    [base_key, "search", str(size), *(run_keys[r.run_id] for r in chunk)]
                ).encode()
            ).hexdigest()[:24]
            if not _keep_all(cache, writer, key, [rel]):
                _add_all(cache, writer, key, [renderer.search_part(part, chunk)])
            parts.append(rel)
        index = renderer.search_index(parts=parts)
    writer.add(index.path, index.html, origin=index.origin)


def _keep_all(cache: _PageCache, writer: Writer, key: str, rels: list[str]) -> bool:
    """Keep every output of one cached item, or none (then it is rendered again)."""
    items = []
    for rel in rels:
        sha = cache.get(rel, key)
        if not sha:
            return False
        items.append((rel, sha))
    return writer.keep_all(items, origin="cached page")


def _add_all(cache: _PageCache, writer: Writer, key: str, pages: list[PageContext]) -> None:
    for page in pages:
        writer.add(page.path, page.html, origin=page.origin)
        cache.put(page.path, key, hashlib.sha256(page.html.encode("utf-8")).hexdigest())


def _file_sha(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        return "-"


def _run_key(base: str, run: Any, renderer: Renderer, registry_sha: str, store: Store) -> str:
    """Everything a run page depends on besides the theme and config."""
    from runsite.store import run_stamp

    runs = renderer.data.runs
    # the stamps of the run's files: those the store read it from (the run index took
    # them a moment ago), and the metric files' (the charts)
    read_from = store.record_stamp(run)
    if read_from is None:
        files = repr(run_stamp(run.folder, False))
    else:
        files = f"{read_from}|{run_stamp(run.folder, False, metric_files_only=True)!r}"
    parts = [
        base,
        files,
        # the page links its parent and lists its children with their status
        str(run.parent_run_id in runs) if run.parent_run_id else "",
        ",".join(f"{c}:{runs[c].status}" for c in renderer.children.get(run.run_id, [])),
        # the page links the versions the run became, or the version it evaluated
        registry_sha if run.models or "runsite.evaluation.model" in run.tags else "",
        renderer.context_key,
        run.status,  # RUNNING / UNFINISHED can change without a file changing
        renderer.experiment_name(run),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


__all__ = ["BuildResult", "PageContext", "build"]
