"""Tune: for one layer configuration, which knobs decide its speed here, and by how much.

The orchestrator runs on the server (or in the CLI) and sends only ordinary bench jobs (`pointwise.jobs`):
the baseline, with every knob at TensorFlow's own choice, then one run per factor of `pointwise.tune_plan`
(each knob setting that TensorFlow reads at import runs on its own warm worker, `jobs/knobs.py`). Within a
run the variants are interleaved sample by sample (`pointwise.worker.timing`); runs on different workers
cannot be. After every run the plan is priced again with the times measured so far and what is left of the
budget, so a slow machine gets fewer samples and then fewer factors, and the result says what was dropped.
All statistics come from the raw samples, here (`pointwise.tune_stats`).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from pointwise.errors import InvalidSpecError, JobCancelledError, PointwiseError
from pointwise.jobs import EventCallback, WorkerPool, run_benchmark
from pointwise.limits import active_limits
from pointwise.protocol import POINT, PROGRESS, READY, STARTING
from pointwise.results import BenchmarkResult
from pointwise.spec import RunSpec
from pointwise.sweep import format_duration
from pointwise.tune_plan import (
    BASELINE_CHANGES,
    FACTORS,
    CostModel,
    Factor,
    TunePlan,
    level_spec,
    plan_tune,
    validate_budget,
    worker_of,
)
from pointwise.tune_stats import (
    Effect,
    by_size,
    drift_effect,
    factor_effect,
    formulation_effect,
    ranking_rows,
    verdict,
)
from pointwise.variants import BASELINE_KEY

DEFAULT_BUDGET_S = 90.0
BASELINE_SETTING = "TensorFlow's defaults"


@dataclass(frozen=True)
class TuneRun:
    """One bench job of the tune: the baseline (`factor` None) or one factor's other level."""

    factor: Factor | None
    level: str
    result: BenchmarkResult
    wall_s: float


@dataclass(frozen=True)
class TuneResult:
    spec: RunSpec
    budget_s: float
    elapsed_s: float
    runs: tuple[TuneRun, ...]
    dropped: tuple[tuple[str, str], ...]
    """(factor label, why): what the budget left out, or what does not run on this machine."""
    closing: BenchmarkResult | None = None
    """Conv2D 1x1 at the baseline again after the last factor (A B C ... A), where the budget allowed."""

    @property
    def baseline(self) -> BenchmarkResult:
        return self.runs[0].result

    @property
    def cpu(self) -> str:
        return str(self.baseline.environment.get("cpu", "unknown CPU"))

    @functools.cached_property
    def effects(self) -> list[Effect]:
        """Every factor's effect, largest first (the formulation's from the baseline run)."""
        card = self.baseline.environment
        # The baseline brackets the factors: its first and closing samples together stand for it.
        baseline_s = [
            *self.baseline.measurement(BASELINE_KEY).per_call_s,
            *(self.closing.measurement(BASELINE_KEY).per_call_s if self.closing else ()),
        ]
        found = [formulation_effect(self.baseline)]
        for run in self.runs[1:]:
            levels = (run.factor.baseline(card), run.level)
            found.append(factor_effect(run.factor.key, run.factor.label, levels, baseline_s, run.result))
        return by_size([e for e in found if e is not None])

    @functools.cached_property
    def drift(self) -> Effect | None:
        return drift_effect(self.baseline, self.closing)

    @functools.cached_property
    def ranking(self) -> list[dict]:
        return ranking_rows((run.level, run.result) for run in self.runs)

    @property
    def verdict(self) -> str:
        return verdict(self.effects, self.cpu, self.drift)

    def to_dict(self) -> dict:
        return {
            "spec": self.spec.to_dict(),
            "budget_s": self.budget_s,
            "elapsed_s": self.elapsed_s,
            "cpu": self.cpu,
            "verdict": self.verdict,
            "effects": [e.to_dict() for e in self.effects],
            "drift": self.drift.to_dict() if self.drift else None,
            "ranking": self.ranking,
            "dropped": [{"factor": label, "why": why} for label, why in self.dropped],
            "runs": [
                {
                    "factor": run.factor.key if run.factor else None,
                    "setting": run.level,
                    "wall_s": run.wall_s,
                    "result": run.result.to_dict(),
                }
                for run in self.runs
            ],
        }


