"""Statistics derived from raw `Measurement`s: robust location, spread, intervals, tests, rooflines.

Why medians: timing noise on a shared machine is one-sided (interruptions only add time), so the median
and IQR describe a kernel's typical speed better than mean and std, which are reported too. Intervals are
bootstrap percentiles (scipy.stats.bootstrap), which assume nothing about the distribution's shape.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats as sps

from pointwise.spec import DTYPE_ITEMSIZE, RunSpec
from pointwise.variants import BASELINE_KEY

NOISY_IQR_RATIO = 0.10
"""A variant whose IQR exceeds this fraction of its median is flagged as noisy."""

BOOTSTRAP_RESAMPLES = 2000
CONFIDENCE_LEVEL = 0.95
_BOOTSTRAP_SEED = 12345

SIGNIFICANCE_LEVEL = 0.05
"""A speedup is called significant only when the Mann-Whitney p-value is below this AND the bootstrap
interval of the speedup excludes 1.0. Both must agree: the test compares whole distributions (it can flag a
shift in the tails that leaves the medians equal), the interval speaks about the median ratio the verdict
quotes; requiring both keeps a verdict from resting on one resampling's luck."""


@dataclass(frozen=True)
class VariantStats:
    key: str
    samples: int
    calls_per_block: int
    median_s: float
    iqr_s: float
    mean_s: float
    std_s: float
    min_s: float
    p5_s: float
    p95_s: float
    median_ci_low_s: float
    median_ci_high_s: float
    cold_start_s: float
    gflops_per_s: float
    bytes_per_call: int
    intensity_flop_per_byte: float
    roofline_fraction: float | None
    speedup_vs_conv2d: float | None
    speedup_ci95_low: float | None
    speedup_ci95_high: float | None
    p_value_vs_conv2d: float | None
    peak_memory_bytes: int | None

    @property
    def iqr_ratio(self) -> float:
        """IQR / median: the spread relative to the typical time (0.0 for a zero median, which has no scale)."""
        return self.iqr_s / self.median_s if self.median_s > 0 else 0.0

    @property
    def noisy(self) -> bool:
        return is_noisy(self.iqr_s, self.median_s)

    def to_dict(self) -> dict:
        return {**asdict(self), "noisy": self.noisy}


def is_noisy(iqr_s: float, median_s: float) -> bool:
    return median_s > 0 and iqr_s / median_s > NOISY_IQR_RATIO


def bytes_per_call(spec: RunSpec) -> int:
    """Minimum DRAM traffic of one call: read input and weights, write output (backward: also read the
    output gradient and write the input and weight gradients)."""
    item = DTYPE_ITEMSIZE[spec.dtype]
    inputs, outputs, params = spec.input_elements, spec.output_elements, spec.param_count(BASELINE_KEY)
    moved = inputs + outputs + params
    if spec.pass_kind == "backward":
        moved += outputs + inputs + params + inputs + outputs
    return item * moved


