import streamlit as st

from app import page_setup
from pointwise import InvalidSpecError
from pointwise.backends import BACKEND_LABELS
from pointwise.charts import roofline_chart, speedup_heatmap, sweep_chart, waiting_chart
from pointwise.frames import STATS_TABLE_FORMATS, STATS_TABLE_HELP, heatmap_variant_options, sweep_frame, sweep_table
from pointwise.sweep import MAX_POINTS, PARAMETER_LABELS, SWEEP_PARAMETERS, plan_grid, run_sweep, sweep_axes
from pointwise.text import escape_markdown
from pointwise.ui import report_interrupted_job, show_context_messages
from pointwise.ui.live import run_sweep_live


def on_backend(points_done) -> str:
    """The suffix " on JAX" (the Keras backend the sweep ran on) for the charts' titles; "" before any point."""
    return f" on {BACKEND_LABELS[points_done[0].result.spec.backend]}" if points_done else ""


def time_chart(points_done, axes, key: str) -> None:
    """The time-per-call chart of the points so far (drawn again as each point of a running sweep finishes)."""
    first, *others = axes
    st.plotly_chart(
        sweep_chart(
            frame=sweep_frame(points_done),
            x=first,
            labels=PARAMETER_LABELS,
            second=others[0] if others else None,
            y="median_ms",
            y_title="time per call (ms)",
            title=f"Time per call vs {PARAMETER_LABELS[first]}{on_backend(points_done)} (median, 95% CI band)",
            band=("ci95_low_ms", "ci95_high_ms"),
        ),
        key=key,
    )


context = page_setup()
st.title("Scaling")
st.caption(
    "Sweep one parameter over a log-spaced range (optionally a second, for a speedup heatmap). Each point is a "
    "separate queued benchmark of the variants chosen in the sidebar, at the sidebar's configuration."
)
report_interrupted_job()
if show_context_messages(context):
    spec = context.spec
    parameters = list(SWEEP_PARAMETERS)
    with st.form("sweep"):
        c1, c2, c3, c4 = st.columns(4)
        parameter = c1.selectbox("Sweep", parameters, format_func=PARAMETER_LABELS.get, index=2, key="sweep_param")
        start = c2.number_input("from", 1, 65_536, 16)
        stop = c3.number_input("to", 1, 65_536, 256)
        points = c4.number_input("points", 1, MAX_POINTS, 5)
        d1, d2, d3, d4 = st.columns(4)
        second = d1.selectbox(
            "Second parameter (heatmap)", ["none", *parameters], format_func=lambda p: PARAMETER_LABELS.get(p, "none")
        )
        start2 = d2.number_input("second: from", 1, 65_536, 1)
        stop2 = d3.number_input("second: to", 1, 65_536, 32)
        points2 = d4.number_input("second: points", 1, MAX_POINTS, 3)
        samples = st.number_input("Samples per variant per point", 3, 200, 10)
        submitted = st.form_submit_button("Run sweep", type="primary", icon=":material/play_arrow:")
    # Progress and Cancel above the chart, where they stay in view; below them, each finished point is drawn
    # (before a sweep, the chart's empty frame).
    progress_area = st.container()
    live_slot = st.empty()
    if not submitted and "sweep_result" not in st.session_state:
        live_slot.plotly_chart(
            waiting_chart("Time per call: no points yet (press Run sweep)", "the swept parameter", "time per call (ms)")
        )
    if submitted:
        try:
            second_axis = None if second == "none" else (second, start2, stop2, points2)
            axes = sweep_axes((parameter, start, stop, points), second_axis)
            point_spec = spec.with_changes(samples=samples)
            plan_grid(point_spec, axes)
        except InvalidSpecError as exc:
            st.error(escape_markdown(exc, 600))
        else:
            with progress_area:
                points_done = run_sweep_live(
                    f"Sweeping {' × '.join(PARAMETER_LABELS[p] for p in axes)}",
                    lambda on_event, on_point: run_sweep(point_spec, axes, on_event=on_event, on_point=on_point),
                    lambda points: time_chart(points, axes, key=f"sweep_running_{len(points)}"),
                    live_slot,
                )
            if points_done is not None:
                st.session_state["sweep_result"] = (axes, points_done)

if "sweep_result" in st.session_state:
    axes, points_done = st.session_state["sweep_result"]
    frame = sweep_frame(points_done)
    first, *others = axes
    second = others[0] if others else None
    swept = PARAMETER_LABELS[first]
    line = dict(frame=frame, x=first, labels=PARAMETER_LABELS, second=second)
    time_chart(points_done, axes, key="sweep_time")
    left, right = st.columns(2)
    left.plotly_chart(
        sweep_chart(
            **line, y="gflops_per_s", y_title="GFLOP/s", title=f"Throughput vs {swept}{on_backend(points_done)}"
        )
    )
    right.plotly_chart(
        sweep_chart(
            **line,
            y="speedup_vs_conv2d",
            y_title="speedup vs Conv2D 1x1",
            title=f"Speedup vs {swept}{on_backend(points_done)} (95% CI band)",
            band=("speedup_ci95_low", "speedup_ci95_high"),
            log_y=False,
        )
    )
    if second is not None:
        variant = st.selectbox("Heatmap variant", heatmap_variant_options(frame))
        st.plotly_chart(speedup_heatmap(frame, first, second, variant, PARAMETER_LABELS))
    ceilings = points_done[-1].result.ceilings
    if ceilings is not None:
        st.plotly_chart(roofline_chart(ceilings, frame))
    table = sweep_table(frame, PARAMETER_LABELS)
    config = {name: st.column_config.NumberColumn(format=fmt) for name, fmt in STATS_TABLE_FORMATS.items()}
    config |= {name: st.column_config.Column(help=text) for name, text in STATS_TABLE_HELP.items()}
    # Widths that let every column fit a 1500 px window; a longer variant label ends in "…" (full on hover).
    config["variant"] = st.column_config.TextColumn(width=210)
    config["noisy"] = st.column_config.CheckboxColumn(help=STATS_TABLE_HELP["noisy"], width=55)
    st.dataframe(table, hide_index=True, column_config=config)
    st.download_button(
        "Download sweep (CSV)", frame.to_csv(index=False), "pointwise-sweep.csv", "text/csv", on_click="ignore"
    )
