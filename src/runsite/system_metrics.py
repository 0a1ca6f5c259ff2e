"""System metrics (MLflow's ``log_system_metrics``): CPU, memory, disk, network and NVIDIA
GPUs sampled by a daemon thread while a run is open, logged as ordinary metrics under
``system/`` with MLflow's names (``system/cpu_utilization_percentage`` …).

Opt-in, as in MLflow: ``start_run(log_system_metrics=True)`` for one run, or
``enable_system_metrics_logging()`` / ``$RUNSITE_ENABLE_SYSTEM_METRICS_LOGGING`` /
``$MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING`` for every run. psutil is needed (the
``system-metrics`` extra); GPUs are sampled when ``pynvml`` (nvidia-ml-py) is importable
and finds a device. A missing psutil, or an NVML that fails to start, is one warning per
process; the run goes on without those metrics. A sampling failure ends the sampler,
never the run.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from runsite.errors import InvalidInput
from runsite.run import Run, on_closing

log = logging.getLogger("runsite")

PREFIX = "system/"
DEFAULT_INTERVAL = 10.0  # seconds, MLflow's default
_TRUE = ("1", "true", "yes", "on")

_enabled: bool | None = None  # set by enable_/disable_; None: the environment decides
_interval: float | None = None
_samples: int | None = None
_warned: set[str] = set()
_warn_lock = threading.Lock()


def enable_system_metrics_logging() -> None:
    """Log system metrics in every run this process starts (a run can still opt out with
    ``start_run(log_system_metrics=False)``)."""
    global _enabled
    _enabled = True


def disable_system_metrics_logging() -> None:
    """Stop logging system metrics by default (``log_system_metrics=True`` still opts in)."""
    global _enabled
    _enabled = False


def set_system_metrics_sampling_interval(interval: float | None) -> None:
    """Seconds between two samples (default 10; ``None`` goes back to the default or the
    ``*_SYSTEM_METRICS_SAMPLING_INTERVAL`` environment variable)."""
    global _interval
    if interval is not None and not (isinstance(interval, int | float) and interval > 0):
        raise InvalidInput(
            f"the sampling interval must be a number of seconds > 0, got {interval!r}"
        )
    _interval = None if interval is None else float(interval)


def set_system_metrics_samples_before_logging(samples: int | None) -> None:
    """Samples averaged into one logged point (default 1)."""
    global _samples
    if samples is not None and not (isinstance(samples, int) and samples >= 1):
        raise InvalidInput(f"samples before logging must be an integer ≥ 1, got {samples!r}")
    _samples = samples


def _env(name: str) -> str | None:
    for prefix in ("RUNSITE_", "MLFLOW_"):
        value = os.environ.get(prefix + name)
        if value not in (None, ""):
            return value
    return None


def enabled(requested: bool | None) -> bool:
    """Whether a run started with ``log_system_metrics=requested`` samples."""
    if requested is not None:
        return bool(requested)
    if _enabled is not None:
        return _enabled
    return (_env("ENABLE_SYSTEM_METRICS_LOGGING") or "").strip().lower() in _TRUE


def sampling_interval() -> float:
    if _interval is not None:
        return _interval
    raw = _env("SYSTEM_METRICS_SAMPLING_INTERVAL")
    if raw is None:
        return DEFAULT_INTERVAL
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value <= 0:
        _warn_once(
            "interval",
            f"system metrics sampling interval {raw!r} is not a number > 0; "
            f"using {DEFAULT_INTERVAL:g} s",
        )
        return DEFAULT_INTERVAL
    return value


def samples_before_logging() -> int:
    if _samples is not None:
        return _samples
    raw = _env("SYSTEM_METRICS_SAMPLES_BEFORE_LOGGING")
    if raw is None:
        return 1
    try:
        return max(1, int(raw))
    except ValueError:
        _warn_once("samples", f"samples before logging {raw!r} is not an integer; using 1")
        return 1


def _warn_once(key: str, message: str) -> None:
    with _warn_lock:
        if key in _warned:
            return
        _warned.add(key)
    log.warning("runsite: %s", message)


# ---------------------------------------------------------------------- collectors


class _Collector:
    """One sample of every available source: {name without prefix: value}."""

    def __init__(self) -> None:
        import psutil  # the system-metrics extra; ImportError is handled by the caller

        self.psutil = psutil
        psutil.cpu_percent()  # the first call only primes the counter
        net = psutil.net_io_counters()
        self.net0 = (net.bytes_recv, net.bytes_sent) if net else (0, 0)
        self.gpus = _nvml_handles()

    def sample(self) -> dict[str, float]:
        ps = self.psutil
        out: dict[str, float] = {"cpu_utilization_percentage": float(ps.cpu_percent())}
        mem = ps.virtual_memory()
        out["system_memory_usage_megabytes"] = mem.used / 1e6
        out["system_memory_usage_percentage"] = mem.used / mem.total * 100
        disk = ps.disk_usage(os.sep)
        out["disk_usage_percentage"] = float(disk.percent)
        out["disk_usage_megabytes"] = disk.used / 1e6
        out["disk_available_megabytes"] = disk.free / 1e6
        net = ps.net_io_counters()
        if net:
            out["network_receive_megabytes"] = (net.bytes_recv - self.net0[0]) / 1e6
            out["network_transmit_megabytes"] = (net.bytes_sent - self.net0[1]) / 1e6
        for i, handle in enumerate(self.gpus):
            out.update(_gpu_sample(i, handle))
        return out


def _nvml_handles() -> list[Any]:
    try:
        import pynvml  # nvidia-ml-py: only present on machines that have NVIDIA GPUs
    except ImportError:
        log.debug("runsite: pynvml is not installed; no GPU metrics")
        return []
    try:
        pynvml.nvmlInit()
        return [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())]
    except Exception as exc:
        _warn_once("nvml", f"NVML did not start ({exc}); system metrics without GPU metrics")
        return []


def _gpu_sample(i: int, handle: Any) -> dict[str, float]:
    import pynvml

    out: dict[str, float] = {}
    try:
        memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
        out[f"gpu_{i}_memory_usage_percentage"] = memory.used / memory.total * 100
        out[f"gpu_{i}_memory_usage_megabytes"] = memory.used / 1e6
        out[f"gpu_{i}_utilization_percentage"] = float(
            pynvml.nvmlDeviceGetUtilizationRates(handle).gpu
        )
        power = pynvml.nvmlDeviceGetPowerUsage(handle)
        out[f"gpu_{i}_power_usage_watts"] = power / 1000
        out[f"gpu_{i}_power_usage_percentage"] = (
            power / pynvml.nvmlDeviceGetEnforcedPowerLimit(handle) * 100
        )
    except Exception as exc:
        _warn_once(f"gpu{i}", f"GPU {i} metrics incomplete: {exc}")
    return out


# ---------------------------------------------------------------------- the sampler


class Sampler:
    """A daemon thread logging averaged samples into ``run`` at steps 0, 1, 2 …"""

    def __init__(self, run: Run, collector: _Collector, interval: float, samples: int) -> None:
        self.run = run
        self.collector = collector
        self.interval = interval
        self.samples = samples
        self.step = 0
        self.pending: list[dict[str, float]] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(
            target=self._loop, name=f"runsite-system-metrics-{run.run_id}", daemon=True
        )

    def start(self) -> None:
        self.thread.start()

    def _loop(self) -> None:
        while not self.stopping.wait(self.interval):
            if not self._take():
                return

    def _take(self) -> bool:
        """One sample (and a logged point every ``samples``); False: stop sampling."""
        try:
            self.pending.append(self.collector.sample())
            if len(self.pending) >= self.samples:
                self._flush()
            return True
        except Exception as exc:  # a closed run, a psutil error: stop, never fail the run
            if not self.stopping.is_set():
                _warn_once(f"sample{self.run.run_id}", f"system metrics stopped: {exc}")
            return False

    def _flush(self) -> None:
        batch, self.pending = self.pending, []
        if not batch:
            return
        keys = {k for sample in batch for k in sample}
        point = {}
        for key in sorted(keys):
            values = [s[key] for s in batch if key in s]
            if key.startswith("network_"):  # cumulative since the run started
                point[PREFIX + key] = round(values[-1], 1)
            else:
                point[PREFIX + key] = round(sum(values) / len(values), 1)
        self.run.log_metrics(point, step=self.step)
        self.step += 1

    def stop(self, run: Run | None = None) -> None:
        """Stop the thread and log what it holds (called as the run ends)."""
        self.stopping.set()
        if self.thread.is_alive() and self.thread is not threading.current_thread():
            self.thread.join(timeout=max(5.0, self.interval))
        try:
            self._flush()
        except Exception as exc:
            log.debug("runsite: last system metrics not logged: %s", exc)


def start(run: Run) -> Sampler | None:
    """Start sampling into ``run`` (stopped by ``run.end()``); ``None`` when psutil is
    missing (one warning per process) or the sampler cannot start."""
    try:
        collector = _Collector()
    except ImportError:
        _warn_once(
            "psutil",
            "system metrics need psutil (pip install 'runsite[system-metrics]'); "
            "runs go on without them",
        )
        return None
    except Exception as exc:
        _warn_once("collector", f"system metrics unavailable: {exc}")
        return None
    sampler = Sampler(run, collector, sampling_interval(), samples_before_logging())
    stop: Callable[[Run], None] = sampler.stop
    on_closing(run, stop)
    sampler.start()
    return sampler