def median_ci(samples: np.ndarray, resamples: int = BOOTSTRAP_RESAMPLES) -> tuple[float, float]:
    """Bootstrap percentile interval of the median at `CONFIDENCE_LEVEL`."""
    if len(samples) < 2 or np.all(samples == samples[0]):
        return float(samples[0]), float(samples[0])
    res = sps.bootstrap(
        (samples,),
        np.median,
        n_resamples=resamples,
        confidence_level=CONFIDENCE_LEVEL,
        method="percentile",
        rng=np.random.default_rng(_BOOTSTRAP_SEED),
    )
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def speedup_ci(baseline: np.ndarray, variant: np.ndarray, resamples: int = BOOTSTRAP_RESAMPLES) -> tuple[float, float]:
    """Bootstrap interval of median(baseline)/median(variant), resampling each independently."""

    def ratio(b, v, axis=-1):
        return np.median(b, axis=axis) / np.median(v, axis=axis)

    res = sps.bootstrap(
        (baseline, variant),
        ratio,
        n_resamples=resamples,
        confidence_level=CONFIDENCE_LEVEL,
        method="percentile",
        paired=False,
        vectorized=True,
        rng=np.random.default_rng(_BOOTSTRAP_SEED),
    )
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def summarize(result, resamples: int = BOOTSTRAP_RESAMPLES) -> list[VariantStats]:
    """`VariantStats` for every measurement of a `BenchmarkResult`, in measurement order.

    `resamples` below the default is for running statistics only (`pointwise.live`), redrawn while samples
    arrive: coarser intervals, a tenth of the cost.
    """
    spec = result.spec
    baseline = result.measurement(BASELINE_KEY)
    base_times = np.asarray(baseline.per_call_s) if baseline else None
    moved = bytes_per_call(spec)
    intensity = spec.flops_per_call / moved
    roofline = result.ceilings.roofline_gflops_per_s(intensity) if result.ceilings else None
    out = []
    for m in result.measurements:
        times = np.asarray(m.per_call_s, dtype=float)
        q5, q25, q50, q75, q95 = np.percentile(times, [5, 25, 50, 75, 95])
        ci_low, ci_high = median_ci(times, resamples)
        gflops = spec.flops_per_call / q50 / 1e9
        speedup = sp_low = sp_high = p_value = None
        if base_times is not None:
            speedup = float(np.median(base_times) / q50)
            if m.key == BASELINE_KEY:
                sp_low = sp_high = 1.0
            else:
                sp_low, sp_high = speedup_ci(base_times, times, resamples)
                p_value = float(sps.mannwhitneyu(base_times, times, alternative="two-sided").pvalue)
        out.append(
            VariantStats(
                key=m.key,
                samples=len(times),
                calls_per_block=m.calls_per_block,
                median_s=float(q50),
                iqr_s=float(q75 - q25),
                mean_s=float(times.mean()),
                std_s=float(times.std(ddof=1)) if len(times) > 1 else 0.0,
                min_s=float(times.min()),
                p5_s=float(q5),
                p95_s=float(q95),
                median_ci_low_s=ci_low,
                median_ci_high_s=ci_high,
                cold_start_s=m.cold_start_s,
                gflops_per_s=gflops,
                bytes_per_call=moved,
                intensity_flop_per_byte=intensity,
                roofline_fraction=gflops / roofline if roofline else None,
                speedup_vs_conv2d=speedup,
                speedup_ci95_low=sp_low,
                speedup_ci95_high=sp_high,
                p_value_vs_conv2d=p_value,
                peak_memory_bytes=m.peak_memory_bytes,
            )
        )
    return out


def is_significant(s: VariantStats) -> bool:
    """See `SIGNIFICANCE_LEVEL`; False for the baseline and for runs without one."""
    if s.p_value_vs_conv2d is None or s.speedup_ci95_low is None or s.speedup_ci95_high is None:
        return False
    excludes_one = s.speedup_ci95_low > 1.0 or s.speedup_ci95_high < 1.0
    return s.p_value_vs_conv2d < SIGNIFICANCE_LEVEL and excludes_one


def format_p_value(p_value: float) -> str:
    """Two significant digits, like "3e-11" or "0.41": a p-value's third digit carries no information."""
    return f"{p_value:.2g}"


def speedup_verdict(s: VariantStats) -> str | None:
    """One plain sentence on `s` against the baseline, e.g. "0.470x [0.430, 0.560], slower, p = 3e-11";
    None for the baseline itself and for runs without a baseline (nothing to compare with)."""
    if s.speedup_vs_conv2d is None or s.p_value_vs_conv2d is None:
        return None
    ratio = f"{s.speedup_vs_conv2d:#.3g}x [{s.speedup_ci95_low:#.3g}, {s.speedup_ci95_high:#.3g}]"
    if not is_significant(s):
        return f"{ratio}, no significant difference (p = {format_p_value(s.p_value_vs_conv2d)})"
    # The interval, not the point estimate, says which side of 1.0 the evidence is on.
    direction = "faster" if s.speedup_ci95_low > 1.0 else "slower"
    return f"{ratio}, {direction}, p = {format_p_value(s.p_value_vs_conv2d)}"
