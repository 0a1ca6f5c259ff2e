"""Screenshots of a built site's pages in headless Chromium, at a desktop and a phone width.

    python scripts/screenshots.py SITE OUT [--width 1400 --width 390] [--page PATH ...]
        [--full] [--hero docs/screenshot.png]

Without ``--page`` it takes one page of every kind (home, experiment, run, compare,
registry, model, datasets, 404). Files are named ``<page>@<width>.png``. ``--hero``
writes the README's picture: the largest experiment page at 1400 × 1250 px (its charts and
the top of its runs table).
Uses Debian's /usr/bin/chromium or ``$RUNSITE_CHROMIUM`` (never downloads a browser).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS


def page_kinds(site: Path) -> list[str]:
    """One page of each kind, as paths relative to the site."""
    out = ["index.html"]
    for folder in ("experiments", "runs", "models"):
        found = sorted((site / folder).glob("*.html"))
        if folder == "runs":  # the run with the most to show: charts, models, artifacts
            found.sort(key=lambda p: -p.stat().st_size)
        out += [p.relative_to(site).as_posix() for p in found[:1]]
    first_runs = sorted((site / "runs").glob("*.html"))[:4]
    ids = ",".join(p.stem for p in first_runs)
    out += [f"compare.html#runs={ids}", "registry.html", "datasets.html", "404.html"]
    return [p for p in out if (site / p.split("#")[0]).is_file()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("site", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--width", type=int, action="append")
    ap.add_argument("--page", action="append")
    ap.add_argument("--full", action="store_true", help="the whole page, not the first screen")
    ap.add_argument("--hero", type=Path, help="also write the README picture here")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    widths = args.width or [1400, 390]
    pages = args.page or page_kinds(args.site)
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=os.environ.get("RUNSITE_CHROMIUM", CHROMIUM), args=CHROMIUM_ARGS
        )
        for width in widths:
            ctx = browser.new_context(
                viewport={"width": width, "height": 900 if width > 600 else 844},
                device_scale_factor=1,
            )
            page = ctx.new_page()
            for rel in pages:
                page.goto((args.site.resolve() / rel.split("#")[0]).as_uri() + _hash(rel))
                page.wait_for_load_state("load")
                page.wait_for_timeout(1200)  # charts render after load
                name = rel.split("#")[0].replace("/", "_").removesuffix(".html")
                path = args.out / f"{name}@{width}.png"
                page.screenshot(path=str(path), full_page=args.full)
                print(path)
            ctx.close()
        if args.hero:
            ctx = browser.new_context(viewport={"width": 1400, "height": 1250})
            page = ctx.new_page()
            # the experiment with the most to show (the largest page: most runs and charts)
            exp = max((args.site / "experiments").glob("*.html"), key=lambda p: p.stat().st_size)
            page.goto(exp.resolve().as_uri())
            page.wait_for_timeout(1500)
            page.screenshot(path=str(args.hero))
            print(args.hero)
        browser.close()


def _hash(rel: str) -> str:
    return "#" + rel.split("#", 1)[1] if "#" in rel else ""


if __name__ == "__main__":
    main()
