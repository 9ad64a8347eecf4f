"""Scaling page logic: one line per (variant, second parameter value), the heatmap's first variant, progress."""

import pytest

from pointwise.charts import sweep_chart
from pointwise.frames import heatmap_variant_options, sweep_frame, sweep_table
from pointwise.sweep import PARAMETER_LABELS, SweepPoint, format_duration, point_event, remaining_s
from test_stats import _result

CHANNELS, FILTERS = (2, 4, 8), (8, 16)
VARIANT_LABELS = ("Conv2D 1x1 (baseline)", "PointwiseConv2D (recommended)")
POINTS = [
    SweepPoint(
        {"channels": c, "filters": f}, _result({"conv2d_1x1": [2e-3, 2.1e-3, 2.2e-3], "pointwise": [c * f * 1e-5] * 3})
    )
    for c in CHANNELS
    for f in FILTERS
]
FRAME = sweep_frame(POINTS)


def _lines(fig):
    return [trace for trace in fig.data if trace.mode == "lines+markers"]


def test_two_parameter_sweep_draws_one_line_per_variant_and_second_value():
    fig = sweep_chart(
        FRAME,
        "channels",
        "median_ms",
        y_title="time per call (ms)",
        title="t",
        labels=PARAMETER_LABELS,
        second="filters",
        band=("ci95_low_ms", "ci95_high_ms"),
    )
    lines = _lines(fig)
    assert len(lines) == 2 * len(FILTERS)
    assert {line.name for line in lines} == {f"{v}, filters F = {f}" for v in VARIANT_LABELS for f in FILTERS}
    for line in lines:
        assert list(line.x) == list(CHANNELS)  # monotone in x: no zig-zag across the second parameter
    pointwise = [line for line in lines if line.name.startswith("PointwiseConv2D")]
    assert list(pointwise[0].y) == pytest.approx([c * 8 * 1e-2 for c in CHANNELS])
    assert {line.line.dash for line in pointwise} == {"solid", "dash"}
    assert len(fig.data) == 2 * len(lines)  # each line has its interval band
    assert list(fig.layout.xaxis.tickvals) == list(CHANNELS)
    assert fig.layout.xaxis.title.text == "channels C" and fig.layout.title.text == "t"


def test_one_parameter_sweep_band_encloses_the_line():
    one_d = FRAME[FRAME["filters"] == 8]
    fig = sweep_chart(
        one_d,
        "channels",
        "speedup_vs_conv2d",
        y_title="speedup",
        title="t",
        labels=PARAMETER_LABELS,
        band=("speedup_ci95_low", "speedup_ci95_high"),
        log_y=False,
    )
    assert len(_lines(fig)) == 2 and fig.layout.yaxis.type == "linear"
    band = fig.data[0]
    assert band.fill == "toself" and len(band.x) == 2 * len(CHANNELS)


def test_heatmap_opens_on_a_variant_other_than_the_baseline():
    options = heatmap_variant_options(FRAME)
    assert options == list(reversed(VARIANT_LABELS))


def test_point_events_count_from_one_and_estimate_the_time_left():
    first = point_event(0, 6, {"channels": 64, "filters": 8}, elapsed_s=0.0)
    assert first["text"] == "Point 1 of 6 (channels C = 64, filters F = 8)" and first["eta_s"] is None
    third = point_event(2, 6, {"hw": 16}, elapsed_s=20.0)
    assert third["eta_s"] == pytest.approx(40.0)
    assert third["text"] == "Point 3 of 6 (height = width = 16), about 40 s left"
    assert remaining_s(100.0, 5, 5) == 0.0


@pytest.mark.parametrize(("seconds", "text"), [(0.2, "1 s"), (40, "40 s"), (200, "3 min"), (7200, "2.0 h")])
def test_durations_are_rounded_to_their_unit(seconds, text):
    assert format_duration(seconds) == text


def test_sweep_table_leads_with_the_swept_values_under_their_form_names():
    table = sweep_table(FRAME, PARAMETER_LABELS)
    assert list(table.columns[:4]) == ["channels C", "filters F", "variant", "speedup vs Conv2D 1x1"]
    assert len(table) == len(FRAME) and sorted(table["channels C"].unique()) == list(CHANNELS)


def test_sweep_axes_refuse_one_parameter_on_both_axes():
    from pointwise.errors import InvalidSpecError
    from pointwise.sweep import sweep_axes

    assert sweep_axes(("channels", 4, 16, 3)) == {"channels": [4, 8, 16]}
    assert list(sweep_axes(("channels", 4, 16, 3), ("batch", 1, 2, 2))) == ["channels", "batch"]
    with pytest.raises(InvalidSpecError, match="second parameter"):
        sweep_axes(("channels", 4, 16, 3), ("channels", 1, 2, 2))
    with pytest.raises(InvalidSpecError, match="parameter"):
        sweep_axes(("depth", 4, 16, 3))
