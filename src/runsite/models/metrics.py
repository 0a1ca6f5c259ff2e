"""Standard metrics of predictions against targets, with numpy only (scikit-learn is
not needed): regression (rmse, mae, r2, …) and classification (accuracy, f1, log loss,
ROC AUC)."""

from __future__ import annotations

import math
from typing import Any

from runsite.errors import InvalidInput

MODEL_TYPES = ("regressor", "classifier")
REGRESSION = ("rmse", "mse", "mae", "r2", "max_error", "mape")
CLASSIFICATION = ("accuracy", "f1", "precision", "recall", "log_loss", "roc_auc")
# Lower is better for these; higher for the rest.
MINIMIZE = {"rmse", "mse", "mae", "max_error", "mape", "log_loss"}


def goal_of(metric: str) -> str:
    return "minimize" if metric in MINIMIZE else "maximize"


def regression(y_true: Any, y_pred: Any) -> dict[str, float]:
    """rmse, mse, mae, r2, max_error and mape (mean absolute percentage error as a
    fraction, over the rows whose target is not 0, as scikit-learn's ``mape`` guards)."""
    import numpy as np

    y = np.asarray(y_true, dtype="float64").reshape(-1)
    p = np.asarray(y_pred, dtype="float64").reshape(-1)
    if y.shape != p.shape:
        raise InvalidInput(f"{p.size} predictions for {y.size} targets")
    if y.size == 0:
        raise InvalidInput("no rows to evaluate")
    err = p - y
    mse = float(np.mean(err**2))
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(np.sum(err**2)) / ss_tot if ss_tot > 0 else float("nan")
    eps = np.finfo("float64").eps
    mape = float(np.mean(np.abs(err) / np.maximum(np.abs(y), eps)))
    return {
        "rmse": math.sqrt(mse),
        "mse": mse,
        "mae": float(np.mean(np.abs(err))),
        "r2": r2,
        "max_error": float(np.max(np.abs(err))),
        "mape": mape,
    }


def _binary_auc(pos: Any, score: Any) -> float:
    """ROC AUC by ranks (Mann-Whitney U), ties counted half."""
    import numpy as np

    n_pos = int(pos.sum())
    n_neg = pos.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(score, kind="mergesort")
    s = score[order]
    ranks = np.empty(s.size, dtype="float64")
    # average ranks over ties
    _, first, counts = np.unique(s, return_index=True, return_counts=True)
    avg = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def classification(
    y_true: Any, y_pred: Any, proba: Any = None, classes: Any = None
) -> dict[str, float]:
    """accuracy, f1, precision and recall (binary: of the greater label, as scikit-learn's
    ``pos_label=1``; more classes: macro averages), and with class probabilities
    (columns in ``classes`` order) log_loss and roc_auc (macro one-vs-rest)."""
    import numpy as np

    y = np.asarray(y_true).reshape(-1)
    p = np.asarray(y_pred).reshape(-1)
    if y.shape != p.shape:
        raise InvalidInput(f"{p.size} predictions for {y.size} targets")
    if y.size == 0:
        raise InvalidInput("no rows to evaluate")
    if y.dtype.kind != p.dtype.kind and {y.dtype.kind, p.dtype.kind} <= set("iuf"):
        y, p = y.astype("float64"), p.astype("float64")
    labels = np.unique(np.concatenate([y, p]))
    out: dict[str, float] = {"accuracy": float(np.mean(y == p))}

    def prf(label: Any) -> tuple[float, float, float]:
        tp = float(np.sum((p == label) & (y == label)))
        fp = float(np.sum((p == label) & (y != label)))
        fn = float(np.sum((p != label) & (y == label)))
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        return prec, rec, f1

    if labels.size <= 2:
        prec, rec, f1 = prf(labels[-1])
    else:
        scores = np.array([prf(label) for label in labels])
        prec, rec, f1 = (float(x) for x in scores.mean(axis=0))
    out.update(precision=prec, recall=rec, f1=f1)
    if proba is not None and classes is not None:
        prob = np.asarray(proba, dtype="float64")
        cls = np.asarray(classes)
        if prob.ndim == 1:
            prob = np.column_stack([1 - prob, prob])
        if prob.shape != (y.size, cls.size):
            raise InvalidInput(
                f"probabilities of shape {prob.shape} for {y.size} rows and {cls.size} classes"
            )
        index = {c: i for i, c in enumerate(cls.tolist())}
        unknown = sorted({str(v) for v in y.tolist() if v not in index})
        if not unknown:
            rows = np.array([index[v] for v in y.tolist()])
            clipped = np.clip(prob, 1e-15, 1 - 1e-15)
            clipped = clipped / clipped.sum(axis=1, keepdims=True)
            out["log_loss"] = float(-np.mean(np.log(clipped[np.arange(y.size), rows])))
            if cls.size == 2:
                out["roc_auc"] = _binary_auc(rows == 1, prob[:, 1])
            else:
                aucs = [_binary_auc(rows == i, prob[:, i]) for i in range(cls.size)]
                finite = [a for a in aucs if not math.isnan(a)]
                out["roc_auc"] = float(np.mean(finite)) if finite else float("nan")
    return out


def guess_model_type(y: Any) -> str:
    """``classifier`` for text, boolean or few whole-number targets, else ``regressor``."""
    import numpy as np

    arr = np.asarray(y)
    if arr.dtype.kind in "OUSb":
        return "classifier"
    if arr.dtype.kind in "iu" and np.unique(arr).size <= 20:
        return "classifier"
    return "regressor"
