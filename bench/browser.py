"""The interactive site in headless Chromium, on a 10,000-run experiment.

    python bench/browser.py [--runs N] [--repeats R]

Logs N runs (default 10,000; 3 params, 2 tags, 3 metrics x 10 steps each) into a temp
store with 2 processes, builds the site (not timed here: bench/site.py times builds),
then opens the experiment page from file:// in Debian's Chromium and measures:

- navigation to interactive table: ``performance.now()`` when runs.js has rendered the
  first page of the table (its ``readyAt``), i.e. since navigation start; median of R
  fresh page loads;
- filter update: time for ``applyNow()`` (parse, filter, sort, render page 1) for 10
  query-language filters, median over all filters x R;
- sizes of the experiment's data file and of the global search index.

Targets (issue 6): interactive <= 1.5 s, filter <= 50 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from multiprocessing import Pool
from pathlib import Path

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sys.exit("bench/browser.py needs playwright (pip install playwright) and chromium")
    chromium = os.environ.get("RUNSITE_CHROMIUM", "/usr/bin/chromium")
    if not Path(chromium).exists():
        sys.exit(f"no chromium at {chromium} (apt-get install chromium)")

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
        data_js = out / "data" / "experiments" / "big.js"
        search_js = out / "data" / "search.js"
        page_url = (out / "experiments" / "big.html").resolve().as_uri()

        ready: list[float] = []
        filters: list[float] = []
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
            for _ in range(args.repeats):
                page = browser.new_page()
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                page.goto(page_url)
                page.wait_for_selector("#runs-app[data-ready]", state="attached", timeout=60_000)
                ready.append(page.evaluate("window.runsiteRunsTable.readyAt"))
                filters += page.evaluate(
                    """(fs) => fs.map((q) => {
                        document.getElementById('rt-q').value = q;
                        const t0 = performance.now();
                        window.runsiteRunsTable.applyNow();
                        return performance.now() - t0;
                    })""",
                    FILTERS,
                )
                page.close()
            browser.close()

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
            ("experiment data file", f"{data_js.stat().st_size / 1e6:.2f} MB", "—", "—"),
            ("global search index", f"{search_js.stat().st_size / 1e6:.2f} MB", "—", "—"),
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
