"""Explore's one-sentence answer, on a real check and on reports built to hit every branch."""

from dataclasses import replace

from conftest import small_spec
from pointwise.check_summary import check_summary, error_plot_order
from pointwise.results import EquivalenceReport
from pointwise.text import escape_markdown
from pointwise.variants import VARIANTS
from pointwise.worker.equivalence import check_equivalence

COMMON = {"status": "ok", "baseline_shape": (1, 4, 5, 2), "baseline_params": 8, "flops": 1, "rel_tolerance": 1e-6}
BASELINE = EquivalenceReport(
    "conv2d_1x1",
    "Conv2D 1x1 (baseline)",
    equivalent=True,
    output_shape=(1, 4, 5, 2),
    params=8,
    max_rel_err=0.0,
    **COMMON,
)


def _report(key: str, label: str, equivalent: bool, **changes) -> EquivalenceReport:
    report = EquivalenceReport(key, label, equivalent=equivalent, output_shape=(1, 4, 5, 2), params=8, **COMMON)
    return replace(report, **changes)


def test_a_real_check_counts_the_seed_example_3_as_not_the_same():
    spec = small_spec(variants=("conv2d_1x1", "dense", "seed_dense_flatten"), mode="eager")
    summary = check_summary(check_equivalence(spec).reports)
    assert summary.startswith("**1 of 2 variants compute Conv2D 1x1's numbers**")
    assert f"Not the same: {escape_markdown(VARIANTS['seed_dense_flatten'].label)}." in summary


def test_the_largest_difference_and_the_tolerance_are_quoted():
    reports = [
        BASELINE,
        _report("dense", "Dense", True, max_rel_err=3.1e-7),
        _report("einsum_4d", "E", True, max_rel_err=2e-8),
    ]
    assert check_summary(reports) == (
        "**2 of 2 variants compute Conv2D 1x1's numbers** (largest difference 3.1e-07 of |x|@|w|+|b|; tolerance 1e-06)."
    )


def test_unsupported_variants_and_an_unsupported_baseline_are_named_apart():
    reports = [BASELINE, _report("dense", "Dense", False, status="unsupported", reason="no bfloat16 kernel")]
    assert check_summary(reports) == "**0 of 1 variants compute Conv2D 1x1's numbers**. Could not run here: Dense."
    broken = [replace(BASELINE, status="unsupported", equivalent=False, reason="no kernel")]
    assert check_summary(broken).startswith("**Conv2D 1x1 itself cannot run here**")


def test_a_label_from_an_imported_file_stays_text():
    hostile = "[Session expired](https://evil.example/login)"
    summary = check_summary([BASELINE, _report("dense", hostile, False)])
    assert "](https://" not in summary and "\\[Session expired\\]" in summary


def test_error_plots_open_on_the_variant_that_differs_most_and_the_baseline_comes_last():
    zero_map = [[0.0]]
    reports = [
        replace(BASELINE, diff_map=zero_map, max_abs_err=0.0),
        _report("dense", "Dense", True, diff_map=zero_map, max_abs_err=0.0),
        _report("einsum_4d", "E", True, diff_map=[[1e-8]], max_abs_err=1e-8),
        _report("seed_dense_flatten", "Seed Example 3", False),  # another shape: no difference map
        _report("pointwise", "PointwiseConv2D", True, diff_map=[[3e-7]], max_abs_err=3e-7),
        _report("matmul_4d", "M", True, diff_map=zero_map, max_abs_err=None),
    ]
    order = [r.key for r in error_plot_order(reports)]
    assert order == ["pointwise", "einsum_4d", "dense", "matmul_4d", "conv2d_1x1"]
