import numpy as np
import pandas as pd
import plotly.express as px
import streamlit as st

from app import page_setup
from pointwise import ImportRejectedError
from pointwise.classroom import (
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
    pointwise_numpy,
    preset_output_labels,
    separable_costs,
    separable_ratio,
)
from pointwise.classroom_charts import PRESENT_NUMBER_PX, footprint_sweep, lesson_heatmap, sweep_animation, work_chart
from pointwise.classroom_quiz import (
    QUESTIONS,
    example3_spec,
    reveal_fastest,
    reveal_params,
    reveal_pointwise,
    speed_spec,
)
from pointwise.classroom_sweep import cost_rows, markdown_table, matrix_window, work_per_pixel, work_rows
from pointwise.jobs import run_benchmark, run_check, run_lesson_forms
from pointwise.text import escape_markdown
from pointwise.ui import run_with_progress

page_setup()

PRESENT_CSS = """<style>
[data-testid=stSidebar], [data-testid=stSidebarCollapsedControl], [data-testid=stExpandSidebarButton] {display: none}
[data-testid=stMainBlockContainer] {padding-top: 3.6rem; padding-bottom: 1rem; max-width: none}
[data-testid=stMarkdownContainer] p, [data-testid=stMarkdownContainer] li,
[data-testid=stMarkdownContainer] td, [data-testid=stMarkdownContainer] th,
[data-testid=stTable] td, [data-testid=stTable] th {font-size: 1.25rem}
h2 {font-size: 1.9rem !important; padding: 0 0 0.3rem 0 !important}
</style>"""
# Presentation mode: no sidebar (only the page menu lives there on this page), less padding, and text at 20 px
# so the back row reads it at 1280x720. The router sets the page configuration once for every page, so the
# sidebar is hidden here by CSS rather than `initial_sidebar_state`. (Comments, not docstrings: Streamlit's
# "magic" prints a loose string in a page script.)


def _sync_presentation() -> None:
    """The toggle writes the URL, so a projector's bookmark (`?present=1`) opens straight into the lesson."""
    if st.session_state["present_toggle"]:
        st.query_params["present"] = "1"
    else:
        st.query_params.pop("present", None)


def _move(step: int) -> None:
    st.session_state["present_step"] = step


def lesson_arrays():
    """The lesson's input and weights: the seed's, with the visitor's edits from step 1's table."""
    seed = st.session_state.get("lesson_seed", 0)
    kernel, bias = st.session_state.get("lesson_weights", lesson_weights(seed))
    return lesson_input(seed), kernel, bias


@st.cache_resource(show_spinner=False, max_entries=64)
def heatmap_panels(maps, title, zmin, zmax, highlight, number_px) -> list:
    # cache_resource, not cache_data: unpickling a Plotly figure revalidates it (~0.2 s for an animation).
    return [lesson_heatmap(maps[k : k + 1], title, zmin, zmax, highlight, k, number_px) for k in range(len(maps))]


@st.cache_resource(show_spinner=False, max_entries=32)
def sweep_figure(x, kernel, bias, present: bool):
    return sweep_animation(x, kernel, bias, present=present)


@st.cache_resource(show_spinner=False, max_entries=32)
def footprint_figure(x, side: int, present: bool):
    return footprint_sweep(x, side, present=present)


def show_heatmaps(container, maps, title, zmin, zmax, highlight, present: bool) -> None:
    """One figure per channel in three columns (the input's channel count), so output panels line up under the
    input panels, and a phone stacks them instead of squeezing three panels' numbers and titles together."""
    columns = container.columns(LESSON_SHAPE[2])
    number_px = PRESENT_NUMBER_PX if present else 13
    for k, figure in enumerate(heatmap_panels(maps, title, zmin, zmax, highlight, number_px)):
        columns[k].plotly_chart(figure, key=f"{title}_{k}")


