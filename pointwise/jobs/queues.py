"""`DeviceQueue`: one device's waiting jobs, shared by every caller of a pool, served in arrival order."""

from __future__ import annotations

import collections
import contextlib
import threading
from collections.abc import Callable, Iterator

HEARTBEAT_S = 0.5
"""How often a waiting job hears its place in the queue (and may be cancelled)."""


class DeviceQueue:
    """A FIFO of waiting jobs for one device; a job runs only at the head."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._waiting: collections.deque[object] = collections.deque()

    def waiting(self) -> int:
        with self._cond:
            return len(self._waiting)

    @contextlib.contextmanager
    def turn(self, on_wait: Callable[[int], None]) -> Iterator[None]:
        """Wait for this job's turn, calling `on_wait(jobs_ahead)` every `HEARTBEAT_S`; leave the queue on exit."""
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
