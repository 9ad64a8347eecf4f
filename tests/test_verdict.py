"""The Benchmark page's plain-language answer and its readable statistics table, on synthetic samples."""

from dataclasses import replace

import numpy as np
import pytest

from pointwise.frames import STATS_TABLE_FORMATS, stats_frame, stats_table, verdict_lines
from pointwise.stats import SIGNIFICANCE_LEVEL, format_p_value, is_significant, speedup_verdict, summarize
from test_stats import _result

RNG = np.random.default_rng(7)
BASE = RNG.normal(10e-3, 0.2e-3, 60)
RESULT = _result(
    {
        "conv2d_1x1": BASE,
        "dense": RNG.normal(5e-3, 0.1e-3, 60),  # twice as fast
        "seed_matmul": RNG.normal(20e-3, 0.4e-3, 60),  # twice as slow
        "pointwise": RNG.normal(10e-3, 0.2e-3, 60),  # same distribution
    }
)


def test_faster_slower_and_no_difference_are_told_apart():
    verdicts = dict(verdict_lines(RESULT))
    slow = "Seed Example 1: tf.matmul on 4-D input"
    assert set(verdicts) == {"Dense on 4-D input", slow, "PointwiseConv2D (recommended)"}
    assert ", faster, p = " in verdicts["Dense on 4-D input"]
    assert ", slower, p = " in verdicts[slow]
    assert "no significant difference (p = " in verdicts["PointwiseConv2D (recommended)"]


def test_verdict_quotes_speedup_and_interval_at_three_significant_figures():
    stats = {s.key: s for s in RESULT.statistics}
    dense = stats["dense"]
    expected = f"{dense.speedup_vs_conv2d:#.3g}x [{dense.speedup_ci95_low:#.3g}, {dense.speedup_ci95_high:#.3g}]"
    assert speedup_verdict(dense).startswith(expected)
    assert speedup_verdict(dense).startswith("2.0")
    assert speedup_verdict(stats["conv2d_1x1"]) is None


@pytest.mark.parametrize(("p", "text"), [(3.04e-11, "3e-11"), (2.94e-11, "2.9e-11"), (0.4123, "0.41"), (1.0, "1")])
def test_p_values_have_two_significant_digits(p, text):
    assert format_p_value(p) == text


def test_significance_needs_both_a_small_p_and_an_interval_excluding_one():
    slow = next(s for s in RESULT.statistics if s.key == "seed_matmul")
    assert is_significant(slow)
    assert not is_significant(replace(slow, p_value_vs_conv2d=SIGNIFICANCE_LEVEL))
    assert not is_significant(replace(slow, speedup_ci95_high=1.01))
    assert "no significant difference" in speedup_verdict(replace(slow, speedup_ci95_high=1.01))


def test_no_verdict_without_a_baseline():
    alone = _result({"dense": [1e-3, 2e-3, 3e-3]})
    assert verdict_lines(alone) == []
    assert summarize(alone)[0].speedup_vs_conv2d is None


def test_stats_table_puts_the_answer_first_with_units_in_the_headers():
    table = stats_table(stats_frame(RESULT))
    assert list(table.columns[:6]) == [
        "variant",
        "speedup vs Conv2D 1x1",
        "speedup 95% CI",
        "p-value",
        "median (ms)",
        "median 95% CI (ms)",
    ]
    assert "peak GPU memory (MiB)" not in table  # CPU run: no GPU memory column at all
    assert "% of roofline" not in table  # no ceilings in this result
    conv = table.iloc[0]
    assert conv["speedup 95% CI"] == "[1.00, 1.00]" and conv["p-value"] == "—"
    assert table.iloc[2]["p-value"] == format_p_value(RESULT.statistics[2].p_value_vs_conv2d)
    low, high = (float(v) for v in table.iloc[1]["median 95% CI (ms)"].strip("[]").split(", "))
    assert low <= table.iloc[1]["median (ms)"] <= high
    assert set(STATS_TABLE_FORMATS) >= {c for c in table.columns if table[c].dtype.kind == "f"}
