"""The Classroom's Plotly figures: pure functions of NumPy arrays, no Streamlit.

The sweeps animate in the browser (Plotly frames with Play/Pause and a pixel slider): playing costs the
server nothing, and a projector shows every frame at once without a round trip.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from pointwise.charts import HEATMAP_SCALE, channel_heatmaps
from pointwise.classroom import pixel_product
from pointwise.classroom_sweep import PixelWork, footprint, sweep_order

CHANNEL_COLOURS = ("#0072B2", "#D55E00", "#009E73")
"""Okabe-Ito blue, vermillion and green: told apart with every common colour-vision deficiency, and dark
enough for text on white. Channel c, weight row c and term c of the formula share colour c."""
BIAS_COLOUR = "#555555"
PRESENT_NUMBER_PX = 18
"""Numbers on a projector at 1280x720 must read from the back of a room: 18 px, up from 13 px on a laptop."""
FRAME_MS = 900
OUTLINE = {"color": "red", "width": 3}


def lesson_heatmap(maps, title, zmin, zmax, highlight, first_channel: int, number_px: int = 13) -> go.Figure:
    """`charts.channel_heatmaps` with numbers of `number_px`; one decimal from 18 px up, so they fit a cell."""
    figure = channel_heatmaps(maps, title, zmin, zmax, highlight, first_channel=first_channel)
    if number_px >= PRESENT_NUMBER_PX:
        figure.update_traces(textfont={"size": number_px}, texttemplate="%{z:.1f}")
        figure.update_layout(
            height=200, annotations=[{**a.to_plotly_json(), "font": {"size": 20}} for a in figure.layout.annotations]
        )
    return figure


def _animation_controls(names: list[str], labels: list[str], font_px: int) -> dict:
    """Play/Pause buttons and a pixel slider: one slider step per frame, the current pixel printed above it."""
    play = {"frame": {"duration": FRAME_MS, "redraw": True}, "fromcurrent": True, "transition": {"duration": 0}}
    pause = {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"}
    jump = {"frame": {"duration": 0, "redraw": True}, "mode": "immediate", "transition": {"duration": 0}}
    buttons = [
        {"label": "▶ Play", "method": "animate", "args": [None, play]},
        {"label": "❚❚ Pause", "method": "animate", "args": [[None], pause]},
    ]
    return {
        "updatemenus": [
            {
                "type": "buttons",
                "direction": "left",
                "buttons": buttons,
                "x": 0,
                "y": 0,
                "xanchor": "left",
                "yanchor": "top",
                "pad": {"t": 10},
                "showactive": False,
                "font": {"size": font_px},
            }
        ],
        "sliders": [
            {
                "active": 0,
                "x": 0.22,
                "len": 0.78,
                "y": 0,
                "yanchor": "top",
                "pad": {"t": 10},
                "currentvalue": {"prefix": "pixel ", "font": {"size": font_px}},
                "font": {"size": max(font_px - 6, 10)},
                "steps": [
                    {"label": label, "method": "animate", "args": [[name], jump]}
                    for name, label in zip(names, labels, strict=True)
                ],
            }
        ],
    }


def _outline(row: int, col: int, axis: str, bottom: int | None = None, right: int | None = None) -> dict:
    box = {"x0": col - 0.5, "x1": (col if right is None else right) + 0.5}
    box.update(y0=row - 0.5, y1=(row if bottom is None else bottom) + 0.5)
    return {"type": "rect", "xref": f"x{axis}", "yref": f"y{axis}", **box, "line": OUTLINE}


def _panels(count: int, left: float, right: float, gap: float = 0.045) -> list[tuple[float, float]]:
    # The gap holds the next panel's row numbers (at 0.02 they overlapped this panel on a laptop screen).
    width = (right - left - gap * (count - 1)) / count
    return [(left + k * (width + gap), left + k * (width + gap) + width) for k in range(count)]


def _heatmap(z, zmin, zmax, axis: str, number_px: int | None) -> dict:
    text = {"texttemplate": "%{z:.1f}", "textfont": {"size": number_px}} if number_px else {}
    return {
        "type": "heatmap",
        "z": z,
        "zmin": zmin,
        "zmax": zmax,
        "colorscale": HEATMAP_SCALE,
        "showscale": False,
        "xaxis": f"x{axis}",
        "yaxis": f"y{axis}",
        "hovertemplate": "row %{y}, col %{x}: %{z:.3f}<extra></extra>",
        **text,
    }


def _axes(layout: dict, axis: str, domain_x, domain_y, rows: int, cols: int) -> None:
    layout[f"xaxis{axis}"] = {"domain": list(domain_x), "anchor": f"y{axis}", "dtick": 1, "range": [-0.5, cols - 0.5]}
    layout[f"yaxis{axis}"] = {"domain": list(domain_y), "anchor": f"x{axis}", "dtick": 1, "range": [rows - 0.5, -0.5]}


def _text(text: str, x: float, y: float, size: int, colour: str = "black", anchor: str = "left") -> dict:
    return {
        "text": text,
        "x": x,
        "y": y,
        "xref": "paper",
        "yref": "paper",
        "showarrow": False,
        "xanchor": anchor,
        "yanchor": "middle",
        "font": {"size": size, "color": colour},
    }


def _coloured(text: str, colour: str) -> str:
    return f"<span style='color:{colour}'>{text}</span>"


TEXT_TOP = 0.48
ROW_Y = {"header": 0.44, "columns": 0.36, "bias": 0.04}
"""Rows of the arithmetic under the panels (paper coordinates): channel c sits at `_channel_y(c)`, so the
pixel's value c, weight row c and term c read along one line."""


