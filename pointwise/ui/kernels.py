"""The "Kernels that ran" expander shared by Explore and Benchmark: profiled only when a person opens it."""

from __future__ import annotations

import streamlit as st

from pointwise.frames import kernels_frame
from pointwise.jobs import kernels_cached
from pointwise.kernel_charts import KERNEL_TABLE_FORMATS, kernels_chart
from pointwise.kernels import kernels_summary
from pointwise.spec import RunSpec
from pointwise.text import escape_markdown
from pointwise.ui.progress import run_with_progress

HOW_TO_READ = (
    "Each variant is called as the timer calls it, then profiled for a few calls with TensorFlow's profiler. "
    "**op** is the kernel TensorFlow actually ran: after grappler's fusions (`_FusedMatMul`: the bias inside the "
    "GEMM) and oneDNN's rewrites (`_Mkl…`), or under XLA the compiled HLO instructions (fusions, dots, "
    "convolutions). **share** is its part of the variant's summed traced kernel time. Ops without a time ran "
    "but were not traced: TensorFlow runs cheap ops (reshapes, shape arithmetic) inline without a trace event."
)

HOW_TO_READ_JAX = (
    "On JAX each variant's call is what XLA compiled (`jax.jit(f).lower(...).compile()`): **op** is an instruction "
    "of the compiled module's entry computation, a fusion named by its kind and the ops it fuses (`__ynn_fusion: "
    "dot`: the matmul in XNNPACK's kernel). In eager mode, the primitives JAX dispatched one by one. Counts per "
    "call only: JAX's profiler is not read, so there is no time per op, only each call's wall time."
)


def show_kernels(spec: RunSpec, key: str) -> None:
    """The expander: the ops each variant of `spec` ran, with their time, profiled (or cached) when opened."""
    expander = st.expander("Kernels that ran", icon=":material/memory:", key=f"{key}_kernels", on_change="rerun")
    with expander:
        if not expander.open:
            return
        st.caption(HOW_TO_READ_JAX if spec.backend == "jax" else HOW_TO_READ)
        fresh = st.session_state.pop(f"{key}_kernels_fresh", False)
        computed = run_with_progress(
            "Profiling the kernels", lambda on_event: kernels_cached(spec, fresh=fresh, on_event=on_event)
        )
        if computed is None:
            return
        result = computed.result
        note, rerun = st.columns([5, 1], vertical_alignment="center")
        note.caption(f"Measured in {kernels_summary(result)} Profiled {computed.provenance()}.")
        rerun.button(
            "Re-run",
            key=f"{key}_kernels_rerun",
            icon=":material/refresh:",
            help="Profile again instead of showing the answer this server already has",
            on_click=lambda: st.session_state.update({f"{key}_kernels_fresh": True}),
        )
        for variant in result.variants:
            if variant.error:
                st.info(f"{escape_markdown(variant.label)}: {escape_markdown(variant.error, 400)}")
        frame = kernels_frame(result)
        if frame["µs per call"].notna().any():
            st.plotly_chart(
                kernels_chart(frame, f"Kernel time per call ({spec.mode}, {spec.pass_kind})"),
                key=f"{key}_kernels_chart",
            )
        config = {name: st.column_config.NumberColumn(format=fmt) for name, fmt in KERNEL_TABLE_FORMATS.items()}
        config["what it is"] = st.column_config.TextColumn(width="large")
        st.dataframe(frame, hide_index=True, column_config=config)
        profiled = [v for v in result.variants if v.wall_us is not None]
        if profiled and spec.backend == "jax":
            walls = "; ".join(f"{escape_markdown(v.label)} {v.wall_us:,.0f} µs" for v in profiled)
            st.caption(f"Wall time per call (mean of {min(v.calls for v in profiled)} calls): {walls}.")
        elif profiled:
            totals = "; ".join(
                f"{escape_markdown(v.label)} {v.kernel_us:,.0f} µs of {v.wall_us:,.0f} µs" for v in profiled
            )
            st.caption(
                f"Traced kernel time of the wall time per call (mean of {min(v.calls for v in profiled)} calls or more "
                f"per variant, profiler overhead included; kernels on parallel threads can add up past it): {totals}."
            )
