"""Results -> tidy pandas DataFrames: one row per sample, per variant or per sweep point."""

from __future__ import annotations

import pandas as pd

from pointwise.results import BenchmarkResult, EquivalenceReport
from pointwise.variants import VARIANTS


def _label(key: str) -> str:
    return VARIANTS[key].label if key in VARIANTS else key


def _shape(shape) -> str:
    return "—" if shape is None else "(" + ", ".join(map(str, shape)) + ")"


def equivalence_frame(reports: tuple[EquivalenceReport, ...] | list[EquivalenceReport]) -> pd.DataFrame:
    rows = []
    for r in reports:
        rows.append(
            {
                "variant": _label(r.key),
                "key": r.key,
                "output shape": _shape(r.output_shape),
                "equivalent": "yes" if r.equivalent else "no",
                "max abs err": r.max_abs_err,
                "max rel err": r.max_rel_err,
                "tolerance": r.rel_tolerance,
                "err vs float64": r.max_rel_err_vs_float64,
                "baseline err vs float64": r.baseline_max_rel_err_vs_float64,
                "params": r.params,
                "note / reason": r.reason or r.note or "",
            }
        )
    return pd.DataFrame(rows)


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
                "speedup_vs_conv2d": s.speedup_vs_baseline,
                "speedup_ci95_low": s.speedup_ci_low,
                "speedup_ci95_high": s.speedup_ci_high,
                "p_value_vs_conv2d": s.p_value_vs_baseline,
                "cold_start_ms": s.cold_start_s * 1e3,
                "samples": s.samples,
                "calls_per_block": s.calls_per_block,
                "intensity_flop_per_byte": s.intensity_flops_per_byte,
                "peak_gpu_memory_mib": None if s.peak_memory_bytes is None else s.peak_memory_bytes / 2**20,
                "noisy": s.noisy,
            }
        )
    return pd.DataFrame(rows)


def sweep_frame(points) -> pd.DataFrame:
    """One row per (sweep point, variant) with the swept values as columns."""
    frames = []
    for point in points:
        frame = stats_frame(point.result)
        for parameter, value in point.values.items():
            frame[parameter] = value
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


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


def memory_summary(result: BenchmarkResult) -> str:
    """One line on memory: the run's estimate, and the worker's peak resident memory (CPU runs)."""
    from pointwise.spec import estimate_memory_bytes

    parts = [f"estimated {estimate_memory_bytes(result.spec) / 2**20:,.1f} MiB for this configuration"]
    if result.worker_peak_rss_bytes:
        rss_mib = result.worker_peak_rss_bytes / 2**20
        parts.append(f"worker peak resident memory {rss_mib:,.0f} MiB (TensorFlow included)")
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
