"""`WorkerPool`: warm worker processes, one per knob set, with per-device job queues shared by all callers.

A crash, hang or out-of-memory in a worker becomes a `WorkerError` for that job only; the next job gets a
fresh worker.

Cancelling: `on_event` is called for every progress event and every half second while queued or running;
if it raises (Streamlit raises its rerun/stop exceptions there when the user clicks Cancel; the terminal
raises KeyboardInterrupt), the worker is killed and the exception propagates.
"""

from __future__ import annotations

import collections
import queue
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from pointwise import protocol
from pointwise.errors import JobCancelledError, JobTimeoutError, PointwiseError, QueueFullError, WorkerCrashedError
from pointwise.jobs.knobs import WorkerKnobs
from pointwise.jobs.process import WorkerProcess
from pointwise.jobs.queues import HEARTBEAT_S, DeviceQueue
from pointwise.limits import (
    MEMORY_BUDGET_ENV,
    WORKER_MAX_RSS_ENV,
    active_limits,
    demo_mode,
    validate_time_limit_s,
    worker_max_rss_bytes,
)

EventCallback = Callable[[dict[str, Any]], None]

WORKER_START_LIMIT_S = 120.0
"""Importing TensorFlow takes ~3.5 s here; two minutes covers a cold disk and a busy machine."""
POLL_S = 0.1


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
        self._workers: dict[WorkerKnobs, WorkerProcess] = {}
        self._warming: set[WorkerKnobs] = set()
        self.jobs_sent = 0
        """Jobs handed to a worker since the pool started: how a test sees that an answer came from a cache."""
        self._lock = threading.Lock()
        self._queues: dict[str, DeviceQueue] = collections.defaultdict(DeviceQueue)
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
        return self.run_traced(
            kind, payload, device=device, knobs=knobs, on_event=on_event, time_limit_s=time_limit_s, cancel=cancel
        )[0]

    def run_traced(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        device: str,
        knobs: WorkerKnobs,
        on_event: EventCallback | None = None,
        time_limit_s: float | None = None,
        cancel: threading.Event | None = None,
    ) -> tuple[Any, int]:
        """`run`, returning (result, the pid of the worker that computed it): cached answers name their worker."""
        on_event = on_event or (lambda event: None)
        limit = self.job_time_limit_s if time_limit_s is None else validate_time_limit_s("time_limit_s", time_limit_s)
        if self._queues[device].waiting() >= self.max_queued_jobs:
            raise QueueFullError(
                f"{self._queues[device].waiting()} jobs are already queued or running on {device}, the most this "
                "server accepts: try again in a minute."
            )
        with self._queues[device].turn(lambda ahead: on_event(protocol.queued_event(ahead))):
            worker = self._acquire(knobs, on_event, cancel)
            self.jobs_sent += 1
            try:
                return self._run_on(worker, kind, payload, on_event, limit, cancel), worker.pid
            finally:
                worker.last_used = time.monotonic()
                worker.lock.release()

    def warm(self, knobs: WorkerKnobs) -> None:
        """Start the worker for `knobs` and wait until TensorFlow has loaded, without running a job."""
        worker = self._acquire(knobs, lambda event: None, None)
        worker.last_used = time.monotonic()
        worker.lock.release()

    def keep_warm(self, knobs: WorkerKnobs, delay_s: float = 0.0, then: Callable[[], object] | None = None) -> None:
        """Without waiting: mark the worker for `knobs` as just used, or start it (and `then`) in the background.

        A visitor's page view calls this, so the worker is not retired while people are using the app. A worker
        is started `delay_s` after the call: the TensorFlow import takes a core for ~4 s, and the page that asked
        should render first. `then` runs once the worker is ready (e.g. measuring its ceilings).
        """
        with self._lock:
            worker = self._workers.get(knobs)
            if worker is not None and worker.alive():
                worker.last_used = time.monotonic()
                return
            if knobs in self._warming:
                return
            self._warming.add(knobs)

        def start() -> None:
            try:
                time.sleep(delay_s)
                self.warm(knobs)
                if then is not None:
                    then()
            except PointwiseError:
                pass  # a warm-up is a courtesy: the visitor's own job reports any real failure
            finally:
                with self._lock:
                    self._warming.discard(knobs)

        threading.Thread(target=start, daemon=True, name="pointwise-warm").start()

    def pause_starting_workers(self, seconds: float) -> None:
        """Pause the workers still importing TensorFlow for `seconds`, so a page loading in a browser on this host
        gets the CPU (see `pointwise.ui.serve`); ready workers and their jobs are never paused."""
        for worker in self._starting_workers():
            worker.pause_for(seconds)

    def resume_starting_workers(self) -> None:
        for worker in self._starting_workers():
            worker.resume()

    def _starting_workers(self) -> list[WorkerProcess]:
        with self._lock:
            return [w for w in self._workers.values() if not w.ready and w.alive()]

    def worker_pids(self) -> list[int]:
        with self._lock:
            return [w.pid for w in self._workers.values() if w.alive()]

    def close(self) -> None:
        """Kill every worker; later `run` calls start new ones."""
        with self._lock:
            workers, self._workers = list(self._workers.values()), {}
        for worker in workers:
            worker.kill()

    def rss_limit(self, worker: WorkerProcess) -> tuple[int, str]:
        """The resident memory `worker` may use, and where that figure comes from (for the message)."""
        if self.budget_cap_bytes is not None and worker.ready:
            cap = worker.idle_rss_bytes + self.budget_cap_bytes
            if cap < self.max_rss_bytes:
                return cap, (
                    f"its idle {worker.idle_rss_bytes / 2**20:,.0f} MiB plus the demo memory budget of "
                    f"{self.budget_cap_bytes / 2**20:,.0f} MiB, {MEMORY_BUDGET_ENV}"
                )
        return self.max_rss_bytes, WORKER_MAX_RSS_ENV

    # -- internals ----------------------------------------------------------------------------------------

    def _acquire(self, knobs: WorkerKnobs, on_event: EventCallback, cancel) -> WorkerProcess:
        """The warm worker for `knobs`, locked for this job; started (and waited for) if needed."""
        while True:
            with self._lock:
                worker = self._workers.get(knobs)
                if worker is None or not worker.alive():
                    self._evict_for_new_worker()
                    worker = WorkerProcess(knobs)
                    self._workers[knobs] = worker
            if worker.lock.acquire(timeout=HEARTBEAT_S):
                break
            on_event(protocol.queued_event(0))
        try:
            self._wait_ready(worker, on_event, cancel)
        except BaseException:
            worker.lock.release()
            raise
        return worker

    def _wait_ready(self, worker: WorkerProcess, on_event: EventCallback, cancel) -> None:
        if worker.ready:
            return
        deadline = time.monotonic() + WORKER_START_LIMIT_S
        on_event(protocol.starting_event())
        while not worker.ready:
            event = self._next_event(worker, deadline, on_event, cancel, "starting the TensorFlow worker")
            if protocol.kind_of(event) == protocol.READY:
                worker.idle_rss_bytes = worker.rss_bytes()
                worker.ready = True
                on_event(event)  # when the start ended: the tune prices worker starts by it

    def _run_on(self, worker, kind, payload, on_event, limit, cancel) -> Any:
        job_id = uuid.uuid4().hex
        worker.send_job(job_id, kind, payload)
        deadline = time.monotonic() + limit
        while True:
            event = self._next_event(worker, deadline, on_event, cancel, f"the {kind} job")
            if event.get("id") != job_id:
                continue
            event_kind = protocol.kind_of(event)
            if event_kind in (protocol.PROGRESS, protocol.PHASE):
                self._notify(worker, on_event, event)
            elif event_kind == protocol.RESULT:
                return event["result"]
            elif event_kind == protocol.ERROR:
                raise protocol.error_from_event(event)

    def _notify(self, worker: WorkerProcess, on_event: EventCallback, event: dict) -> None:
        """Pass `event` on; if the callback raises (a cancel), the worker is stopped first."""
        try:
            on_event(event)
        except BaseException:
            self._discard(worker)
            raise

    def _next_event(self, worker: WorkerProcess, deadline: float, on_event, cancel, what: str) -> dict:
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
                    self._notify(worker, on_event, protocol.running_event())
                continue
            if event is None:
                reason = worker.death_reason()
                self._discard(worker)
                raise WorkerCrashedError(f"The TensorFlow worker died during {what}: {reason}.")
            return event

    def _enforce_limits(self, worker: WorkerProcess, deadline: float, cancel, what: str) -> None:
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

    def _discard(self, worker: WorkerProcess) -> None:
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
