"""A tune's statistics, computed on the server from raw samples: the ranking, each factor's effect, the verdict.

An effect is a time ratio, median(other level) / median(baseline), of Conv2D 1x1 (present in every run, so
every factor is read on the same layer); the formulation's is the fastest equivalent variant against Conv2D
1x1 in the baseline run. Intervals are `pointwise.stats`' bootstrap of a ratio of medians; an effect is
significant under the same rule as a speedup there: Mann-Whitney p below `SIGNIFICANCE_LEVEL` and an interval
that excludes 1. Choosing the fastest variant and then testing it favours it a little (a winner's curse), which
is why its interval, not its point estimate, carries the verdict.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps

from pointwise.results import BenchmarkResult
from pointwise.stats import SIGNIFICANCE_LEVEL, speedup_ci
from pointwise.variants import BASELINE_KEY, VARIANTS


@dataclass(frozen=True)
class Effect:
    """How much one factor moves the time: `time_ratio` = median(other level) / median(baseline level)."""

    factor: str
    label: str
    baseline_level: str
    other_level: str
    time_ratio: float
    ci_low: float
    ci_high: float
    p_value: float

    @property
    def significant(self) -> bool:
        return self.p_value < SIGNIFICANCE_LEVEL and (self.ci_low > 1.0 or self.ci_high < 1.0)

    @property
    def size(self) -> float:
        """The slower level's time over the faster's (>= 1), whichever way round."""
        return max(self.time_ratio, 1.0 / self.time_ratio)

    @property
    def size_ci(self) -> tuple[float, float]:
        return (self.ci_low, self.ci_high) if self.time_ratio >= 1.0 else (1.0 / self.ci_high, 1.0 / self.ci_low)

    @property
    def faster_level(self) -> str:
        return self.baseline_level if self.time_ratio >= 1.0 else self.other_level

    def to_dict(self) -> dict:
        low, high = self.size_ci
        return {
            **asdict(self),
            "size": self.size,
            "size_ci_low": low,
            "size_ci_high": high,
            "faster": self.faster_level,
            "significant": self.significant,
        }


def effect(factor: str, label: str, levels: tuple[str, str], baseline_s, other_s) -> Effect:
    """The effect of going from the baseline level's samples to the other level's (seconds per call)."""
    base, other = np.asarray(baseline_s, dtype=float), np.asarray(other_s, dtype=float)
    low, high = speedup_ci(other, base)  # median(other) / median(base), each resampled independently
    return Effect(
        factor=factor,
        label=label,
        baseline_level=levels[0],
        other_level=levels[1],
        time_ratio=float(np.median(other) / np.median(base)),
        ci_low=low,
        ci_high=high,
        p_value=float(sps.mannwhitneyu(base, other, alternative="two-sided").pvalue),
    )


def equivalent_keys(result: BenchmarkResult) -> set[str]:
    """The variants whose output matched Conv2D 1x1 in this run's own check."""
    return {r.key for r in result.equivalence if r.status == "ok" and r.equivalent} | {BASELINE_KEY}


def formulation_effect(baseline: BenchmarkResult) -> Effect | None:
    """The fastest equivalent variant other than Conv2D 1x1 against Conv2D 1x1; None with no such variant."""
    conv = baseline.measurement(BASELINE_KEY)
    candidates = [m for m in baseline.measurements if m.key != BASELINE_KEY and m.key in equivalent_keys(baseline)]
    if conv is None or not candidates:
        return None
    best = min(candidates, key=lambda m: float(np.median(m.per_call_s)))
    levels = (VARIANTS[BASELINE_KEY].label, VARIANTS[best.key].label)
    return effect("formulation", "the formulation", levels, conv.per_call_s, best.per_call_s)


def factor_effect(key: str, label: str, levels: tuple[str, str], baseline_s, other: BenchmarkResult) -> Effect | None:
    """Conv2D 1x1 at the other level against `baseline_s`, its samples at the baseline (first and closing run)."""
    changed = other.measurement(BASELINE_KEY)
    if changed is None or not baseline_s:
        return None
    return effect(key, label, levels, baseline_s, changed.per_call_s)


