import numpy as np
import pandas as pd
import plotly.express as px
import streamlit as st

from app import page_setup, run_with_progress
from pointwise import ImportRejectedError
from pointwise.charts import channel_heatmaps
from pointwise.classroom import (
    ARTICLE_EXAMPLE_IS_POINTWISE,
    COLOUR_PRESETS,
    LESSON_SHAPE,
    MAX_UPLOAD_BYTES,
    article_example_params,
    article_example_steps,
    as_matrix_rows,
    demo_image,
    displayable,
    lesson_input,
    lesson_weights,
    load_uploaded_image,
    mix_colours,
    params_vs_size,
    pixel_product,
    pixel_row_index,
    pointwise_numpy,
    separable_costs,
    separable_ratio,
)
from pointwise.jobs import run_forms
from pointwise.text import escape_markdown

page_setup()
st.title("Classroom: what is a 1x1 convolution?")
st.markdown("**A 1x1 convolution is a matrix product over channels, applied at every pixel.** Five short steps.")


@st.cache_data(show_spinner=False, max_entries=512)
def heatmap_panels(maps: np.ndarray, title: str, zmin: float, zmax: float, highlight: tuple[int, int]) -> list:
    return [channel_heatmaps(maps[k : k + 1], title, zmin, zmax, highlight, first_channel=k) for k in range(len(maps))]


def show_heatmaps(maps: np.ndarray, title: str, zmin: float, zmax: float, highlight: tuple[int, int]) -> None:
    """One figure per channel, in columns: side by side on a wide screen, stacked by Streamlit on a phone, where
    three panels in one figure leave cells too small for readable numbers and titles that overlap. Always three
    columns (the input's channel count), so output panels line up under the input panels."""
    columns = st.columns(LESSON_SHAPE[2])
    for k, figure in enumerate(heatmap_panels(maps, title, zmin, zmax, highlight)):
        columns[k].plotly_chart(figure, key=f"{title}_{k}")


def highlighted_rows(matrix: np.ndarray, columns: list[str], row: int):
    return pd.DataFrame(matrix, columns=columns).style.highlight_between(subset=pd.IndexSlice[row, :], color="#ffd54f")


# Each section is a fragment: a click reruns that section only, so every answer stays under half a second.
@st.fragment
def pixel_sections() -> None:
    st.header("1. One pixel")
    st.markdown(
        "The input has 5×5 pixels and 3 channels (one heatmap each). Pick a pixel: its 3 channel values are "
        "multiplied by a 3×2 weight matrix, and the 2 results become that pixel's 2 output channels."
    )
    if st.button("Randomise input and weights", icon=":material/casino:"):
        st.session_state["lesson_seed"] = st.session_state.get("lesson_seed", 0) + 1
        st.session_state.pop("weights_editor", None)
        st.session_state.pop("forms", None)
    seed = st.session_state.get("lesson_seed", 0)
    x = lesson_input(seed)
    height, width, channels = x.shape
    default_kernel, default_bias = lesson_weights(seed)
    picker = st.columns(2)
    row = picker[0].slider("Pixel row", 0, height - 1, 1, key="pixel_row")
    col = picker[1].slider("Pixel column", 0, width - 1, 2, key="pixel_col")
    weights_table = pd.DataFrame(
        np.vstack([default_kernel, default_bias]),
        index=[f"channel {c}" for c in range(channels)] + ["bias"],
        columns=[f"filter {f}" for f in range(default_kernel.shape[1])],
    )
    weights = np.nan_to_num(st.data_editor(weights_table, key="weights_editor", width="content").to_numpy(float))
    kernel, bias = weights[:-1], weights[-1]
    show_heatmaps(x.transpose(2, 0, 1), "input channel", -1.0, 1.0, (row, col))
    product = pixel_product(x, kernel, bias, row, col)
    for f in range(kernel.shape[1]):
        st.markdown(f"Output channel {f} at ({row}, {col}) = `{product.formula(f)}`")
    output = pointwise_numpy(x, kernel, bias)
    output_range = float(output.min()), float(output.max())
    show_heatmaps(output.transpose(2, 0, 1), "output channel", *output_range, (row, col))

    st.header("2. Every pixel at once = one matrix product")
    selected = pixel_row_index(row, col, width)
    st.markdown(
        f"Stack the pixels as rows: the (5, 5, 3) input becomes a ({height * width}, 3) matrix. One product with the "
        f"(3, 2) weights gives ({height * width}, 2), which reshapes back to (5, 5, 2). Your pixel is row {selected}."
    )
    matrices = st.columns([3, 2, 3])
    matrices[0].dataframe(highlighted_rows(as_matrix_rows(x), ["c0", "c1", "c2"], selected), height=300)
    matrices[1].dataframe(pd.DataFrame(kernel, columns=["f0", "f1"]))
    matrices[2].dataframe(highlighted_rows(as_matrix_rows(output), ["f0", "f1"], selected), height=300)
    if st.button("Run the four Keras forms on these numbers", icon=":material/play_arrow:"):
        forms = run_with_progress(
            "Running Conv2D 1x1, Dense, matmul and einsum",
            lambda on_event: run_forms(x, kernel, bias, on_event=on_event),
        )
        if forms is not None:
            st.session_state["forms"] = forms
    if "forms" in st.session_state:
        st.dataframe(
            pd.DataFrame(
                [
                    {"form": name, "max |difference| from the NumPy matrix product": r["max_abs_err_vs_numpy"]}
                    for name, r in st.session_state["forms"].items()
                ]
            ),
            hide_index=True,
        )


