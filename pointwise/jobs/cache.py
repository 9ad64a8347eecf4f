"""`ResultCache`: answers this server has already computed, so no visitor waits for the same job twice.

Equivalence reports and benchmark samples are determined by their spec (the seed included) up to timing
noise, so a validated `RunSpec` (frozen, hashable) is a complete key. The cache is a least-recently-used map
bounded by entries and by bytes: a public demo with many visitors must not grow the server without limit.
Sizes are the result's JSON length, measured once when it is stored; that is close to what the result holds
in memory (floats as text are about the size of Python floats in tuples), and cheap next to computing it.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

T = TypeVar("T")

MAX_ENTRIES = 64
MAX_BYTES = 64 * 2**20
"""64 results or 64 MiB: a few hundred kB per equivalence result (its diff map), tens of kB per benchmark."""
WAIT_S = 0.5
"""How often a caller waiting for another caller's computation of the same answer is told it still waits."""


@dataclass(frozen=True)
class Computed(Generic[T]):
    """A result with where and when it was computed; `cached` is True when it came from the cache."""

    result: T
    computed_at: float
    """Wall-clock seconds since the epoch (`time.time()`), when the worker's answer arrived."""
    worker_pid: int
    cached: bool = False

    def same_run(self, other: Computed | None) -> bool:
        """Whether `other` is this very computation (from the cache or not)."""
        return other is not None and (other.computed_at, other.worker_pid) == (self.computed_at, self.worker_pid)

    def provenance(self) -> str:
        """ "computed at 14:03:12 on worker pid 4242 (cached)": the line a page shows under a result."""
        when = time.strftime("%H:%M:%S", time.localtime(self.computed_at))
        return f"computed at {when} on worker pid {self.worker_pid}" + (" (cached)" if self.cached else "")


class ResultCache:
    """A thread-safe LRU of `Computed` results, bounded by `max_entries` and `max_bytes`."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: collections.OrderedDict[Hashable, tuple[Computed, int]] = collections.OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._in_flight: dict[Hashable, threading.Event] = {}

    def get(self, key: Hashable) -> Computed | None:
        """The stored result for `key`, marked cached (and now the most recently used), or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return replace(entry[0], cached=True)

    def put(self, key: Hashable, computed: Computed, size_bytes: int) -> None:
        """Store `computed` under `key`, replacing any older answer; evicts the least recently used to fit.

        A result larger than `max_bytes` on its own is not stored (it would evict everything else).
        """
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            if size_bytes > self.max_bytes:
                return
            self._entries[key] = (replace(computed, cached=False), size_bytes)
            self._bytes += size_bytes
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                _, (_, evicted_bytes) = self._entries.popitem(last=False)
                self._bytes -= evicted_bytes

    def get_or_compute(
        self,
        key: Hashable,
        compute: Callable[[], tuple[Computed, int]],
        *,
        fresh: bool = False,
        on_wait: Callable[[], None] = lambda: None,
    ) -> Computed:
        """The stored answer for `key` (unless `fresh`), else `compute()`'s (result, size in bytes), stored.

        One computation per key at a time: a caller asking while another computes the same answer (a visitor
        while the warm-up checks the default configuration, two visitors at once) waits for that answer instead
        of queueing the same job behind it, calling `on_wait` every `WAIT_S` (it may raise, to stop waiting).
        If that computation fails, the waiting caller computes.
        """
        while True:
            if not fresh:
                known = self.get(key)
                if known is not None:
                    return known
            with self._lock:
                running = self._in_flight.get(key)
                if running is None:
                    running = self._in_flight[key] = threading.Event()
                    break
            while not running.wait(WAIT_S):
                on_wait()
            fresh = False  # the answer just computed for someone else is as fresh as a new one
        try:
            computed, size_bytes = compute()
            self.put(key, computed, size_bytes)
            return computed
        finally:
            with self._lock:
                del self._in_flight[key]
            running.set()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    @property
    def size_bytes(self) -> int:
        with self._lock:
            return self._bytes

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