def _channel_y(c: int) -> float:
    return 0.28 - 0.08 * c


def _arithmetic(x, kernel, bias, row: int, col: int, font_px: int, axis: str) -> dict:
    """The pixel's channel vector and every output channel's formula, term c in colour c: one text trace, so a
    frame replaces one array instead of revalidating every annotation (25 frames of annotations took 0.4 s)."""
    product = pixel_product(x, kernel, bias, row, col)
    texts, xs, ys = [f"<b>pixel ({row}, {col})</b>"], [0.0], [ROW_Y["header"]]
    for c, value in enumerate(product.channels):
        texts.append(_coloured(f"c{c} = {value:g}", CHANNEL_COLOURS[c % 3]))
        xs.append(0.0)
        ys.append(_channel_y(c))
    for f in range(kernel.shape[1]):
        terms = " + ".join(_coloured(t, CHANNEL_COLOURS[c % 3]) for c, t in enumerate(product.terms(f)))
        texts.append(f"out{f} = {terms} + {_coloured(f'({bias[f]:g})', BIAS_COLOUR)} = <b>{product.output[f]:.3g}</b>")
        xs.append(0.36)
        ys.append(_channel_y(f))
    return {
        "type": "scatter",
        "mode": "text",
        "x": xs,
        "y": ys,
        "text": texts,
        "textposition": "middle right",
        "textfont": {"size": font_px, "color": "black"},
        "hoverinfo": "skip",
        "showlegend": False,
        "xaxis": f"x{axis}",
        "yaxis": f"y{axis}",
    }


def _text_axes(layout: dict, axis: str) -> None:
    """An invisible subplot under the panels whose data coordinates are paper coordinates. It must not cover the
    panels: its background would hide their heatmaps."""
    hidden = {"visible": False, "fixedrange": True}
    layout[f"xaxis{axis}"] = {**hidden, "domain": [0, 1], "range": [0, 1], "anchor": f"y{axis}"}
    layout[f"yaxis{axis}"] = {**hidden, "domain": [0, TEXT_TOP], "range": [0, TEXT_TOP], "anchor": f"x{axis}"}


def _weight_matrix(kernel, bias, font_px: int) -> list[dict]:
    """Weight (c, f) in channel c's colour, the bias row in grey, columns right-aligned on their digits."""
    column_x = [0.25 + 0.05 * f for f in range(kernel.shape[1])]
    notes = [
        _text("<b>× weights</b>", 0.14, ROW_Y["header"], font_px),
        _text("<b>arithmetic</b>", 0.36, ROW_Y["header"], font_px),
    ]
    notes += [_text(f"f{f}", x, ROW_Y["columns"], font_px, anchor="right") for f, x in enumerate(column_x)]
    for c in range(kernel.shape[0]):
        colour = CHANNEL_COLOURS[c % 3]
        notes.append(_text(_coloured(f"c{c}", colour), 0.14, _channel_y(c), font_px))
        notes += [
            _text(_coloured(f"{kernel[c, f]:g}", colour), x, _channel_y(c), font_px, anchor="right")
            for f, x in enumerate(column_x)
        ]
    notes.append(_text(_coloured("+ bias", BIAS_COLOUR), 0.14, ROW_Y["bias"], font_px))
    notes += [
        _text(_coloured(f"{bias[f]:g}", BIAS_COLOUR), x, ROW_Y["bias"], font_px, anchor="right")
        for f, x in enumerate(column_x)
    ]
    return notes


