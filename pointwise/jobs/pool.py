"""Run TensorFlow jobs in worker processes: warm workers per knob set, one job per device at a time.

The Streamlit server (and the CLI) never import TensorFlow: they call `run_check`, `run_benchmark`, ...,
which hand a job to a `WorkerPool`. A crash, hang or out-of-memory in a worker becomes a `WorkerError`
for that job only; the next job gets a fresh worker.

Cancelling: `on_event` is called for every progress event and every half second while queued or running;
if it raises (Streamlit raises its rerun/stop exceptions there when the user clicks Cancel; the terminal
raises KeyboardInterrupt), the worker is killed and the exception propagates.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import psutil

from pointwise.errors import (
    InvalidSpecError,
    JobCancelledError,
    JobFailedError,
    JobTimeoutError,
    PointwiseError,
    QueueFullError,
    WorkerCrashedError,
)
from pointwise.limits import (
    MEMORY_BUDGET_ENV,
    WORKER_MAX_RSS_ENV,
    active_limits,
    demo_mode,
    validate_time_limit_s,
    worker_max_rss_bytes,
)
from pointwise.results import BenchmarkResult, Ceilings, EquivalenceResult
from pointwise.spec import RunSpec

EventCallback = Callable[[dict[str, Any]], None]

WORKER_START_LIMIT_S = 120.0
"""Importing TensorFlow takes ~3.5 s here; two minutes covers a cold disk and a busy machine."""
POLL_S = 0.1
HEARTBEAT_S = 0.5
STDERR_TAIL_BYTES = 4000


@dataclass(frozen=True)
class WorkerKnobs:
    """Settings TensorFlow reads only at import time, so each combination needs its own process."""

    onednn: bool = False
    threads: int = 0
    gpu_visible: bool = False

    @classmethod
    def for_spec(cls, spec: RunSpec) -> WorkerKnobs:
        return cls(onednn=spec.onednn, threads=spec.threads, gpu_visible=spec.device.startswith("GPU"))

    def environment(self) -> dict[str, str]:
        env = {
            **os.environ,
            "TF_ENABLE_ONEDNN_OPTS": "1" if self.onednn else "0",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "TF_FORCE_GPU_ALLOW_GROWTH": "true",
            "POINTWISE_THREADS": str(self.threads),
            "PYTHONUNBUFFERED": "1",
        }
        if not self.gpu_visible:
            # A CPU job must not initialise CUDA: it would take GPU memory and perturb CPU timings.
            env["CUDA_VISIBLE_DEVICES"] = "-1"
        return env


class _Worker:
    def __init__(self, knobs: WorkerKnobs) -> None:
        self.knobs = knobs
        self.stderr, self.stderr_note = _stderr_file()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pointwise.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            env=knobs.environment(),
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        self.events: queue.Queue[dict | None] = queue.Queue()
        self.ready = False
        self.idle_rss_bytes = 0
        self.last_used = time.monotonic()
        self.lock = threading.Lock()
        threading.Thread(target=self._read_events, daemon=True, name=f"pointwise-worker-{self.pid}").start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def _read_events(self) -> None:
        for line in self.process.stdout:
            try:
                self.events.put(json.loads(line))
            except json.JSONDecodeError:
                continue
        self.events.put(None)

    def alive(self) -> bool:
        return self.process.poll() is None

    def rss_bytes(self) -> int:
        try:
            return psutil.Process(self.pid).memory_info().rss
        except psutil.Error:
            return 0

    def send(self, message: dict) -> None:
        try:
            self.process.stdin.write(json.dumps(message) + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # the wait loop sees the dead process and reports it

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        for stream in (self.process.stdin, self.process.stdout, self.stderr):
            with contextlib.suppress(OSError, AttributeError):
                stream.close()

    def stderr_tail(self) -> str:
        """The last line the worker wrote to stderr (a Python error, usually): read before kill() closes it."""
        if self.stderr == subprocess.DEVNULL:
            return self.stderr_note
        try:
            self.stderr.seek(0, os.SEEK_END)
            size = self.stderr.tell()
            self.stderr.seek(max(0, size - STDERR_TAIL_BYTES))
            lines = self.stderr.read().decode("utf-8", "replace").strip().splitlines()
        except (OSError, ValueError) as exc:
            return f"its error output could not be read back ({exc.strerror or exc})"
        return lines[-1] if lines else ""

    def death_reason(self) -> str:
        # stdout closes a moment before the process is reaped; wait so the exit status is known.
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        code = self.process.poll()
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            hint = " (the kernel's out-of-memory killer sends this)" if name == "SIGKILL" else ""
            return f"killed by {name}{hint}"
        tail = self.stderr_tail()
        return f"exited with status {code}" + (f": {tail}" if tail else "")


def _stderr_file():
    """Where the worker's stderr goes: a temporary file read back for crash messages, and why not if it cannot be.

    A full or unwritable temporary directory must not stop jobs from running or turn their errors into a bare
    exit status: the worker then writes to /dev/null and crash messages say why nothing was captured.
    """
    try:
        # Lives as long as the process; read back for the crash message, closed in kill().
        return tempfile.TemporaryFile(), ""
    except OSError as exc:
        where = tempfile.gettempdir()
        return subprocess.DEVNULL, f"its error output was not captured ({exc.strerror or exc} in {where})"


class _DeviceQueue:
    """A FIFO of waiting jobs for one device; a job runs only at the head."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._waiting: collections.deque[object] = collections.deque()

    def waiting(self) -> int:
        with self._cond:
            return len(self._waiting)

    @contextlib.contextmanager
    def turn(self, on_wait: Callable[[int], None]) -> Iterator[None]:
        ticket = object()
        with self._cond:
            self._waiting.append(ticket)
        try:
            while True:
                with self._cond:
                    if self._waiting[0] is ticket:
                        break
                    ahead = self._waiting.index(ticket)
                on_wait(ahead)
                with self._cond:
                    if self._waiting[0] is not ticket:
                        self._cond.wait(HEARTBEAT_S)
            yield
        finally:
            with self._cond:
                self._waiting.remove(ticket)
                self._cond.notify_all()


