from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from pointwise.charts import (
    DISTRIBUTION_KINDS,
    MAX_HISTOGRAM_BINS,
    channel_heatmaps,
    cold_start_chart,
    diff_heatmap,
    diff_histogram,
    histogram_edges,
    roofline_chart,
    speedup_chart,
    speedup_heatmap,
    sweep_chart,
    timing_distribution,
)
from pointwise.frames import compare_frame, is_all_zero, samples_frame, stats_frame, sweep_frame
from pointwise.results import Ceilings
from pointwise.sweep import PARAMETER_LABELS, SweepPoint
from test_stats import _result

RESULT = _result(
    {"conv2d_1x1": [2e-3, 2.1e-3, 2.2e-3], "pointwise": [1e-3, 1.1e-3, 1.2e-3]},
    ceilings=Ceilings("CPU:0", "float32", 100.0, 10.0, 8, 8),
)


@pytest.mark.parametrize("kind", DISTRIBUTION_KINDS)
def test_timing_distribution_plots_every_raw_sample(kind):
    fig = timing_distribution(samples_frame(RESULT), kind, log_axis=True)
    assert len(fig.data) == 2 and fig.layout.title.text
    if kind in ("box", "violin"):
        assert sum(len(trace.x) for trace in fig.data) == 6
    assert fig.layout.xaxis.type == "log"
    with pytest.raises(ValueError, match="kind must be one of"):
        timing_distribution(samples_frame(RESULT), "pie")


@pytest.mark.parametrize("log_axis", [True, False])
def test_histogram_bins_span_exactly_the_data(log_axis):
    times_ms = np.random.default_rng(3).lognormal(0.0, 1.5, 400)
    edges = histogram_edges(times_ms, log_axis)
    assert edges[0] == times_ms.min() and edges[-1] == times_ms.max()
    widths = np.diff(np.log10(edges) if log_axis else edges)
    assert np.allclose(widths, widths[0])  # equal bins on the axis they are drawn on
    assert 2 <= len(edges) <= MAX_HISTOGRAM_BINS + 1
    samples = pd.DataFrame({"variant": ["a"] * 200 + ["b"] * 200, "time_ms": times_ms})
    fig = timing_distribution(samples, "histogram", log_axis)
    for trace in fig.data:
        assert min(trace.x) >= times_ms.min() and max(trace.x) <= times_ms.max()
    assert sum(sum(trace.y[:-1]) for trace in fig.data) == 400  # every sample counted once
    assert fig.layout.xaxis.type == ("log" if log_axis else "linear")


def test_stats_charts_show_speedup_interval_and_cold_start():
    stats = stats_frame(RESULT)
    fig = speedup_chart(stats)
    assert list(fig.data[0].x) == pytest.approx(list(stats["speedup_vs_conv2d"]))
    assert fig.data[0].error_x.array is not None
    assert len(cold_start_chart(stats).data) == 2
    assert fig.layout.title.text and cold_start_chart(stats).layout.title.text


def test_error_plots():
    fig = diff_heatmap([[0.0, 1e-7], [2e-7, 0.0]], "t")
    assert fig.layout.coloraxis.cmin == 0
    assert not is_all_zero([[0.0, 1e-7], [2e-7, 0.0]]) and not is_all_zero([[0.0, -1e-45]])
    assert is_all_zero([[0.0, 0.0], [-0.0, 0.0]])
    fig = diff_histogram({"counts": [1, 2, 3], "edges": [0, 1, 2, 3]}, "t")
    assert list(fig.data[0].x) == [0.5, 1.5, 2.5] and list(fig.data[0].y) == [1, 2, 3]


def test_sweep_heatmap_and_roofline():
    points = [
        SweepPoint({"channels": c, "filters": f}, _result({"conv2d_1x1": [2e-3] * 3, "pointwise": [c * f * 1e-5] * 3}))
        for c in (2, 4)
        for f in (8, 16)
    ]
    frame = sweep_frame(points)
    assert len(frame) == 8 and {"channels", "filters"} <= set(frame.columns)
    line = sweep_chart(frame, "channels", "median_ms", y_title="ms", title="t", labels=PARAMETER_LABELS)
    assert line.layout.xaxis.type == "log" and len(line.data) == 2
    heat = speedup_heatmap(frame, "channels", "filters", "PointwiseConv2D (recommended)", PARAMETER_LABELS)
    assert heat.layout.xaxis.title.text == "channels C" and heat.layout.yaxis.title.text == "filters F"
    grid = np.asarray(heat.data[0].z)
    assert grid.shape == (2, 2)
    assert grid[0, 0] == pytest.approx(2e-3 / (2 * 8 * 1e-5))
    roof = roofline_chart(RESULT.ceilings, stats_frame(RESULT))
    assert roof.data[-1].name == "roofline" and max(roof.data[-1].y) == pytest.approx(100.0)


def test_channel_heatmaps_outline_the_pixel_in_every_panel():
    fig = channel_heatmaps(np.zeros((3, 5, 5)), "channel", -1, 1, highlight=(1, 2))
    assert len(fig.data) == 3 and len(fig.layout.shapes) == 3
    assert {s.xref for s in fig.layout.shapes} == {"x", "x2", "x3"}
    assert fig.layout.shapes[0].x0 == 1.5 and fig.layout.shapes[0].y0 == 0.5


def test_compare_frame_ratios():
    slower = _result({"conv2d_1x1": [4e-3, 4.2e-3, 4.4e-3], "pointwise": [2e-3, 2.2e-3, 2.4e-3]})
    first, second = replace(RESULT, label="a"), replace(slower, label="b")
    table = compare_frame([first, second])
    assert isinstance(table, pd.DataFrame)
    assert list(table["b / a"]) == pytest.approx([2.0, 2.0])


def test_violins_stop_at_the_fastest_sample():
    import pandas as pd

    from pointwise.charts import timing_distribution

    samples = pd.DataFrame({"variant": ["a"] * 5, "time_ms": [1.0, 1.1, 1.2, 5.0, 9.0]})
    (trace,) = timing_distribution(samples, "violin").data
    assert trace.spanmode == "hard", "a smoothed density must not draw times below the fastest sample"


def test_the_waiting_chart_lists_the_variants_top_down_as_the_charts_that_replace_it_and_escapes_them():
    from pointwise.charts import waiting_chart

    figure = waiting_chart("no samples yet", "time per call (ms)", "", ["Conv2D 1x1 (baseline)", "<b>x</b>"])
    assert list(figure.data[0].y) == ["Conv2D 1x1 (baseline)", "&lt;b&gt;x&lt;/b&gt;"]
    assert figure.layout.yaxis.autorange == "reversed" and all(x is None for x in figure.data[0].x)
    assert figure.layout.title.text == "no samples yet" and figure.layout.xaxis.title.text == "time per call (ms)"
