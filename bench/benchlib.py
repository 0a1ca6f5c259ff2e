"""What the bench scripts share: progress lines on stderr, the machine header, the
PASS/MISS verdict and the aligned table. Imported as ``benchlib`` (Python puts the
script's folder, bench/, first on ``sys.path``)."""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from pathlib import Path


def progress(msg: str) -> None:
    """A timestamped progress line on stderr (the table goes to stdout)."""
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def cpu_model() -> str:
    try:
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                return ln.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 0


def machine_header(title: str) -> list[str]:
    """``<title> — <date>``, then the machine (platform, CPUs, model) and the Python."""
    model = cpu_model()
    return [
        f"{title} — {datetime.now(UTC):%Y-%m-%d %H:%M UTC}",
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs ({usable_cpus()} usable)"
        + (f", {model}" if model else ""),
        f"python: {platform.python_version()} ({sys.executable})",
    ]


def load_average() -> str:
    """The 1-, 5- and 15-minute load averages, ``1.23 / 0.98 / 0.75`` (``?`` where the
    system does not tell)."""
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def verdict(value: float, target: float | None) -> str:
    """PASS when ``value`` is at most ``target``, MISS above it, — with no target."""
    if target is None:
        return "—"
    return "PASS" if value <= target else "MISS"


def table(
    head: Sequence[str], rows: Sequence[Sequence[str]], left: Collection[int] = (0,)
) -> list[str]:
    """Aligned columns, two spaces apart: the columns in ``left`` left-aligned, the others
    right-aligned; a line of dashes under the header."""
    allrows = [list(head), *map(list, rows)]
    widths = [max(len(r[i]) for r in allrows) for i in range(len(head))]

    def line(r: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if i in left else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()

    return [line(allrows[0]), "  ".join("-" * w for w in widths), *map(line, allrows[1:])]
