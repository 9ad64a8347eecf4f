"""The JSON-lines protocol between the server (`pointwise.jobs`) and a worker process (`pointwise.worker`).

One JSON object per line. The server writes jobs to the worker's stdin; the worker writes events to stdout:

    job:   {"id": str, "kind": "devices" | "check" | "bench" | "ceilings" | "forms" | "kernels" | "model", ...}
           check: "spec" (`RunSpec.to_dict`), "diff_channel"; bench: "spec", "measure_ceilings" (bool, default
           true: the server asks only when it has none cached), "check" (bool, default true: false when the
           server holds this spec's equivalence and attaches it itself); ceilings: "device", "dtype";
           forms: "inputs", "kernel", "bias" (nested lists); kernels: "spec" (the ops each variant ran);
           model: "request" (`ModelRequest.to_dict`)
    event: {"event": "ready", "pid": int}                                    once, after TensorFlow loads
           {"id": str, "event": "progress", "variant": str, "done": int, "total": int, "per_call_s": float}
                                                      one timed sample, sent as taken (`pointwise.live`)
           {"id": str, "event": "phase", "text": str}              a bench or model job's untimed steps
           {"id": str, "event": "result", "result": {...}}     plain data; a bench result has raw samples only
           {"id": str, "event": "error", "error_type": str, "field": str | None, "value": ..., "expected": ...,
            "message": str}

The pool adds three events of its own for its callers, never sent over the pipe: "queued" (with the number of
jobs ahead), "starting" (a worker is loading TensorFlow) and "running" (a heartbeat while the job is quiet); it
passes the worker's "ready" on to the caller whose job started it.

An `InvalidSpecError` crosses as field/value/expected and is rebuilt on the server, so its message reads as it
would have locally; any other `PointwiseError` crosses as its message; anything else as "Type: message".
Settings TensorFlow reads only at import travel as the worker's environment (see `pointwise.jobs.knobs`).
"""

from __future__ import annotations

import json
import math
from typing import Any

from pointwise.errors import InvalidSpecError, JobFailedError, PointwiseError

# Job kinds.
DEVICES = "devices"
CHECK = "check"
BENCH = "bench"
CEILINGS = "ceilings"
FORMS = "forms"
KERNELS = "kernels"
MODEL = "model"
TUNE = "tune"
JOB_KINDS = (DEVICES, CHECK, BENCH, CEILINGS, FORMS, KERNELS, MODEL, TUNE)

# Events the worker sends.
READY = "ready"
PROGRESS = "progress"
PHASE = "phase"
RESULT = "result"
ERROR = "error"
# Events the pool gives its callers (never on the pipe).
QUEUED = "queued"
STARTING = "starting"
RUNNING = "running"
# The event a sweep gives its caller as each point starts (`pointwise.sweep`; never on the pipe).
POINT = "point"

THREADS_ENV = "POINTWISE_THREADS"
INTER_THREADS_ENV = "POINTWISE_INTER_THREADS"
# The knobs TensorFlow reads from the environment at import. Absent means TensorFlow's own choice.
ONEDNN_ENV = "TF_ENABLE_ONEDNN_OPTS"
CPU_ALLOCATOR_BFC_ENV = "TF_CPU_ALLOCATOR_USE_BFC"
"""Intra-op threads for the worker (0: TensorFlow's default), read once when it starts."""
INTERNAL_ERROR = "internal"
"""`error_type` of an error that is not a `PointwiseError` (a bug, or a runtime failure)."""


def encode_job(job_id: str, kind: str, payload: dict[str, Any]) -> str:
    return json.dumps({"id": job_id, "kind": kind, **payload}) + "\n"


def decode_job(line: str) -> dict[str, Any]:
    """One job line; raises `json.JSONDecodeError` for a line that is not JSON (the worker then exits)."""
    return json.loads(line)


def encode_event(event: dict[str, Any]) -> str:
    """An event line; NaN and infinity are refused, so a result that is not plain JSON fails in the worker."""
    return json.dumps(event, allow_nan=False) + "\n"


def decode_event(line: str) -> dict[str, Any] | None:
    """One event line, or None for a line that is not a JSON object (stray output is skipped)."""
    try:
        event = json.loads(line)
    except json.JSONDecodeError:
        return None
    return event if isinstance(event, dict) else None


def kind_of(event: dict[str, Any]) -> str | None:
    """An event's name (`READY`, `PROGRESS`, ...)."""
    return event.get("event")


def job_kind(job: dict[str, Any]) -> str | None:
    """A job's kind (`DEVICES`, `CHECK`, ...)."""
    return job.get("kind")


def ready_event(pid: int) -> dict[str, Any]:
    return {"event": READY, "pid": pid}


def progress_event(job_id: str, variant: str, done: int, total: int, per_call_s: float) -> dict[str, Any]:
    """One timed sample: its variant, its value, and how far the job is (so the server can draw as it goes)."""
    return {"id": job_id, "event": PROGRESS, "variant": variant, "done": done, "total": total, "per_call_s": per_call_s}


def phase_event(job_id: str, text: str) -> dict[str, Any]:
    return {"id": job_id, "event": PHASE, "text": text}


def result_event(job_id: str, result: Any) -> dict[str, Any]:
    return {"id": job_id, "event": RESULT, "result": result}


def queued_event(position: int) -> dict[str, Any]:
    return {"event": QUEUED, "position": position}


def starting_event() -> dict[str, Any]:
    return {"event": STARTING}


def running_event() -> dict[str, Any]:
    return {"event": RUNNING}


def error_event(job_id: str, exc: BaseException) -> dict[str, Any]:
    """`exc` as an error event: an `InvalidSpecError`'s parts, a `PointwiseError`'s message, or "Type: text"."""
    invalid = isinstance(exc, InvalidSpecError)
    known = isinstance(exc, PointwiseError)
    return {
        "id": job_id,
        "event": ERROR,
        "error_type": type(exc).__name__ if known else INTERNAL_ERROR,
        "field": exc.field if invalid else None,
        "value": _json_value(exc.value) if invalid else None,
        "expected": exc.expected if invalid else None,
        "message": str(exc) if known else f"{type(exc).__name__}: {exc}",
    }


def error_from_event(event: dict[str, Any]) -> PointwiseError:
    """The exception an error event stands for, to raise on the server."""
    if event.get("error_type") == InvalidSpecError.__name__ and event.get("field"):
        return InvalidSpecError(event["field"], event.get("value"), event.get("expected") or "")
    return JobFailedError(event["message"])


def _json_value(value):
    """`value` as the server should echo it: itself when JSON keeps it exactly (the server's message applies
    repr() once, as for a local error), its text otherwise (NaN, tuples, objects)."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    return str(value)
