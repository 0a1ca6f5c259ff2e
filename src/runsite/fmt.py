"""How numbers, times, durations and sizes read to people (CLI, site, reports)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

MISSING = "–"


def time(ms: int | None, seconds: bool = False) -> str:
    """``2026-11-27 20:24 UTC`` (with ``:ss`` when ``seconds``)."""
    if ms is None:
        return MISSING
    pattern = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime(pattern) + " UTC"


def duration(ms: int | None) -> str:
    """``4.2 s``, ``3 min 07 s``, ``2 h 05 min``."""
    if ms is None:
        return MISSING
    s = ms / 1000
    if s < 60:
        return f"{s:.1f} s"
    m, sec = divmod(int(s), 60)
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min" if h else f"{m} min {sec:02d} s"


def num(v: Any, digits: int = 5) -> str:
    """Significant digits for floats; NaN and ±∞ spelled out; ``–`` for missing."""
    if v is None:
        return MISSING
    if isinstance(v, float) and not isinstance(v, bool):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "∞" if v > 0 else "−∞"
        return f"{v:.{digits}g}"
    return str(v)


def size(n: Any) -> str:
    """``512 B``, ``1.5 KB``, ``48.2 MB``."""
    if not isinstance(n, int | float) or isinstance(n, bool):
        return MISSING
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"
