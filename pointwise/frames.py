"""Results -> tidy pandas DataFrames: one row per sample, per variant or per sweep point."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

import numpy as np
import pandas as pd

from pointwise.backends import BACKEND_LABELS
from pointwise.kernels import KernelsResult
from pointwise.results import BenchmarkResult, EquivalenceReport
from pointwise.spec import estimate_memory_bytes, format_shape
from pointwise.stats import NOISY_IQR_RATIO, format_p_value, speedup_verdict
from pointwise.variants import BASELINE_KEY, VARIANTS


def _label(key: str) -> str:
    return VARIANTS[key].label if key in VARIANTS else key


def equivalence_frame(reports: tuple[EquivalenceReport, ...] | list[EquivalenceReport]) -> pd.DataFrame:
    rows = []
    for r in reports:
        rows.append(
            {
                "variant": _label(r.key),
                "key": r.key,
                "output shape": format_shape(r.output_shape, "tuple"),
                "equivalent": "yes" if r.equivalent else "no",
                "max abs err": r.max_abs_err,
                "max rel err": r.max_rel_err,
                "tolerance": r.rel_tolerance,
                "err vs float64": r.max_rel_err_vs_float64,
                "baseline err vs float64": r.baseline_max_rel_err_vs_float64,
                "err vs TF Conv2D": r.max_rel_err_vs_tensorflow,
                "params": r.params,
                "note / reason": r.reason or r.note or "",
            }
        )
    frame = pd.DataFrame(rows)
    # Only a run on another backend, checked where TensorFlow runs too, has a cross-backend comparison.
    if frame.empty or frame["err vs TF Conv2D"].isna().all():
        return frame.drop(columns="err vs TF Conv2D", errors="ignore")
    return frame


EQUIVALENCE_TABLE_FORMATS = {
    "max abs err": "%.2g",
    "max rel err": "%.2g",
    "tolerance": "%.2g",
    "err vs float64": "%.2g",
    "err vs TF Conv2D": "%.2g",
}
"""printf formats for `equivalence_frame`'s error columns: an error's order of magnitude is what matters, and
"9.1e-8" is half the width of "0.00000009"."""


def samples_frame(result: BenchmarkResult, run_label: str | None = None) -> pd.DataFrame:
    """One row per timed sample (the raw data behind every distribution chart)."""
    rows = [
        {
            "run": run_label or result.label,
            "variant": _label(m.key),
            "key": m.key,
            "sample": i,
            "time_ms": t * 1e3,
        }
        for m in result.measurements
        for i, t in enumerate(m.per_call_s)
    ]
    return pd.DataFrame(rows)


def stats_frame(result: BenchmarkResult) -> pd.DataFrame:
    """One row per variant: location, spread, interval, throughput, speedup and its evidence."""
    rows = []
    for s in result.statistics:
        rows.append(
            {
                "variant": _label(s.key),
                "key": s.key,
                "median_ms": s.median_s * 1e3,
                "iqr_ms": s.iqr_s * 1e3,
                "ci95_low_ms": s.median_ci_low_s * 1e3,
                "ci95_high_ms": s.median_ci_high_s * 1e3,
                "mean_ms": s.mean_s * 1e3,
                "std_ms": s.std_s * 1e3,
                "min_ms": s.min_s * 1e3,
                "p5_ms": s.p5_s * 1e3,
                "p95_ms": s.p95_s * 1e3,
                "gflops_per_s": s.gflops_per_s,
                "roofline_pct": None if s.roofline_fraction is None else 100 * s.roofline_fraction,
                "speedup_vs_conv2d": s.speedup_vs_conv2d,
                "speedup_ci95_low": s.speedup_ci95_low,
                "speedup_ci95_high": s.speedup_ci95_high,
                "p_value_vs_conv2d": s.p_value_vs_conv2d,
                "cold_start_ms": s.cold_start_s * 1e3,
                "samples": s.samples,
                "calls_per_block": s.calls_per_block,
                "intensity_flop_per_byte": s.intensity_flop_per_byte,
                "peak_gpu_memory_mib": None if s.peak_memory_bytes is None else s.peak_memory_bytes / 2**20,
                "noisy": s.noisy,
            }
        )
    return pd.DataFrame(rows)


def measured_on(environment: dict) -> str:
    """Where a run was timed, as a caption names it: "Intel(R) Xeon(R) Processor, 2 cores (CPU:0)" or the GPU's name.
    Plain text from a worker or an imported file: the caller escapes it."""
    device = environment.get("device") or "?"
    if environment.get("gpu"):
        return f"{environment['gpu']} ({device})"
    cores = environment.get("cpu_count")
    return f"{environment.get('cpu') or 'an unnamed CPU'}{f', {cores} cores' if cores else ''} ({device})"


def verdict_lines(result: BenchmarkResult, statistics: list | None = None) -> list[tuple[str, str]]:
    """(variant label, plain-language verdict) for every variant compared with Conv2D 1x1: its speedup, the
    95% interval, and faster / slower / no significant difference (see `pointwise.stats.speedup_verdict`).
    `statistics` replaces `result.statistics` for a run still in progress (`pointwise.live`). Each verdict names
    the Keras backend both ran on: the answer differs between backends."""
    lines = []
    backend = BACKEND_LABELS[result.spec.backend]
    for s in result.statistics if statistics is None else statistics:
        verdict = speedup_verdict(s)
        if verdict is not None:
            lines.append((_label(s.key), f"{verdict} (vs Conv2D 1x1, both on {backend})"))
    return lines


def noisy_variants(result: BenchmarkResult) -> list[tuple[str, float]]:
    """(variant label, IQR / median) for every variant whose timings are noisy (IQR above `NOISY_IQR_RATIO` of
    the median), in measurement order."""
    return [(_label(s.key), s.iqr_ratio) for s in result.statistics if s.noisy]


def _intervals(lows: pd.Series, highs: pd.Series) -> list[str]:
    """ "[low, high]" at three significant figures; "—" where there is no interval (no baseline)."""
    return ["—" if pd.isna(lo) else f"[{lo:#.3g}, {hi:#.3g}]" for lo, hi in zip(lows, highs, strict=True)]


STATS_TABLE_FORMATS = {
    "speedup vs Conv2D 1x1": "%.3g",
    "median (ms)": "%.3g",
    "IQR (ms)": "%.3g",
    "GFLOP/s": "%.3g",
    "% of roofline": "%.3g",
    "peak GPU memory (MiB)": "%.3g",
}
"""printf formats for `stats_table`'s numeric columns: three significant figures, since the intervals show
that the fourth digit is noise."""
STATS_TABLE_HELP = {
    "p-value": "Mann-Whitney U test against Conv2D 1x1, two-sided, two significant digits",
    "noisy": f"IQR above {NOISY_IQR_RATIO:.0%} of the median: take more samples or quiet the machine",
}
"""Header tooltips for `stats_table` columns whose names must stay short to fit a 1500 px screen."""


def stats_table(stats: pd.DataFrame) -> pd.DataFrame:
    """`stats_frame` for people: the answer (speedup, its interval, p) first, units in the headers.

    The table must fit a 1500 px screen, so it leaves out mean and standard deviation (one-sided timing noise
    makes them describe the interruptions more than the kernel, see `pointwise.stats`), the minimum and the
    first call (the cold-start chart shows it); the JSON download has them all. Intervals and p-values
    become text ("—" where there is no baseline to compare with); other numbers stay numbers so the table
    sorts, and are shown with `STATS_TABLE_FORMATS`. The machine-readable `stats_frame` (CSV, CLI) keeps
    its column names."""
    table = pd.DataFrame(
        {
            "variant": stats["variant"],
            "speedup vs Conv2D 1x1": stats["speedup_vs_conv2d"],
            "speedup 95% CI": _intervals(stats["speedup_ci95_low"], stats["speedup_ci95_high"]),
            "p-value": ["—" if pd.isna(p) else format_p_value(p) for p in stats["p_value_vs_conv2d"]],
            "median (ms)": stats["median_ms"],
            "median 95% CI (ms)": _intervals(stats["ci95_low_ms"], stats["ci95_high_ms"]),
            "IQR (ms)": stats["iqr_ms"],
            "GFLOP/s": stats["gflops_per_s"],
            "% of roofline": stats["roofline_pct"],
            "peak GPU memory (MiB)": stats["peak_gpu_memory_mib"],
            "noisy": stats["noisy"],
        }
    )
    return table.dropna(axis="columns", how="all")


def sweep_frame(points) -> pd.DataFrame:
    """One row per (sweep point, variant) with the swept values as columns."""
    frames = []
    for point in points:
        frame = stats_frame(point.result)
        for parameter, value in point.values.items():
            frame[parameter] = value
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def sweep_table(frame: pd.DataFrame, parameter_labels: dict[str, str]) -> pd.DataFrame:
    """`stats_table` of a `sweep_frame`, with the swept values first under the sweep form's names."""
    swept = [p for p in parameter_labels if p in frame]
    values = frame[swept].rename(columns=parameter_labels)
    return pd.concat([values, stats_table(frame)], axis="columns")


