import streamlit as st

from app import page_setup
from pointwise import StoreError
from pointwise.store import RunStore
from pointwise.text import escape_markdown

page_setup()
st.title("Pointwise Lab")
st.markdown(
    """
A **pointwise (1x1) convolution** maps the C channels of every pixel to F new channels with one shared
(C, F) matrix: `y[b, h, w, :] = x[b, h, w, :] @ W + bias`. No pixel looks at its neighbours, so the whole
layer is a single matrix product over B·H·W rows. Which way of writing it in Keras is fastest, and do the
popular recipes even compute the same thing? Here you can check, and measure.

| Page | What it does |
|---|---|
| **Explore** | Runs every chosen variant on your configuration and shows whether its output equals `Conv2D(filters, 1)`, error maps, and the code. |
| **Benchmark** | Times the variants with interleaved rounds; distributions, medians with 95% intervals, speedups with p-values, % of the roofline. |
| **Scaling** | Sweeps batch, image size or channels on log axes; speedup heatmaps and the roofline. |
| **Tune** | Measures variants × runtime knobs (oneDNN, allocator, threads, XLA, dtype, backend) within a time budget and ranks what each one is worth, with intervals. |
| **Models** | Every 1x1 convolution of MobileNetV2, MobileNetV3Small, EfficientNetB0 and ResNet50; converts them, checks the whole model and times it, BatchNorm folding included. |
| **Classroom** | A lesson for a class: one pixel, the sweep animated, 1x1 vs 3x3, colour mixing, the article dissected, predict-then-measure questions; a presentation mode for projectors. |
| **History** | Stored runs: filter, compare side by side, import results from other machines, export, delete. |

On Explore, Benchmark, Scaling and Tune the run configuration in the sidebar is in the URL: copy the link to share
exactly what you see.
"""
)
st.subheader("Latest stored result")
try:
    latest, unreadable = RunStore().latest_readable()
except StoreError as exc:
    st.error(escape_markdown(exc, 400))
    latest, unreadable = None, []
for problem in unreadable:
    st.warning(f"{escape_markdown(problem, 400)} It is skipped here; delete it on History.")
if latest is None:
    st.caption("No stored runs yet: run one on the Benchmark page, or import a JSON file on History.")
else:
    # Imported here, not at the top: plotly, pandas and scipy cost ~1.5 s to import, and a first visitor on a
    # fresh server must get an interactive home page within 2 s.
    from pointwise.charts import speedup_chart
    from pointwise.frames import stats_frame

    # Label, date and CPU may come from an imported file: shown as text, never as markdown.
    environment = latest.environment
    parts = (latest.label, environment.get("date"), environment.get("cpu"))
    st.caption(" · ".join(escape_markdown(v, 120) for v in parts if v not in (None, "")))
    stats = stats_frame(latest)
    st.plotly_chart(speedup_chart(stats))
    st.dataframe(stats[["variant", "median_ms", "iqr_ms", "gflops_per_s", "speedup_vs_conv2d"]], hide_index=True)
