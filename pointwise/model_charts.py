"""Plotly figures of a real network (`pointwise.model_frames`): pure functions, no Streamlit."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from pointwise.charts import VARIANT_COLORS
from pointwise.model_frames import inventory_frame
from pointwise.models import NETWORKS
from pointwise.text import escape_html

KIND_ORDER = ("1x1", "depthwise", "kxk", "dense")


def flops_chart(data: dict) -> go.Figure:
    """FLOPs of every convolution and dense layer in network order, coloured by kind."""
    frame = inventory_frame(data).assign(MFLOPs=lambda f: f["flops"] / 1e6, position=lambda f: range(len(f)))
    frame["layer"] = frame["layer"].map(escape_html)
    fig = px.bar(
        frame,
        x="position",
        y="MFLOPs",
        color="layer_kind",
        category_orders={"layer_kind": list(KIND_ORDER)},
        color_discrete_sequence=VARIANT_COLORS,
        hover_data={"layer": True, "share": ":.1%", "position": False},
    )
    label = NETWORKS[data["request"]["model"]].label
    size, batch = data["request"]["input_size"], data["request"]["batch"]
    fig.update_layout(
        title=f"FLOPs per layer: {label}, {size}x{size}, batch {batch}",
        xaxis_title="layer (network order)",
        yaxis_title="MFLOPs",
        legend_title_text="kind",
        bargap=0.1,
    )
    return fig


def timing_chart(frame: pd.DataFrame) -> go.Figure:
    """Median time per call of each model, inference and training step, with 95% CI error bars."""
    frame = frame.assign(
        error_plus=frame["ci95_high_ms"] - frame["median_ms"], error_minus=frame["median_ms"] - frame["ci95_low_ms"]
    )
    fig = px.bar(
        frame,
        x="pass",
        y="median_ms",
        color="model",
        barmode="group",
        error_y="error_plus",
        error_y_minus="error_minus",
        color_discrete_sequence=VARIANT_COLORS,
        hover_data={"speedup": ":.2f", "speedup_ci95_low": ":.2f", "speedup_ci95_high": ":.2f"},
    )
    fig.update_layout(
        title="Whole-model time per call (median, 95% CI)",
        xaxis_title="",
        yaxis_title="time per call (ms)",
        legend_title_text="",
    )
    return fig