def drift_effect(first: BenchmarkResult, closing: BenchmarkResult | None) -> Effect | None:
    """Conv2D 1x1 at the baseline in the last run against the first: how much the machine's speed moved meanwhile."""
    before, after = first.measurement(BASELINE_KEY), closing and closing.measurement(BASELINE_KEY)
    if before is None or after is None:
        return None
    return effect("drift", "the machine's own drift", ("first run", "last run"), before.per_call_s, after.per_call_s)


def by_size(effects: list[Effect]) -> list[Effect]:
    """Largest first: |log(time ratio)| orders a 2x speed-up and a 2x slow-down alike."""
    return sorted(effects, key=lambda e: abs(math.log(e.time_ratio)), reverse=True)


def ranking_rows(runs) -> list[dict]:
    """Every (variant, setting) measured, fastest first, with its median's 95% interval.

    `runs`: (setting label, `BenchmarkResult`) pairs. Non-equivalent variants are listed but marked.
    """
    rows = []
    for setting, result in runs:
        equivalent = equivalent_keys(result)
        for s in result.statistics:
            rows.append(
                {
                    "configuration": f"{VARIANTS[s.key].label} · {setting}",
                    "variant": s.key,
                    "setting": setting,
                    "median_ms": s.median_s * 1e3,
                    "ci95_low_ms": s.median_ci_low_s * 1e3,
                    "ci95_high_ms": s.median_ci_high_s * 1e3,
                    "gflops_per_s": s.gflops_per_s,
                    "samples": s.samples,
                    "equivalent": s.key in equivalent,
                }
            )
    rows.sort(key=lambda row: row["median_ms"])
    return [{"rank": rank, **row} for rank, row in enumerate(rows, 1)]


EFFECT_COLUMNS = ["factor", "faster", "slower", "time ratio", "ci95 low", "ci95 high", "p-value", "significant"]


def effects_frame(effects: list[Effect]) -> pd.DataFrame:
    """One row per effect, as the page and the CLI show it: the faster and slower setting, the ratio and its CI."""
    rows = []
    for e in effects:
        low, high = e.size_ci
        slower = e.other_level if e.faster_level == e.baseline_level else e.baseline_level
        rows.append(
            {
                "factor": e.label,
                "faster": e.faster_level,
                "slower": slower,
                "time ratio": e.size,
                "ci95 low": low,
                "ci95 high": high,
                "p-value": e.p_value,
                "significant": e.significant,
            }
        )
    return pd.DataFrame(rows, columns=EFFECT_COLUMNS)


def _ratio_text(e: Effect) -> str:
    low, high = e.size_ci
    return f"{e.size:.2f}x [{low:.2f}, {high:.2f}]"


def verdict(effects: list[Effect], cpu: str, drift: Effect | None = None) -> str:
    """One sentence, largest effect first, e.g. "On this CPU (Intel Xeon ...), oneDNN matters 1.80x
    [1.70, 1.90] (TensorFlow's default (on) faster); the formulation 1.15x [...]; no significant effect: the
    allocator."
    """
    if not effects:
        return f"On this CPU ({cpu}), nothing was measured against the baseline."
    parts = []
    for number, e in enumerate(x for x in by_size(effects) if x.significant):
        verb = " matters " if number == 0 else " "
        parts.append(f"{e.label}{verb}{_ratio_text(e)} ({e.faster_level} faster)")
    quiet = [e.label for e in by_size(effects) if not e.significant]
    if quiet:
        parts.append("no significant effect: " + ", ".join(quiet))
    sentence = f"On this CPU ({cpu}), " + "; ".join(parts) + "."
    if drift is not None and drift.significant:
        sentence += (
            f" Careful: the same baseline ran {_ratio_text(drift)} {'slower' if drift.time_ratio > 1 else 'faster'} "
            "at the end than at the start (other work on this machine), so effects of that size are not reliable."
        )
    return sentence
