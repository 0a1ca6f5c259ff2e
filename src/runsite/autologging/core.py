"""What every autologging flavor shares: the switches, patching and unpatching, and the
one wrapper every patched training call goes through.

Each flavor replaces its library's training functions with wrappers that log params,
training metrics, the data (hashed) and the fitted model into the active run, or into a
run of their own when none is active (started before the fit, ended after it, as
MLflow does). The rules every wrapper keeps:

- the user's fit runs exactly as without autolog: its result and its exceptions are
  the original's; a failure while *logging* becomes one warning, never an exception;
- only the outermost patched call of a fit logs (a Pipeline's steps, a grid search's
  candidates and XGBoost's own ``train`` inside ``XGBModel.fit`` log nothing of their
  own);
- ``autolog(disable=True)`` puts every original function back where it was.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from runsite.run import Run

log = logging.getLogger("runsite")

FLAVORS = ("sklearn", "xgboost")
AUTOLOGGING_TAG = "mlflow.autologging"
INPUT_EXAMPLE_ROWS = 5  # MLflow's INPUT_EXAMPLE_SAMPLE_ROWS


@dataclass
class Config:
    """One flavor's switches (MLflow's names and defaults)."""

    log_input_examples: bool = False
    log_model_signatures: bool = True
    log_models: bool = True
    log_datasets: bool = True
    exclusive: bool = False
    silent: bool = False
    max_tuning_runs: int | None = 5
    registered_model_name: str | None = None
    extra_tags: dict[str, str] = field(default_factory=dict)
    pos_label: Any = None
    importance_types: list[str] = field(default_factory=lambda: ["weight"])


_configs: dict[str, Config] = {}
# flavor -> [(owner, attribute, original value as found in owner.__dict__)]
_patches: dict[str, list[tuple[Any, str, Any]]] = {}
_local = threading.local()
_INHERITED = object()  # the patched method was the parent class's


@dataclass
class Session:
    """The outermost autologged call in progress on this thread."""

    flavor: str
    run: Run
    config: Config
    owned: bool  # the run was started for this fit and ends with it
    extra: dict[str, Any] = field(default_factory=dict)


def current_session() -> Session | None:
    return getattr(_local, "session", None)


def busy() -> bool:
    """True inside an autologged call (its nested calls must not log again)."""
    return getattr(_local, "depth", 0) > 0


@contextlib.contextmanager
def suppressed() -> Iterator[None]:
    """Fits inside log nothing (MLflow's ``disable_autologging`` for ``cross_validate``
    and its siblings, whose many fits are not runs)."""
    _local.depth = getattr(_local, "depth", 0) + 1
    try:
        yield
    finally:
        _local.depth -= 1


def config(flavor: str) -> Config | None:
    """The flavor's switches while it is enabled, else ``None``."""
    return _configs.get(flavor)


def warn(cfg: Config | None, what: str, exc: BaseException | str) -> None:
    if cfg is not None and cfg.silent:
        log.debug("runsite autolog: %s: %s", what, exc)
        return
    warnings.warn(f"runsite autolog: {what}: {exc}", UserWarning, stacklevel=3)


