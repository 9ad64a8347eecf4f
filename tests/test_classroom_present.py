"""Issue #14's Classroom: the sweep and its counts, the animated figures, predict-then-measure verdicts on
recorded results, and presentation mode driven through AppTest (one step per screen, Previous/Next)."""

import numpy as np
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from pointwise.classroom import (
    lesson_input,
    lesson_weights,
    pixel_product,
    preset_output_labels,
    separable_costs,
)
from pointwise.classroom_charts import CHANNEL_COLOURS, PRESENT_NUMBER_PX, footprint_sweep, sweep_animation
from pointwise.classroom_quiz import (
    QUESTIONS,
    example3_spec,
    reveal_fastest,
    reveal_params,
    reveal_pointwise,
    speed_spec,
)
from pointwise.classroom_sweep import cost_rows, footprint, markdown_table, matrix_window, sweep_order, work_per_pixel
from pointwise.results import BenchmarkResult, EquivalenceReport, EquivalenceResult, Measurement


def test_sweep_order_is_matrix_row_order_and_the_window_keeps_the_row():
    order = sweep_order(5, 5)
    assert order[7] == (1, 2) and len(order) == 25
    for selected in range(25):
        window = matrix_window(25, selected)
        assert selected in window and len(window) == 7 and window.start >= 0 and window.stop <= 25
    assert footprint(0, 0, 3, 5, 5) == (0, 0, 1, 1) and footprint(2, 2, 3, 5, 5) == (1, 1, 3, 3)


def test_multiplication_counts_and_the_mobilenet_saving():
    one, three, separable = work_per_pixel(64, 128, 3)
    assert (one.multiplications, three.multiplications) == (64 * 128, 9 * 64 * 128)
    assert separable.multiplications == 9 * 64 + 64 * 128
    assert 8 < three.multiplications / separable.multiplications < 9


def test_tables_have_thousands_separators_and_yuv_rows_are_named():
    rows = cost_rows(separable_costs(56, 56, 64, 128, 3))
    assert rows[0]["FLOPs"] == "462,422,016"
    assert "| 462,422,016 |" in markdown_table(rows)
    assert preset_output_labels("RGB -> YUV (BT.601)") == ["out Y", "out U", "out V"]
    assert preset_output_labels("sepia") == ["out R", "out G", "out B"]


def test_pixel_terms_are_the_formula_and_sum_to_the_output():
    x, (kernel, bias) = lesson_input(2), lesson_weights(2)
    product = pixel_product(x, kernel, bias, 3, 1)
    assert product.formula(1).startswith(" + ".join(product.terms(1)))
    np.testing.assert_allclose(product.output, x[3, 1] @ kernel + bias)


def test_sweep_animation_has_a_frame_per_pixel_and_colours_weights_like_terms():
    x, (kernel, bias) = lesson_input(0), lesson_weights(0)
    figure = sweep_animation(x, kernel, bias, present=True)
    assert len(figure.frames) == 25 and len(figure.layout.sliders[0].steps) == 25
    last = figure.frames[-1]
    np.testing.assert_allclose(np.asarray(last.data[0].z, dtype=float), (x @ kernel + bias)[..., 0])
    assert np.isnan(np.asarray(figure.frames[3].data[0].z, dtype=float)).sum() == 25 - 4  # filled as it goes
    arithmetic = last.data[-1].text
    for c, colour in enumerate(CHANNEL_COLOURS):
        weight_cells = [a.text for a in figure.layout.annotations if colour in a.text]
        assert f"{kernel[c, 0]:g}</span>" in "".join(weight_cells)
        assert f"<span style='color:{colour}'>({x[4, 4, c]:g})·({kernel[c, 0]:g})</span>" in arithmetic[-2]
    assert figure.data[0].textfont.size == PRESENT_NUMBER_PX
    assert [b.label for b in figure.layout.updatemenus[0].buttons] == ["▶ Play", "❚❚ Pause"]


def test_footprint_sweep_outlines_one_pixel_and_a_neighbourhood():
    figure = footprint_sweep(lesson_input(0), 3)
    shapes = figure.frames[12].layout.shapes  # pixel (2, 2)
    one, three = shapes[0], shapes[3]
    assert (one.x1 - one.x0, three.x1 - three.x0) == (1, 3)


def _equivalence(params: int, equivalent: bool) -> EquivalenceResult:
    common = {"status": "ok", "baseline_shape": (1, 56, 56, 4), "baseline_params": 16, "flops": 1, "rel_tolerance": 1}
    reports = (
        EquivalenceReport("conv2d_1x1", "Conv2D", equivalent=True, output_shape=(1, 56, 56, 4), params=16, **common),
        EquivalenceReport(
            "seed_dense_flatten", "Ex 3", equivalent=equivalent, output_shape=(1, 1, 4), params=params, **common
        ),
    )
    return EquivalenceResult(spec=example3_spec(), reports=reports)


def test_reveals_put_the_measured_truth_beside_the_guess():
    result = _equivalence(37_636, equivalent=False)
    assert reveal_pointwise("no", result).correct and not reveal_pointwise("yes", result).correct
    assert "(1, 1, 4)" in reveal_pointwise("yes", result).detail
    exact = reveal_params(56 * 56 * 3 * 4 + 4, result)
    assert exact.correct and exact.truth == "37,636" and not reveal_params(16, result).correct
    spec = speed_spec()
    times = {"conv2d_1x1": 2e-3, "dense": 1e-3, "seed_matmul": 3e-3}
    measurements = tuple(Measurement(k, (t, t, t, t, t), 1, t) for k, t in times.items())
    fastest = reveal_fastest(
        "Dense on 4-D input", BenchmarkResult(spec=spec, measurements=measurements, environment={})
    )
    assert fastest.correct and "1.000 ms" in fastest.detail
    assert set(QUESTIONS) == {"example3_pointwise", "example3_params", "fastest"}


def _present():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.switch_page("pages/classroom.py")
    at.query_params["present"] = "1"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_presentation_mode_shows_one_step_with_previous_and_next(tmp_db):
    at = _present()
    seen = []
    for _ in range(6):
        (heading,) = at.header
        seen.append(heading.value.split(".")[0])
        forward = next(b for b in at.button if b.label == "Next")
        if forward.disabled:
            break
        forward.click()
        at.run()
        assert not at.exception, [e.value for e in at.exception]
    assert seen == ["1", "2", "3", "4", "5", "6"]
    next(b for b in at.button if b.label == "Previous").click()
    at.run()
    assert at.header[0].value.startswith("5.")
    at.toggle(key="present_toggle").set_value(False)
    at.run()
    assert len(at.header) == 6 and "present" not in at.query_params
