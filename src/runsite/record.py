"""The run record: the one module that knows the bytes on disk (see docs/format.md).

A run folder holds ``run.json`` (header, written once at start), ``events.jsonl``
(append-only: params, tags, inputs, artifacts, notes, error, status), ``metrics.jsonl``
(append-only points while the run is open) which becomes ``metrics.parquet`` when the
run ends, and ``artifacts/``.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runsite.errors import StoreFormatError

FORMAT_VERSION = 1
RUN_JSON = "run.json"
EVENTS = "events.jsonl"
METRICS_JSONL = "metrics.jsonl"
METRICS_PARQUET = "metrics.parquet"
ARTIFACTS = "artifacts"
EXPERIMENT_YAML = "experiment.yaml"
REGISTRY_YAML = "registry.yaml"

# Statuses as MLflow names them; UNFINISHED is what a reader reports for a run that has no
# end event and whose process is not known to be alive (killed, crashed, or still running
# on another machine).
RUNNING, FINISHED, FAILED, KILLED, UNFINISHED = (
    "RUNNING",
    "FINISHED",
    "FAILED",
    "KILLED",
    "UNFINISHED",
)
END_STATUSES = (FINISHED, FAILED, KILLED)

# How often buffered metric points reach the file at the latest (seconds).
FLUSH_INTERVAL = 0.25

_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def dumps(obj: Any) -> str:
    """Strict JSON (no NaN literals), UTF-8 kept readable, one line."""
    return json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def write_json_atomic(path: Path, obj: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(obj, ensure_ascii=False, allow_nan=False, indent=1) + "\n", "utf-8")
    os.replace(tmp, path)


# --------------------------------------------------------------------------- writing


def metric_line(key: str, value: float, step: int, ts: int) -> str:
    """One metric point as a JSON line. Keys are validated to need no escaping."""
    if math.isfinite(value):
        return f'{{"k":"{key}","v":{value!r},"s":{step},"t":{ts}}}\n'
    text = "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    return f'{{"k":"{key}","v":null,"x":"{text}","s":{step},"t":{ts}}}\n'


class Appender:
    """An ``O_APPEND`` file: every ``write`` is one system call, so a line written is on
    disk for every reader even if the process is killed right after."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(self, text: str) -> None:
        if self._fd is None:
            raise ValueError(f"{self.path} is closed")
        data = text.encode("utf-8")
        while data:
            n = os.write(self._fd, data)
            data = data[n:]

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class MetricBuffer:
    """Metric points collected in memory and appended to ``metrics.jsonl`` in batches.

    ``add`` is the hot path of ``log_metric``: it only appends to a list. A background
    thread writes the batch every ``FLUSH_INTERVAL`` seconds, so a killed process loses
    at most that much. Writing only from that thread also means Ctrl-C or SIGTERM (whose
    Python handlers run in the main thread) can never interrupt a batch half-written.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()  # guards the pending points
        self._write_lock = threading.Lock()  # one batch at a time, in order
        self._points: list[tuple[str, float, int, int]] = []
        self._out: Appender | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, key: str, value: float, step: int, ts: int) -> None:
        # Caller holds self.lock.
        self._points.append((key, value, step, ts))
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._loop, name="runsite-metric-flush", daemon=True
            )
            self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(FLUSH_INTERVAL):
            self.flush()
        self.flush()

    def flush(self) -> None:
        """Write every pending point now."""
        with self._write_lock:
            with self.lock:
                points, self._points = self._points, []
            if not points:
                return
            data = "".join([metric_line(*p) for p in points])
            if self._out is None:
                self._out = Appender(self.path)
            self._out.write(data)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=60)
        self.flush()  # whatever came after the thread's last batch
        if self._out is not None:
            self._out.close()


# --------------------------------------------------------------------------- reading


@dataclass
class JsonlRead:
    """Lines read from a JSONL file, and what had to be skipped."""

    records: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def read_jsonl(path: Path) -> JsonlRead:
    """Read a JSONL record, tolerating a torn last line and reporting bad lines."""
    out = JsonlRead()
    try:
        if path.stat().st_size > MAX_JSONL_BYTES:
            out.warnings.append(
                f"{path}: {path.stat().st_size:,} bytes; the limit is {MAX_JSONL_BYTES:,}; not read"
            )
            return out
        data = path.read_bytes()
    except FileNotFoundError:
        return out
    lines = data.split(b"\n")
    torn = lines.pop() if lines else b""
    body = [ln for ln in lines if ln.strip()]
    try:  # the common case, all lines intact: one parse instead of one per line
        records = json.loads(b"[" + b",".join(body) + b"]") if body else []
    except (ValueError, RecursionError):
        records = None
    if records is not None and all(isinstance(r, dict) for r in records):
        out.records = records
        lines = []
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            rec = json.loads(raw)
        except (ValueError, RecursionError):
            out.warnings.append(f"{path}: line {number} is not valid JSON; skipped")
            continue
        if isinstance(rec, dict):
            out.records.append(rec)
        else:
            out.warnings.append(f"{path}: line {number} is not a JSON object; skipped")
    if torn.strip():
        out.warnings.append(
            f"{path}: last line is incomplete (the process was probably killed while "
            f"writing it); skipped {len(torn)} bytes"
        )
    return out


def metric_point(rec: dict[str, Any]) -> tuple[str, float, int, int] | None:
    """Decode one metric line; ``None`` when it is not a metric point."""
    try:
        key, value, step, ts = rec["k"], rec["v"], rec["s"], rec["t"]
        if value is None:
            value = _NONFINITE[rec["x"]]
        if (
            not isinstance(key, str)
            or not isinstance(value, int | float)
            or not isinstance(step, int)
            or not isinstance(ts, int)
            or True in (value is True, value is False, step is True, step is False)
        ):
            return None
        return key, float(value), step, ts
    except (KeyError, TypeError, ValueError):
        return None


def iter_metric_points(path: Path, warnings: list[str]) -> Iterator[tuple[str, float, int, int]]:
    read = read_jsonl(path)
    warnings.extend(read.warnings)
    for number, rec in enumerate(read.records, 1):
        point = metric_point(rec)
        if point is None:
            warnings.append(f"{path}: record {number} is not a metric point; skipped")
            continue
        yield point


def read_header(run_dir: Path) -> dict[str, Any]:
    """``run.json``, checked: valid JSON within the size and depth limits, every field of
    the type the writer gives it, and its ``run_id`` (if any) equal to the folder name."""
    path = run_dir / RUN_JSON
    try:
        if path.stat().st_size > MAX_HEADER_BYTES:
            raise StoreFormatError(
                f"{path} is {path.stat().st_size:,} bytes; the limit is {MAX_HEADER_BYTES:,}"
            )
        header = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise StoreFormatError(f"{run_dir} has no {RUN_JSON}; it is not a run folder") from None
    except RecursionError:
        raise StoreFormatError(f"{path} is nested too deeply to read") from None
    except ValueError as exc:
        raise StoreFormatError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(header, dict):
        raise StoreFormatError(f"{path} is not a JSON object")
    check_header(header, path)
    version = header.get("format", 1)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise StoreFormatError(
            f"{path} uses run format {version!r}; this runsite reads up to {FORMAT_VERSION}. "
            "Upgrade runsite to read it."
        )
    return header


MAX_HEADER_BYTES = 16 * 1024 * 1024
MAX_JSONL_BYTES = 1024 * 1024 * 1024
MAX_DEPTH = 32

_OPT_STR = (str, type(None))
_HEADER_TYPES: dict[str, tuple[type, ...]] = {
    "run_id": (str,),
    "run_name": _OPT_STR,
    "experiment": _OPT_STR,
    "experiment_id": _OPT_STR,
    "start_time": (int, type(None)),
    "parent_run_id": _OPT_STR,
    "user": _OPT_STR,
    "host": _OPT_STR,
    "pid": (int, type(None)),
    "command": (list, str, type(None)),
    "entry_point": _OPT_STR,
    "python": (dict, str, type(None)),
    "git": (dict, type(None)),
    "runsite_version": _OPT_STR,
    "packages": (dict, type(None)),
}
_GIT_TYPES: dict[str, tuple[type, ...]] = {
    "commit": _OPT_STR,
    "branch": _OPT_STR,
    "remote": _OPT_STR,
    "dirty": (bool, type(None)),
    "dirty_files": (list, type(None)),
}


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _depth_ok(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict | list):
            if d > limit:
                return False
            stack.extend((x, d + 1) for x in (v.values() if isinstance(v, dict) else v))
    return True


def check_header(header: dict[str, Any], path: Path) -> None:
    """Refuse (``StoreFormatError`` naming the field) a header a reader could trip over."""
    for key, types in _HEADER_TYPES.items():
        if key in header and (
            not isinstance(header[key], types)
            or (isinstance(header[key], bool) and bool not in types)
        ):
            raise StoreFormatError(
                f"{path}: {key!r} must be {' or '.join(_type_name_of(t) for t in types)}, "
                f"not {_type_name(header[key])}; the run is skipped"
            )
    git = header.get("git")
    for key, types in _GIT_TYPES.items():
        if isinstance(git, dict) and key in git and not isinstance(git[key], types):
            raise StoreFormatError(
                f"{path}: 'git.{key}' must be {' or '.join(_type_name_of(t) for t in types)}, "
                f"not {_type_name(git[key])}; the run is skipped"
            )
    if not _depth_ok(header, MAX_DEPTH):
        raise StoreFormatError(f"{path}: nested more than {MAX_DEPTH} levels; the run is skipped")
    folder = path.parent.name
    run_id = header.get("run_id")
    if run_id is not None and run_id != folder:
        raise StoreFormatError(
            f"{path}: run.json claims run id {run_id!r} but its folder is {folder!r}; a run's "
            "id is its folder name, so this run is skipped (a copied or forged run folder?)"
        )


def _type_name_of(t: type) -> str:
    return {str: "a string", int: "an integer", type(None): "null", list: "a list"}.get(
        t, f"a {t.__name__}"
    )


_SCALAR = (str, int, float, bool, type(None))


def _event_problem(rec: dict[str, Any]) -> str | None:
    """Why an event cannot be used (wrong field types), or ``None`` when it can."""
    kind = rec.get("type")
    if not isinstance(kind, str):
        return f"'type' must be a string, not {_type_name(kind)}"
    if "t" in rec and (not isinstance(rec["t"], int | float | type(None)) or rec["t"] is True):
        return f"'t' must be a number, not {_type_name(rec['t'])}"
    if not _depth_ok(rec, MAX_DEPTH):
        return f"nested more than {MAX_DEPTH} levels"
    need: dict[str, tuple[type, ...]] = {}
    if kind in ("param", "tag", "tag_delete"):
        need["key"] = (str,)
        if kind == "param":
            need["value"] = _SCALAR
        elif kind == "tag":
            need["value"] = (str,)
    elif kind == "artifact":
        need = {"path": (str,), "size": (int, type(None)), "sha256": _OPT_STR}
    elif kind == "model":
        need = {"name": (str,), "flavor": _OPT_STR, "hash": _OPT_STR, "size": (int, type(None))}
    elif kind == "input":
        need = {"name": _OPT_STR, "path": _OPT_STR, "hash": _OPT_STR, "size": (int, type(None))}
    elif kind == "note":
        need = {"text": (str,)}
    elif kind == "error":
        need = {"exc_type": (str,), "message": (str,), "traceback": (str,)}
    elif kind == "status":
        need = {"status": (str,), "end_time": (int, type(None)), "metrics": (dict, type(None))}
    for key, types in need.items():
        value = rec.get(key)
        if key not in rec and type(None) in types:
            continue
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            return (
                f"{kind} event: {key!r} must be "
                f"{' or '.join(_type_name_of(t) for t in types)}, not {_type_name(value)}"
            )
    if kind == "status" and rec["status"] not in END_STATUSES:
        return f"status event: unknown status {rec['status']!r}"
    if kind == "status" and isinstance(rec.get("metrics"), dict):
        for key, stats in rec["metrics"].items():
            if not isinstance(stats, dict) or not all(
                isinstance(v, int | float | str | type(None)) for v in stats.values()
            ):
                return f"status event: summary of metric {key!r} is not a mapping of numbers"
    if kind in ("artifact", "model"):
        from runsite.validate import safe_relpath

        try:
            safe_relpath(rec["path" if kind == "artifact" else "name"])
        except ValueError as exc:
            return f"{kind} event: {exc}"
    return None


# The traceback an ``error`` event keeps: the innermost frames matter most, so a longer
# one loses its middle.
MAX_TRACEBACK = 32_000


def error_fields(exc: BaseException) -> dict[str, str]:
    """The ``error`` event of a run that failed with ``exc``: type (module-qualified
    unless a builtin), message and formatted traceback."""
    import traceback

    cls = type(exc)
    name = cls.__qualname__
    if cls.__module__ != "builtins":
        name = f"{cls.__module__}.{name}"
    text = "".join(traceback.format_exception(exc))
    if len(text) > MAX_TRACEBACK:
        half = MAX_TRACEBACK // 2
        gap = len(text) - MAX_TRACEBACK
        text = f"{text[:half]}\n... ({gap} characters left out) ...\n{text[-half:]}"
    try:
        message = str(exc)
    except Exception:  # a broken __str__ must not lose the run
        message = f"<{name}: str() failed>"
    return {"exc_type": name, "message": message[:MAX_TRACEBACK], "traceback": text}


def event(kind: str, /, **fields: Any) -> str:
    return dumps({"type": kind, "t": now_ms(), **fields}) + "\n"


def fold_events(
    records: Iterable[dict[str, Any]], warnings: list[str] | None = None, source: object = ""
) -> dict[str, Any]:
    """Fold the event stream into the run's current state. An event whose fields have
    the wrong types is skipped, with a warning naming ``source`` and the record."""
    state: dict[str, Any] = {
        "params": {},
        "tags": {},
        "inputs": [],
        "artifacts": [],
        "notes": [],
        "models": [],
        "status": None,
        "end_time": None,
        "metrics": None,
        "error": None,
    }
    for number, rec in enumerate(records, 1):
        why = _event_problem(rec)
        if why is not None:
            if warnings is not None:
                warnings.append(f"{source}: record {number} skipped: {why}")
            continue
        kind = rec.get("type")
        if kind == "param":
            state["params"].setdefault(rec.get("key"), rec.get("value"))
        elif kind == "tag":
            state["tags"][rec.get("key")] = rec.get("value")
        elif kind == "tag_delete":
            state["tags"].pop(rec.get("key"), None)
        elif kind == "input":
            state["inputs"].append({k: v for k, v in rec.items() if k not in ("type", "t")})
        elif kind == "artifact":
            art = {k: v for k, v in rec.items() if k not in ("type", "t")}
            state["artifacts"] = [a for a in state["artifacts"] if a.get("path") != art.get("path")]
            state["artifacts"].append(art)
        elif kind == "model":
            model = {k: v for k, v in rec.items() if k not in ("type", "t")}
            state["models"] = [m for m in state["models"] if m.get("name") != model.get("name")]
            state["models"].append(model)
        elif kind == "note":
            state["notes"].append({"text": rec.get("text", ""), "time": rec.get("t")})
        elif kind == "error":
            state["error"] = {k: rec[k] for k in ("exc_type", "message", "traceback")}
        elif kind == "status":
            state["status"] = rec.get("status")
            state["end_time"] = rec.get("end_time", rec.get("t"))
            if isinstance(rec.get("metrics"), dict):
                state["metrics"] = decode_summary(rec["metrics"])
    state["params"].pop(None, None)
    state["tags"].pop(None, None)
    return state


def encode_float(value: float) -> float | str:
    if math.isfinite(value):
        return value
    return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")


def decode_float(value: Any) -> float:
    if isinstance(value, str):
        return _NONFINITE.get(value, math.nan)
    return float(value) if value is not None else math.nan


def encode_summary(summary: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        key: {
            name: encode_float(v) if name in ("last", "min", "max") else v
            for name, v in stats.items()
        }
        for key, stats in summary.items()
    }


def decode_summary(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for key, stats in summary.items():
        if not isinstance(stats, dict):
            continue
        out[str(key)] = {
            name: decode_float(v) if name in ("last", "min", "max") else v
            for name, v in stats.items()
        }
    return out


def summarize_points(points: Iterable[tuple[str, float, int, int]]) -> dict[str, dict[str, Any]]:
    """Per-key last / min / max / count / last_step.

    ``last`` is the value at the highest step; among points at that step, the largest
    timestamp wins, as in MLflow (then the one logged later); ``min`` and ``max`` skip NaN
    (NaN when every point is NaN).
    """
    acc: dict[str, list[Any]] = {}
    for key, value, step, ts in points:
        a = acc.get(key)
        if a is None:
            acc[key] = a = [value, step, math.inf, -math.inf, 0, ts]
        elif step > a[1] or (step == a[1] and ts >= a[5]):
            a[0], a[1], a[5] = value, step, ts
        if value == value:  # not NaN
            if value < a[2]:
                a[2] = value
            if value > a[3]:
                a[3] = value
        a[4] += 1
    return {
        key: {
            "last": a[0],
            "min": a[2] if a[2] <= a[3] else math.nan,
            "max": a[3] if a[2] <= a[3] else math.nan,
            "count": a[4],
            "last_step": a[1],
        }
        for key, a in acc.items()
    }
