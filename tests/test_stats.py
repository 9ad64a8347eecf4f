import numpy as np
import pytest

from conftest import small_spec
from pointwise.frames import noisy_variants
from pointwise.results import BenchmarkResult, Ceilings, Measurement
from pointwise.stats import NOISY_IQR_RATIO, bytes_per_call, is_noisy, median_ci, summarize
from pointwise.variants import VARIANTS


def _result(times_by_key, ceilings=None, spec=None):
    measurements = tuple(
        Measurement(key=k, per_call_s=tuple(t), calls_per_block=2, cold_start_s=0.5) for k, t in times_by_key.items()
    )
    return BenchmarkResult(spec=spec or small_spec(), measurements=measurements, environment={}, ceilings=ceilings)


def test_known_answers_on_synthetic_samples():
    base = np.array([1.0, 2.0, 3.0, 4.0, 5.0]) * 1e-3
    stats = {s.key: s for s in summarize(_result({"conv2d_1x1": base, "dense": base / 2}))}
    conv = stats["conv2d_1x1"]
    assert conv.median_s == pytest.approx(3e-3)
    assert conv.iqr_s == pytest.approx(2e-3)
    assert conv.mean_s == pytest.approx(3e-3)
    assert conv.std_s == pytest.approx(np.std(base, ddof=1))
    assert conv.min_s == pytest.approx(1e-3)
    assert conv.p5_s == pytest.approx(np.percentile(base, 5))
    assert conv.speedup_vs_conv2d == 1.0 and conv.p_value_vs_conv2d is None
    assert stats["dense"].speedup_vs_conv2d == pytest.approx(2.0)
    assert stats["dense"].gflops_per_s == pytest.approx(small_spec().forward_flops / 1.5e-3 / 1e9)


def test_speedup_interval_brackets_the_true_ratio_and_test_detects_a_shift():
    rng = np.random.default_rng(0)
    base = rng.normal(10e-3, 0.2e-3, 200)
    faster = rng.normal(8e-3, 0.2e-3, 200)
    same = rng.normal(10e-3, 0.2e-3, 200)
    stats = {s.key: s for s in summarize(_result({"conv2d_1x1": base, "dense": faster, "pointwise": same}))}
    assert stats["dense"].speedup_ci95_low < 1.25 < stats["dense"].speedup_ci95_high
    assert stats["dense"].p_value_vs_conv2d < 1e-10
    assert stats["pointwise"].p_value_vs_conv2d > 0.01
    assert stats["pointwise"].speedup_ci95_low < 1.0 < stats["pointwise"].speedup_ci95_high


def test_median_interval_contains_median_and_collapses_for_constant_data():
    samples = np.random.default_rng(1).exponential(1.0, 101)
    low, high = median_ci(samples)
    assert low <= np.median(samples) <= high
    assert median_ci(np.full(10, 2.0)) == (2.0, 2.0)


def test_noise_flag_threshold():
    assert not is_noisy(0.99 * NOISY_IQR_RATIO, 1.0)
    assert is_noisy(0.11, 1.0)
    noisy = summarize(_result({"conv2d_1x1": [1.0, 1.0, 2.0, 3.0, 3.0]}))[0]
    assert noisy.noisy and noisy.to_dict()["noisy"] is True


def test_noisy_variants_lists_only_noisy_ones_with_their_iqr_ratio():
    result = _result({"conv2d_1x1": [1.0, 1.0, 2.0, 3.0, 3.0], "dense": [1.0, 1.0, 1.0, 1.0, 1.01]})
    assert noisy_variants(result) == [(VARIANTS["conv2d_1x1"].label, pytest.approx(2.0 / 2.0))]
    assert [s.noisy for s in result.statistics] == [True, False]


def test_roofline_fraction_and_traffic():
    spec = small_spec()
    ceilings = Ceilings(
        "CPU:0", "float32", peak_gflops_per_s=100.0, bandwidth_gb_per_s=10.0, gemm_size=8, stream_bytes=8
    )
    stats = summarize(_result({"conv2d_1x1": [1e-6] * 5}, ceilings=ceilings, spec=spec))[0]
    moved = 4 * (1 * 4 * 5 * 3 + 1 * 4 * 5 * 2 + 3 * 2 + 2)
    assert stats.bytes_per_call == moved == bytes_per_call(spec)
    roof = min(100.0, spec.forward_flops / moved * 10.0)
    assert stats.roofline_fraction == pytest.approx(stats.gflops_per_s / roof)
    backward = small_spec(pass_kind="backward")
    assert bytes_per_call(backward) > bytes_per_call(spec) and backward.flops_per_call == 3 * spec.forward_flops
    # Without a bias there is no bias vector to read: the same element counts as the memory estimate's.
    assert bytes_per_call(spec) - bytes_per_call(small_spec(use_bias=False)) == 4 * spec.filters


def test_result_round_trips_through_dict():
    result = _result({"conv2d_1x1": [1e-3, 2e-3, 3e-3], "dense": [1e-3, 1e-3, 1e-3]})
    data = result.to_dict()
    again = BenchmarkResult.from_dict(data)
    assert again.measurements == result.measurements and again.spec == result.spec
    assert [s["key"] for s in data["statistics"]] == ["conv2d_1x1", "dense"]


def test_memory_summary_reports_estimate_and_worker_peak():
    from dataclasses import replace

    from pointwise.frames import memory_summary, stats_frame

    result = replace(_result({"conv2d_1x1": [1e-3, 2e-3, 3e-3]}), worker_peak_rss_bytes=600 * 2**20)
    text = memory_summary(result)
    assert text.startswith("Memory: estimated") and "worker peak resident memory 600 MiB" in text
    assert stats_frame(result)["peak_gpu_memory_mib"].isna().all()
