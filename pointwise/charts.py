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
from pointwise.text import escape_html

VARIANT_COLORS = px.colors.qualitative.Safe
HEATMAP_SCALE = "Cividis"
DISTRIBUTION_KINDS = ("box", "violin", "ecdf", "histogram")


def timing_distribution(
    samples: pd.DataFrame,
    kind: str = "box",
    log_axis: bool = False,
    color: str = "variant",
) -> go.Figure:
    """Raw per-call times (one point per sample), as box, violin, ECDF or histogram."""
    common = dict(color=color, color_discrete_sequence=VARIANT_COLORS)
    if kind == "box":
        fig = px.box(samples, x="time_ms", y="variant", points="all", log_x=log_axis, **common)
    elif kind == "violin":
        fig = px.violin(samples, x="time_ms", y="variant", points="all", box=True, log_x=log_axis, **common)
        # The smoothed density would otherwise run past the fastest sample, below zero: a time cannot.
        fig.update_traces(spanmode="hard")
    elif kind == "ecdf":
        fig = px.ecdf(samples, x="time_ms", log_x=log_axis, **common)
    elif kind == "histogram":
        fig = _step_histograms(samples, color, log_axis)
    else:
        raise ValueError(f"kind must be one of {DISTRIBUTION_KINDS}, got {kind!r}")
    fig.update_layout(
        title="Time per call: every timed sample",
        xaxis_title="time per call (ms)",
        yaxis_title={"ecdf": "fraction of samples", "histogram": "samples"}.get(kind, ""),
        legend_title_text="",
        showlegend=kind in ("ecdf", "histogram"),
    )
    return fig


def waiting_chart(title: str, x_title: str, y_title: str = "", categories: list[str] | tuple = ()) -> go.Figure:
    """A chart before its run: titled axes (and the `categories` about to be measured), no data. Drawn before the
    click, it also has the browser load Plotly's code then, not when the first results arrive."""
    labels = [escape_html(label) for label in categories]
    fig = go.Figure(go.Scatter(x=[None] * len(labels), y=labels, mode="markers"))
    fig.update_layout(title=title, showlegend=False)
    fig.update_xaxes(title=x_title, showticklabels=False)
    # First category on top, as the box and violin charts that replace it draw them.
    fig.update_yaxes(title=y_title, showticklabels=bool(labels), autorange="reversed")
    return fig


MAX_HISTOGRAM_BINS = 60


def histogram_edges(times_ms: np.ndarray, log_axis: bool) -> np.ndarray:
    """Bin edges from the smallest to the largest time: numpy's "auto" rule, on log10(time) for a log axis,
    so bins look equally wide on the axis they are drawn on and none reaches past the data."""
    values = np.log10(times_ms) if log_axis else np.asarray(times_ms, dtype=float)
    edges = np.histogram_bin_edges(values, bins="auto")
    if len(edges) > MAX_HISTOGRAM_BINS + 1:
        edges = np.linspace(values.min(), values.max(), MAX_HISTOGRAM_BINS + 1)
    if not log_axis:
        return edges
    edges = 10.0**edges
    if np.ptp(times_ms) > 0:
        # 10 ** log10(t) can miss t by an ulp; pin the ends to the data exactly.
        edges[0], edges[-1] = np.min(times_ms), np.max(times_ms)
    return edges


def _step_histograms(samples: pd.DataFrame, color: str, log_axis: bool) -> go.Figure:
    """Overlaid outline histograms on shared edges. Drawn as filled step lines, not bars: Plotly sizes bars
    in linear units, so on a log axis they spill past the bins they stand for."""
    edges = histogram_edges(samples["time_ms"].to_numpy(), log_axis)
    fig = go.Figure()
    for index, (name, group) in enumerate(samples.groupby(color, sort=False)):
        counts, _ = np.histogram(group["time_ms"], bins=edges)
        fig.add_scatter(
            x=edges,
            y=[*counts, counts[-1]],
            name=str(name),
            mode="lines",
            line={"shape": "hv", "color": VARIANT_COLORS[index % len(VARIANT_COLORS)]},
            fill="tozeroy",
            opacity=0.6,
            hovertemplate="from %{x:.3g} ms: %{y} samples<extra>%{fullData.name}</extra>",
        )
    fig.update_xaxes(type="log" if log_axis else "linear")
    if max(len(group) for _, group in samples.groupby(color)) <= 10:
        fig.update_yaxes(dtick=1)  # a few samples: whole counts only, not 0.5 steps
    return fig