def sweep_animation(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray, *, present: bool = False) -> go.Figure:
    """The 1x1 kernel visiting every pixel of an (H, W, C) input, one frame per pixel.

    Top: the C input channels with the current pixel outlined, and the F output channels filling in (cells
    not yet visited are blank). Below: the pixel's channel vector, the (C, F) weights with the bias row, and
    each output channel's sum, coloured so that channel c, weight row c and term c match.
    """
    height, width, channels = x.shape
    filters = kernel.shape[1]
    font_px = PRESENT_NUMBER_PX if present else 14
    output = x @ kernel + bias
    low, high = float(output.min()), float(output.max())
    names = [f"t{k}" for k in range(height * width)]
    axes = [str(k + 1) if k else "" for k in range(channels + filters)]
    domains = _panels(channels, 0, 0.58) + _panels(filters, 0.64, 1)
    layout, traces = {}, []
    # Short titles in the arithmetic's names (c0, f0): five panels share a 390 px phone screen.
    titles = [f"input c{c}" for c in range(channels)] + [f"output f{f}" for f in range(filters)]
    title_notes = []
    for k, (axis, domain) in enumerate(zip(axes, domains, strict=True)):
        _axes(layout, axis, domain, (0.57, 0.92), height, width)
        title_notes.append(_text(titles[k], sum(domain) / 2, 0.96, font_px - 2, anchor="center"))
        maps = (x[..., k], -1.0, 1.0) if k < channels else (np.full((height, width), np.nan), low, high)
        traces.append(_heatmap(*maps, axis, font_px if present else None))
    text_axis = str(channels + filters + 1)
    _text_axes(layout, text_axis)
    traces.append(_arithmetic(x, kernel, bias, 0, 0, font_px, text_axis))
    frames = []
    for k, (row, col) in enumerate(sweep_order(height, width)):
        visited = np.arange(height * width).reshape(height, width) <= k
        filled = [np.where(visited, output[..., f], np.nan) for f in range(filters)]
        shapes = [_outline(row, col, axis) for axis in axes]
        frames.append(
            {
                "name": names[k],
                "traces": list(range(channels, channels + filters + 1)),
                "data": [{"type": "heatmap", "z": z} for z in filled]
                + [_arithmetic(x, kernel, bias, row, col, font_px, text_axis)],
                "layout": {"shapes": shapes},
            }
        )
    for f in range(filters):
        traces[channels + f]["z"] = frames[0]["data"][f]["z"]
    labels = [f"({r}, {c})" for r, c in sweep_order(height, width)]
    layout.update(frames[0]["layout"], annotations=title_notes + _weight_matrix(kernel, bias, font_px))
    layout.update(
        _animation_controls(names, labels, font_px),
        height=480 if present else 470,
        margin={"t": 10, "b": 80, "l": 10, "r": 10},
    )
    return go.Figure({"data": traces, "layout": layout, "frames": frames})


def footprint_sweep(x: np.ndarray, side: int, *, present: bool = False) -> go.Figure:
    """What a 1x1 and a `side`x`side` kernel read at each pixel of the same (H, W, C) input: the 1x1 reads one
    cell per channel (top row), the KxK a neighbourhood (bottom row, cut at the border: 'same' padding)."""
    height, width, channels = x.shape
    font_px = PRESENT_NUMBER_PX if present else 14
    names = [f"t{k}" for k in range(height * width)]
    layout, traces, notes, axes = {}, [], [], []
    for band, (domain_y, label) in enumerate((((0.56, 0.92), "1x1 reads"), ((0.04, 0.40), f"{side}x{side} reads"))):
        notes.append(_text(f"<b>{label}</b>", 0, (domain_y[1] + domain_y[0]) / 2, font_px))
        for c, domain_x in enumerate(_panels(channels, 0.16, 1)):
            axis = str(band * channels + c + 1) if band * channels + c else ""
            axes.append((band, axis))
            _axes(layout, axis, domain_x, domain_y, height, width)
            traces.append(_heatmap(x[..., c], -1.0, 1.0, axis, font_px if present else None))
            if band == 0:
                notes.append(_text(f"input c{c}", sum(domain_x) / 2, 0.97, font_px - 2, anchor="center"))
    frames = []
    for k, (row, col) in enumerate(sweep_order(height, width)):
        top, left, bottom, right = footprint(row, col, side, height, width)
        shapes = [_outline(row, col, a) if band == 0 else _outline(top, left, a, bottom, right) for band, a in axes]
        frames.append({"name": names[k], "layout": {"shapes": shapes}})
    labels = [f"({r}, {c})" for r, c in sweep_order(height, width)]
    layout.update(frames[0]["layout"], annotations=notes, **_animation_controls(names, labels, font_px))
    layout.update(height=430, margin={"t": 10, "b": 80, "l": 10, "r": 10})
    return go.Figure({"data": traces, "layout": layout, "frames": frames})


def work_chart(work: list[PixelWork], *, present: bool = False) -> go.Figure:
    """Multiplications per output pixel of each layer in `work`, as horizontal bars with the count printed."""
    font_px = PRESENT_NUMBER_PX if present else 14
    figure = go.Figure(
        go.Bar(
            x=[w.multiplications for w in work],
            y=[w.layer for w in work],
            orientation="h",
            text=[f"{w.multiplications:,}" for w in work],
            textposition="outside",
            textangle=0,
            cliponaxis=False,
            textfont={"size": font_px},
            marker_color=["#0072B2", "#D55E00", "#009E73"][: len(work)],
        )
    )
    figure.update_layout(
        title="Multiplications per output pixel",
        height=260,
        margin={"t": 40, "b": 30, "l": 10, "r": 10},
        yaxis={"autorange": "reversed", "tickfont": {"size": font_px}},
        xaxis={"tickformat": ",", "tickfont": {"size": font_px - 2}},
        font={"size": font_px},
    )
    return figure
