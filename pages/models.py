import streamlit as st

from app import page_setup
from pointwise import InvalidSpecError
from pointwise.jobs.api import cached_model, model_cached
from pointwise.limits import active_limits, demo_mode
from pointwise.model_charts import flops_chart, timing_chart
from pointwise.model_frames import (
    equivalence_frame,
    kind_shares,
    param_share_1x1,
    pointwise_table,
    timing_frame,
    verdict,
)
from pointwise.models import MODEL_VARIANTS, NETWORKS, STRIDED_CHOICES, make_model_request
from pointwise.text import escape_markdown
from pointwise.ui import report_interrupted_job, run_with_progress

page_setup()
st.title("Models")
st.caption(
    "The article's advice inside real networks: every 1x1 convolution of MobileNetV2, MobileNetV3Small, "
    "EfficientNetB0 and ResNet50 (keras.applications, random weights, built offline in the TensorFlow worker), "
    "rewritten as a pointwise layer, checked against the original and timed as a whole model."
)
report_interrupted_job()
if demo_mode():
    limits = active_limits()
    st.caption(
        f"Public demo, capped: input ≤ {limits.model_max_input}, batch ≤ {limits.model_max_batch}, "
        f"≤ {limits.model_max_gflop} GFLOP per forward pass (model_max_gflop), ≤ {limits.max_samples} rounds."
    )


def show_conversion(data: dict) -> None:
    """Equivalence, the layers kept, the timing chart and table, and the verdict of a converted run."""
    conversion = data["conversion"]
    equivalence = conversion["equivalence"]
    logits, folded = equivalence["logits"], equivalence["folded_logits"]
    ok = logits["ok"] and folded["ok"] and equivalence["first_diverging"] is None
    message = (
        f"Logits max abs error {logits['max_abs']:.3g}, relative {logits['max_rel']:.3g} (BN folded: "
        f"{folded['max_rel']:.3g}); tolerance {equivalence['tolerance']:.2g} relative ({equivalence['dtype']}: 1024 "
        "machine epsilons of the largest logit)."
    )
    if ok:
        st.success(f"Equivalent to the original. {message}", icon=":material/check_circle:")
    else:
        first = escape_markdown(equivalence["first_diverging"] or "the logits", 200)
        st.error(f"Not equivalent: first diverging at {first}. {message}")
    not_converted = [d for d in conversion["plan"] if d["action"] != "converted"]
    if not_converted:
        st.markdown("**1x1 layers not converted as they stand**")
        st.dataframe(not_converted, hide_index=True)
    st.plotly_chart(timing_chart(timing_frame(data)), key="model_timing_chart")
    frame = timing_frame(data).drop(columns=["key"])
    numbers = frame.select_dtypes("number").columns.drop("samples")
    st.dataframe(
        frame, hide_index=True, column_config={c: st.column_config.NumberColumn(format="%.3f") for c in numbers}
    )
    st.info(verdict(data, data["environment"]["cpu"]), icon=":material/balance:")
    st.caption(
        f"{conversion['folded_pairs']} BatchNormalizations folded into the pointwise layer before them. The share "
        "of time in 1x1 convolutions comes from TensorFlow's profiler: the original model's ops traced under its "
        "1x1 layers (gradients included), over all traced op time."
    )
    with st.expander("Per converted layer: output error against the original layer"):
        st.dataframe(equivalence_frame(data), hide_index=True)


# A form: each change would otherwise rebuild the network (and stop a worker still building the last one).
with st.form("model_choice"):
    left, middle, right = st.columns(3)
    network = left.selectbox("Network", list(NETWORKS), format_func=lambda k: NETWORKS[k].label, key="model_network")
    input_size = middle.number_input("Input size (pixels)", 32, 1024, 96, key="model_input")
    batch = right.number_input("Batch", 1, 512, 2, key="model_batch")
    st.form_submit_button("Show the 1x1 layers", icon=":material/account_tree:")
try:
    request = make_model_request(network, input_size, batch)
except InvalidSpecError as exc:
    st.error(escape_markdown(exc, 600))
    st.stop()
# A page runs one job with progress per script run (the progress panel's Cancel button has one key): the
# inventory, once built, comes from the cache without one.
computed = cached_model(request) or run_with_progress(
    f"Building {NETWORKS[network].label}", lambda on_event: model_cached(request, on_event=on_event)
)
if computed is None:
    st.stop()
data = computed.result
table = pointwise_table(data)
strided = int((table["stride"] != 1).sum())
shares = kind_shares(data)
st.subheader(f"{len(table)} pointwise (1x1) convolutions")
st.markdown(
    f"{NETWORKS[network].label} at {input_size}x{input_size}, batch {batch}: {strided} of them strided. They hold "
    f"{param_share_1x1(data):.0%} of the convolution and dense parameters and {shares.get('1x1', 0):.0%} of their "
    "FLOPs. Each row opens the Benchmark page on that "
    f"layer's shape. Computed {computed.provenance().removeprefix('computed ')}."
)
st.dataframe(
    table,
    hide_index=True,
    key="model_inventory",
    column_config={
        "benchmark": st.column_config.LinkColumn("benchmark", display_text="open"),
        "share of FLOPs": st.column_config.NumberColumn(format="percent"),
        "MFLOPs": st.column_config.NumberColumn(format="%.2f"),
    },
)
st.plotly_chart(flops_chart(data), key="model_flops_chart")

with st.form("model_convert"):
    c1, c2, c3 = st.columns(3)
    variant = c1.selectbox("Convert to", list(MODEL_VARIANTS), format_func=MODEL_VARIANTS.get, key="model_variant")
    rounds = c2.number_input("Timing rounds", 3, 200, 5, key="model_rounds")
    strided_choice = c3.selectbox("Strided 1x1", STRIDED_CHOICES, key="model_strided")
    convert = st.form_submit_button("Convert, check and time", type="primary", icon=":material/play_arrow:")
if convert:
    try:
        run = make_model_request(network, input_size, batch, variant, True, rounds, strided_choice)
    except InvalidSpecError as exc:
        st.error(escape_markdown(exc, 600))
    else:
        label = f"Converting {NETWORKS[network].label} to {MODEL_VARIANTS[variant]}"
        done = run_with_progress(label, lambda on_event: model_cached(run, on_event=on_event))
        if done is not None:
            st.session_state["model_conversion"] = (run, done)
kept = st.session_state.get("model_conversion")
if kept is not None and kept[0].model == network:
    st.subheader(f"Converted to {MODEL_VARIANTS[kept[0].variant]}")
    st.caption(kept[1].provenance())
    show_conversion(kept[1].result)
