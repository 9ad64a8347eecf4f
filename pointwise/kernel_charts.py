"""The kernels chart (`kernels_chart`, from `frames.kernels_frame`): a pure function, no Streamlit."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from pointwise.text import escape_html

KERNEL_COLORS = px.colors.qualitative.Safe
KERNEL_TABLE_FORMATS = {"count per call": "%.3g", "µs per call": "%.1f", "share of kernel time": "%.1f%%"}


def kernels_chart(frame: pd.DataFrame, title: str) -> go.Figure:
    """One horizontal bar per variant, split into its kernels' traced µs per call (untraced ops left out).

    Labels and the title are escaped: variant and op names reach Plotly's HTML.
    """
    timed = frame.dropna(subset=["µs per call"]).copy()
    for column in ("variant", "op", "what it is"):
        timed[column] = timed[column].map(escape_html)
    fig = px.bar(
        timed,
        x="µs per call",
        y="variant",
        color="op",
        orientation="h",
        hover_data={"share of kernel time": ":.1f", "count per call": ":.3g", "what it is": True},
        color_discrete_sequence=KERNEL_COLORS,
    )
    fig.update_layout(
        title=escape_html(title, 300),
        barmode="stack",
        xaxis_title="traced kernel time per call (µs)",
        yaxis_title="",
        yaxis={"autorange": "reversed"},
        legend_title_text="op",
    )
    return fig
