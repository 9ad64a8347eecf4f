"""Every cap on what a run may cost, in one place, with a stricter demo mode for public deployments.

`POINTWISE_DEMO=1` (or the Streamlit secret of that name) selects `DEMO_LIMITS`; otherwise `LOCAL_LIMITS`,
generous for someone running the app on their own machine. Any single field can be overridden with the
environment variable `POINTWISE_<FIELD>` (e.g. `POINTWISE_MEMORY_BUDGET_MB=8192`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace

from pointwise.errors import InvalidSpecError

DEMO_ENV = "POINTWISE_DEMO"
_TRUE_WORDS = {"1", "true", "on", "yes"}


@dataclass(frozen=True)
class Limits:
    """Caps applied to every run.

    Args:
        memory_budget_mb: the estimated memory of a run (see `estimate_memory_bytes`) must fit.
        live_max_elements: B*H*W*max(C, F) cap for live runs (Explore), so they answer in about a second.
        max_samples: samples per variant in one benchmark.
        max_sweep_points: points in one sweep (both axes multiplied).
        job_time_limit_s: a job still running after this is stopped.
        max_queued_jobs: jobs waiting or running per device; one more is refused ("busy, try again").
        worker_idle_s: an idle worker process is retired after this.
        max_workers: warm worker processes kept at once (each holds ~0.5 GiB).
    """

    memory_budget_mb: int
    live_max_elements: int
    max_samples: int
    max_sweep_points: int
    job_time_limit_s: float
    max_queued_jobs: int
    worker_idle_s: float
    max_workers: int


LOCAL_LIMITS = Limits(
    memory_budget_mb=4096,
    live_max_elements=4_000_000,
    max_samples=2000,
    max_sweep_points=64,
    job_time_limit_s=600.0,
    max_queued_jobs=64,
    worker_idle_s=600.0,
    max_workers=2,
)
DEMO_LIMITS = Limits(
    memory_budget_mb=512,
    live_max_elements=1_000_000,
    max_samples=50,
    max_sweep_points=12,
    job_time_limit_s=60.0,
    max_queued_jobs=8,
    worker_idle_s=120.0,
    max_workers=1,
)


def demo_mode() -> bool:
    return os.environ.get(DEMO_ENV, "").strip().lower() in _TRUE_WORDS


def env_name(field_name: str) -> str:
    return f"POINTWISE_{field_name.upper()}"


def active_limits() -> Limits:
    """The limits in force now: demo or local, with per-field environment overrides (validated)."""
    limits = DEMO_LIMITS if demo_mode() else LOCAL_LIMITS
    overrides = {}
    for field in fields(Limits):
        raw = os.environ.get(env_name(field.name))
        if raw is None or not raw.strip():
            continue
        try:
            value = float(raw) if field.type == "float" else int(raw)
        except ValueError:
            value = None
        if value is None or value <= 0:
            raise InvalidSpecError(env_name(field.name), raw, "a positive number")
        overrides[field.name] = value
    return replace(limits, **overrides)
