"""`WorkerProcess`: one `python -m pointwise.worker` subprocess, its event stream and how it died."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from pointwise import protocol
from pointwise.jobs.knobs import WorkerKnobs

STDERR_TAIL_BYTES = 4000
MAX_PAUSE_S = 4.0
"""The most a starting worker is paused in all (page loads come from visitors: they must not starve it)."""
_REPOSITORY_ROOT = Path(__file__).resolve().parents[2]


class WorkerProcess:
    """A worker started with `knobs`' environment; a thread puts its events on `events` (None when it closes)."""

    def __init__(self, knobs: WorkerKnobs) -> None:
        self.knobs = knobs
        self.stderr, self.stderr_note = _stderr_file()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pointwise.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            env=knobs.environment(),
            cwd=str(_REPOSITORY_ROOT),
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        self.events: queue.Queue[dict | None] = queue.Queue()
        self.ready = False
        self.idle_rss_bytes = 0
        self.last_used = time.monotonic()
        self.lock = threading.Lock()
        self._paused_s = 0.0
        self._resume_timer: threading.Timer | None = None
        threading.Thread(target=self._read_events, daemon=True, name=f"pointwise-worker-{self.pid}").start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def _read_events(self) -> None:
        for line in self.process.stdout:
            event = protocol.decode_event(line)
            if event is not None:
                self.events.put(event)
        self.events.put(None)

    def alive(self) -> bool:
        return self.process.poll() is None

    def rss_bytes(self) -> int:
        try:
            return psutil.Process(self.pid).memory_info().rss
        except psutil.Error:
            return 0

    def pause_for(self, seconds: float) -> None:
        """Stop the process for `seconds` (less once `MAX_PAUSE_S` is used up); a later call restarts the clock."""
        seconds = min(seconds, MAX_PAUSE_S - self._paused_s)
        if seconds <= 0:
            return
        self._paused_s += seconds
        with contextlib.suppress(psutil.Error):
            psutil.Process(self.pid).suspend()
            if self._resume_timer is not None:
                self._resume_timer.cancel()
            self._resume_timer = threading.Timer(seconds, self.resume)
            self._resume_timer.daemon = True
            self._resume_timer.start()

    def resume(self) -> None:
        if self._resume_timer is not None:
            self._resume_timer.cancel()
        with contextlib.suppress(psutil.Error):
            psutil.Process(self.pid).resume()

    def send_job(self, job_id: str, kind: str, payload: dict) -> None:
        try:
            self.process.stdin.write(protocol.encode_job(job_id, kind, payload))
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