@st.fragment
def colour_section() -> None:
    st.header("3. Colour is pointwise")
    st.markdown(
        "Recolouring a photo mixes its R, G and B values at every pixel with one 3×3 matrix: a pointwise "
        "convolution with 3 input and 3 output channels. Pick a preset or edit the matrix."
    )
    upload = st.file_uploader(
        "Your own image (PNG or JPEG)", type=["png", "jpg", "jpeg"], max_upload_size=MAX_UPLOAD_BYTES // 2**20
    )
    image = demo_image()
    if upload is not None:
        try:
            image = load_uploaded_image(upload.getvalue())
        except ImportRejectedError as exc:
            # The message is ours (load_uploaded_image never quotes Pillow), so only the visitor's file name is escaped.
            st.error(f"{escape_markdown(upload.name)}: {exc} Showing the built-in image instead.")
    preset = st.selectbox("Preset", list(COLOUR_PRESETS), key="colour_preset")
    matrix_table = pd.DataFrame(COLOUR_PRESETS[preset], index=["out R", "out G", "out B"], columns=["R", "G", "B"])
    matrix = np.nan_to_num(st.data_editor(matrix_table, key=f"matrix_{preset}").to_numpy(dtype=float))
    before, after = st.columns(2)
    before.image(image, caption="before", width="stretch", clamp=True)
    after.image(
        displayable(mix_colours(image, matrix)),
        caption="after: out = M · rgb at every pixel",
        width="stretch",
        clamp=True,
    )


@st.fragment
def article_section() -> None:
    st.header("4. The article's examples, dissected")
    st.markdown(
        "Follow the shape through each line. Examples 1 and 2 keep one (C, F) matrix; Example 3 flattens the image "
        "into one vector, so its Dense layer needs a weight for every pixel: it is not a pointwise convolution."
    )
    b, c, f = 2, 3, 4
    side = st.slider("Image size H = W", 2, 224, 8, key="article_side")
    for example, tab in zip((1, 2, 3), st.tabs([f"Example {e}" for e in (1, 2, 3)]), strict=True):
        steps = article_example_steps(example, b, side, side, c, f)
        tab.dataframe(
            pd.DataFrame({"line": [s.code for s in steps], "shape": [str(s.shape) for s in steps]}), hide_index=True
        )
        tab.markdown(
            f"Parameters: **{article_example_params(example, side, side, c, f):,}** · pointwise convolution: "
            f"**{ARTICLE_EXAMPLE_IS_POINTWISE[example]}**"
        )
    sizes = sorted({2, 4, 8, 16, 32, 64, 128, 224, side})
    st.plotly_chart(
        px.line(
            pd.DataFrame(params_vs_size(c, f, sizes)),
            x="H = W",
            y="parameters",
            color="example",
            markers=True,
            log_y=True,
            title=f"Parameters vs image size (C={c}, F={f})",
        )
    )


@st.fragment
def cost_section() -> None:
    st.header("5. Why it matters: cost")
    st.markdown(
        "MobileNet replaces a K×K convolution by a K×K depthwise convolution (one filter per channel) followed by a "
        "pointwise one. The pointwise part does the channel mixing, and most of the remaining work."
    )
    k1, k2, k3, k4 = st.columns(4)
    c = k1.number_input("C", 1, 4096, 64, key="cost_c")
    f = k2.number_input("F", 1, 4096, 128, key="cost_f")
    k = k3.number_input("K", 1, 15, 3, key="cost_k")
    side = k4.number_input("H = W", 1, 1024, 56, key="cost_hw")
    costs = separable_costs(side, side, c, f, k)
    st.dataframe(
        pd.DataFrame([{"layer": cost.name, "parameters": cost.params, "FLOPs": cost.flops} for cost in costs]),
        hide_index=True,
    )
    st.markdown(
        f"Depthwise + pointwise costs **{separable_ratio(f, k):.1%}** of the standard convolution "
        f"(1/F + 1/K² = 1/{f} + 1/{k}²)."
    )
    st.page_link(
        "pages/benchmark.py",
        label="Benchmark this pointwise layer",
        icon=":material/speed:",
        query_params={"channels": c, "filters": f, "height": side, "width": side},
    )


pixel_sections()
colour_section()
article_section()
cost_section()
