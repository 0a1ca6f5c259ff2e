"""The run record: the one module that knows the bytes on disk (see docs/format.md).

A run folder holds ``run.json`` (header, written once at start), ``events.jsonl``
(append-only: params, tags, inputs, artifacts, notes, error, status), ``metrics.jsonl``
(append-only points while the run is open) which becomes ``metrics.parquet`` when the
run ends, and ``artifacts/``.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import stat
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from runsite.atomic import write_atomic
from runsite.errors import StoreFormatError, WriteError

FORMAT_VERSION = 1
RUN_JSON = "run.json"
EVENTS = "events.jsonl"
METRICS_JSONL = "metrics.jsonl"
METRICS_PARQUET = "metrics.parquet"
# Lines of metrics.jsonl that compaction could not convert, kept verbatim (never dropped).
METRICS_REJECTED = "metrics.rejected.jsonl"
ARTIFACTS = "artifacts"
EXPERIMENT_YAML = "experiment.yaml"
REGISTRY_YAML = "registry.yaml"
MODEL_YAML = "model.yaml"  # the manifest of a model folder (docs/format.md)
STAGES = ("none", "staging", "production", "archived")  # a registered version's stages

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
# At most this many points wait in memory: a logging call that finds more waits for the
# writer (so a tight loop cannot starve it), and a batch is written in chunks of this many
# whole lines (one write each: a failure or a kill never tears more than the last chunk).
# Small enough that under heavy load (a load average of 14 on 2 cores) the queue and the
# batch being written are never older than the 1 s the SIGKILL trials allow.
MAX_PENDING_POINTS = 20_000
CHUNK_POINTS = 5_000

_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


# The clock every time runsite writes is read from (see set_clock). None: the system's.
_clock: Callable[[], int] | None = None


def set_clock(clock: Callable[[], int] | None) -> None:
    """Take every time runsite writes from ``clock()`` (milliseconds since the epoch)
    instead of the system clock: a run's start and end, its id, event and metric
    timestamps, a model's ``created`` and a version's ``registered`` date. ``None``
    restores the system clock.

    For writing a store whose story spans weeks in seconds (``examples/train.py``
    builds the demo so); a training script never needs it. A clock that goes back in
    time makes run ids that do not sort by start."""
    global _clock
    _clock = clock


def now_ms() -> int:
    """Milliseconds since the epoch, from the clock set by :func:`set_clock`."""
    return time.time_ns() // 1_000_000 if _clock is None else _clock()


def now_iso() -> str:
    """:func:`now_ms` as ISO 8601 UTC to the second (``2026-03-05T14:03:05Z``)."""
    return datetime.fromtimestamp(now_ms() // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def dumps(obj: Any) -> str:
    """Strict JSON (no NaN literals), UTF-8 kept readable, one line."""
    return json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def write_json_atomic(path: Path, obj: Any) -> None:
    text = json.dumps(obj, ensure_ascii=False, allow_nan=False, indent=1) + "\n"
    write_atomic(path, text, mkdir=False)


# --------------------------------------------------------------------------- writing


def metric_line(key: str, value: float, step: int, ts: int) -> str:
    """One metric point as a JSON line. Keys are validated to need no escaping."""
    if math.isfinite(value):
        return f'{{"k":"{key}","v":{value!r},"s":{step},"t":{ts}}}\n'
    text = "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    return f'{{"k":"{key}","v":null,"x":"{text}","s":{step},"t":{ts}}}\n'


def write_error(what: str, path: Path, exc: OSError, more: str = "") -> WriteError:
    """``exc`` (a failed write of ``what`` to ``path``) as the error runsite raises."""
    reason = exc.strerror or str(exc)
    err = WriteError(exc.errno or 0, f"could not write {what} to {path}: {reason}{more}")
    err.filename = str(path)
    return err


class Appender:
    """An ``O_APPEND`` file: every ``write`` is one system call, so a line written is on
    disk for every reader even if the process is killed right after. A write that fails
    (disk full, I/O error) is undone: the file is cut back to where it was, so it never
    ends in half a line that a later write would glue to the next one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(self, text: str) -> None:
        """Append ``text`` whole, or raise ``OSError`` with the file as it was."""
        if self._fd is None:
            raise ValueError(f"{self.path} is closed")
        data = text.encode("utf-8")
        fd = self._fd
        before = os.fstat(fd).st_size
        try:
            while data:
                n = os.write(fd, data)
                data = data[n:]
        except OSError:
            # (if even that fails, a reader skips the torn last line)
            with contextlib.suppress(OSError):
                os.ftruncate(fd, before)
            raise

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

    Two things keep that bound under load. A logging call that finds
    ``MAX_PENDING_POINTS`` waiting wakes the writer and waits for it (releasing the GIL),
    so a tight loop cannot starve it; and a batch is written in chunks of whole lines.

    A write that fails (ENOSPC, EIO, EROFS) is never only a thread's traceback: the
    points not written stay in memory, oldest first, and are retried every
    ``FLUSH_INTERVAL``; until a retry succeeds ``error`` is set and the run's next
    logging call raises ``WriteError`` (logging nothing), and so does ``close``, with the
    number of points that could not be written.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()  # guards the pending points
        self._write_lock = threading.Lock()  # one batch at a time, in order
        self._taken = threading.Condition(self.lock)  # the writer took a batch
        self._points: list[tuple[str, float, int, int]] = []
        self._retry: list[tuple[str, float, int, int]] = []  # left by a failed write
        self._out: Appender | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: OSError | None = None  # the last write failure, until one succeeds
        self.written = 0  # points on disk

    @property
    def unwritten(self) -> int:
        """Points logged but not (yet) on disk."""
        return len(self._retry) + len(self._points)

    def failure(self) -> WriteError:
        """The error a logging call raises while ``error`` is set."""
        assert self.error is not None
        more = (
            f"; {self.unwritten:,} points are kept in memory and retried every "
            f"{FLUSH_INTERVAL} s ({self.written:,} were written); this call logged nothing"
        )
        return write_error("metric points", self.path, self.error, more)

    def add(self, key: str, value: float, step: int, ts: int) -> None:
        # Caller holds self.lock.
        self._points.append((key, value, step, ts))
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._loop, name="runsite-metric-flush", daemon=True
            )
            self._thread.start()
        elif len(self._points) >= MAX_PENDING_POINTS:
            self._backpressure()

    def _backpressure(self) -> None:
        # Caller holds self.lock: wake the writer and wait (the lock and the GIL released)
        # until it has taken the batch. Not from the writer itself, nor once it failed.
        if threading.current_thread() is self._thread:
            return
        self._wake.set()
        while (
            len(self._points) >= MAX_PENDING_POINTS
            and self.error is None
            and not self._stop.is_set()
            and self._thread is not None
            and self._thread.is_alive()
        ):
            self._taken.wait(timeout=FLUSH_INTERVAL)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(FLUSH_INTERVAL)
            self._wake.clear()
            try:
                self.flush()
            except Exception as exc:  # never die silently: the next logging call raises
                if self.error is None:
                    self.error = exc if isinstance(exc, OSError) else OSError(0, repr(exc))
        with contextlib.suppress(Exception):  # close() flushes once more and reports
            self.flush()

    def flush(self) -> None:
        """Write every pending point now; ``OSError`` if a write fails (the points not
        written are kept for the next flush)."""
        with self._write_lock:
            with self.lock:
                points = self._retry + self._points if self._retry else self._points
                self._retry, self._points = [], []
                self._taken.notify_all()
            if not points:
                return
            done = 0
            try:
                if self._out is None:
                    self._out = Appender(self.path)
                for start in range(0, len(points), CHUNK_POINTS):
                    chunk = points[start : start + CHUNK_POINTS]
                    self._out.write("".join([metric_line(*p) for p in chunk]))
                    done += len(chunk)
            except OSError as exc:
                with self.lock:
                    self._retry = points[done:]
                    self.written += done
                    self.error = exc
                raise
            with self.lock:
                self.written += done
                self.error = None

    def close(self) -> None:
        """Stop the writer and write what is left; ``WriteError`` when points could not
        be written (they are lost when the process ends)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=60)
        with contextlib.suppress(OSError):  # whatever came after the thread's last batch
            self.flush()
        if self._out is not None:
            self._out.close()
        if self.error is not None:
            more = (
                f"; {self.unwritten:,} points could not be written and are lost when the "
                f"process ends ({self.written:,} were written and stay readable)"
            )
            raise write_error("metric points", self.path, self.error, more)


# --------------------------------------------------------------------------- reading


@dataclass
class JsonlRead:
    """Lines read from a JSONL file, and what had to be skipped."""

    records: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def read_run_file(path: Path, limit: int) -> bytes:
    """The bytes of a run file: a regular file, never a symlink, FIFO or device (a
    ``metrics.jsonl`` linked to /dev/zero would be read forever), at most ``limit`` bytes
    (``StoreFormatError`` otherwise). ``FileNotFoundError`` when it does not exist."""
    try:
        fd = os.open(
            path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        )
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise StoreFormatError(f"{path} is a symlink; runsite never writes one") from None
        raise
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise StoreFormatError(f"{path} is not a regular file")
        if st.st_size > limit:
            raise StoreFormatError(f"{path} is {st.st_size:,} bytes; the limit is {limit:,}")
        data = f.read()  # a regular file: up to its end
    if len(data) > limit:
        raise StoreFormatError(f"{path} is over {limit:,} bytes (the limit)")
    return data


def read_jsonl(path: Path) -> JsonlRead:
    """Read a JSONL record, tolerating a torn last line and reporting bad lines."""
    out = JsonlRead()
    try:
        data = read_run_file(path, MAX_JSONL_BYTES)
    except FileNotFoundError:
        return out
    except StoreFormatError as exc:
        out.warnings.append(f"{exc}; not read")
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
            or not MIN_TIME_MS <= ts <= MAX_TIME_MS
        ):
            return None
        return key, float(value), step, ts
    except (KeyError, TypeError, ValueError):
        return None


def split_metric_lines(data: bytes) -> tuple[list[tuple[str, float, int, int]], list[bytes]]:
    """Every line of a ``metrics.jsonl``, either a metric point or kept verbatim (not
    JSON, not a metric point, the torn last line): the two lists hold all the data."""
    points: list[tuple[str, float, int, int]] = []
    rejected: list[bytes] = []
    lines = data.split(b"\n")
    torn = lines.pop()
    for raw in lines:
        if not raw.strip():
            continue
        try:
            rec = json.loads(raw)
        except (ValueError, RecursionError):
            rec = None
        point = metric_point(rec) if isinstance(rec, dict) else None
        if point is None:
            rejected.append(raw + b"\n")
        else:
            points.append(point)
    if torn.strip():
        rejected.append(torn + b"\n")
    return points, rejected


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
        header = json.loads(read_run_file(path, MAX_HEADER_BYTES))
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
# Times are integer milliseconds since 1970; outside this range datetime cannot show them.
MIN_TIME_MS = 0
MAX_TIME_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z

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
    start = header.get("start_time")
    if isinstance(start, int) and not MIN_TIME_MS <= start <= MAX_TIME_MS:
        raise StoreFormatError(
            f"{path}: 'start_time' {start} is not a time between 1970 and 9999 (milliseconds "
            "since 1970); the run is skipped"
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
    for key in ("t", "end_time"):
        value = rec.get(key)
        if isinstance(value, int | float) and not MIN_TIME_MS <= value <= MAX_TIME_MS:
            return f"{key!r} {value} is not a time between 1970 and 9999"
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


def _local_paths_out(text: str) -> str:
    """The traceback without this machine's folders (sites get published): files under
    the working directory become relative, others under the home folder start with ~."""
    cwd = os.getcwd().rstrip(os.sep) + os.sep
    home = os.path.expanduser("~").rstrip(os.sep)
    text = text.replace(f'File "{cwd}', 'File "')
    if home and home != os.sep.rstrip(os.sep):
        text = text.replace(f'File "{home}{os.sep}', f'File "~{os.sep}')
    return text


def error_fields(exc: BaseException) -> dict[str, str]:
    """The ``error`` event of a run that failed with ``exc``: type (module-qualified
    unless a builtin), message and formatted traceback."""
    import traceback

    cls = type(exc)
    name = cls.__qualname__
    if cls.__module__ != "builtins":
        name = f"{cls.__module__}.{name}"
    text = _local_paths_out("".join(traceback.format_exception(exc)))
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


def event_at(kind: str, t: int, /, **fields: Any) -> str:
    """An event line with a given time (an imported run keeps its source's times)."""
    return dumps({"type": kind, "t": t, **fields}) + "\n"


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
    timestamp wins, then the largest value, as in MLflow; ``min`` and ``max`` skip NaN
    (NaN when every point is NaN).
    """
    acc: dict[str, list[Any]] = {}
    for key, value, step, ts in points:
        a = acc.get(key)
        if a is None:
            acc[key] = a = [value, step, math.inf, -math.inf, 0, ts]
        elif step > a[1] or (step == a[1] and (ts > a[5] or (ts == a[5] and value >= a[0]))):
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