class WorkerPool:
    """Warm worker processes, one per `WorkerKnobs`, with per-device job queues shared by all callers.

    Args default to `pointwise.limits.active_limits()`:
        job_time_limit_s: a job still running after this long is killed (`JobTimeoutError`).
        idle_s: a worker unused for this long is retired.
        max_rss_bytes: a worker whose resident memory exceeds this is killed (`WorkerCrashedError`).
        max_workers: warm workers kept at once; the least recently used idle one is retired first.
        max_queued_jobs: jobs waiting or running per device; one more raises `QueueFullError`.
    """

    def __init__(
        self,
        job_time_limit_s: float | None = None,
        idle_s: float | None = None,
        max_rss_bytes: int | None = None,
        max_workers: int | None = None,
        max_queued_jobs: int | None = None,
    ) -> None:
        limits = active_limits()
        self.job_time_limit_s = job_time_limit_s or limits.job_time_limit_s
        self.idle_s = idle_s or limits.worker_idle_s
        self.max_rss_bytes = max_rss_bytes or worker_max_rss_bytes()
        # In demo mode a worker may grow by the memory budget and no more, so a run whose estimate is wrong
        # is stopped instead of taking a shared host's memory.
        self.budget_cap_bytes = limits.memory_budget_mb * 2**20 if demo_mode() else None
        self.max_workers = max_workers or limits.max_workers
        self.max_queued_jobs = max_queued_jobs or limits.max_queued_jobs
        self._workers: dict[WorkerKnobs, _Worker] = {}
        self._lock = threading.Lock()
        self._queues: dict[str, _DeviceQueue] = collections.defaultdict(_DeviceQueue)
        self._ceilings: dict[tuple, dict] = {}
        self._closed = False
        threading.Thread(target=self._reap_idle_forever, daemon=True, name="pointwise-reaper").start()

    # -- public API ---------------------------------------------------------------------------------------

    def run(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        device: str,
        knobs: WorkerKnobs,
        on_event: EventCallback | None = None,
        time_limit_s: float | None = None,
        cancel: threading.Event | None = None,
    ) -> Any:
        """Run one job and return its result; raises a `WorkerError` subclass if it does not complete."""
        on_event = on_event or (lambda event: None)
        limit = self.job_time_limit_s if time_limit_s is None else validate_time_limit_s("time_limit_s", time_limit_s)
        if self._queues[device].waiting() >= self.max_queued_jobs:
            raise QueueFullError(
                f"{self._queues[device].waiting()} jobs are already queued or running on {device}, the most this "
                "server accepts: try again in a minute."
            )
        with self._queues[device].turn(lambda ahead: on_event({"event": "queued", "position": ahead})):
            worker = self._acquire(knobs, on_event, cancel)
            try:
                return self._run_on(worker, kind, payload, on_event, limit, cancel)
            finally:
                worker.last_used = time.monotonic()
                worker.lock.release()

    def warm(self, knobs: WorkerKnobs) -> None:
        """Start the worker for `knobs` and wait until TensorFlow has loaded, without running a job."""
        worker = self._acquire(knobs, lambda event: None, None)
        worker.last_used = time.monotonic()
        worker.lock.release()

    def queue_length(self, device: str) -> int:
        return self._queues[device].waiting()

    def worker_pids(self) -> list[int]:
        with self._lock:
            return [w.pid for w in self._workers.values() if w.alive()]

    def close(self) -> None:
        """Kill every worker; later `run` calls start new ones."""
        with self._lock:
            workers, self._workers = list(self._workers.values()), {}
        for worker in workers:
            worker.kill()

    # -- internals ----------------------------------------------------------------------------------------

    def _acquire(self, knobs: WorkerKnobs, on_event: EventCallback, cancel) -> _Worker:
        """The warm worker for `knobs`, locked for this job; started (and waited for) if needed."""
        while True:
            with self._lock:
                worker = self._workers.get(knobs)
                if worker is None or not worker.alive():
                    self._evict_for_new_worker()
                    worker = _Worker(knobs)
                    self._workers[knobs] = worker
            if worker.lock.acquire(timeout=HEARTBEAT_S):
                break
            on_event({"event": "queued", "position": 0})
        try:
            self._wait_ready(worker, on_event, cancel)
        except BaseException:
            worker.lock.release()
            raise
        return worker

    def _wait_ready(self, worker: _Worker, on_event: EventCallback, cancel) -> None:
        if worker.ready:
            return
        deadline = time.monotonic() + WORKER_START_LIMIT_S
        on_event({"event": "starting"})
        while not worker.ready:
            event = self._next_event(worker, deadline, on_event, cancel, "starting the TensorFlow worker")
            if event.get("event") == "ready":
                worker.idle_rss_bytes = worker.rss_bytes()
                worker.ready = True

    def _run_on(self, worker, kind, payload, on_event, limit, cancel) -> Any:
        job_id = uuid.uuid4().hex
        worker.send({"id": job_id, "kind": kind, **payload})
        deadline = time.monotonic() + limit
        while True:
            event = self._next_event(worker, deadline, on_event, cancel, f"the {kind} job")
            if event.get("id") != job_id:
                continue
            if event["event"] in ("progress", "phase"):
                try:
                    on_event(event)
                except BaseException:
                    self._discard(worker)
                    raise
            elif event["event"] == "result":
                return event["result"]
            elif event["event"] == "error":
                if event.get("error_type") == "InvalidSpecError" and event.get("field"):
                    raise InvalidSpecError(event["field"], event.get("value"), event.get("expected") or "")
                raise JobFailedError(event["message"])

    def _next_event(self, worker: _Worker, deadline: float, on_event, cancel, what: str) -> dict:
        """Wait for the worker's next event while enforcing the deadline, memory cap and cancellation.

        The limits are checked before every event, not only when the worker is quiet: a job streaming
        progress events must still stop at its deadline.
        """
        last_heartbeat = time.monotonic()
        while True:
            self._enforce_limits(worker, deadline, cancel, what)
            try:
                event = worker.events.get(timeout=POLL_S)
            except queue.Empty:
                if time.monotonic() - last_heartbeat >= HEARTBEAT_S:
                    last_heartbeat = time.monotonic()
                    try:
                        on_event({"event": "running"})
                    except BaseException:
                        self._discard(worker)
                        raise
                continue
            if event is None:
                reason = worker.death_reason()
                self._discard(worker)
                raise WorkerCrashedError(f"The TensorFlow worker died during {what}: {reason}.")
            return event

    def rss_limit(self, worker: _Worker) -> tuple[int, str]:
        """The resident memory `worker` may use, and where that figure comes from (for the message)."""
        if self.budget_cap_bytes is not None and worker.ready:
            cap = worker.idle_rss_bytes + self.budget_cap_bytes
            if cap < self.max_rss_bytes:
                return cap, (
                    f"its idle {worker.idle_rss_bytes / 2**20:,.0f} MiB plus the demo memory budget of "
                    f"{self.budget_cap_bytes / 2**20:,.0f} MiB, {MEMORY_BUDGET_ENV}"
                )
        return self.max_rss_bytes, WORKER_MAX_RSS_ENV

    def _enforce_limits(self, worker: _Worker, deadline: float, cancel, what: str) -> None:
        rss = worker.rss_bytes()
        limit, source = self.rss_limit(worker)
        if rss > limit:
            self._discard(worker)
            raise WorkerCrashedError(
                f"The TensorFlow worker ran out of memory during {what}: it used {rss / 2**20:,.0f} MiB, "
                f"over the limit of {limit / 2**20:,.0f} MiB ({source}). Try a smaller shape."
            )
        if time.monotonic() > deadline:
            self._discard(worker)
            raise JobTimeoutError(
                f"{what[0].upper()}{what[1:]} ran past its time limit and was stopped. "
                "Try fewer samples or a smaller shape."
            )
        if cancel is not None and cancel.is_set():
            self._discard(worker)
            raise JobCancelledError(f"Cancelled {what}.")

    def _discard(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            if self._workers.get(worker.knobs) is worker:
                del self._workers[worker.knobs]

    def _evict_for_new_worker(self) -> None:
        """Called with `_lock` held: make room by retiring the least recently used idle worker."""
        while len(self._workers) >= self.max_workers:
            idle = [w for w in self._workers.values() if not w.lock.locked()]
            if not idle:
                return
            oldest = min(idle, key=lambda w: w.last_used)
            del self._workers[oldest.knobs]
            oldest.kill()

    def _reap_idle_forever(self) -> None:
        while True:
            time.sleep(min(30.0, self.idle_s / 2))
            now = time.monotonic()
            with self._lock:
                stale = [w for w in self._workers.values() if not w.lock.locked() and now - w.last_used > self.idle_s]
                for worker in stale:
                    del self._workers[worker.knobs]
            for worker in stale:
                worker.kill()


_default_pool: WorkerPool | None = None
_default_pool_lock = threading.Lock()


def default_pool() -> WorkerPool:
    """The process-wide pool that every Streamlit session shares (so the device queues are global)."""
    global _default_pool
    with _default_pool_lock:
        if _default_pool is None:
            _default_pool = WorkerPool()
        return _default_pool


# -- typed job helpers --------------------------------------------------------------------------------------


def list_devices(pool: WorkerPool | None = None, on_event: EventCallback | None = None) -> list[dict]:
    """The devices TensorFlow finds, as [{"name": "CPU:0", "description": ...}, ...]."""
    return (pool or default_pool()).run(
        "devices", {}, device="CPU:0", knobs=WorkerKnobs(gpu_visible=True), on_event=on_event
    )


def run_check(
    spec: RunSpec, diff_channel: int = 0, pool: WorkerPool | None = None, on_event: EventCallback | None = None
) -> EquivalenceResult:
    data = (pool or default_pool()).run(
        "check",
        {"spec": spec.to_dict(), "diff_channel": diff_channel},
        device=spec.device,
        knobs=WorkerKnobs.for_spec(spec),
        on_event=on_event,
    )
    return EquivalenceResult.from_dict(data)


def run_benchmark(
    spec: RunSpec,
    pool: WorkerPool | None = None,
    on_event: EventCallback | None = None,
    time_limit_s: float | None = None,
    cancel: threading.Event | None = None,
) -> BenchmarkResult:
    pool = pool or default_pool()
    knobs = WorkerKnobs.for_spec(spec)
    cache_key = (knobs, spec.device, spec.dtype)
    data = pool.run(
        "bench",
        {"spec": spec.to_dict(), "ceilings": pool._ceilings.get(cache_key)},
        device=spec.device,
        knobs=knobs,
        on_event=on_event,
        time_limit_s=time_limit_s,
        cancel=cancel,
    )
    result = BenchmarkResult.from_dict(data)
    if result.ceilings:
        pool._ceilings[cache_key] = result.ceilings.to_dict()
    return result


def run_forms(
    inputs, kernel, bias, pool: WorkerPool | None = None, on_event: EventCallback | None = None
) -> dict[str, dict]:
    """Run the lesson's (H, W, C) input through Conv2D 1x1, Dense, matmul and einsum with the given weights.

    Returns {form: {"output": (H, W, F) list, "max_abs_err_vs_numpy": float}}.
    """
    payload = {"inputs": _as_lists(inputs), "kernel": _as_lists(kernel), "bias": _as_lists(bias)}
    return (pool or default_pool()).run("forms", payload, device="CPU:0", knobs=WorkerKnobs(), on_event=on_event)


def _as_lists(array) -> list:
    return array.tolist() if hasattr(array, "tolist") else list(array)


def run_ceilings(
    device: str = "CPU:0",
    dtype: str = "float32",
    knobs: WorkerKnobs | None = None,
    pool: WorkerPool | None = None,
    on_event: EventCallback | None = None,
) -> Ceilings:
    knobs = knobs or WorkerKnobs(gpu_visible=device.startswith("GPU"))
    data = (pool or default_pool()).run(
        "ceilings", {"device": device, "dtype": dtype}, device=device, knobs=knobs, on_event=on_event
    )
    return Ceilings.from_dict(data)


__all__ = [
    "PointwiseError",
    "WorkerKnobs",
    "WorkerPool",
    "default_pool",
    "list_devices",
    "run_benchmark",
    "run_ceilings",
    "run_check",
]