class _RunClock:
    """Watches one run's events to learn what its parts cost: a worker start, the set-up, the samples."""

    def __init__(self, on_event: EventCallback | None) -> None:
        self.on_event = on_event
        self.start = time.monotonic()
        self.worker_started_at: float | None = None
        self.worker_ready_at: float | None = None
        self.first_sample_at: float | None = None
        self.last_sample_at: float | None = None

    def __call__(self, event: dict) -> None:
        kind, now = event.get("event"), time.monotonic()
        if kind == STARTING:
            self.worker_started_at = now
        elif kind == READY:
            self.worker_ready_at = now
        elif kind == PROGRESS:
            self.first_sample_at = self.first_sample_at or now
            self.last_sample_at = now
        if self.on_event:
            self.on_event(event)

    @property
    def worker_start_s(self) -> float | None:
        """How long the worker took to load TensorFlow, if this run had to start one."""
        if self.worker_started_at is None or self.worker_ready_at is None:
            return None
        return self.worker_ready_at - self.worker_started_at

    def costs(self, base: CostModel, variants: int, samples: int) -> CostModel:
        """`base` with this run's measured times: per round of samples, and the rest of the job (building,
        warming up and checking the variants, the environment card) per variant."""
        end = time.monotonic()
        job_start = self.worker_ready_at or self.start
        first, last = self.first_sample_at or job_start, self.last_sample_at or end
        return base.measured(
            round_s=max((last - first) / max(samples - 1, 1), 1e-3),
            setup_per_variant_s=max((first - job_start) + (end - last), 0.0) / variants,
            worker_start_s=self.worker_start_s,
        )


def _announce(on_event: EventCallback | None, index: int, total: int, what: str, eta_s: float) -> None:
    if on_event:
        text = f"Run {index + 1} of {total}: {what}, about {format_duration(eta_s)} left"
        on_event({"event": POINT, "index": index, "total": total, "eta_s": eta_s, "text": text})


def run_tune(
    spec: RunSpec,
    budget_s: float | str = DEFAULT_BUDGET_S,
    pool: WorkerPool | None = None,
    on_event: EventCallback | None = None,
    factors: Sequence[Factor] = FACTORS,
) -> TuneResult:
    """Measure `spec`'s variants at TensorFlow's defaults and at each factor's other level within `budget_s`.

    `spec` gives the layer (shape, filters, pass, variants, device, seed); its knobs, mode, dtype and samples
    are the tune's to choose. `on_event` gets each job's events and a "point" event (with an ETA) per run.

    Raises:
        InvalidSpecError: for a budget out of range or too small for the baseline (naming `budget`).
        PointwiseError: if the baseline run fails (a factor's failure is reported in `dropped` instead).
    """
    budget_s = validate_budget(budget_s)
    started = time.monotonic()
    base = spec.with_changes(**BASELINE_CHANGES)
    costs = CostModel.guess(base)
    plan = plan_tune(base, budget_s, costs, factors)
    base = base.with_changes(samples=plan.samples)
    _announce(on_event, 0, len(plan.runs), BASELINE_SETTING, plan.estimated_s)
    clock = _RunClock(on_event)
    baseline = _bench(base, pool, clock, budget_s)
    runs = [TuneRun(None, BASELINE_SETTING, baseline, time.monotonic() - clock.start)]
    costs = clock.costs(costs, len(base.layers_run), base.samples)
    card, used = baseline.environment, [worker_of(base, {})]
    # Every factor again, not only those the first guess kept: the baseline's measured costs decide now.
    pending, dropped, slowdowns = list(factors), [], []
    closing_s = _closing_s(costs, base)
    while pending:
        left = budget_s - (time.monotonic() - started) - closing_s
        # A factor the plan leaves out now stays pending: if the runs go faster than priced, it gets its turn.
        # `pending` stays in priority order (the planner drops from its end); the plan's order is the run order.
        step = _replan(base, left, costs, pending, used, card, plan.samples)
        if not step.runs:
            break
        factor = step.runs[0].factor
        pending.remove(factor)
        _announce(on_event, len(runs), len(runs) + len(step.runs), factor.label, step.estimated_s)
        clock = _RunClock(on_event)
        run, why = _run_factor(base, factor, card, step.samples, pool, clock, left)
        costs = _learn(costs, clock, base, step.samples, slowdowns)
        used.append(worker_of(base, {}) if run is None else worker_of(run.result.spec, {}))
        if run is None:
            dropped.append((factor.label, why))
        else:
            runs.append(run)
    dropped += [(f.label, f"did not fit the {budget_s:.0f} s budget") for f in pending]
    closing = _closing_run(base, pool, on_event, len(runs), budget_s - (time.monotonic() - started), closing_s)
    return TuneResult(base, budget_s, time.monotonic() - started, tuple(runs), tuple(dropped), closing)


