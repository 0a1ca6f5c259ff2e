"""``runsite serve``: build, serve on localhost, rebuild when the store changes."""

from __future__ import annotations

import functools
import http.server
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path


def store_signature(root: Path) -> tuple[int, int, int]:
    """Cheap change detector: file count, total size and newest mtime under ``root``."""
    count = size = newest = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            try:
                st = os.stat(os.path.join(dirpath, name))
            except OSError:
                continue
            count += 1
            size += st.st_size
            newest = max(newest, st.st_mtime_ns)
    return count, size, newest


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def serve(
    out: Path,
    port: int,
    rebuild: Callable[[], None],
    watch: Path,
    interval: float = 1.0,
    stop: threading.Event | None = None,
    ready: Callable[[str], None] | None = None,
) -> None:
    """Serve ``out`` on 127.0.0.1:``port`` until ``stop`` is set (or Ctrl-C); call
    ``rebuild`` whenever the files under ``watch`` change."""
    handler = functools.partial(_Quiet, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    if ready:
        ready(f"http://127.0.0.1:{server.server_address[1]}/index.html")
    stop = stop or threading.Event()
    last = store_signature(watch)
    try:
        while not stop.wait(interval):
            now = store_signature(watch)
            if now != last:
                last = now
                time.sleep(0.2)  # let a writer finish its burst
                rebuild()
    finally:
        server.shutdown()
        server.server_close()