def editable_numbers(container, table: pd.DataFrame, key: str, present: bool, edit_label: str) -> np.ndarray:
    """An editable table of numbers; in presentation mode drawn as a large static table (the editor's canvas
    draws 14 px numbers, too small for a projector) with the editor one click away in a popover."""
    if not present:
        return np.nan_to_num(container.data_editor(table, key=key).to_numpy(dtype=float))
    with container.popover(edit_label, icon=":material/edit:"):
        edited = np.nan_to_num(st.data_editor(table, key=key).to_numpy(dtype=float))
    container.table(pd.DataFrame(edited, index=table.index, columns=table.columns).style.format("{:g}"))
    return edited


def one_pixel(present: bool) -> None:
    st.header("1. One pixel")
    controls, view = st.columns([1.3, 3]) if present else (st.container(), st.container())
    controls.markdown(
        "A 5×5 input with 3 channels (one heatmap each). At the pixel you pick, its 3 channel values times a 3×2 "
        "weight matrix, plus a bias, give that pixel's 2 output channels."
    )
    if controls.button("Randomise input and weights", icon=":material/casino:"):
        st.session_state["lesson_seed"] = st.session_state.get("lesson_seed", 0) + 1
        for key in ("weights_editor", "forms", "lesson_weights"):
            st.session_state.pop(key, None)
    seed = st.session_state.get("lesson_seed", 0)
    x = lesson_input(seed)
    default_kernel, default_bias = lesson_weights(seed)
    picker = controls.columns(2)
    row = picker[0].slider("Pixel row", 0, LESSON_SHAPE[0] - 1, 1, key="pixel_row")
    col = picker[1].slider("Pixel column", 0, LESSON_SHAPE[1] - 1, 2, key="pixel_col")
    weights_table = pd.DataFrame(
        np.vstack([default_kernel, default_bias]),
        index=[f"channel {c}" for c in range(LESSON_SHAPE[2])] + ["bias"],
        columns=[f"filter {f}" for f in range(default_kernel.shape[1])],
    )
    weights = editable_numbers(controls, weights_table, "weights_editor", present, "Edit the weights")
    kernel, bias = weights[:-1], weights[-1]
    st.session_state["lesson_weights"] = (kernel, bias)
    show_heatmaps(view, x.transpose(2, 0, 1), "input channel", -1.0, 1.0, (row, col), present)
    product = pixel_product(x, kernel, bias, row, col)
    for f in range(kernel.shape[1]):
        view.markdown(f"Output channel {f} at ({row}, {col}) = `{product.formula(f)}`")
    output = pointwise_numpy(x, kernel, bias)
    show_heatmaps(view, output.transpose(2, 0, 1), "output channel", output.min(), output.max(), (row, col), present)


def framed(matrix: np.ndarray, prefix: str, window: range, selected: int):
    """Rows `window` of `matrix`, two decimals, the selected row highlighted and labelled with its index."""
    table = pd.DataFrame(matrix[window.start : window.stop], index=[f"row {r}" for r in window])
    table.columns = [f"{prefix}{k}" for k in range(matrix.shape[1])]
    style = table.style.format("{:.2f}")
    return style.highlight_between(subset=pd.IndexSlice[f"row {selected}", :], color="#ffd54f")