def _closing_s(costs: CostModel, base: RunSpec) -> float:
    """The price of the closing run: Conv2D 1x1 alone at the baseline, perhaps on a restarted worker."""
    return costs.worker_start_s + costs.setup_per_variant_s + base.samples * costs.round_s / len(base.layers_run)


def _closing_run(base, pool, on_event, index, left_s, closing_s) -> BenchmarkResult | None:
    """Conv2D 1x1 at the baseline once more, if something ran in between and the budget allows."""
    if index < 2 or left_s < closing_s:
        return None
    _announce(on_event, index, index + 1, "the baseline again (drift check)", closing_s)
    try:
        return _bench(base.with_changes(variants=(BASELINE_KEY,)), pool, on_event, left_s)
    except JobCancelledError:
        raise
    except PointwiseError:  # the drift check is a courtesy: the tune's results stand without it
        return None


def _learn(costs: CostModel, clock: _RunClock, base: RunSpec, samples: int, slowdowns: list[float]) -> CostModel:
    """`costs` after a factor's run: its worker start (the latest is the best guess for the next) and its time
    per round against the baseline's (the mean so far prices the runs still to come)."""
    if clock.worker_start_s is not None:
        costs = replace(costs, worker_start_s=clock.worker_start_s)
    if clock.first_sample_at is not None:
        slowdowns.append(clock.costs(costs, len(base.layers_run), samples).round_s / costs.round_s)
        costs = replace(costs, other_level_round_factor=max(1.0, sum(slowdowns) / len(slowdowns)))
    return costs


def _replan(base, left_s, costs, pending, used, card, samples) -> TunePlan:
    try:
        return plan_tune(base, left_s, costs, pending, with_baseline=False, warm=used, max_samples=samples, card=card)
    except InvalidSpecError:  # no time left at all: every pending factor is dropped
        return TunePlan((), samples, tuple(pending), 0.0)


def _run_factor(base, factor, card, samples, pool, on_event, left_s) -> tuple[TuneRun | None, str]:
    """The first of `factor`'s levels that runs here, or None and why none did."""
    reasons = []
    for level in factor.alternatives(card):
        started = time.monotonic()
        try:
            result = _bench(level_spec(base, level.changes, samples), pool, on_event, left_s)
        except JobCancelledError:
            raise
        except PointwiseError as exc:
            reasons.append(f"{level.label}: {exc}")
            continue
        return TuneRun(factor, level.label, result, time.monotonic() - started), ""
    return None, "does not run here (" + "; ".join(reasons) + ")"


def _bench(spec: RunSpec, pool, on_event, left_s: float) -> BenchmarkResult:
    # A run may overrun its estimate, not the budget by much: past the budget (plus a start's grace), stop it.
    limit = min(active_limits().job_time_limit_s, max(left_s, 0.0) + 30.0)
    return run_benchmark(spec, pool=pool, on_event=on_event, time_limit_s=limit, measure_ceilings=False)
