"""Plotly figures from tidy DataFrames: pure functions, no Streamlit, no global style set at import.

Colour: one perceptually uniform, colour-blind-safe sequence (Plotly's "Safe" qualitative palette for
variants, Cividis for heatmaps), so charts survive projectors and colour-vision deficiencies.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from pointwise.results import Ceilings

VARIANT_COLORS = px.colors.qualitative.Safe
HEATMAP_SCALE = "Cividis"
DISTRIBUTION_KINDS = ("box", "violin", "ecdf", "histogram")


def timing_distribution(
    samples: pd.DataFrame, kind: str = "box", log_axis: bool = False, color: str = "variant"
) -> go.Figure:
    """Raw per-call times (one point per sample), as box, violin, ECDF or histogram."""
    common = dict(color=color, color_discrete_sequence=VARIANT_COLORS)
    if kind == "box":
        fig = px.box(samples, x="time_ms", y="variant", points="all", log_x=log_axis, **common)
    elif kind == "violin":
        fig = px.violin(samples, x="time_ms", y="variant", points="all", box=True, log_x=log_axis, **common)
    elif kind == "ecdf":
        fig = px.ecdf(samples, x="time_ms", log_x=log_axis, **common)
    elif kind == "histogram":
        fig = px.histogram(samples, x="time_ms", barmode="overlay", opacity=0.6, log_x=log_axis, **common)
    else:
        raise ValueError(f"kind must be one of {DISTRIBUTION_KINDS}, got {kind!r}")
    fig.update_layout(xaxis_title="time per call (ms)", legend_title_text="", showlegend=kind in ("ecdf", "histogram"))
    return fig


def cold_start_chart(stats: pd.DataFrame) -> go.Figure:
    """First call (trace, compile, weight build) next to the warm median, per variant."""
    long = stats.melt(id_vars="variant", value_vars=["cold_start_ms", "median_ms"], var_name="call", value_name="ms")
    long["call"] = long["call"].map({"cold_start_ms": "first call (cold)", "median_ms": "warm median"})
    fig = px.bar(
        long, x="ms", y="variant", color="call", barmode="group", log_x=True, color_discrete_sequence=VARIANT_COLORS
    )
    fig.update_layout(xaxis_title="time (ms, log)", legend_title_text="")
    return fig


def speedup_chart(stats: pd.DataFrame) -> go.Figure:
    """Speedup vs Conv2D 1x1 with its bootstrap 95% interval; 1.0 is the baseline."""
    frame = stats.dropna(subset=["speedup_vs_conv2d"]).copy()
    frame["plus"] = frame["speedup_ci95_high"] - frame["speedup_vs_conv2d"]
    frame["minus"] = frame["speedup_vs_conv2d"] - frame["speedup_ci95_low"]
    fig = px.scatter(
        frame,
        x="speedup_vs_conv2d",
        y="variant",
        error_x="plus",
        error_x_minus="minus",
        color_discrete_sequence=VARIANT_COLORS,
    )
    fig.add_vline(x=1.0, line_dash="dash", annotation_text="Conv2D 1x1")
    fig.update_layout(xaxis_title="speedup vs Conv2D 1x1 (median ratio, 95% CI)")
    return fig


def diff_heatmap(diff_map: list[list[float]], title: str) -> go.Figure:
    """|variant - baseline| over H x W; the scale starts at 0 so "identical" reads as uniformly dark."""
    values = np.asarray(diff_map)
    fig = px.imshow(
        values,
        zmin=0,
        zmax=max(float(values.max()), np.finfo(np.float32).tiny),
        color_continuous_scale=HEATMAP_SCALE,
        origin="upper",
        labels={"x": "W", "y": "H", "color": "|diff|"},
        title=title,
    )
    return fig


def diff_histogram(histogram: dict[str, list[float]], title: str) -> go.Figure:
    edges = np.asarray(histogram["edges"])
    frame = pd.DataFrame({"difference": (edges[:-1] + edges[1:]) / 2, "count": histogram["counts"]})
    fig = px.bar(frame, x="difference", y="count", title=title, color_discrete_sequence=VARIANT_COLORS)
    fig.update_layout(bargap=0, xaxis_title="variant − baseline")
    return fig


def sweep_chart(frame: pd.DataFrame, parameter: str, y: str, y_title: str, log_y: bool = True) -> go.Figure:
    fig = px.line(
        frame,
        x=parameter,
        y=y,
        color="variant",
        markers=True,
        log_x=True,
        log_y=log_y,
        color_discrete_sequence=VARIANT_COLORS,
    )
    fig.update_layout(yaxis_title=y_title, legend_title_text="")
    return fig


def speedup_heatmap(frame: pd.DataFrame, x: str, y: str, variant_label: str) -> go.Figure:
    """Speedup of one variant vs Conv2D 1x1 over a 2-D grid (>1: the variant is faster)."""
    grid = frame[frame["variant"] == variant_label].pivot_table(index=y, columns=x, values="speedup_vs_conv2d")
    fig = px.imshow(
        grid,
        text_auto=".2f",
        color_continuous_scale=HEATMAP_SCALE,
        aspect="auto",
        labels={"color": "speedup"},
        title=f"{variant_label}: speedup vs Conv2D 1x1",
    )
    fig.update_xaxes(type="category")
    fig.update_yaxes(type="category")
    return fig


def roofline_chart(ceilings: Ceilings, points: pd.DataFrame) -> go.Figure:
    """Measured peak and bandwidth lines, and each variant at its arithmetic intensity."""
    low = max(min(points["intensity_flop_per_byte"].min() / 4, 0.1), 1e-3)
    high = max(
        points["intensity_flop_per_byte"].max() * 4, ceilings.peak_gflops_per_s / ceilings.bandwidth_gb_per_s * 4
    )
    intensities = np.geomspace(low, high, 200)
    roof = [ceilings.roofline_gflops_per_s(i) for i in intensities]
    fig = px.scatter(
        points,
        x="intensity_flop_per_byte",
        y="gflops_per_s",
        color="variant",
        log_x=True,
        log_y=True,
        hover_data=[c for c in ("median_ms", "roofline_pct") if c in points],
        color_discrete_sequence=VARIANT_COLORS,
    )
    fig.add_scatter(x=intensities, y=roof, mode="lines", name="roofline", line={"color": "black"})
    fig.update_layout(
        xaxis_title="arithmetic intensity (FLOP/byte)",
        yaxis_title="GFLOP/s",
        title=f"{ceilings.device} {ceilings.dtype}: peak {ceilings.peak_gflops_per_s:,.0f} GFLOP/s, "
        f"bandwidth {ceilings.bandwidth_gb_per_s:,.1f} GB/s",
    )
    return fig


def channel_heatmaps(
    maps: np.ndarray,
    title: str,
    zmin: float | None = None,
    zmax: float | None = None,
    highlight: tuple[int, int] | None = None,
) -> go.Figure:
    """One annotated heatmap per channel of a (K, H, W) array, side by side on a shared colour scale, with the
    pixel `highlight` = (row, col) outlined in every panel.

    Built from `go.Heatmap` subplots with the outlines in the layout, rather than `px.imshow(facet_col=...)`
    and `add_shape(row="all")`, which measured ~150 ms and ~55 ms: too slow for a classroom page that must
    answer every click within half a second.
    """
    from plotly.subplots import make_subplots

    count = maps.shape[0]
    low = float(maps.min()) if zmin is None else zmin
    high = float(maps.max()) if zmax is None else zmax
    fig = make_subplots(
        rows=1, cols=count, subplot_titles=[f"{title} {k}" for k in range(count)], horizontal_spacing=0.04
    )
    for k in range(count):
        fig.add_trace(
            go.Heatmap(
                z=maps[k],
                zmin=low,
                zmax=high,
                colorscale=HEATMAP_SCALE,
                texttemplate="%{z:.2f}",
                showscale=k == count - 1,
                hovertemplate="row %{y}, col %{x}: %{z:.3f}<extra></extra>",
            ),
            row=1,
            col=k + 1,
        )
    shapes = []
    if highlight is not None:
        row, col = highlight
        for k in range(count):
            axis = "" if k == 0 else str(k + 1)
            shapes.append(
                {
                    "type": "rect",
                    "xref": f"x{axis}",
                    "yref": f"y{axis}",
                    "x0": col - 0.5,
                    "x1": col + 0.5,
                    "y0": row - 0.5,
                    "y1": row + 0.5,
                    "line": {"color": "red", "width": 3},
                }
            )
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(height=300, margin={"t": 40, "b": 10, "l": 10, "r": 10}, shapes=shapes)
    return fig
