"""A run being logged: the object API behind every ``runsite.log_*`` function.

``Run`` objects are safe to share between threads. Params, tags, inputs, artifacts and
notes are appended to ``events.jsonl`` as they are logged; metric points are buffered
and appended to ``metrics.jsonl`` at least every ``record.FLUSH_INTERVAL`` seconds.
``end()`` compacts the metrics to Parquet and writes the final status: from then on
the run folder never changes.
"""

from __future__ import annotations

import atexit
import io
import json
import logging
import os
import shutil
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from runsite import artifact_files as artifacts
from runsite import hooks, record, validate
from runsite.entities import RunData, RunInfo, run_info
from runsite.errors import InvalidInput, NotFound, RunStateError, WriteError
from runsite.ids import new_run_id, random_run_name
from runsite.version import __version__

log = logging.getLogger("runsite")

_open_runs: set[Run] = set()
_open_lock = threading.Lock()

GIT_DIFF_ARTIFACT = "git-diff.patch"
LOGGED_ARTIFACTS = "mlflow.loggedArtifacts"  # MLflow's tag listing a run's tables
# How long end() waits for a run's uploads to object storage (seconds).
_UPLOAD_WAIT = float(os.environ.get("RUNSITE_UPLOAD_WAIT", "3600"))


class Run:
    """A run that is being logged. Create one with ``runsite.start_run()`` or
    ``runsite.Store(path).start_run()``; use it as a context manager or call ``end()``."""

    def __init__(
        self,
        store_root: Path,
        experiment: str,
        run_name: str | None = None,
        tags: Mapping[str, Any] | None = None,
        description: str | None = None,
        parent_run_id: str | None = None,
        capture_git: bool = True,
    ) -> None:
        from runsite import capture

        experiment = validate.check_name(experiment, "experiment name")
        slug = validate.slugify(experiment)
        name = validate.check_name(run_name, "run name") if run_name else random_run_name()
        if tags:
            tags = {
                validate.check_key(k, "tag key"): self._tag_value(k, v) for k, v in tags.items()
            }
        if description is not None:
            if not isinstance(description, str):
                raise InvalidInput(
                    f"a description must be a string, got {type(description).__name__}"
                )
            validate.check_text(description, validate.MAX_NOTE_LENGTH, "description")
        start = record.now_ms()
        self.run_id = new_run_id(start)
        self.run_name = name
        self.experiment = experiment
        self.experiment_id = slug
        self.store_root = Path(store_root)
        self.path = self.store_root / slug / self.run_id
        self.start_time = start
        self.end_time: int | None = None
        self.status = record.RUNNING
        self.parent_run_id = parent_run_id

        self._lock = threading.RLock()
        self._params: dict[str, Any] = {}
        self._tags: dict[str, str] = {}
        self._last: dict[str, float] = {}
        self._next_step: dict[str, int] = {}
        self._metric_keys: set[str] = set()
        self._closed = False
        self._end_hooks: list[Callable[[Run, str], None]] = []
        self._closing_hooks: list[Callable[[Run], None]] = []
        self._storage_cfg: Any = False  # not read yet
        self.registered_versions: list[Any] = []

        env = capture.environment()
        git_info, diff = capture.git_state(self.store_root) if capture_git else (None, "")
        header = {
            "format": record.FORMAT_VERSION,
            "run_id": self.run_id,
            "run_name": name,
            "experiment": experiment,
            "experiment_id": slug,
            "start_time": start,
            "parent_run_id": parent_run_id,
            **{k: env[k] for k in ("user", "host", "pid", "command", "entry_point", "python")},
            "git": git_info,
            "runsite_version": __version__,
            "packages": env["packages"],
        }
        self.user = env["user"]
        # artifacts/ is made by the first artifact: an empty folder is not tracked by git,
        # and would linger as a half run folder after switching branches.
        try:
            self.path.mkdir(parents=True, exist_ok=False)
        except FileExistsError:
            raise
        except OSError as exc:
            raise record.write_error("the new run", self.path, exc) from exc
        try:  # all or nothing: a start that fails leaves no half-written run folder
            record.write_json_atomic(self.path / record.RUN_JSON, header)
            self._events = record.Appender(self.path / record.EVENTS)
            self._metrics = record.MetricBuffer(self.path / record.METRICS_JSONL)
            if tags:
                for k, v in tags.items():
                    self._write_tag(k, v)
            if description:
                self.add_note(description)
            if diff:
                self._write_artifact_bytes(GIT_DIFF_ARTIFACT, diff.encode("utf-8"), system=True)
        except BaseException as exc:
            events = getattr(self, "_events", None)
            if events is not None:
                events.close()
            shutil.rmtree(self.path, ignore_errors=True)
            if isinstance(exc, OSError) and not isinstance(exc, WriteError):
                raise record.write_error("the new run", self.path, exc) from exc
            raise
        with _open_lock:
            _open_runs.add(self)

    # ------------------------------------------------------------------ MLflow shape

    @property
    def info(self) -> RunInfo:
        return run_info(self)

    @property
    def data(self) -> RunData:
        with self._lock:
            return RunData(
                params={k: validate.canonical_str(v) for k, v in self._params.items()},
                metrics=dict(self._last),
                tags=dict(self._tags),
            )

    def __repr__(self) -> str:
        return f"<Run {self.run_id} {self.run_name!r} in {self.experiment!r}: {self.status}>"

    # ------------------------------------------------------------------ params, tags

    def _check_open(self) -> None:
        if self._closed:
            raise RunStateError(
                f"run {self.run_id} ({self.run_name}) has ended with status {self.status}; "
                "a closed run cannot change. Start a new run to log more."
            )

    def _event(self, kind: str, /, **fields: Any) -> None:
        """Append one event, whole or not at all (``WriteError``, nothing recorded)."""
        metrics = getattr(self, "_metrics", None)
        if metrics is not None and metrics.error is not None and kind not in ("status", "error"):
            raise metrics.failure()  # a failed metric write surfaces on the next call
        try:
            self._events.write(record.event(kind, **fields))
        except OSError as exc:
            raise record.write_error(f"the {kind} event", self._events.path, exc) from exc

    def _new_param(self, key: str, normal: Any) -> bool:
        """True when ``key`` is new; raises when it was logged with another value."""
        if key not in self._params:
            return True
        old = self._params[key]
        if old == normal or validate.canonical_str(old) == validate.canonical_str(normal):
            return False
        raise InvalidInput(
            f"param {key!r} was already logged as {old!r}; cannot change it to {normal!r} "
            "(params are immutable: log a metric or a tag for values that change)"
        )

    def log_param(self, key: str, value: Any) -> Any:
        """Record a parameter. Params are immutable: logging the same key again with a
        different value raises ``InvalidInput`` naming both values."""
        self.log_params({key: value})
        return value

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Record several params; all are checked first, so a refused batch logs none."""
        items = [
            (validate.check_key(k, "param key"), validate.param_value(k, v))
            for k, v in params.items()
        ]
        with self._lock:
            self._check_open()
            new = [(k, v) for k, v in items if self._new_param(k, v)]
            for k, v in new:
                self._event("param", key=k, value=v)
                self._params[k] = v

    @staticmethod
    def _tag_value(key: str, value: Any) -> str:
        text = validate.check_unicode(validate.canonical_str(value), f"value of tag {key!r}")
        if len(text) > validate.MAX_TAG_VALUE_LENGTH:
            raise InvalidInput(
                f"value of tag {key!r} is {len(text)} characters long; "
                f"the limit is {validate.MAX_TAG_VALUE_LENGTH}"
            )
        return text

    def _write_tag(self, key: str, value: str) -> None:
        with self._lock:
            self._check_open()
            self._event("tag", key=key, value=value)
            self._tags[key] = value

    def set_tag(self, key: str, value: Any) -> None:
        """Set a tag (a string label; unlike params, tags can change)."""
        validate.check_key(key, "tag key")
        text = self._tag_value(key, value)
        if key == "mlflow.note.content":  # MLflow's way of writing the run description
            self.add_note(text)
            return
        self._write_tag(key, text)

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        items = [(validate.check_key(k, "tag key"), self._tag_value(k, v)) for k, v in tags.items()]
        for k, v in items:
            self.set_tag(k, v)

    def delete_tag(self, key: str) -> None:
        validate.check_key(key, "tag key")
        with self._lock:
            self._check_open()
            if key not in self._tags:
                raise NotFound(f"run {self.run_id} has no tag {key!r}")
            self._event("tag_delete", key=key)
            del self._tags[key]

    def add_note(self, text: str) -> None:
        """Append a markdown note to the run (shown on its page)."""
        if not isinstance(text, str):
            raise InvalidInput(f"a note must be a string, got {type(text).__name__}")
        validate.check_text(text, validate.MAX_NOTE_LENGTH, "note")
        with self._lock:
            self._check_open()
            self._event("note", text=text)

    # ------------------------------------------------------------------ metrics

    def _new_metric_key(self, key: Any) -> None:
        validate.check_key(key, "metric key")
        self._metric_keys.add(key)

    def log_metric(
        self, key: str, value: float, step: int | None = None, timestamp: int | None = None
    ) -> None:
        """Record one metric point. ``step`` defaults to one more than the last step
        logged for ``key`` (0 for the first); ``timestamp`` is milliseconds since the
        epoch and defaults to now. NaN and ±inf are kept as such."""
        if key.__class__ is not str or key not in self._metric_keys:
            self._new_metric_key(key)
        if value.__class__ is not float:
            value = validate.metric_value(key, value)
        if step is not None and step.__class__ is not int:
            step = validate.metric_step(key, step)
        if timestamp is None:
            timestamp = record.now_ms()
        elif timestamp.__class__ is not int:
            timestamp = validate.metric_step(key, timestamp)
        buf = self._metrics
        with buf.lock:
            if self._closed:
                self._check_open()
            if buf.error is not None:
                raise buf.failure()
            if step is None:
                step = self._next_step.get(key, 0)
            self._next_step[key] = step + 1
            self._last[key] = value
            buf.add(key, value, step, timestamp)

    def log_metrics(
        self, metrics: Mapping[str, float], step: int | None = None, timestamp: int | None = None
    ) -> None:
        """Record several metrics at one step (checked together: a bad one logs none)."""
        points = []
        for key, value in metrics.items():
            if key.__class__ is not str or key not in self._metric_keys:
                self._new_metric_key(key)
            if value.__class__ is not float:
                value = validate.metric_value(key, value)
            points.append((key, value))
        if step is not None and step.__class__ is not int:
            step = validate.metric_step("step", step)
        ts = record.now_ms() if timestamp is None else validate.metric_step("timestamp", timestamp)
        buf = self._metrics
        next_step = self._next_step
        with buf.lock:
            if self._closed:
                self._check_open()
            if buf.error is not None:
                raise buf.failure()
            for key, value in points:
                s = next_step.get(key, 0) if step is None else step
                next_step[key] = s + 1
                self._last[key] = value
                buf.add(key, value, s, ts)

    # ------------------------------------------------------------------ artifacts

    @property
    def artifacts_dir(self) -> Path:
        return self.path / record.ARTIFACTS

    def _record_artifact(
        self, rel: str, dest: Path, system: bool = False, sha256: str | None = None
    ) -> None:
        if sha256 is None:
            from runsite.hashing import sha256_file

            sha256 = sha256_file(dest)
        fields: dict[str, Any] = {"path": rel, "size": dest.stat().st_size, "sha256": sha256}
        if system:
            fields["system"] = True
        storage = self._storage()
        if (
            storage is not None
            and fields["size"] >= storage.threshold
            and dest.name != record.MODEL_YAML
        ):
            from runsite import objstore

            fields["url"] = objstore.offload(
                self.store_root, storage, self.run_id, rel, dest, sha256
            )
        self._event("artifact", **fields)

    def _storage(self) -> Any:
        """The store's object storage settings (read once per run), or ``None``."""
        if self._storage_cfg is False:
            from runsite import objstore

            self._storage_cfg = objstore.load_config(self.store_root)
        return self._storage_cfg

    def _write_artifact_bytes(self, rel: str, data: bytes, system: bool = False) -> None:
        with self._lock:
            self._check_open()
            dest = artifacts.destination(self.artifacts_dir, rel)
            artifacts.write_bytes(dest, data)
            self._record_artifact(validate.safe_relpath(rel), dest, system)

    def log_artifact(
        self, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Copy a file into the run's artifacts (under ``artifact_path`` if given)."""
        src = artifacts.source_file(local_path)
        rel = artifacts.join(artifact_path, src.name)
        with self._lock:
            self._check_open()
            dest = artifacts.destination(self.artifacts_dir, rel)
            artifacts.copy(src, dest)
            self._record_artifact(rel, dest)

    def log_artifacts(
        self, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Copy a folder's files into the run's artifacts. Symlinks that point outside
        the folder are refused before anything is copied."""
        plan = artifacts.plan_folder(local_dir)
        with self._lock:
            self._check_open()
            targets = [(artifacts.join(artifact_path, rel), src) for rel, src in plan]
            dests = [
                (rel, artifacts.destination(self.artifacts_dir, rel), src) for rel, src in targets
            ]
            for rel, dest, src in dests:
                artifacts.copy(src, dest)
                self._record_artifact(rel, dest)

    def log_text(self, text: str, artifact_file: str) -> None:
        """Save ``text`` as an artifact file (UTF-8)."""
        if not isinstance(text, str):
            raise InvalidInput(f"log_text needs a string, got {type(text).__name__}")
        validate.check_unicode(text, f"log_text: the text of {artifact_file!r}")
        self._write_artifact_bytes(artifact_file, text.encode("utf-8"))

    def log_dict(self, dictionary: Any, artifact_file: str) -> None:
        """Save a dict as JSON, or as YAML when ``artifact_file`` ends in .yaml/.yml; the
        bytes MLflow writes (JSON indented by 2, YAML with sorted keys, both ASCII)."""
        where = f"log_dict: the content of {artifact_file!r}"
        # Checked before dumping: the ASCII escapes would hide a lone surrogate.
        _check_strings(dictionary, where)
        if artifact_file.lower().endswith((".yaml", ".yml")):
            from runsite import yamlio

            text = yamlio.dump(dictionary, sort_keys=True, ascii_only=True)
        else:
            try:
                text = json.dumps(dictionary, indent=2, default=str)
            except (TypeError, ValueError) as exc:
                raise InvalidInput(f"log_dict: cannot serialise to JSON: {exc}") from None
        self._write_artifact_bytes(artifact_file, text.encode("utf-8"))

    def log_figure(self, figure: Any, artifact_file: str) -> None:
        """Save a matplotlib figure (format from the extension: .png, .svg, .pdf, …)
        or a plotly figure (.html)."""
        buf = io.BytesIO()
        if hasattr(figure, "savefig"):
            ext = Path(artifact_file).suffix.lstrip(".") or "png"
            figure.savefig(buf, format=ext)
        elif hasattr(figure, "write_html"):
            text = io.StringIO()
            figure.write_html(text, include_plotlyjs=False)
            buf.write(text.getvalue().encode("utf-8"))
        else:
            raise InvalidInput(
                f"log_figure needs a matplotlib or plotly figure, got {type(figure).__name__}"
            )
        self._write_artifact_bytes(artifact_file, buf.getvalue())

    def log_image(self, image: Any, artifact_file: str) -> None:
        """Save a numpy array (converted as MLflow converts it) or a PIL image as an
        image file, in the format of the extension."""
        from runsite.images import encode_image

        self._write_artifact_bytes(artifact_file, encode_image(image, artifact_file))

    def log_table(self, data: Any, artifact_file: str) -> None:
        """Save a table (a dict of equal-length columns, or a pandas DataFrame).

        ``.json`` writes MLflow's ``{"columns": [...], "data": [[...]]}``; ``.csv`` and
        ``.parquet`` write those formats. Logging to a file already logged appends the
        rows (columns united, missing cells null), as MLflow does."""
        from runsite.tables import encode_table

        dest = self.artifacts_dir / validate.safe_relpath(artifact_file)
        existing = dest.read_bytes() if dest.is_file() and not dest.is_symlink() else None
        self._write_artifact_bytes(artifact_file, encode_table(data, artifact_file, existing))
        if artifact_file.endswith((".json", ".parquet")):  # MLflow lists its tables in a tag
            with self._lock:
                listed = json.loads(self._tags.get(LOGGED_ARTIFACTS, "[]"))
            entry = {"path": artifact_file, "type": "table"}
            if entry not in listed:
                self.set_tag(LOGGED_ARTIFACTS, json.dumps([*listed, entry]))

    def _record_model(self, rel: str, manifest: dict[str, Any], digest: str) -> None:
        """Events for a model folder just written: its files, then the model itself."""
        with self._lock:
            self._check_open()
            folder = self.artifacts_dir / rel
            files = {record.MODEL_YAML: None, **manifest["files"]}
            for name, sha in files.items():
                self._record_artifact(f"{rel}/{name}", folder / name, sha256=sha)
            self._event(
                "model",
                name=rel,
                flavor=manifest["flavor"],
                hash=digest,
                size=manifest["size_bytes"],
            )

    def log_model(self, model: Any, name: str = "model", **kwargs: Any) -> Any:
        """Log a model folder into this run's artifacts; see ``runsite.log_model``."""
        if "artifact_path" in kwargs:  # MLflow 2's name for it
            name = kwargs.pop("artifact_path")
        return hooks.model_logger()(self, model, name, **kwargs)

    # ------------------------------------------------------------------ data inputs

    def log_input(
        self,
        path: str | os.PathLike[str] | Any,
        name: str | None = None,
        context: str | None = "training",
        tags: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Record a data input: content hash (sha256) of a file or folder, its size and,
        for CSV/Parquet files, schema and row count. Unchanged files are not re-hashed.
        ``path`` may also be a ``runsite.data`` dataset (MLflow's digest, source, schema,
        profile; ``tags`` as in MLflow)."""
        as_input = getattr(path, "_runsite_input", None)
        if callable(as_input):  # a runsite.data dataset describes itself
            if context is not None:
                validate.check_key(context, "input context")
            info = as_input(name, context, tags)
            record_input(self, info)
            return dict(info)
        if tags:
            raise InvalidInput("log_input(tags=...) is for runsite.data datasets, not paths")
        from runsite.inputs import describe_input

        context = context or "training"
        validate.check_key(context, "input context")
        info = describe_input(Path(path), name, context)
        with self._lock:
            self._check_open()
            self._event("input", **info)
        return info

    # ------------------------------------------------------------------ ending

    def end(self, status: str = record.FINISHED) -> None:
        """Close the run: flush, compact metrics to Parquet, write the final status.

        Calling it again does nothing."""
        status = _check_status(status)
        with self._lock:
            if self._closed:
                return
            closing, self._closing_hooks = self._closing_hooks, []
        for before in closing:  # e.g. the system-metrics sampler: stop it, keep its points
            try:
                before(self)
            except Exception as exc:
                log.warning("runsite: while ending run %s: %s", self.run_id, exc)
        with self._lock:
            if self._closed:
                return
            with self._metrics.lock:
                self._closed = True
        failures: list[WriteError] = []
        status_failed = False
        try:
            self._metrics.close()
        except WriteError as exc:
            failures.append(exc)
        warnings: list[str] = []
        try:
            from runsite import arrowio

            summary = arrowio.compact(self.path, warnings)
        except Exception as exc:  # never lose the run over compaction: keep the JSONL
            log.warning("runsite: could not compact metrics of run %s: %s", self.run_id, exc)
            jsonl = self.path / record.METRICS_JSONL
            try:
                summary = record.summarize_points(record.iter_metric_points(jsonl, warnings))
            except OSError as read_exc:  # (EIO: the disk is failing) reported, not raised raw
                summary = {}
                failures.append(
                    WriteError(
                        read_exc.errno or 0,
                        f"could not read {jsonl} back to summarize its metrics: "
                        f"{read_exc.strerror or read_exc}",
                    )
                )
        for w in warnings:
            log.warning("runsite: %s", w)
        if self._storage_cfg:  # wait for this run's uploads; a failure never ends training
            from runsite import objstore

            errors = objstore.uploader().wait(self.run_id, timeout=_UPLOAD_WAIT)
            left = objstore.pending(self.store_root, self.run_id)
            if errors or left:
                log.warning(
                    "runsite: %d artifact uploads of run %s are pending (%s); the files stay "
                    "in %s and `runsite artifacts push` uploads them later",
                    len(left),
                    self.run_id,
                    errors[-1] if errors else "still uploading",
                    objstore.outbox(self.store_root),
                )
        self.end_time = record.now_ms()
        self.status = status
        try:
            self._event(
                "status",
                status=status,
                end_time=self.end_time,
                metrics=record.encode_summary(summary),
            )
        except WriteError as exc:
            failures.append(exc)
            status_failed = True
        self._events.close()
        with _open_lock:
            _open_runs.discard(self)
        if failures:
            # Never a quiet success: what was written stays readable (a run whose end
            # could not be written reads as UNFINISHED); the hooks (registering, ...) skip.
            first = failures[0]
            message = f"run {self.run_id}: " + "; and ".join(str(f) for f in failures)
            if status_failed:
                message += "; its end could not be recorded, so readers show it as UNFINISHED"
            raise WriteError(first.errno or 0, message) from first
        for hook in self._end_hooks:
            hook(self, status)

    def on_end(self, hook: Callable[[Run, str], None]) -> None:
        """Call ``hook(run, status)`` once the run has ended and its record is closed."""
        self._end_hooks.append(hook)

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            status = record.FINISHED
        elif issubclass(exc_type, KeyboardInterrupt | Terminated):
            status = record.KILLED
        else:
            status = record.FAILED
            if exc is not None:
                self.record_error(exc)
        self.end(status)

    def record_error(self, exc: BaseException) -> None:
        """Record ``exc`` (type, message, traceback) as the run's ``error`` event; the run
        page shows it. Leaving a ``with`` block on an exception does this before ending
        the run FAILED. Never raises: bookkeeping must not mask the original error."""
        try:
            fields = record.error_fields(exc)
            with self._lock:
                if not self._closed:
                    self._event("error", **fields)
        except Exception as why:
            log.warning("runsite: could not record the error of run %s: %s", self.run_id, why)


def _check_status(status: str) -> str:
    if not isinstance(status, str) or status.upper() not in record.END_STATUSES:
        raise InvalidInput(
            f"end status must be one of {', '.join(record.END_STATUSES)}, got {status!r}"
        )
    return status.upper()


def open_runs() -> list[Run]:
    """The runs of this process that have started and not ended."""
    with _open_lock:
        return list(_open_runs)


def any_open_runs() -> bool:
    """Whether a run of this process is open. Takes no lock: safe in a signal handler."""
    return bool(_open_runs)


def check_open(run: Run) -> None:
    """Raise ``RunStateError`` if ``run`` has ended (the models layer asks before it
    writes a model folder into the run)."""
    run._check_open()


def record_input(run: Run, info: Mapping[str, Any]) -> None:
    """Record an input ``run`` did not read from a path (autolog's in-memory training
    data, described by ``autologging.common.describe_data``)."""
    if info.get("context") is not None:
        validate.check_key(str(info["context"]), "input context")
    with run._lock:
        run._check_open()
        run._event("input", **info)


def on_closing(run: Run, hook: Callable[[Run], None]) -> None:
    """Call ``hook(run)`` when ``run.end()`` starts, while the run can still log (the
    system-metrics sampler: stop it, keep its last points)."""
    run._closing_hooks.append(hook)


def record_model(run: Run, rel: str, manifest: dict[str, Any], digest: str) -> None:
    """Record the model folder just written at ``rel`` (artifacts-relative) in ``run``:
    an event per file, then the model with its manifest and hash."""
    run._record_model(rel, manifest, digest)


def end_open_runs(status: str) -> None:
    with _open_lock:
        runs = sorted(_open_runs, key=lambda r: r.start_time, reverse=True)
    for run in runs:  # children (started later) first
        try:
            run.end(status)
        except Exception as exc:
            log.warning("runsite: could not end run %s: %s", run.run_id, exc)


class Terminated(SystemExit):
    """Raised in the main thread by runsite's SIGTERM handler: the process exits with
    status 143 after every open run is ended KILLED (by ``__exit__`` or at exit)."""

    def __init__(self) -> None:
        super().__init__(128 + 15)


@atexit.register
def _end_at_exit() -> None:
    # Like MLflow: a run left open when the script ends is closed. An uncaught
    # exception (which Python leaves in sys.last_value) marks it FAILED, SIGTERM KILLED.
    last = getattr(sys, "last_value", None)
    if isinstance(last, Terminated):
        status = record.KILLED
    elif last is not None and not isinstance(last, SystemExit):
        status = record.FAILED
        with _open_lock:
            runs = list(_open_runs)
        for run in runs:
            run.record_error(last)
    else:
        status = record.FINISHED
    end_open_runs(status)


def _check_strings(obj: Any, where: str, depth: int = 0) -> None:
    """Every string (key or value) in nested dicts and lists is valid Unicode."""
    if isinstance(obj, str):
        validate.check_unicode(obj, where)
    elif depth < 100 and isinstance(obj, Mapping):
        for k, v in obj.items():
            _check_strings(k, where, depth + 1)
            _check_strings(v, where, depth + 1)
    elif depth < 100 and isinstance(obj, (list, tuple, set)):
        for v in obj:
            _check_strings(v, where, depth + 1)
