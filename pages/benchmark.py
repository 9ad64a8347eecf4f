import json
import time

import streamlit as st

from app import page_setup
from pointwise import StoreError
from pointwise.charts import (
    DISTRIBUTION_KINDS,
    cold_start_chart,
    speedup_chart,
    timing_distribution,
    waiting_chart,
)
from pointwise.frames import (
    STATS_TABLE_FORMATS,
    STATS_TABLE_HELP,
    environment_frame,
    measured_on,
    memory_summary,
    noisy_variants,
    samples_frame,
    stats_frame,
    stats_table,
    verdict_lines,
)
from pointwise.jobs import cached_benchmark
from pointwise.stats import NOISY_IQR_RATIO, SIGNIFICANCE_LEVEL
from pointwise.store import RunStore, default_label
from pointwise.text import escape_markdown
from pointwise.ui import report_interrupted_job, show_context_messages, visitor_token
from pointwise.ui.kernels import show_kernels
from pointwise.ui.live import run_benchmark_live, show_verdicts
from pointwise.variants import VARIANTS


def save(computed) -> None:
    """Save a fresh run to history, owned by this session."""
    try:
        st.session_state["bench_run_id"] = RunStore().save(computed.result, owner=visitor_token())
    except StoreError as exc:
        st.session_state.pop("bench_run_id", None)
        st.warning(f"The result is shown but could not be saved to history: {escape_markdown(exc, 300)}")


context = page_setup()
st.title("Benchmark")
st.caption(
    "Each sample times a block of back-to-back calls (≥10 ms); variants run interleaved in shuffled rounds so "
    "machine drift hits all alike. The first call (trace, compile, weight build) is reported separately."
)
report_interrupted_job()
if show_context_messages(context):
    spec = context.spec
    # Every field of a validated spec is a number or a fixed choice: no visitor text to escape here.
    st.markdown(f"**{spec.summary()}**")
    cached = cached_benchmark(spec)
    fresh_column, cached_column = st.columns([1, 2])
    run_clicked = fresh_column.button(
        "Run benchmark", type="primary", icon=":material/play_arrow:", help="A fresh benchmark of this configuration"
    )
    # Progress and Cancel above the growing chart, where they stay in view; below them, where the samples are
    # drawn as they arrive (before a run, the empty chart of the variants to be timed).
    progress_area = st.container()
    live_slot = st.empty()
    if "bench_computed" not in st.session_state and not run_clicked:
        labels = [VARIANTS[key].label for key in spec.layers_run]
        live_slot.plotly_chart(
            waiting_chart("Time per call: no samples yet (press Run benchmark)", "time per call (ms)", "", labels)
        )
    if run_clicked:
        with progress_area:
            computed = run_benchmark_live(spec, live_slot)
        if computed is not None:
            st.session_state["bench_computed"] = computed
            save(computed)
            # The final result is drawn by a new run, without this run's live elements above it (otherwise the
            # live chart and the final one both show until the next click).
            st.rerun()
    elif (
        cached is not None
        and not cached.same_run(st.session_state.get("bench_computed"))
        and cached_column.button(
            f"Show the cached run (from {time.strftime('%H:%M', time.localtime(cached.computed_at))})",
            icon=":material/history:",
            help="A benchmark of exactly this configuration that this server already ran",
        )
    ):
        st.session_state["bench_computed"] = cached
        st.session_state.pop("bench_run_id", None)

computed = st.session_state.get("bench_computed")
result = None if computed is None else computed.result
if result is not None:
    where = escape_markdown(measured_on(result.environment), 200)
    st.caption(f"Benchmark {computed.provenance()}; timed on {where}.")
    stats = stats_frame(result)
    samples = samples_frame(result)
    verdicts = verdict_lines(result)
    if verdicts:
        st.subheader("Verdict")
        show_verdicts(verdicts)
        st.caption(
            "Speedup = median time of Conv2D 1x1 ÷ median time of the variant (above 1: faster), with its bootstrap "
            f"95% interval. Called faster or slower only when the Mann-Whitney p < {SIGNIFICANCE_LEVEL} and the "
            "interval excludes 1."
        )
    noisy = noisy_variants(result)
    if noisy:
        listed = ", ".join(f"{escape_markdown(label)} ({ratio:.0%})" for label, ratio in noisy)
        st.warning(
            f"Noisy timings (IQR above {NOISY_IQR_RATIO:.0%} of the median): {listed}. Take more samples or quiet "
            "the machine before trusting differences smaller than the intervals below.",
            icon=":material/graphic_eq:",
        )
    for report in result.equivalence:
        if not report.equivalent:
            reason = escape_markdown(report.reason, 600)
            st.info(f"{escape_markdown(report.label)} is not equivalent to Conv2D 1x1: {reason}")
    left, right = st.columns([1, 3])
    kind = left.radio("Distribution", DISTRIBUTION_KINDS, horizontal=False)
    log_axis = left.toggle("Log time axis", value=False)
    right.plotly_chart(timing_distribution(samples, kind, log_axis))
    st.plotly_chart(speedup_chart(stats))
    table = stats_table(stats)
    config = {name: st.column_config.NumberColumn(format=fmt) for name, fmt in STATS_TABLE_FORMATS.items()}
    config |= {name: st.column_config.Column(help=text) for name, text in STATS_TABLE_HELP.items()}
    # Widths that let every column fit a 1500 px window; a longer variant label ends in "…" (full on hover).
    config["variant"] = st.column_config.TextColumn(width=210)
    config["noisy"] = st.column_config.CheckboxColumn(help=STATS_TABLE_HELP["noisy"], width=55)
    st.dataframe(table, hide_index=True, column_config=config)
    st.caption(memory_summary(result))
    st.plotly_chart(cold_start_chart(stats))
    with st.expander("Environment card"):
        st.dataframe(environment_frame(result.environment), hide_index=True)
    show_kernels(result.spec, "bench")
    download_csv, download_json = st.columns(2)
    download_csv.download_button(
        "Download samples (CSV)", samples.to_csv(index=False), "pointwise-samples.csv", "text/csv", on_click="ignore"
    )
    download_json.download_button(
        "Download result (JSON)",
        json.dumps(result.to_dict(), indent=1),
        "pointwise-result.json",
        "application/json",
        on_click="ignore",
    )
    run_id = st.session_state.get("bench_run_id")
    if run_id is not None:
        with st.form("label_form"):
            label = st.text_input("Saved to history as", value=result.label or default_label(result), max_chars=200)
            if st.form_submit_button("Rename"):
                try:
                    # The run was saved by this session, so its owner token is this session's, demo or not.
                    RunStore().rename(run_id, label, owner=visitor_token())
                    st.success("Renamed.")
                except StoreError as exc:
                    st.error(escape_markdown(exc, 300))
