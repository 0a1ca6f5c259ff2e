"""The interactive site in headless Chromium: a 10,000-run experiment, or an existing
store (bench/scale.py's 100,000 runs) with its build figures.

    python bench/browser.py [--runs N] [--repeats R]
    python bench/browser.py --store /tmp/scale100k [--one-experiment] [--repeats R]

Default: logs N runs (default 10,000; 3 params, 2 tags, 3 metrics x 10 steps each) into a
temp store with 2 processes, builds the site (not timed here: bench/site.py times builds),
then opens the experiment page from file:// in Debian's Chromium and measures:

- navigation to interactive table: ``performance.now()`` when runs.js has rendered the
  first page of the table (its ``readyAt``), i.e. since navigation start; median of R
  fresh page loads;
- filter update: time until ``await applyNow()`` settles (parse, load the chunks of the
  columns the filter names when not loaded yet, filter, sort, render page 1) for 10
  query-language filters, median over all filters x R (and the slowest: the first use of
  a column loads it);
- the first sort by a metric column (its chunks loaded, then sorted);
- sizes of the experiment's data (manifest and chunks) and of the global search index.

``--store DIR``: DIR is only read. A hard-linked copy of it (``cp -al``; with
``--one-experiment`` every run in one experiment folder, ``all``) is built in a child
process (wall time and peak RSS from ``os.wait4``), one run is added with
``Store.start_run`` and the site is built again; then the largest experiment's page is
measured as above with filters over bench/scale.py's params, tags and metrics.

Targets: 10,000 runs (issue 6): interactive <= 1.5 s, filter <= 50 ms; 100,000 runs
(issue 14): full build <= 600 s with peak RSS <= 2 GB, rebuild after one run <= 10 s,
interactive <= 2 s, filter <= 100 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import benchlib

FILTERS = [
    "metrics.rmse < 0.5",
    "metrics.rmse < 0.5 and params.model = 'xgb'",
    "params.depth > 6 OR metrics.mae.max > 0.9",
    "NOT (params.model = 'rf') and attributes.status = 'FINISHED'",
    "tags.team = 'a'",
    "metrics.r2 IS NULL or metrics.mae < 0.1",
    "params.alpha > 0.5 and metrics.rmse.min < 0.2",
    "attributes.run_name LIKE 'r1%'",
    "(params.model = 'ridge' or params.model = 'rf') and metrics.r2 > 0.5",
    "params.model IN ('xgb', 'rf')",
]


# bench/scale.py's runs: p00..p17, model, lr; tags team, dataset, stage; 5 metrics
SCALE_FILTERS = [
    "metrics.val_loss < 0.6",
    "metrics.val_loss < 0.6 and params.model = 'xgb' and tags.team = 'a'",
    "params.p03 > 20 OR metrics.loss.max > 2",
    "NOT (params.model = 'cnn') and attributes.status = 'FINISHED'",
    "tags.stage = 'd'",
    "metrics.accuracy IS NULL or metrics.lr < 0.1",
    "params.lr > 0.01 and metrics.loss.min < 0.5",
    "attributes.run_name LIKE 'run-00%'",
    "params.model IN ('xgb', 'mlp')",
    "params.p17 = '144' and params.p00 = '1'",
]


def _log(args: tuple[str, int, int]) -> None:
    import runsite

    store, start, n = args
    rng = random.Random(start)
    st = runsite.Store(store)
    for i in range(start, start + n):
        with st.start_run(experiment="big", run_name=f"r{i}", log_git=False) as r:
            r.log_params(
                {
                    "model": rng.choice(["xgb", "ridge", "rf"]),
                    "alpha": rng.random(),
                    "depth": rng.randint(1, 9),
                }
            )
            r.set_tags({"team": rng.choice(["a", "b"]), "stage": "sweep"})
            for key in ("rmse", "mae", "r2"):
                for step in range(10):
                    r.log_metric(key, rng.random(), step=step)


def _copy_store(source: Path, dest: Path, one_experiment: bool) -> None:
    """A hard-linked copy (the source is never written); one experiment folder if asked."""
    if not one_experiment:
        subprocess.run(["cp", "-al", str(source), str(dest)], check=True)
        return
    dest.mkdir(parents=True)
    for item in source.iterdir():
        if item.is_dir():
            (dest / "all").mkdir(exist_ok=True)
            runs = [str(p) for p in item.iterdir() if p.is_dir()]
            for i in range(0, len(runs), 2000):
                subprocess.run(["cp", "-al", *runs[i : i + 2000], str(dest / "all")], check=True)
        else:
            subprocess.run(["cp", "-al", str(item), str(dest)], check=True)


def _add_run(store: Path, experiment: str) -> None:
    import runsite

    st = runsite.Store(store)
    with st.start_run(experiment=experiment, run_name="added", log_git=False) as r:
        r.log_params({f"p{j:02d}": j + 1 for j in range(18)} | {"model": "xgb", "lr": 0.01})
        r.set_tags({"team": "a", "dataset": "x", "stage": "d"})
        for key in ("loss", "val_loss", "accuracy", "val_accuracy", "lr"):
            for step in range(10):
                r.log_metric(key, 1 / (step + 1), step=step)


# Types each filter into the runs table's box and times until the table shows its rows.
# Before each filter the previous result is on screen (two frames: a user types the next
# filter after seeing it), so a filter's time never holds the previous table's layout
# and paint, which it did when filters were typed back to back and the next one waited
# for its columns' files (bench/README.md, "bench/scale.py"). With ``painted``, the time
# runs on to the frame that shows the result: its layout and paint counted too.
TIME_FILTERS_JS = """async ([fs, painted]) => {
    const frame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    const out = [];
    for (const q of fs) {
        await frame();
        await frame();
        document.getElementById('rt-q').value = q;
        const t0 = performance.now();
        await window.runsiteRunsTable.applyNow();
        if (painted) await frame();
        out.push(performance.now() - t0);
    }
    document.getElementById('rt-q').value = '';
    await window.runsiteRunsTable.applyNow();
    return out;
}"""


def _measure_page(
    chromium: str, page_url: str, filters: list[str], repeats: int, sort_ident: str
) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    ready: list[float] = []
    times: list[float] = []
    again: list[float] = []
    painted: list[float] = []
    sorts: list[float] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        for _ in range(repeats):
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(page_url)
            page.wait_for_selector("#runs-app[data-ready]", state="attached", timeout=120_000)
            ready.append(page.evaluate("window.runsiteRunsTable.readyAt"))
            times += page.evaluate(TIME_FILTERS_JS, [filters, False])
            # the same filters again: their columns are loaded now (the compute alone)
            again += page.evaluate(TIME_FILTERS_JS, [filters, False])
            sorts.append(
                page.evaluate(
                    """async (ident) => {
                        const t0 = performance.now();
                        await window.runsiteRunsTable.table.sortBy(ident);
                        return performance.now() - t0;
                    }""",
                    sort_ident,
                )
            )
            page.close()
            # a fresh page: the same first uses, timed to the frame that shows the result
            page = browser.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(page_url)
            page.wait_for_selector("#runs-app[data-ready]", state="attached", timeout=120_000)
            painted += page.evaluate(TIME_FILTERS_JS, [filters, True])
            page.close()
        browser.close()
    return {
        "ready": ready,
        "filters": times,
        "again": again,
        "painted": painted,
        "sorts": sorts,
        "errors": errors,
    }


def search_index_mb(site: Path) -> tuple[float, int]:
    """The search index's size: data/search.js and the parts it names (past 5,000 runs),
    and the number of parts."""
    parts = list((site / "data" / "search").glob("runs-*.js"))
    total = (site / "data" / "search.js").stat().st_size + sum(p.stat().st_size for p in parts)
    return total / 1e6, len(parts)


def _data_mb(out: Path, slug: str) -> tuple[float, float, int]:
    manifest = out / "data" / "experiments" / f"{slug}.js"
    chunks = list((out / "data" / "experiments" / slug).glob("*.js"))
    return manifest.stat().st_size / 1e6, sum(c.stat().st_size for c in chunks) / 1e6, len(chunks)


def main_store(args: argparse.Namespace, chromium: str) -> None:
    import scale

    tmp = Path(tempfile.mkdtemp(prefix="runsite-browser-bench-"))
    try:
        store, out, cache = tmp / "runs", tmp / "site", tmp / "cache"
        benchlib.progress(f"hard-linked copy of {args.store}")
        _copy_store(args.store, store, args.one_experiment)
        sizes = {d.name: sum(1 for _ in d.iterdir()) for d in store.iterdir() if d.is_dir()}
        slug = max(sizes, key=lambda k: sizes[k])
        load_before = benchlib.load_average()
        benchlib.progress(f"full build of {sum(sizes.values()):,} runs …")
        full = scale.build(store, out, cache)
        os.environ["RUNSITE_CACHE_DIR"] = str(cache)
        _add_run(store, slug)
        benchlib.progress("rebuild after one run added …")
        inc = scale.build(store, out, cache)
        load_build = benchlib.load_average()
        benchlib.progress(f"Chromium on experiments/{slug}.html ({sizes[slug] + 1:,} runs) …")
        page_url = (out / "experiments" / f"{slug}.html").resolve().as_uri()
        m = _measure_page(chromium, page_url, SCALE_FILTERS, args.repeats, "metrics.val_loss")
        manifest_mb, chunks_mb, nchunks = _data_mb(out, slug)
        search_mb, search_parts = search_index_mb(out)
        med_ready, med_filter = statistics.median(m["ready"]), statistics.median(m["filters"])
        rows = [
            (
                "build, full",
                f"{full['wall']:.0f} s",
                "<= 600 s",
                benchlib.verdict(full["wall"], 600),
            ),
            (
                "build, full, peak RSS",
                f"{full['maxrss_mb']:.0f} MB",
                "<= 2,048 MB",
                benchlib.verdict(full["maxrss_mb"], 2048),
            ),
            (
                "rebuild, one run added",
                f"{inc['wall']:.1f} s",
                "<= 10 s",
                benchlib.verdict(inc["wall"], 10),
            ),
            ("rebuild, peak RSS", f"{inc['maxrss_mb']:.0f} MB", "—", "—"),
            ("rebuild, files written", f"{inc['written']:,}", "—", "—"),
            (
                f"page ({sizes[slug] + 1:,} runs): navigation to interactive table (median)",
                f"{med_ready:.0f} ms",
                "<= 2,000 ms",
                benchlib.verdict(med_ready, 2000),
            ),
            (
                "filter update, 10 filters (median)",
                f"{med_filter:.1f} ms",
                "<= 100 ms",
                benchlib.verdict(med_filter, 100),
            ),
            (
                "filter update, slowest (first use of its columns)",
                f"{max(m['filters']):.1f} ms",
                "—",
                "—",
            ),
            (
                "first sort by metrics.val_loss (median)",
                f"{statistics.median(m['sorts']):.0f} ms",
                "—",
                "—",
            ),
            ("experiment manifest", f"{manifest_mb:.2f} MB", "—", "—"),
            (f"experiment chunks ({nchunks:,} files)", f"{chunks_mb:.1f} MB", "—", "—"),
            (
                f"global search index (data/search.js, {search_parts} parts)",
                f"{search_mb:.1f} MB",
                "—",
                "—",
            ),
        ]
        print("\n".join(benchlib.machine_header("runsite browser bench, existing store")))
        print(
            f"store: {args.store} ({sum(sizes.values()):,} runs in {len(sizes)} experiment(s)"
            f"{', merged into one' if args.one_experiment else ''}); Chromium from file://, "
            f"{args.repeats} page loads; load average before builds {load_before}, after "
            f"{load_build}, at the end {benchlib.load_average()}\n"
        )
        head = ("measure", "value", "target", "verdict")
        print("\n".join(benchlib.table(head, rows, left=range(4))))
        print(
            f"\ndetails: ready ms {[round(x) for x in m['ready']]}; filter ms "
            f"{[round(x, 1) for x in m['filters']]}; sort ms {[round(x) for x in m['sorts']]}; "
            f"full build {full}; rebuild {inc}; console errors: {len(m['errors'])} "
            f"{m['errors'][:3]}"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--store", type=Path, help="an existing store (only read): build figures too")
    ap.add_argument(
        "--one-experiment", action="store_true", help="with --store: all runs in one experiment"
    )
    args = ap.parse_args()
    try:
        import playwright.sync_api  # noqa: F401  (installed?)
    except ImportError:
        sys.exit("bench/browser.py needs playwright (pip install playwright) and chromium")
    chromium = os.environ.get("RUNSITE_CHROMIUM", "/usr/bin/chromium")
    if not Path(chromium).exists():
        sys.exit(f"no chromium at {chromium} (apt-get install chromium)")
    if args.store:
        main_store(args, chromium)
        return

    tmp = Path(tempfile.mkdtemp(prefix="runsite-browser-bench-"))
    os.environ["RUNSITE_CACHE_DIR"] = str(tmp / "cache")
    try:
        store, out = tmp / "runs", tmp / "site"
        t0 = time.perf_counter()
        chunks = 8
        per = args.runs // chunks
        with Pool(2) as pool:
            pool.map(_log, [(str(store), c * per, per) for c in range(chunks)])
        logged = time.perf_counter() - t0
        from runsite.site import build

        t0 = time.perf_counter()
        result = build(store, out)
        built = time.perf_counter() - t0
        manifest_mb, chunks_mb, nchunks = _data_mb(out, "big")
        search_js = out / "data" / "search.js"
        page_url = (out / "experiments" / "big.html").resolve().as_uri()

        m = _measure_page(chromium, page_url, FILTERS, args.repeats, "metrics.val_loss")
        ready, filters, errors = m["ready"], m["filters"], m["errors"]
        med_ready, med_filter = statistics.median(ready), statistics.median(filters)
        print("\n".join(benchlib.machine_header("runsite browser bench")))
        print(
            f"store: {args.runs:,} runs logged in {logged:.0f} s; site built in {built:.1f} s "
            f"({result.pages} pages); Chromium from file://, {args.repeats} page loads\n"
        )
        rows = [
            (
                "navigation to interactive table (median)",
                f"{med_ready:.0f} ms",
                "<= 1,500 ms",
                benchlib.verdict(med_ready, 1500),
            ),
            (
                "filter update, 10 filters (median)",
                f"{med_filter:.1f} ms",
                "<= 50 ms",
                benchlib.verdict(med_filter, 50),
            ),
            ("experiment manifest", f"{manifest_mb:.2f} MB", "—", "—"),
            (f"experiment chunks ({nchunks} files)", f"{chunks_mb:.2f} MB", "—", "—"),
            (
                "global search index",
                f"{search_index_mb(search_js.parent.parent)[0]:.2f} MB",
                "—",
                "—",
            ),
        ]
        head = ("measure", "value", "target", "verdict")
        print("\n".join(benchlib.table(head, rows, left=range(4))))
        print(
            f"\ndetails: ready ms {[round(x) for x in ready]}; filter ms min {min(filters):.1f} "
            f"max {max(filters):.1f}; console errors: {len(errors)}"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
