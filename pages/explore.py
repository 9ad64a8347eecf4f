import streamlit as st

from app import page_setup

# Before this page's other imports: a link that wakes a fresh server runs this file alone, and page_setup then
# starts the worker that answers; pandas and Plotly below take ~1.2 s to import the first time in a server.
context = page_setup()

from pointwise import InvalidSpecError  # noqa: E402
from pointwise.backends import BACKEND_LABELS  # noqa: E402
from pointwise.charts import diff_heatmap, diff_histogram  # noqa: E402
from pointwise.check_summary import check_summary, error_plot_order  # noqa: E402
from pointwise.frames import EQUIVALENCE_TABLE_FORMATS, equivalence_frame, is_all_zero  # noqa: E402
from pointwise.jobs import check_cached, check_in_cache  # noqa: E402
from pointwise.query import check_spec  # noqa: E402
from pointwise.spec import check_live_size, mode_label  # noqa: E402
from pointwise.text import escape_html, escape_markdown  # noqa: E402
from pointwise.ui import report_interrupted_job, run_with_progress, show_context_messages  # noqa: E402
from pointwise.ui.kernels import show_kernels  # noqa: E402
from pointwise.variants import VARIANTS, variant_source  # noqa: E402

st.title("Explore: is it really a pointwise convolution?")
st.caption(
    "Every variant gets the same input and the Conv2D 1x1 baseline's weights; outputs are compared number for "
    "number, and with a float64 NumPy reference. Errors are relative to |x|@|w|+|b| (which cannot cancel)."
)
report_interrupted_job()
if show_context_messages(context):
    spec = context.spec
    channel = st.number_input("Output channel for the difference heatmap", 0, spec.filters - 1, 0, key="channel")
    try:
        check_live_size(spec)
    except InvalidSpecError as exc:
        st.error(str(exc))
        st.stop()
    # Eager answers "same numbers?" fastest; a visitor can still ask for the sidebar's own mode.
    checked = spec if st.session_state.get("explore_in_sidebar_mode") else check_spec(spec)
    cache_key = (checked, int(channel))
    fresh = st.session_state.pop("explore_rerun", False)
    answer = st.container()
    # Sent before the check runs and drawn below its answer: the browser loads the code viewer while the worker works.
    st.subheader("What each variant computes")
    for key in spec.variants:
        variant = VARIANTS[key]
        with st.expander(f"{variant.label} · {variant.origin}"):
            st.markdown(variant.explanation)
            st.code(variant_source(key), language="python")
    with answer:
        if fresh or st.session_state.get("explore_key") != cache_key:
            # An answer this server holds is shown at once: no job, no progress bar.
            computed = None if fresh else check_in_cache(checked, int(channel))
            if computed is None:
                computed = run_with_progress(
                    "Checking equivalence",
                    lambda on_event: check_cached(checked, int(channel), fresh=fresh, on_event=on_event),
                )
            if computed is not None:
                st.session_state["explore_key"], st.session_state["explore_result"] = cache_key, computed
        computed = st.session_state.get("explore_result") if st.session_state.get("explore_key") == cache_key else None
        if computed is not None:
            result = computed.result
            st.markdown(check_summary(result.reports))
            note, rerun = st.columns([5, 1], vertical_alignment="center")
            mode_note = f"in {mode_label(checked.mode, checked.backend)} mode"
            if checked.mode != spec.mode:
                mode_note += " (one call per variant, nothing traced: the quickest answer to “same numbers?”)"
            note.caption(f"Checked {mode_note}, on {BACKEND_LABELS[checked.backend]}: {computed.provenance()}.")
            if checked.mode != spec.mode:
                note.button(
                    f"Check in {mode_label(spec.mode, spec.backend)} mode",
                    help="The sidebar's mode runs the layers as Benchmark times them (after graph rewrites)",
                    on_click=lambda: st.session_state.update(explore_in_sidebar_mode=True),
                )
            rerun.button(
                "Re-run",
                icon=":material/refresh:",
                help="Compute the check again instead of showing the answer this server already has",
                on_click=lambda: st.session_state.update(explore_rerun=True),
            )
            # The baseline's own error vs float64 is already the Conv2D row's "err vs float64".
            table = equivalence_frame(result.reports).drop(columns=["key", "baseline err vs float64"])
            config = {
                name: st.column_config.NumberColumn(format=fmt) for name, fmt in EQUIVALENCE_TABLE_FORMATS.items()
            }
            config["note / reason"] = st.column_config.TextColumn(width="large")
            st.dataframe(table, hide_index=True, column_config=config)
            for report in result.reports:
                if not report.equivalent and not VARIANTS[report.key].expected_equivalent:
                    reason = escape_markdown(report.reason, 600)
                    st.error(f"**{escape_markdown(report.label)}** — {reason}", icon=":material/warning:")
            comparable = error_plot_order(result.reports)
            if comparable:
                labels = {r.label: r for r in comparable}
                chosen = labels[st.selectbox("Variant for the error plots", list(labels))]
                left, right = st.columns(2)
                if is_all_zero(chosen.diff_map):
                    left.success(
                        f"{escape_markdown(chosen.label)} is identical to Conv2D 1x1 at channel {channel} "
                        "(every difference is exactly 0), so there is no difference map to draw.",
                        icon=":material/check_circle:",
                    )
                else:
                    title = f"|{escape_html(chosen.label)} − Conv2D 1x1|<br>channel {channel}, batch item 0"
                    left.plotly_chart(diff_heatmap(chosen.diff_map, title))
                right.plotly_chart(diff_histogram(chosen.diff_histogram, "All differences (variant − Conv2D 1x1)"))
            # The sidebar's mode as chosen (graph by default): the kernels worth seeing are the rewritten ones.
            show_kernels(spec, "explore")
