import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pointwise.errors import InvalidSpecError
from pointwise.spec import (
    INT_RANGES,
    MEMORY_BUDGET_ENV,
    RunSpec,
    check_live_size,
    estimate_memory_bytes,
    make_run_spec,
    normalize_device,
    parse_shape,
)


def test_defaults_and_coercion_from_strings():
    spec = make_run_spec(
        batch="16", filters=32.0, dtype=" Float16 ", device="gpu", onednn="on", variants="dense,pointwise"
    )
    assert spec.batch == 16 and spec.filters == 32 and spec.dtype == "float16"
    assert spec.device == "GPU:0" and spec.onednn == "on" and spec.variants == ("dense", "pointwise")
    assert spec.output_shape == (16, 56, 56, 32)
    assert spec.forward_flops == 2 * 16 * 56 * 56 * 64 * 32


def test_spec_is_frozen_and_round_trips():
    spec = make_run_spec(batch=2, variants=["dense"])
    with pytest.raises(AttributeError):
        spec.batch = 3
    assert make_run_spec(**spec.to_dict()) == spec
    assert hash(spec) == hash(make_run_spec(**spec.to_dict()))


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("batch", 0, "expected an integer in [1, 65,536]. Received batch=0."),
        ("height", -3, "Received height=-3."),
        ("width", "abc", "Received width='abc'."),
        ("channels", 2.5, "Received channels=2.5."),
        ("filters", True, "Received filters=True."),
        ("filters", 10**9, "Received filters=1000000000."),
        ("samples", 1, "expected an integer in [3, 2,000]"),
        ("dtype", "float8", "expected one of float32, float64, float16, bfloat16. Received dtype='float8'."),
        ("mode", "turbo", "Received mode='turbo'."),
        ("pass_kind", "sideways", "Received pass_kind='sideways'."),
        ("device", "TPU:0", "expected CPU:0 or GPU:n (n = 0..99). Received device='TPU:0'."),
        ("device", "GPU:-1", "Received device='GPU:-1'."),
        ("variants", ["nope"], "Received variants='nope'."),
        ("variants", [], "at least one variant key"),
        ("onednn", "maybe", "expected default, on or off"),
        ("colour", "red", "one of the fields"),
    ],
)
def test_each_bad_value_names_field_value_and_range(field, value, expected):
    with pytest.raises(InvalidSpecError) as info:
        make_run_spec(**{field: value})
    assert info.value.field == field
    assert expected in str(info.value)
    assert str(info.value).startswith(f"Invalid value for `{field}`")


def test_memory_budget_is_checked_and_configurable(monkeypatch):
    big = dict(batch=64, height=512, width=512, channels=256, filters=256)
    with pytest.raises(InvalidSpecError) as info:
        make_run_spec(**big)
    assert info.value.field == "shape" and "MiB" in str(info.value) and MEMORY_BUDGET_ENV in str(info.value)
    monkeypatch.setenv(MEMORY_BUDGET_ENV, str(10**6))
    assert make_run_spec(**big).batch == 64
    monkeypatch.setenv(MEMORY_BUDGET_ENV, "lots")
    with pytest.raises(InvalidSpecError) as info:
        make_run_spec()
    assert info.value.field == MEMORY_BUDGET_ENV


def test_memory_estimate_counts_example_3_weights():
    without = make_run_spec(variants=["dense"])
    with_flatten = make_run_spec(variants=["dense", "seed_dense_flatten"])
    extra = estimate_memory_bytes(with_flatten) - estimate_memory_bytes(without)
    assert extra >= 4 * 56 * 56 * 64 * 128


def test_parse_shape_and_devices():
    assert parse_shape("8, 56,56,64") == {"batch": 8, "height": 56, "width": 56, "channels": 64}
    for bad in ("8,56,56", "8,56,56,64,1", "a,b,c,d", "", "8,,56,64"):
        with pytest.raises(InvalidSpecError):
            parse_shape(bad)
    assert normalize_device("/device:cpu:0") == "CPU:0"
    assert normalize_device("gpu:3") == "GPU:3"


def test_live_size_cap_names_shape():
    check_live_size(make_run_spec(batch=1))
    with pytest.raises(InvalidSpecError) as info:
        check_live_size(make_run_spec(batch=64))
    assert info.value.field == "shape" and "live run" in str(info.value)


field_values = st.one_of(
    st.integers(-10, 10**6),
    st.text(max_size=8),
    st.floats(allow_nan=True),
    st.booleans(),
    st.none(),
    st.lists(st.text(max_size=6), max_size=3),
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from([*INT_RANGES, "dtype", "mode", "device", "variants", "onednn", "x"]), field_values, max_size=4
    )
)
def test_any_input_gives_a_spec_or_a_message_naming_the_field(values):
    try:
        spec = make_run_spec(**values)
    except InvalidSpecError as exc:
        assert exc.field in (*values, "shape")
        assert exc.field in str(exc)
    else:
        assert isinstance(spec, RunSpec)


def test_summary_is_one_line_with_the_knob_of_the_device():
    from pointwise.spec import RunSpec

    assert RunSpec().summary() == (
        "8x56x56x64 -> 128 · float32 · graph (tf.function) · forward · CPU:0 · oneDNN default · 30 samples × 8 variants"
    )
    assert "TF32 on" in make_run_spec(device="GPU:0").summary()


def test_a_benchmark_of_pointwiseconv2d_is_estimated_with_its_tuning_and_a_check_without():
    from pointwise.spec import TUNING_FACTOR

    tuned = make_run_spec(variants=["dense", "pointwise"])
    untuned = make_run_spec(variants=["dense", "matmul_2d"])
    tuning = TUNING_FACTOR * (tuned.input_elements + tuned.output_elements) * 4
    assert estimate_memory_bytes(tuned) - estimate_memory_bytes(tuned, "check") == int(tuning)
    assert estimate_memory_bytes(untuned) == estimate_memory_bytes(untuned, "check")