def heatmap_variant_options(frame: pd.DataFrame) -> list[str]:
    """The sweep's variants with Conv2D 1x1 last: its speedup against itself is 1.0 everywhere, so a heatmap
    that opens on it says nothing."""
    baseline = _label(BASELINE_KEY)
    labels = list(frame["variant"].unique())
    return [v for v in labels if v != baseline] + [v for v in labels if v == baseline]


def is_all_zero(diff_map: list[list[float]]) -> bool:
    """True when every difference is exactly 0: a colour scale over [0, 0] would only show rounding noise."""
    return not np.any(np.asarray(diff_map))


def compare_frame(results: list[BenchmarkResult]) -> pd.DataFrame:
    """Median per variant per run, and each run's ratio to the first run (>1: slower than the first)."""
    rows = []
    for result in results:
        for s in stats_frame(result).itertuples():
            rows.append({"run": result.label, "variant": s.variant, "median_ms": s.median_ms})
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    table = frame.pivot_table(index="variant", columns="run", values="median_ms", sort=False)
    reference = results[0].label
    for run in table.columns.drop(reference):
        table[f"{run} / {reference}"] = table[run] / table[reference]
    return table.reset_index()


def filter_runs(
    runs: pd.DataFrame,
    devices: Collection[str] = (),
    machines: Collection[str] = (),
    variant_contains: str = "",
    since: dt.date | None = None,
    backends: Collection[str] = (),
) -> pd.DataFrame:
    """The rows of `RunStore.list_runs()` that match every filter given; an empty filter matches everything.

    `variant_contains` is plain text, not a pattern: a visitor's "." or "(" means itself. `since` keeps runs
    made on that day or later (`created_at` is an ISO 8601 timestamp, so text order is time order).
    """
    shown = runs
    if devices:
        shown = shown[shown["device"].isin(list(devices))]
    if machines:
        shown = shown[shown["machine"].isin(list(machines))]
    if backends:
        shown = shown[shown["backend"].isin(list(backends))]
    if variant_contains:
        shown = shown[shown["variants"].str.contains(variant_contains, regex=False)]
    if since:
        shown = shown[shown["created_at"] >= since.isoformat()]
    return shown


