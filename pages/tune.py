import json

import pandas as pd
import streamlit as st

from app import page_setup
from pointwise import InvalidSpecError
from pointwise.charts import effects_chart
from pointwise.limits import active_limits
from pointwise.text import escape_markdown
from pointwise.tune import DEFAULT_BUDGET_S, run_tune
from pointwise.tune_plan import MIN_BUDGET_S, validate_budget
from pointwise.tune_stats import effects_frame
from pointwise.ui import report_interrupted_job, run_with_progress, show_context_messages

RANKING_COLUMNS = ["rank", "configuration", "median_ms", "ci95_low_ms", "ci95_high_ms", "gflops_per_s", "equivalent"]
MS_FORMAT = "%.3f"


def show_result(result) -> None:
    # The verdict quotes the CPU's name and registry labels: text, not markdown.
    st.success(escape_markdown(result.verdict, 1200), icon=":material/tune:")
    st.caption(
        f"Measured in {result.elapsed_s:.0f} s of a {result.budget_s:.0f} s budget, "
        f"{result.spec.samples} samples per variant and setting, {len(result.runs)} settings. "
        "Time ratio: the slower setting's median time over the faster's, Conv2D 1x1 in both "
        "(the formulation: Conv2D 1x1 against the fastest equivalent variant at TensorFlow's defaults)."
    )
    if result.drift is not None:
        low, high = result.drift.ci_low, result.drift.ci_high
        st.caption(
            f"Drift check: Conv2D 1x1 at TensorFlow's defaults ran again after the last factor, at "
            f"{result.drift.time_ratio:.2f}x [{low:.2f}, {high:.2f}] its first time; its samples from both runs "
            "stand for the baseline in every factor's ratio."
        )
    for label, why in result.dropped:
        st.info(f"Not measured: {escape_markdown(label, 80)} — {escape_markdown(why, 400)}", icon=":material/block:")
    st.subheader("What decides the speed, largest first")
    effects = effects_frame(result.effects)
    if len(effects):
        st.plotly_chart(effects_chart(effects))
    formats = {name: st.column_config.NumberColumn(format="%.2fx") for name in ("time ratio", "ci95 low", "ci95 high")}
    formats["p-value"] = st.column_config.NumberColumn(format="%.2g")
    st.dataframe(effects, hide_index=True, column_config=formats)
    st.subheader("Fastest configurations")
    ranking = pd.DataFrame(result.ranking)[RANKING_COLUMNS]
    number = {name: st.column_config.NumberColumn(format=MS_FORMAT) for name in RANKING_COLUMNS if "_ms" in name}
    number["gflops_per_s"] = st.column_config.NumberColumn("GFLOP/s", format="%.3g")
    st.dataframe(ranking, hide_index=True, column_config=number)
    st.download_button(
        "Download tune (JSON)",
        json.dumps(result.to_dict(), indent=2),
        "pointwise-tune.json",
        "application/json",
        on_click="ignore",
    )


context = page_setup()
st.title("Tune")
st.caption(
    "Which knob decides this layer's speed on this machine? The sidebar's layer (shape, filters, pass, variants, "
    "device) runs first with every knob at TensorFlow's own choice, then with one knob changed at a time: oneDNN, "
    "XLA, threads, dtype, the Keras backend, the CPU allocator. The sidebar's backend, knobs, mode, dtype and "
    "samples are not used: the tune "
    "varies them itself, and takes fewer samples, then fewer knobs, to fit the budget."
)
report_interrupted_job()
if show_context_messages(context):
    spec = context.spec
    cap = active_limits().max_tune_budget_s
    with st.form("tune"):
        budget = st.number_input(
            "Time budget (s)", MIN_BUDGET_S, cap, min(DEFAULT_BUDGET_S, cap), step=10.0, format="%.0f"
        )
        submitted = st.form_submit_button("Run tune", type="primary", icon=":material/play_arrow:")
    if submitted:
        try:
            budget_s = validate_budget(budget)
        except InvalidSpecError as exc:
            st.error(escape_markdown(exc, 600))
        else:
            result = run_with_progress("Tuning", lambda on_event: run_tune(spec, budget_s, on_event=on_event))
            if result is not None:
                st.session_state["tune_result"] = result

if "tune_result" in st.session_state:
    show_result(st.session_state["tune_result"])