def safely(cfg: Config | None, what: str, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    """``fn(*args, **kw)``; an exception becomes a warning and ``None``."""
    try:
        return fn(*args, **kw)
    except Exception as exc:
        warn(cfg, what, exc)
        return None


@contextlib.contextmanager
def _silenced(cfg: Config) -> Iterator[None]:
    if not cfg.silent:
        yield
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _open_run(flavor: str, cfg: Config) -> tuple[Run, bool] | None:
    """The run to log into and whether this fit owns it; ``None``: do not log."""
    from runsite import fluent

    current = fluent.active_run()
    if current is not None:
        return None if cfg.exclusive else (current, False)
    run = fluent.start_run(tags={AUTOLOGGING_TAG: flavor, **cfg.extra_tags})
    if not cfg.silent:
        log.info(
            "runsite: started autologging run %s (%s) for this %s fit",
            run.run_id,
            run.run_name,
            flavor,
        )
    return run, True


def call_logged(
    flavor: str,
    original: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    before: Callable[[Session], None] | None,
    after: Callable[[Session, Any], None] | None,
) -> Any:
    """Run ``original(*args, **kwargs)`` as an autologged fit of ``flavor``.

    ``before(session)`` and ``after(session, result)`` do the logging; their failures
    are warnings. The fit's own exception ends an owned run FAILED and propagates."""
    cfg = _configs.get(flavor)
    if cfg is None or busy():
        return original(*args, **kwargs)
    _local.depth = getattr(_local, "depth", 0) + 1
    try:
        with _silenced(cfg):
            opened = safely(cfg, "could not start a run", _open_run, flavor, cfg)
            if opened is None:
                return original(*args, **kwargs)
            run, owned = opened
            session = Session(flavor, run, cfg, owned)
            _local.session = session
            if before is not None:
                safely(cfg, "could not log before training", before, session)
            try:
                result = original(*args, **kwargs)
            except BaseException:
                if owned:
                    from runsite import record

                    safely(cfg, "could not end the run", run.end, record.FAILED)
                raise
            if after is not None:
                safely(cfg, "could not log after training", after, session, result)
            if owned:
                safely(cfg, "could not end the run", run.end)
            return result
    finally:
        _local.depth -= 1
        if not _local.depth:
            _local.session = None


def patch(flavor: str, owner: Any, name: str, make: Callable[[Any], Any]) -> None:
    """Replace ``owner.name`` by ``make(original)``; remembered for ``unpatch``. On a
    class, an inherited method is wrapped on that class (its parent keeps its own)."""
    import inspect

    own = not isinstance(owner, type) or name in owner.__dict__
    original = (
        inspect.getattr_static(owner, name) if isinstance(owner, type) else getattr(owner, name)
    )
    wrapper = make(original)
    with contextlib.suppress(AttributeError, TypeError):
        functools.update_wrapper(wrapper, original)
    wrapper.__runsite_autolog__ = True
    setattr(owner, name, wrapper)
    _patches.setdefault(flavor, []).append((owner, name, original if own else _INHERITED))


def unpatch(flavor: str) -> None:
    """Put back every original the flavor replaced (newest first)."""
    for owner, name, original in reversed(_patches.pop(flavor, [])):
        if original is _INHERITED:
            with contextlib.suppress(AttributeError):
                delattr(owner, name)
        else:
            setattr(owner, name, original)
    _configs.pop(flavor, None)


def is_patched(fn: Any) -> bool:
    return bool(getattr(fn, "__runsite_autolog__", False))


# Switches of MLflow's autolog() that runsite accepts and that change nothing here
# (docs/porting.md): runsite computes its training metrics as they are, saves models in
# one format, and autologs whatever library version is installed.
IGNORED_SWITCHES = frozenset(
    {
        "log_post_training_metrics",
        "serialization_format",
        "model_format",
        "disable_for_unsupported_versions",
    }
)


def configure(flavor: str, install: Callable[[], None], switches: dict[str, Any]) -> None:
    """The body of every flavor's ``autolog(...)``, given its arguments (``locals()``):
    ``disable=True`` puts the originals back, otherwise the flavor is (re)enabled with
    the rest as its ``Config``."""
    switches = {k: v for k, v in switches.items() if k not in IGNORED_SWITCHES}
    if switches.pop("disable", False):
        unpatch(flavor)
        return
    tags = switches.pop("extra_tags", None) or {}
    cfg = Config(extra_tags={str(k): str(v) for k, v in tags.items()}, **switches)
    enable(flavor, cfg, install)


def enable(flavor: str, cfg: Config, install: Callable[[], None]) -> None:
    """Switch the flavor on with ``cfg`` (again: new switches, patches kept)."""
    if cfg.max_tuning_runs is not None and cfg.max_tuning_runs < 0:
        from runsite.errors import InvalidInput

        raise InvalidInput(f"max_tuning_runs must be ≥ 0 or None, got {cfg.max_tuning_runs}")
    if flavor not in _patches:
        try:
            install()
        except Exception:
            unpatch(flavor)
            raise
    _configs[flavor] = cfg
