"""Every cap on what a run may cost, in one place, with a stricter demo mode for public deployments.

`POINTWISE_DEMO=1` (or the Streamlit secret of that name) selects `DEMO_LIMITS`; otherwise `LOCAL_LIMITS`,
generous for someone running the app on their own machine. Any single field can be overridden with the
environment variable `POINTWISE_<FIELD>` (e.g. `POINTWISE_MEMORY_BUDGET_MB=8192`), within `LIMIT_RANGES`.
`check_settings()` validates every setting at start-up, so a bad value fails at once with its name.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, fields, replace

from pointwise.errors import InvalidSpecError

DEMO_ENV = "POINTWISE_DEMO"
TRUE_WORDS = frozenset({"1", "true", "on", "yes"})
FALSE_WORDS = frozenset({"0", "false", "off", "no"})
"""How a switch may be written, in settings and in run fields (case-insensitive); an empty setting is off."""
WORKER_MAX_RSS_ENV = "POINTWISE_WORKER_MAX_RSS_MB"
MIN_WORKER_MAX_RSS_MB = 1024
"""An idle worker holds ~620 MiB (TensorFlow imported): a lower cap would stop every job."""
MAX_WORKER_MAX_RSS_MB = 16 * 2**20
DEFAULT_WORKER_RSS_FRACTION = 0.8
"""Without `POINTWISE_WORKER_MAX_RSS_MB`, a worker may use this fraction of physical memory."""


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
        max_tune_budget_s: the longest time budget one tune (`pointwise.tune`) may be given.
        model_max_input: the largest input side of a real network (Models page, `pointwise model`).
        model_max_batch: the largest batch a real network is timed at.
        model_max_gflop: the estimated GFLOP of one forward pass of the batch (network x input x batch).
    """

    memory_budget_mb: int
    live_max_elements: int
    max_samples: int
    max_sweep_points: int
    job_time_limit_s: float
    max_queued_jobs: int
    worker_idle_s: float
    max_workers: int
    max_tune_budget_s: float
    model_max_input: int = 512
    model_max_batch: int = 64
    model_max_gflop: int = 1000


LIMIT_RANGES: dict[str, tuple[float, float]] = {
    "memory_budget_mb": (128, 1_048_576),
    "live_max_elements": (1_000, 10_000_000_000),
    "max_samples": (3, 2_000),
    "max_sweep_points": (1, 576),
    "job_time_limit_s": (1, 86_400),
    "max_queued_jobs": (1, 10_000),
    "worker_idle_s": (1, 86_400),
    "max_workers": (1, 64),
    "max_tune_budget_s": (10, 86_400),
    "model_max_input": (32, 1024),
    "model_max_batch": (1, 512),
    "model_max_gflop": (1, 100_000),
}
"""Inclusive ranges for the overrides: finite, and wide enough for any real deployment. 2,000 samples is what a
run accepts; 576 sweep points is 24 x 24, the most two sweep axes hold."""

LOCAL_LIMITS = Limits(
    memory_budget_mb=4096,
    live_max_elements=4_000_000,
    max_samples=2000,
    max_sweep_points=64,
    job_time_limit_s=600.0,
    max_queued_jobs=64,
    worker_idle_s=600.0,
    max_workers=2,
    max_tune_budget_s=900.0,
)
DEMO_LIMITS = Limits(
    memory_budget_mb=512,
    live_max_elements=4_000_000,
    max_samples=50,
    max_sweep_points=12,
    job_time_limit_s=60.0,
    max_queued_jobs=8,
    worker_idle_s=120.0,
    max_workers=1,
    max_tune_budget_s=90.0,
    # MobileNetV2, MobileNetV3Small and EfficientNetB0 at 224 and batch 8 fit (5-7 GFLOP); ResNet50 there does not.
    model_max_input=224,
    model_max_batch=8,
    model_max_gflop=20,
)


def demo_mode() -> bool:
    return os.environ.get(DEMO_ENV, "").strip().lower() in TRUE_WORDS


def env_name(field_name: str) -> str:
    return f"POINTWISE_{field_name.upper()}"


MEMORY_BUDGET_ENV = env_name("memory_budget_mb")


def active_limits() -> Limits:
    """The limits in force now: demo or local, with per-field environment overrides (validated)."""
    limits = DEMO_LIMITS if demo_mode() else LOCAL_LIMITS
    overrides = {}
    for field in fields(Limits):
        name = env_name(field.name)
        raw = os.environ.get(name)
        if raw is not None and raw.strip():
            overrides[field.name] = _parse_setting(name, raw, field.type == "int", LIMIT_RANGES[field.name])
    return replace(limits, **overrides)


def worker_max_rss_bytes() -> int:
    """The resident memory a worker may use: `POINTWISE_WORKER_MAX_RSS_MB`, or 80% of physical memory."""
    import psutil

    raw = os.environ.get(WORKER_MAX_RSS_ENV, "")
    if not raw.strip():
        return int(DEFAULT_WORKER_RSS_FRACTION * psutil.virtual_memory().total)
    mib = _parse_setting(WORKER_MAX_RSS_ENV, raw, False, (MIN_WORKER_MAX_RSS_MB, MAX_WORKER_MAX_RSS_MB))
    return int(mib * 2**20)


def validate_time_limit_s(name: str, value: object) -> float:
    """A job time limit in seconds (the CLI's `--time-limit`, a caller's `time_limit_s`), within range."""
    low, high = LIMIT_RANGES["job_time_limit_s"]
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not (number and math.isfinite(value) and low <= value <= high):
        raise InvalidSpecError(name, value, f"a number of seconds in [{low:,}, {high:,}]")
    return float(value)


def check_settings() -> None:
    """Validate every `POINTWISE_*` setting now, so a bad value stops the app or CLI at start with a message.

    Raises:
        InvalidSpecError: naming the environment variable, its value and the allowed range.
    """
    raw_demo = os.environ.get(DEMO_ENV, "")
    if raw_demo.strip().lower() not in TRUE_WORDS | FALSE_WORDS | {""}:
        raise InvalidSpecError(DEMO_ENV, raw_demo, "1 or 0 (true/false, on/off, yes/no)")
    active_limits()
    worker_max_rss_bytes()


def _parse_setting(name: str, raw: str, integer: bool, allowed: tuple[float, float]) -> int | float:
    """`raw` as a finite number in `allowed` (inclusive); ASCII digits only, so `٣` is not read as 3."""
    low, high = allowed
    kind = "an integer" if integer else "a number"
    text = raw.strip()
    pattern = r"[0-9]{1,19}" if integer else r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"
    value = (int(text) if integer else float(text)) if re.fullmatch(pattern, text, re.ASCII) else None
    if value is None or not (math.isfinite(value) and low <= value <= high):
        raise InvalidSpecError(name, raw, f"{kind} in [{low:,}, {high:,}]")
    return value
