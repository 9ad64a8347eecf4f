"""The Classroom's NumPy helpers against the real Keras layers, and its page driven through AppTest."""

import io

import keras
import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from pointwise.charts import channel_heatmaps
from pointwise.classroom import (
    COLOUR_PRESETS,
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
    pixel_product,
    pixel_row_index,
    pointwise_numpy,
    separable_costs,
    separable_ratio,
)
from pointwise.errors import ImportRejectedError
from pointwise.layers import SeedDenseFlatten, SeedEinsum, SeedMatmul


def _conv(kernel, bias):
    layer = keras.layers.Conv2D(kernel.shape[1], 1, dtype="float64")
    layer.build((1, 5, 5, kernel.shape[0]))
    layer.set_weights([kernel.reshape(1, 1, *kernel.shape), bias])
    return layer


def test_numpy_lesson_equals_real_conv2d_and_pixel_arithmetic():
    x = lesson_input(3)
    kernel, bias = lesson_weights(3)
    expected = np.asarray(_conv(kernel, bias)(x[None]))[0]
    np.testing.assert_allclose(pointwise_numpy(x, kernel, bias), expected, atol=1e-12)
    product = pixel_product(x, kernel, bias, 2, 4)
    np.testing.assert_allclose(product.output, expected[2, 4], atol=1e-12)
    assert product.formula(0).endswith(f"= {product.output[0]:.3g}")
    rows = as_matrix_rows(x)
    np.testing.assert_array_equal(rows[pixel_row_index(2, 4, 5)], x[2, 4])


def test_lesson_numbers_never_print_as_negative_zero():
    for seed in range(20):
        x = lesson_input(seed)
        kernel, bias = lesson_weights(seed)
        for values in (x, kernel, bias):
            assert not np.signbit(values[values == 0]).any()
    assert "(-0)" not in pixel_product(lesson_input(0), *lesson_weights(0), 2, 2).formula(0)


@pytest.mark.parametrize("preset", list(COLOUR_PRESETS))
def test_colour_mixing_is_a_real_pointwise_conv2d(preset):
    image = demo_image(32)
    matrix = COLOUR_PRESETS[preset]
    conv = keras.layers.Conv2D(3, 1, use_bias=False, dtype="float64")
    conv.build((1, 32, 32, 3))
    conv.set_weights([matrix.T.reshape(1, 1, 3, 3)])
    np.testing.assert_allclose(mix_colours(image, matrix), np.asarray(conv(image[None]))[0], atol=1e-12)
    shown = displayable(mix_colours(image, matrix))
    assert shown.min() >= 0 and shown.max() <= 1


def test_article_shapes_and_parameters_match_the_real_layers():
    b, h, w, c, f = 2, 6, 7, 3, 4
    x = np.zeros((b, h, w, c), "float32")
    for example, layer in ((1, SeedMatmul(f)), (2, SeedEinsum(f)), (3, SeedDenseFlatten(f))):
        out = layer(x)
        steps = article_example_steps(example, b, h, w, c, f)
        assert steps[-1].shape == tuple(out.shape)
        assert article_example_params(example, h, w, c, f) == sum(int(np.prod(v.shape)) for v in layer.weights)


def test_separable_costs():
    costs = {c.name: c for c in separable_costs(56, 56, 64, 128, 3)}
    standard, separable = costs["standard KxK convolution"], costs["depthwise + pointwise"]
    assert standard.params == 3 * 3 * 64 * 128 and costs["pointwise 1x1"].params == 64 * 128
    assert separable.flops / standard.flops == pytest.approx(separable_ratio(128, 3))
    assert separable.params / standard.params == pytest.approx(1 / 128 + 1 / 9)


def _png(width, height):
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 10, 10)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_upload_decoding_and_rejections():
    image = load_uploaded_image(_png(640, 320))
    assert image.shape[2] == 3 and max(image.shape[:2]) <= 192 and image.max() <= 1
    with pytest.raises(ImportRejectedError, match="not a readable PNG or JPEG"):
        load_uploaded_image(b"GIF89a not really")
    with pytest.raises(ImportRejectedError, match="empty"):
        load_uploaded_image(b"")
    with pytest.raises(ImportRejectedError, match="limit is"):
        load_uploaded_image(b"\x89PNG" + b"0" * MAX_UPLOAD_BYTES)
    with pytest.raises(ImportRejectedError, match="pixels"):
        load_uploaded_image(_png(5000, 4000))
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="BMP")
    with pytest.raises(ImportRejectedError, match="Expected a PNG or JPEG"):
        load_uploaded_image(buffer.getvalue())