def cold_start_chart(stats: pd.DataFrame) -> go.Figure:
    """First call (trace, compile, weight build) next to the warm median, per variant."""
    long = stats.melt(id_vars="variant", value_vars=["cold_start_ms", "median_ms"], var_name="call", value_name="ms")
    long["call"] = long["call"].map({"cold_start_ms": "first call (cold)", "median_ms": "warm median"})
    fig = px.bar(
        long, x="ms", y="variant", color="call", barmode="group", log_x=True, color_discrete_sequence=VARIANT_COLORS
    )
    fig.update_layout(title="First call (trace, compile, build) vs warm median", xaxis_title="time (ms, log)")
    fig.update_layout(legend_title_text="")
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
    fig.update_layout(
        title="Speedup vs Conv2D 1x1 (>1: faster)", xaxis_title="speedup vs Conv2D 1x1 (median ratio, 95% CI)"
    )
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


LINE_DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")


def sweep_chart(
    frame: pd.DataFrame,
    x: str,
    y: str,
    *,
    y_title: str,
    title: str,
    labels: dict[str, str],
    second: str | None = None,
    band: tuple[str, str] | None = None,
    log_y: bool = True,
) -> go.Figure:
    """`y` against the swept parameter `x`: one line per variant (colour) and per value of the `second`
    swept parameter (dash), each with its 95% interval from the `band` columns as a shaded band.

    `labels` names the axes as the sweep form does (parameter -> "channels C"); ticks sit at the swept values.
    """
    fig = go.Figure()
    groups = [c for c in ("variant", second) if c]
    dash_of = (
        {v: LINE_DASHES[i % len(LINE_DASHES)] for i, v in enumerate(sorted(frame[second].unique()))} if second else {}
    )
    color_of = {v: VARIANT_COLORS[i % len(VARIANT_COLORS)] for i, v in enumerate(frame["variant"].unique())}
    for keys, group in frame.sort_values(x).groupby(groups, sort=False):
        variant, *rest = keys
        name = escape_html(variant if not rest else f"{variant}, {labels.get(second, second)} = {rest[0]}")
        color = color_of[variant]
        if band:
            fig.add_scatter(
                x=[*group[x], *group[x][::-1]],
                y=[*group[band[1]], *group[band[0]][::-1]],
                fill="toself",
                fillcolor=color,
                opacity=0.2,
                mode="lines",
                line={"width": 0},
                hoverinfo="skip",
                legendgroup=name,
                showlegend=False,
                name=f"{name} (95% CI)",
            )
        fig.add_scatter(
            x=group[x],
            y=group[y],
            name=name,
            legendgroup=name,
            mode="lines+markers",
            line={"color": color, "dash": dash_of.get(rest[0], "solid") if rest else "solid"},
        )
    ticks = sorted(frame[x].unique())
    fig.update_xaxes(type="log", tickvals=ticks, ticktext=[str(t) for t in ticks], title=labels.get(x, x))
    fig.update_yaxes(type="log" if log_y else "linear", title=y_title)
    # Legend below the plot: at half page width a legend on the right leaves the lines a third of the chart.
    fig.update_layout(title=title, legend={"title_text": "", "orientation": "h", "yanchor": "top", "y": -0.25})
    return fig