def sweep(present: bool) -> None:
    st.header("2. Every pixel: the sweep, then one matrix product")
    st.markdown(
        "Press **Play**: the 1×1 kernel visits every pixel. Channel *c*, weight row *c* and term *c* share a colour."
    )
    x, kernel, bias = lesson_arrays()
    st.plotly_chart(sweep_figure(x, kernel, bias, present), key="sweep_animation")
    height, width, channels = x.shape
    rows = height * width
    st.markdown(
        f"The same sweep as **one matrix product**: stack the pixels as rows, ({height}, {width}, {channels}) → "
        f"({rows}, {channels}); times the ({channels}, {kernel.shape[1]}) weights, plus the bias row, gives "
        f"({rows}, {kernel.shape[1]}), reshaped back to ({height}, {width}, {kernel.shape[1]})."
    )
    selected = st.slider("Matrix row (= pixel row × 5 + pixel column)", 0, rows - 1, 7, key="matrix_row")
    window = matrix_window(rows, selected)
    output = pointwise_numpy(x, kernel, bias)
    inputs, times, weights, equals, outputs = st.columns([4, 1, 4, 1, 4])
    inputs.table(framed(as_matrix_rows(x), "c", window, selected))
    times.markdown("## ×")
    weight_rows = pd.DataFrame(np.vstack([kernel, bias]), index=[f"c{c}" for c in range(channels)] + ["bias"])
    weights.table(weight_rows.rename(columns=lambda f: f"f{f}").style.format("{:.2f}"))
    equals.markdown("## =")
    outputs.table(framed(as_matrix_rows(output), "f", window, selected))
    if st.button("Run the four Keras forms on these numbers", icon=":material/play_arrow:"):
        forms = run_with_progress(
            "Running Conv2D 1x1, Dense, matmul and einsum",
            lambda on_event: run_lesson_forms(x, kernel, bias, on_event=on_event),
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


def neighbourhoods(present: bool) -> None:
    st.header("3. 1x1 against 3x3")
    x, kernel, _ = lesson_arrays()
    channels, filters = kernel.shape
    st.markdown(
        "A 3×3 kernel reads a neighbourhood of every channel: it mixes space *and* channels. A 1×1 mixes channels only."
    )
    st.plotly_chart(footprint_figure(x, 3, present), key="footprint_sweep")
    st.markdown(markdown_table(work_rows(work_per_pixel(channels, filters, 3))))
    big_c, big_f = 64, 128
    st.markdown(
        f"MobileNet's block splits the 3×3 into a depthwise 3×3 (one filter per channel) and a pointwise 1×1. "
        f"At C = {big_c}, F = {big_f} it does **{1 / separable_ratio(big_f, 3):.1f}× fewer** multiplications "
        f"(1/F + 1/9 of the work): step 6 has the numbers for any layer."
    )


def colours(present: bool) -> None:
    st.header("4. Colour is pointwise")
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
    controls, before, after = st.columns([2, 1, 1]) if present else (st.container(), *st.columns(2))
    preset = controls.selectbox("Preset", list(COLOUR_PRESETS), key="colour_preset")
    matrix_table = pd.DataFrame(COLOUR_PRESETS[preset], index=preset_output_labels(preset), columns=["R", "G", "B"])
    matrix = editable_numbers(controls, matrix_table, f"matrix_{preset}", present, "Edit the matrix")
    before.image(image, caption="before", width="stretch", clamp=True)
    caption = "after: out = M · rgb at every pixel"
    after.image(displayable(mix_colours(image, matrix)), caption=caption, width="stretch", clamp=True)


def ask(key: str, measure, title: str) -> None:
    """Predict, then measure: the guess is locked in before `measure(guess, on_event)` runs in the worker."""
    question = QUESTIONS[key]
    answers = st.session_state.setdefault("answers", {})
    st.markdown(f"**Predict:** {question.prompt}")
    left, right = st.columns([3, 1], vertical_alignment="center")
    if question.options:
        guess = left.radio(
            question.prompt,
            question.options,
            index=None,
            horizontal=True,
            key=f"guess_{key}",
            label_visibility="collapsed",
        )
    else:
        guess = left.number_input(
            question.prompt,
            0,
            None,
            None,
            1,
            key=f"guess_{key}",
            placeholder="your guess",
            label_visibility="collapsed",
        )
    if right.button("Reveal: measure it", key=f"reveal_{key}", disabled=guess is None, icon=":material/science:"):
        reveal = run_with_progress(title, lambda on_event: measure(guess, on_event))
        if reveal is not None:
            answers[key] = reveal.to_dict()
    if key in answers:
        answer = answers[key]
        verdict = "right" if answer["correct"] else "not quite"
        st.markdown(f"Your guess: **{escape_markdown(answer['guess'])}** · measured: **{answer['truth']}** ({verdict})")
        st.caption(answer["detail"])


def article(present: bool) -> None:
    st.header("5. The article's examples, dissected")
    ask("example3_pointwise", lambda g, e: reveal_pointwise(g, run_check(example3_spec(), on_event=e)), "Checking")
    ask("example3_params", lambda g, e: reveal_params(g, run_check(example3_spec(), on_event=e)), "Counting")
    b, c, f = 2, 3, 4
    shapes, chart = st.columns([1, 1]) if present else (st.container(), st.container())
    side = shapes.slider("Image size H = W", 2, 224, 8, key="article_side")
    for example, tab in zip((1, 2, 3), shapes.tabs([f"Example {e}" for e in (1, 2, 3)]), strict=True):
        steps = article_example_steps(example, b, side, side, c, f)
        lines = [f"`{s.code}`" for s in steps]  # code, so "+ bias" is not read as a Markdown list item
        tab.table(pd.DataFrame({"line": lines, "shape": [str(s.shape) for s in steps]}))
        tab.markdown(f"Parameters: **{article_example_params(example, side, side, c, f):,}**")
    sizes = sorted({2, 4, 8, 16, 32, 64, 128, 224, side})
    figure = px.line(
        pd.DataFrame(params_vs_size(c, f, sizes)), x="H = W", y="parameters", color="example", markers=True, log_y=True
    )
    figure.update_layout(title=f"Parameters vs image size (C={c}, F={f})", height=330, yaxis_tickformat=",")
    chart.plotly_chart(figure)


def cost(present: bool) -> None:
    st.header("6. Why it matters: cost")
    ask("fastest", lambda g, e: reveal_fastest(g, run_benchmark(speed_spec(), on_event=e)), "Timing three layers")
    k1, k2, k3, k4 = st.columns(4)
    c = k1.number_input("C", 1, 4096, 64, key="cost_c")
    f = k2.number_input("F", 1, 4096, 128, key="cost_f")
    k = k3.number_input("K", 1, 15, 3, key="cost_k")
    side = k4.number_input("H = W", 1, 1024, 56, key="cost_hw")
    table, chart = st.columns([1, 1]) if present else (st.container(), st.container())
    table.markdown(markdown_table(cost_rows(separable_costs(side, side, c, f, k))))
    table.markdown(
        f"Depthwise + pointwise costs **{separable_ratio(f, k):.1%}** of the standard convolution "
        f"(1/F + 1/K² = 1/{f} + 1/{k}²)."
    )
    chart.plotly_chart(work_chart(work_per_pixel(c, f, k), present=present))
    st.page_link(
        "pages/benchmark.py",
        label="Benchmark this pointwise layer",
        icon=":material/speed:",
        query_params={"channels": c, "filters": f, "height": side, "width": side},
    )


STEPS = [one_pixel, sweep, neighbourhoods, colours, article, cost]


def presentation_bar() -> int:
    """Previous / step k of n / Next and the mode's toggle: the current step's index, kept in the session."""
    step = min(st.session_state.get("present_step", 0), len(STEPS) - 1)
    back, where, forward, toggle = st.columns([1, 1, 1, 2], vertical_alignment="center")
    toggle.toggle("Presentation mode", key="present_toggle", on_change=_sync_presentation)
    back.button("Previous", icon=":material/arrow_back:", disabled=step == 0, on_click=_move, args=(step - 1,))
    where.markdown(f"**Step {step + 1} of {len(STEPS)}**")
    last = step == len(STEPS) - 1
    forward.button("Next", icon=":material/arrow_forward:", disabled=last, on_click=_move, args=(step + 1,))
    return step


present = st.query_params.get("present") == "1"
st.session_state["present_toggle"] = present
if present:
    st.html(PRESENT_CSS)
    step = presentation_bar()
    # Each step is a fragment: a click reruns that step only, so every answer stays under half a second.
    st.fragment(STEPS[step])(present)
else:
    st.title("Classroom: what is a 1x1 convolution?")
    st.markdown("**A 1x1 convolution is a matrix product over channels, applied at every pixel.** Six short steps.")
    st.toggle(
        "Presentation mode", key="present_toggle", on_change=_sync_presentation, help="Projector: one step per screen"
    )
    for step_function in STEPS:
        st.fragment(step_function)(present)
