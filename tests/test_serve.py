"""``runsite serve``: serves the built site on localhost and rebuilds on changes."""

from __future__ import annotations

import threading
import time
import urllib.request
from pathlib import Path

import runsite
from runsite.site import build
from runsite.site.serve import serve


def test_serve_and_rebuild(store: Path, tmp_path: Path) -> None:
    runsite.set_experiment("first")
    with runsite.start_run(run_name="one", log_git=False):
        runsite.log_metric("m", 1.0)
    out = tmp_path / "site"
    build(store, out)
    stop = threading.Event()
    urls: list[str] = []
    rebuilt = threading.Event()

    def rebuild() -> None:
        build(store, out)
        rebuilt.set()

    thread = threading.Thread(
        target=serve, args=(out, 0, rebuild, store, 0.1, stop, urls.append), daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not urls and time.monotonic() < deadline:
            time.sleep(0.02)
        assert urls and urls[0].startswith("http://127.0.0.1:")
        page = urllib.request.urlopen(urls[0], timeout=5).read().decode()
        assert "first" in page
        runsite.set_experiment("second")
        with runsite.start_run(run_name="two", log_git=False):
            runsite.log_metric("m", 2.0)
        assert rebuilt.wait(10), "the store changed but the site was not rebuilt"
        page = urllib.request.urlopen(urls[0], timeout=5).read().decode()
        assert "second" in page
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()