def memory_summary(result: BenchmarkResult) -> str:
    """One line on memory: the run's estimate, and the worker's peak resident memory (CPU runs)."""
    estimate_mib = estimate_memory_bytes(result.spec) / 2**20
    # Three significant figures: a small configuration would otherwise read "0.0 MiB".
    shown = f"{estimate_mib:,.0f}" if estimate_mib >= 100 else f"{estimate_mib:.3g}"
    parts = [f"estimated {shown} MiB for this configuration"]
    if result.worker_peak_rss_bytes:
        rss_mib = result.worker_peak_rss_bytes / 2**20
        backend = BACKEND_LABELS[result.spec.backend]
        parts.append(f"worker peak resident memory {rss_mib:,.0f} MiB ({backend} included)")
    if any(m.peak_memory_bytes for m in result.measurements):
        parts.append("per-variant peak GPU memory in the table")
    return "Memory: " + "; ".join(parts) + "."


def environment_frame(environment: dict) -> pd.DataFrame:
    """The environment card as a two-column table (nested package versions flattened)."""
    flat = {}
    for key, value in environment.items():
        if isinstance(value, dict):
            flat.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    return pd.DataFrame({"setting": list(flat), "value": [str(v) for v in flat.values()]})


def kernels_frame(result: KernelsResult) -> pd.DataFrame:
    """One row per variant and op: variant, op, count per call, µs per call, share (%), what it is."""
    records = [
        {
            "variant": variant.label,
            "op": row.op,
            "count per call": row.count,
            "µs per call": row.time_us,
            "share of kernel time": None if row.share is None else 100.0 * row.share,
            "what it is": row.detail,
        }
        for variant in result.variants
        for row in variant.rows
    ]
    columns = ["variant", "op", "count per call", "µs per call", "share of kernel time", "what it is"]
    frame = pd.DataFrame.from_records(records, columns=columns)
    # An op without a trace event has no time: NaN, which tables show as an empty cell rather than "None".
    numbers = ["count per call", "µs per call", "share of kernel time"]
    frame[numbers] = frame[numbers].astype(float)
    return frame