def _encoded(image, fmt, **options):
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def test_sixteen_bit_png_is_scaled_not_clipped_to_white():
    mid_grey = Image.fromarray(np.full((40, 60), 32768, dtype=np.uint16))
    assert mid_grey.mode == "I;16"
    image = load_uploaded_image(_encoded(mid_grey, "PNG"))
    assert image.shape == (40, 60, 3)
    np.testing.assert_allclose(image, 0.5, atol=0.01)


def test_exif_orientation_is_applied():
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view": a portrait phone photo stored as landscape pixels
    image = load_uploaded_image(_encoded(Image.new("RGB", (60, 20), (0, 200, 0)), "JPEG", exif=exif))
    assert image.shape[:2] == (60, 20)


def test_camera_mpo_jpeg_is_read_as_its_first_frame():
    second_view = Image.new("RGB", (30, 20), (0, 0, 255))
    data = _encoded(Image.new("RGB", (30, 20), (255, 0, 0)), "MPO", save_all=True, append_images=[second_view])
    assert Image.open(io.BytesIO(data)).format == "MPO"
    image = load_uploaded_image(data)
    assert image.shape == (20, 30, 3)
    np.testing.assert_allclose(image[10, 15], [1, 0, 0], atol=0.02)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"not an image", "cannot identify the image format"),
        (b"\x89PNG\r\n\x1a\n garbage", "damaged or cut short"),
        (_png(50, 50)[:60], "damaged or cut short"),
    ],
)
def test_unreadable_upload_names_the_problem_not_the_buffer(data, problem):
    with pytest.raises(ImportRejectedError) as caught:
        load_uploaded_image(data)
    message = str(caught.value)
    assert message.startswith("The file is not a readable PNG or JPEG image: ") and problem in message
    assert "BytesIO" not in message and "<" not in message


def test_classroom_heatmaps_keep_numbers_legible_and_count_channels_from_first_channel():
    fig = channel_heatmaps(np.zeros((1, 5, 5)), "input channel", -1, 1, (0, 0), first_channel=2)
    assert [a.text for a in fig.layout.annotations] == ["input channel 2"]
    assert fig.data[0].textfont.size >= 12 and fig.data[0].texttemplate


def _classroom():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.switch_page("pages/classroom.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _formula_lines(at):
    return [m.value for m in at.markdown if m.value.startswith("Output channel")]


def test_classroom_sections_respond_to_their_widgets(tmp_db):
    at = _classroom()
    first = _formula_lines(at)
    at.slider(key="pixel_row").set_value(3)
    at.slider(key="pixel_col").set_value(0)
    at.run()
    moved = _formula_lines(at)
    assert moved != first and "(3, 0)" in moved[0]
    at.session_state["weights_editor"] = {"edited_rows": {0: {"filter 0": 9.0}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert "(9)" in _formula_lines(at)[0]
    at.selectbox(key="colour_preset").set_value("sepia")
    at.run()
    assert not at.exception and len(at.get("image")) == 2
    at.slider(key="article_side").set_value(100)
    at.run()
    assert any(f"{100 * 100 * 3 * 4 + 4:,}" in m.value for m in at.markdown)
    at.number_input(key="cost_f").set_value(256)
    at.run()
    assert any(f"{1 / 256 + 1 / 9:.1%}" in m.value for m in at.markdown)
    next(b for b in at.button if b.label == "Randomise input and weights").click()
    at.run()
    assert not at.exception


def test_classroom_upload_good_and_bad(tmp_db):
    at = _classroom()
    at.file_uploader[0].set_value(("mine.png", _png(300, 200), "image/png"))
    at.run()
    assert not at.exception and not at.error
    at.file_uploader[0].set_value(("[evil](x).png", b"not an image", "image/png"))
    at.run()
    assert not at.exception
    (error,) = at.error
    assert "not a readable PNG or JPEG" in error.value and "cannot identify the image format" in error.value
    assert error.value.startswith(r"\[evil\]\(x\)\.png") and "BytesIO" not in error.value


@pytest.mark.slow
def test_four_keras_forms_agree_with_the_matrix_product(tmp_db):
    at = _classroom()
    next(b for b in at.button if b.label == "Run the four Keras forms on these numbers").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    table = next(d.value for d in at.dataframe if "form" in d.value.columns)
    assert len(table) == 4 and table.iloc[:, 1].max() < 1e-12