def speedup_heatmap(frame: pd.DataFrame, x: str, y: str, variant_label: str, labels: dict[str, str]) -> go.Figure:
    """Speedup of one variant vs Conv2D 1x1 over a 2-D grid (>1: the variant is faster)."""
    grid = frame[frame["variant"] == variant_label].pivot_table(index=y, columns=x, values="speedup_vs_conv2d")
    fig = px.imshow(
        grid,
        text_auto=".3g",
        color_continuous_scale=HEATMAP_SCALE,
        aspect="auto",
        labels={"color": "speedup", "x": labels.get(x, x), "y": labels.get(y, y)},
        title=f"{escape_html(variant_label)}: speedup vs Conv2D 1x1 (>1: faster)",
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
    # Several decades on both axes: one label per decade, not a wall of minor-tick digits.
    fig.update_xaxes(dtick=1)
    fig.update_yaxes(dtick=1)
    fig.update_layout(
        xaxis_title="arithmetic intensity (FLOP/byte)",
        yaxis_title="GFLOP/s",
        title=f"Roofline of {escape_html(ceilings.device)} {escape_html(ceilings.dtype)}: "
        f"peak {ceilings.peak_gflops_per_s:,.0f} GFLOP/s, bandwidth {ceilings.bandwidth_gb_per_s:,.1f} GB/s",
    )
    return fig


def channel_heatmaps(
    maps: np.ndarray,
    title: str,
    zmin: float | None = None,
    zmax: float | None = None,
    highlight: tuple[int, int] | None = None,
    *,
    first_channel: int = 0,
) -> go.Figure:
    """One annotated heatmap per channel of a (K, H, W) array, side by side on a shared colour scale, with the
    pixel `highlight` = (row, col) outlined in every panel. Panel k is titled "`title` {first_channel + k}".

    The axes, titles and outlines are written into one layout rather than built with `make_subplots` (~40 ms
    per figure), `px.imshow(facet_col=...)` (~150 ms) or `add_shape(row="all")` (~55 ms): a classroom page draws
    five of these per click and must answer within half a second.

    Plotly sizes heatmap numbers to fit the cells (down to 4 px on a phone), so they are fixed at 13 px, above
    the 12 px a phone needs for legible text. A page that must also read well on a 390 px phone draws one
    channel per figure (`maps[k : k + 1]`, `first_channel=k`) in `st.columns`, which Streamlit stacks on a
    narrow screen. No colour bar: every cell prints its value, and a bar would take a fifth of a narrow panel.
    """
    count = maps.shape[0]
    low = float(maps.min()) if zmin is None else zmin
    high = float(maps.max()) if zmax is None else zmax
    spacing = 0.08  # room for the next panel's row numbers (0.04 let them overlap this panel on a laptop screen)
    panel_width = (1 - spacing * (count - 1)) / count
    title_place = {"y": 1, "xref": "paper", "yref": "paper", "xanchor": "center", "yanchor": "bottom"}
    title_place.update(showarrow=False, font={"size": 16})
    outline = {"color": "red", "width": 3}
    traces, shapes, titles, layout = [], [], [], {}
    for k in range(count):
        suffix = "" if k == 0 else str(k + 1)
        left = k * (panel_width + spacing)
        traces.append(
            go.Heatmap(
                z=maps[k],
                zmin=low,
                zmax=high,
                colorscale=HEATMAP_SCALE,
                texttemplate="%{z:.2f}",
                textfont={"size": 13},
                showscale=False,
                hovertemplate="row %{y}, col %{x}: %{z:.3f}<extra></extra>",
                xaxis=f"x{suffix}",
                yaxis=f"y{suffix}",
            )
        )
        # Every row and column index, so a panel reads against the pixel sliders.
        layout[f"xaxis{suffix}"] = {"domain": [left, left + panel_width], "anchor": f"y{suffix}", "dtick": 1}
        layout[f"yaxis{suffix}"] = {"anchor": f"x{suffix}", "autorange": "reversed", "dtick": 1}
        titles.append({"text": f"{title} {first_channel + k}", "x": left + panel_width / 2, **title_place})
        if highlight is not None:
            row, col = highlight
            box = {"x0": col - 0.5, "x1": col + 0.5, "y0": row - 0.5, "y1": row + 0.5}
            shapes.append({"type": "rect", "xref": f"x{suffix}", "yref": f"y{suffix}", **box, "line": outline})
    layout.update(height=260, margin={"t": 40, "b": 10, "l": 10, "r": 10}, shapes=shapes, annotations=titles)
    return go.Figure(data=traces, layout=layout)


def effects_chart(effects: pd.DataFrame) -> go.Figure:
    """Each tune factor's effect (slower / faster median time) with its 95% interval, largest on top."""
    frame = effects.iloc[::-1].copy()
    frame["plus"] = frame["ci95 high"] - frame["time ratio"]
    frame["minus"] = frame["time ratio"] - frame["ci95 low"]
    frame["factor"] = [escape_html(f) for f in frame["factor"]]
    frame["effect"] = np.where(frame["significant"], "significant", "not significant")
    fig = px.scatter(
        frame,
        x="time ratio",
        y="factor",
        error_x="plus",
        error_x_minus="minus",
        color="effect",
        color_discrete_map={"significant": VARIANT_COLORS[0], "not significant": VARIANT_COLORS[5]},
        hover_data={"faster": True, "slower": True, "plus": False, "minus": False},
    )
    fig.add_vline(x=1.0, line_dash="dash", annotation_text="no effect")
    fig.update_layout(
        title="What decides the speed: slower / faster median time (95% CI)",
        xaxis_title="time ratio (Conv2D 1x1; the formulation: against the fastest equivalent variant)",
        yaxis_title=None,
    )
    return fig
