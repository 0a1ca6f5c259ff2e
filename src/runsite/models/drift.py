"""Data drift between a model's training data and new data, per feature.

Numeric features: the population stability index (PSI) over quantile buckets of the
training values. Categorical features: the PSI over category frequencies, with the
categories whose share moved most. The same scale for both, so one threshold applies:
below 0.1 little change, 0.1–0.2 some, above 0.2 (the default threshold) a shift worth
a look — the usual reading of PSI in credit scoring, where it comes from.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

DEFAULT_THRESHOLD = 0.2
BUCKETS = 10
_EPS = 1e-4  # a bucket's share is floored at this, so an empty bucket is not infinite


def _psi(expected: Sequence[float], actual: Sequence[float]) -> float:
    total = 0.0
    for e, a in zip(expected, actual, strict=True):
        e, a = max(e, _EPS), max(a, _EPS)
        total += (a - e) * math.log(a / e)
    return total


def _is_numeric(values: Any) -> bool:
    kind = getattr(getattr(values, "dtype", None), "kind", "")
    return kind in "iuf" and kind != ""


def numeric_psi(train: Any, new: Any, buckets: int = BUCKETS) -> dict[str, Any]:
    import numpy as np

    t = np.asarray(train, dtype="float64")
    n = np.asarray(new, dtype="float64")
    t, n = t[~np.isnan(t)], n[~np.isnan(n)]
    if t.size == 0 or n.size == 0:
        return {"kind": "numeric", "psi": None, "note": "no values"}
    edges = np.unique(np.quantile(t, np.linspace(0, 1, buckets + 1)[1:-1]))
    # bucket i holds values in (edges[i-1], edges[i]]; open-ended at both sides
    te = np.bincount(np.searchsorted(edges, t, side="left"), minlength=edges.size + 1) / t.size
    ne = np.bincount(np.searchsorted(edges, n, side="left"), minlength=edges.size + 1) / n.size
    return {
        "kind": "numeric",
        "psi": _psi(te.tolist(), ne.tolist()),
        "train_mean": float(t.mean()),
        "new_mean": float(n.mean()),
        "buckets": int(edges.size + 1),
    }


def categorical_psi(train: Sequence[Any], new: Sequence[Any], top: int = 3) -> dict[str, Any]:
    tc = Counter("" if v is None else str(v) for v in train)
    nc = Counter("" if v is None else str(v) for v in new)
    tn, nn = sum(tc.values()), sum(nc.values())
    if tn == 0 or nn == 0:
        return {"kind": "categorical", "psi": None, "note": "no values"}
    cats = sorted(set(tc) | set(nc))
    expected = [tc[c] / tn for c in cats]
    actual = [nc[c] / nn for c in cats]
    moves: list[dict[str, Any]] = sorted(
        (
            {"category": c, "train": e, "new": a}
            for c, e, a in zip(cats, expected, actual, strict=True)
        ),
        key=lambda m: -abs(float(m["new"]) - float(m["train"])),
    )
    return {
        "kind": "categorical",
        "psi": _psi(expected, actual),
        "unseen": sorted(c for c in nc if c not in tc)[:10],
        "top_shifts": moves[:top],
    }


def compare(
    train: Mapping[str, Any],
    new: Mapping[str, Any],
    features: Sequence[str],
    threshold: float = DEFAULT_THRESHOLD,
) -> dict[str, Any]:
    """Per-feature drift of ``new`` against ``train`` (column name → values), the
    features over ``threshold`` and the most drifted first."""
    out: dict[str, dict[str, Any]] = {}
    for name in features:
        if name not in train or name not in new:
            out[name] = {
                "psi": None,
                "note": "not in the training data" if name not in train else "not in the new data",
            }
            continue
        a, b = train[name], new[name]
        if _is_numeric(a) and _is_numeric(b):
            out[name] = numeric_psi(a, b)
        else:
            out[name] = categorical_psi(list(a), list(b))
    scored = sorted(
        ((n, d["psi"]) for n, d in out.items() if d.get("psi") is not None),
        key=lambda x: -x[1],
    )
    for n, _ in scored:
        out[n]["drifted"] = out[n]["psi"] > threshold
    drifted = [n for n, s in scored if s > threshold]
    return {
        "available": True,
        "method": "psi",
        "threshold": threshold,
        "features": out,
        "drifted": drifted,
        "top": [n for n, _ in scored[:5]],
        "max_psi": scored[0][1] if scored else None,
    }


def unavailable(reason: str) -> dict[str, Any]:
    return {"available": False, "reason": reason}
