"""The tune's design: which factors to vary around TensorFlow's defaults, and how many samples fit the budget.

One factor at a time: a baseline run with every knob at TensorFlow's own choice (graph mode, float32), then
one run per factor with only that factor changed. Each factor is plain data (a key, a label and the
`RunSpec` changes of its alternative level), so the Keras backend (JAX against TensorFlow) is one entry in
`FACTORS` like the others. The planner is pure: it prices each run with a `CostModel` (worker starts,
per-variant set-up, per-sample time), takes fewer samples first, then fewer factors (the last in `FACTORS`
first), and names what it dropped. `pointwise.tune` re-plans after every run with the costs it has measured.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pointwise.backends import BACKEND_LABELS, DEFAULT_BACKEND
from pointwise.errors import InvalidSpecError
from pointwise.limits import active_limits
from pointwise.spec import RunSpec
from pointwise.variants import keys_for_backend

BASELINE_CHANGES: dict[str, Any] = {
    "backend": DEFAULT_BACKEND,
    "onednn": "default",
    "cpu_allocator_bfc": "default",
    "threads": 0,
    "inter_threads": 0,
    "mode": "graph",
    "dtype": "float32",
}
"""The baseline: Keras on TensorFlow, every knob as TensorFlow chooses it on this machine, graph mode, float32."""
WORKER_FIELDS = ("backend", "onednn", "cpu_allocator_bfc", "threads", "inter_threads")
"""The fields read at import (the Keras backend, TensorFlow's knobs): a run that changes one needs its own worker."""
MIN_BUDGET_S = 10.0
MAX_SAMPLES = 30
MIN_SAMPLES = 5
"""Below five samples a bootstrap interval of the median is mostly the two extreme samples."""

Card = dict[str, Any]
"""The baseline run's environment card: says what TensorFlow chose (e.g. `onednn`: True)."""


@dataclass(frozen=True)
class Level:
    """One setting of a factor: how people read it, and the `RunSpec` changes that select it."""

    label: str
    changes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Factor:
    """A knob the tune varies. `alternatives(card)`: the levels to try against the baseline, in order, until
    one runs here (bfloat16, else float16); `baseline(card)`: how the baseline's level reads."""

    key: str
    label: str
    baseline: Callable[[Card], str]
    alternatives: Callable[[Card], tuple[Level, ...]]


def _onednn_alternative(card: Card) -> tuple[Level, ...]:
    flipped = "off" if card.get("onednn") else "on"
    return (Level(f"oneDNN {flipped}", {"onednn": flipped}),)


def _tf_default(what: Callable[[Card], str]) -> Callable[[Card], str]:
    return lambda card: f"TensorFlow's default ({what(card)})"


FACTORS: tuple[Factor, ...] = (
    Factor("onednn", "oneDNN", _tf_default(lambda c: "on" if c.get("onednn") else "off"), _onednn_alternative),
    Factor("xla", "XLA", lambda card: "graph mode", lambda card: (Level("XLA (jit_compile)", {"mode": "xla"}),)),
    Factor(
        "threads",
        "threads",
        _tf_default(lambda c: f"a pool for {c.get('cpu_count')} cores"),
        lambda card: (Level("1 intra-op thread", {"threads": 1}),),
    ),
    Factor(
        "dtype",
        "dtype",
        lambda card: "float32",
        lambda card: (Level("bfloat16", {"dtype": "bfloat16"}), Level("float16", {"dtype": "float16"})),
    ),
    Factor(
        "backend",
        "the Keras backend",
        lambda card: BACKEND_LABELS[DEFAULT_BACKEND],
        lambda card: (Level(BACKEND_LABELS["jax"], {"backend": "jax"}),),
    ),
    # TensorFlow reads TF_CPU_ALLOCATOR_USE_BFC with a default of false, so "on" is the other level.
    Factor(
        "allocator",
        "the CPU allocator",
        _tf_default(lambda c: "BFC unset"),
        lambda card: (Level("BFC allocator on", {"cpu_allocator_bfc": "on"}),),
    ),
)
"""In priority order: when the budget is short, the last ones are dropped first."""
FACTOR_KEYS = tuple(f.key for f in FACTORS)


@dataclass(frozen=True)
class CostModel:
    """Seconds one run takes: a worker start if its knobs have none warm, set-up per variant (equivalence
    check, cold call, warm-up; XLA compiles too), and one sample of every variant per round."""

    worker_start_s: float = 8.0
    setup_per_variant_s: float = 0.6
    xla_setup_factor: float = 3.0
    round_s: float = 0.2
    """One sample of every variant (each block lasts >= 10 ms, `pointwise.worker.timing`)."""
    other_level_round_factor: float = 2.0
    """A changed knob can double the time per call (one thread, oneDNN off): priced so until measured."""

    def run_s(self, variants: int, samples: int, mode: str, baseline: bool, starts_worker: bool) -> float:
        setup = variants * self.setup_per_variant_s * (self.xla_setup_factor if mode == "xla" else 1.0)
        per_round = self.round_s * (1.0 if baseline else self.other_level_round_factor)
        return (self.worker_start_s if starts_worker else 0.0) + setup + samples * per_round

    @classmethod
    def guess(cls, spec: RunSpec, gflops_per_s: float = 30.0) -> CostModel:
        """Before anything ran: every variant at a modest `gflops_per_s`, a block no shorter than 10 ms."""
        per_call = spec.flops_per_call / (gflops_per_s * 1e9)
        return cls(round_s=len(spec.layers_run) * max(0.01, per_call))

    def measured(self, round_s: float, setup_per_variant_s: float, worker_start_s: float | None) -> CostModel:
        """This model with what a finished baseline run showed (a start is kept as guessed if none happened)."""
        start = self.worker_start_s if worker_start_s is None else worker_start_s
        return replace(self, round_s=round_s, setup_per_variant_s=setup_per_variant_s, worker_start_s=start)


@dataclass(frozen=True)
class PlannedRun:
    factor: Factor | None
    """None for the baseline."""
    samples: int
    worker: tuple
    mode: str


@dataclass(frozen=True)
class TunePlan:
    runs: tuple[PlannedRun, ...]
    samples: int
    dropped: tuple[Factor, ...]
    estimated_s: float


def validate_budget(value: Any, name: str = "budget") -> float:
    """A budget in seconds: a finite number in [MIN_BUDGET_S, the active `max_tune_budget_s`]."""
    cap = active_limits().max_tune_budget_s
    expected = f"a number of seconds in [{MIN_BUDGET_S:.0f}, {cap:,.0f}]"
    number = value
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise InvalidSpecError(name, value, expected) from None
    numeric = isinstance(number, (int, float)) and not isinstance(number, bool)
    if not (numeric and math.isfinite(number) and MIN_BUDGET_S <= number <= cap):
        raise InvalidSpecError(name, value, expected)
    return float(number)


def level_spec(base: RunSpec, changes: dict[str, Any], samples: int) -> RunSpec:
    """`base` at another level: a level on another backend runs those of `base`'s variants written for it.

    Raises:
        InvalidSpecError: where the level cannot run here (a backend not installed, no variant for it).
    """
    backend = changes.get("backend", base.backend)
    return base.with_changes(**changes, variants=keys_for_backend(backend, base.variants), samples=samples)


def worker_of(spec: RunSpec, changes: dict[str, Any]) -> tuple:
    return tuple(changes.get(name, getattr(spec, name)) for name in WORKER_FIELDS)


def price(
    runs: Sequence[PlannedRun], costs: CostModel, variants: int, warm: Sequence[tuple], max_workers: int
) -> float:
    """Seconds for `runs` in order, counting a start whenever a run's knobs are not among the `max_workers`
    most recently used (the pool retires the least recently used idle worker)."""
    recent = list(warm)[-max_workers:]
    total = 0.0
    for run in runs:
        starts = run.worker not in recent
        if not starts:
            recent.remove(run.worker)
        recent = [*recent, run.worker][-max_workers:]
        total += costs.run_s(variants, run.samples, run.mode, run.factor is None, starts)
    return total


def plan_runs(
    spec: RunSpec, factors: Sequence[Factor], samples: int, with_baseline: bool, card: Card
) -> list[PlannedRun]:
    """The baseline (if asked) then `factors`; those that keep the baseline's worker first, to start fewer."""
    runs = [PlannedRun(None, samples, worker_of(spec, {}), spec.mode)] if with_baseline else []
    factor_runs = []
    for factor in factors:
        # The changes of the first level; later levels (dtype's float16) only run where the first fails.
        changes = factor.alternatives(card)[0].changes
        factor_runs.append(PlannedRun(factor, samples, worker_of(spec, changes), changes.get("mode", spec.mode)))
    same_worker = worker_of(spec, {})
    factor_runs.sort(key=lambda run: run.worker != same_worker)
    return runs + factor_runs


def plan_tune(
    spec: RunSpec,
    budget_s: float,
    costs: CostModel,
    factors: Sequence[Factor] = FACTORS,
    *,
    with_baseline: bool = True,
    warm: Sequence[tuple] = (),
    max_samples: int | None = None,
    card: Card | None = None,
) -> TunePlan:
    """The most factors, then the most samples, whose estimated time fits `budget_s`. `card`: the baseline's
    environment card once it has run (before, each factor is priced with its alternative for an empty card).

    Raises:
        InvalidSpecError: naming the budget when not even the baseline fits at `MIN_SAMPLES`.
    """
    limits = active_limits()
    top = min(MAX_SAMPLES, limits.max_samples, max_samples or MAX_SAMPLES)
    variants = len(spec.layers_run)
    for kept in range(len(factors), -1, -1):
        for samples in range(top, MIN_SAMPLES - 1, -1):
            runs = plan_runs(spec, factors[:kept], samples, with_baseline, card or {})
            estimate = price(runs, costs, variants, warm, limits.max_workers)
            if estimate <= budget_s:
                return TunePlan(tuple(runs), samples, tuple(factors[kept:]), estimate)
    smallest = price(plan_runs(spec, (), MIN_SAMPLES, with_baseline, {}), costs, variants, warm, limits.max_workers)
    raise InvalidSpecError(
        "budget",
        round(budget_s, 1),
        f"at least about {math.ceil(smallest)} s for the baseline of {variants} variants at {MIN_SAMPLES} samples "
        "(fewer variants need less)",
    )
