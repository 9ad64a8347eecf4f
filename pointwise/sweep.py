"""Sweeps: benchmark one or two parameters over log-spaced ranges, one queued job per point.

Each point is its own job, so other sessions' jobs interleave with a long sweep instead of waiting for it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from pointwise.errors import InvalidSpecError
from pointwise.jobs import EventCallback, WorkerPool, run_benchmark
from pointwise.limits import active_limits
from pointwise.protocol import POINT
from pointwise.results import BenchmarkResult
from pointwise.spec import INT_RANGES, RunSpec

SWEEP_PARAMETERS = {
    "batch": ("batch",),
    "hw": ("height", "width"),
    "channels": ("channels",),
    "filters": ("filters",),
}
"""Sweepable parameters and the spec fields each sets; `hw` keeps images square."""
PARAMETER_LABELS = {"batch": "batch B", "hw": "height = width", "channels": "channels C", "filters": "filters F"}
MAX_POINTS = 24
"""Points along one axis; the whole grid is capped by `Limits.max_sweep_points`."""


@dataclass(frozen=True)
class SweepPoint:
    values: dict[str, int]
    result: BenchmarkResult


def sweep_values(start: int, stop: int, points: int) -> list[int]:
    """`points` log-spaced integers from `start` to `stop` inclusive, rounded and de-duplicated."""
    if points < 1 or points > MAX_POINTS:
        raise InvalidSpecError("points", points, f"an integer in [1, {MAX_POINTS}]")
    if start < 1:
        raise InvalidSpecError("start", start, "a positive integer")
    if stop < start:
        raise InvalidSpecError("stop", stop, f"an integer >= start ({start})")
    raw = np.geomspace(start, stop, points) if points > 1 else np.array([start])
    return sorted({int(np.rint(v)) for v in raw})


def sweep_axes(
    first: tuple[str, int, int, int], second: tuple[str, int, int, int] | None = None
) -> dict[str, list[int]]:
    """The grid's axes from (parameter, start, stop, points) for one or two parameters, validated.

    Raises:
        InvalidSpecError: naming the parameter or range that cannot be swept (two axes on one parameter too).
    """
    axes = {}
    for axis in (first, second):
        if axis is None:
            continue
        parameter, start, stop, points = axis
        if parameter not in SWEEP_PARAMETERS:
            raise InvalidSpecError("parameter", parameter, f"one of {', '.join(SWEEP_PARAMETERS)}")
        if parameter in axes:
            raise InvalidSpecError("second parameter", parameter, "a parameter other than the first")
        axes[parameter] = sweep_values(start, stop, points)
    return axes


def point_spec(spec: RunSpec, assignment: dict[str, int]) -> RunSpec:
    """`spec` with each swept parameter set; validation (memory budget included) names the field."""
    changes: dict[str, Any] = {}
    for parameter, value in assignment.items():
        if parameter not in SWEEP_PARAMETERS:
            raise InvalidSpecError("parameter", parameter, f"one of {', '.join(SWEEP_PARAMETERS)}")
        for field in SWEEP_PARAMETERS[parameter]:
            low, high = INT_RANGES[field]
            if not low <= value <= high:
                raise InvalidSpecError(parameter, value, f"an integer in [{low:,}, {high:,}]")
            changes[field] = value
    return spec.with_changes(**changes)


def plan_grid(spec: RunSpec, axes: dict[str, list[int]]) -> list[tuple[dict[str, int], RunSpec]]:
    """Every combination of the axes' values with its validated spec; fails before anything runs."""
    assignments: list[dict[str, int]] = [{}]
    for parameter, values in axes.items():
        assignments = [{**a, parameter: v} for a in assignments for v in values]
    cap = active_limits().max_sweep_points
    if len(assignments) > cap:
        raise InvalidSpecError("points", len(assignments), f"at most {cap} sweep points in total (all axes multiplied)")
    return [(a, point_spec(spec, a)) for a in assignments]


def describe_point(assignment: dict[str, int]) -> str:
    """ "channels C = 64, filters F = 8": a point named as the sweep form names its parameters."""
    return ", ".join(f"{PARAMETER_LABELS[p]} = {v}" for p, v in assignment.items())


def remaining_s(elapsed_s: float, done: int, total: int) -> float | None:
    """Time left if the remaining points take as long as the finished ones on average; None before the first
    point has finished (nothing to extrapolate from)."""
    return None if done == 0 else elapsed_s / done * (total - done)


def format_duration(seconds: float) -> str:
    """ "40 s", "3 min", "1.5 h": a rough estimate reads best rounded to its unit."""
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def point_event(index: int, total: int, assignment: dict[str, int], elapsed_s: float) -> dict:
    """The progress event sent as point `index` (0-based) of `total` starts; `text` is ready to show."""
    eta_s = remaining_s(elapsed_s, index, total)
    text = f"Point {index + 1} of {total} ({describe_point(assignment)})"
    if eta_s is not None:
        text += f", about {format_duration(eta_s)} left"
    return {"event": POINT, "index": index, "total": total, "eta_s": eta_s, "text": text}


def run_sweep(
    spec: RunSpec,
    axes: dict[str, list[int]],
    pool: WorkerPool | None = None,
    on_event: EventCallback | None = None,
    on_point: Callable[[list[SweepPoint]], None] | None = None,
) -> list[SweepPoint]:
    """Benchmark `spec` at every point of the grid spanned by `axes` (one or two parameters).

    `on_event` gets each job's events, and a "point" event (`point_event`) as each point starts; `on_point` gets
    the finished points so far as each one finishes (to draw them while the sweep goes on)."""
    plan = plan_grid(spec, axes)
    points = []
    started = time.monotonic()
    for index, (assignment, point) in enumerate(plan):
        if on_event:
            on_event(point_event(index, len(plan), assignment, time.monotonic() - started))
        points.append(SweepPoint(assignment, run_benchmark(point, pool=pool, on_event=on_event)))
        if on_point:
            on_point(list(points))
    return points
