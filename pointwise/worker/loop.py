"""The worker process's loop: JSON lines in on stdin, events out on stdout (`pointwise.protocol`).

Settings TensorFlow reads only at import (oneDNN, thread pools, visible GPUs) come from the environment the
pool starts the process with. The process exits when stdin closes, so it cannot outlive the app; a line that
is not JSON is a broken pool, and the process exits with status 1.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable

from pointwise import protocol


def main() -> None:
    stream = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    # Whatever TensorFlow or a layer prints must not corrupt the protocol stream.
    os.dup2(2, 1)

    def send(event: dict) -> None:
        stream.write(protocol.encode_event(event))

    from pointwise.worker.handlers import JobHandler
    from pointwise.worker.runtime import default_runtime

    runtime = default_runtime()
    runtime.configure(
        threads=int(os.environ.get(protocol.THREADS_ENV, "0")),
        inter_threads=int(os.environ.get(protocol.INTER_THREADS_ENV, "0")),
    )
    send(protocol.ready_event(os.getpid()))
    handler = JobHandler(runtime)
    for line in sys.stdin:
        if line.strip():
            serve(handler, protocol.decode_job(line), send)


def serve(handler, job: dict, send: Callable[[dict], None]) -> None:
    """Run one job, sending its progress, then its result or its error."""
    from pointwise.worker.handlers import JobEvents

    job_id = job.get("id")
    events = JobEvents(
        progress=lambda variant, done, total, per_call_s: send(
            protocol.progress_event(job_id, variant, done, total, per_call_s)
        ),
        phase=lambda text: send(protocol.phase_event(job_id, text)),
    )
    try:
        send(protocol.result_event(job_id, handler.handle(job, events)))
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        send(protocol.error_event(job_id, exc))
