"""Exceptions raised by `pointwise`.

Every error a user can cause derives from `PointwiseError`, so the app and the CLI catch one class at their
edge and show its message; anything else is a bug and is allowed to propagate.
"""

from __future__ import annotations


class PointwiseError(Exception):
    """Raised for any expected failure whose message is meant for the user."""


class InvalidSpecError(PointwiseError, ValueError):
    """Raised when a run configuration value is out of range, malformed or unknown."""

    def __init__(self, field: str, value: object, expected: str) -> None:
        self.field = field
        self.value = value
        self.expected = expected
        super().__init__(f"Invalid value for `{field}`: expected {expected}. Received {field}={value!r}.")


class WorkerError(PointwiseError):
    """Raised when a job could not be completed by the TensorFlow worker process."""


class JobTimeoutError(WorkerError):
    """Raised when a job ran past its time limit and its worker was killed."""


class JobCancelledError(WorkerError):
    """Raised when the user cancelled a job and its worker was killed."""


class WorkerCrashedError(WorkerError):
    """Raised when the worker died mid-job (crash, out-of-memory, killed by a signal)."""


class QueueFullError(WorkerError):
    """Raised when too many jobs are already queued on a device; the user should try again later."""


class JobFailedError(WorkerError):
    """Raised when the worker reported an error for the job (for example an unsupported dtype on a device)."""


class ImportRejectedError(PointwiseError):
    """Raised when an imported result file is malformed, too large or not a `pointwise` result."""


class StoreError(PointwiseError):
    """Raised when the run database cannot be read or written (missing, read-only, disk full, corrupt)."""
