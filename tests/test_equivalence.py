import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import small_spec
from pointwise.spec import DTYPES, make_run_spec
from pointwise.variants import VARIANTS
from pointwise.worker.equivalence import check_equivalence, relative_tolerance

ALL = list(VARIANTS)

shapes = st.fixed_dictionaries(
    {
        "batch": st.sampled_from([1, 2, 3]),
        "height": st.sampled_from([1, 2, 5, 7]),
        "width": st.sampled_from([1, 3, 6]),
        "channels": st.sampled_from([1, 2, 5, 17]),
        "filters": st.sampled_from([1, 3, 8]),
        "seed": st.integers(0, 1000),
    }
)


@pytest.mark.parametrize("dtype", DTYPES)
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=shapes)
def test_every_pointwise_variant_is_equivalent_over_many_shapes(dtype, shape):
    spec = make_run_spec(**shape, dtype=dtype, variants=ALL, mode="eager")
    reports = {r.key: r for r in check_equivalence(spec).reports}
    for key, report in reports.items():
        assert report.status == "ok", (key, report.reason)
        if key == "seed_dense_flatten":
            continue
        assert report.equivalent, (key, dtype, shape, report.reason)
        assert report.max_rel_err <= relative_tolerance(dtype, shape["channels"])
        assert report.max_rel_err_vs_float64 <= relative_tolerance(dtype, shape["channels"])


def test_seed_dense_flatten_is_not_equivalent_with_exact_parameter_count():
    spec = small_spec(batch=2, height=6, width=7, channels=5, filters=3, variants=ALL)
    report = next(r for r in check_equivalence(spec).reports if r.key == "seed_dense_flatten")
    assert not report.equivalent
    assert report.output_shape == (2, 1, 3)
    assert report.params == 6 * 7 * 5 * 3 + 3
    assert report.baseline_params == 5 * 3 + 3
    assert "Not a pointwise convolution" in report.reason and "(2, 1, 3)" in report.reason


def test_seed_einsum_is_equivalent_after_reshape_and_says_so():
    spec = small_spec(variants=["seed_einsum"])
    report = check_equivalence(spec).reports[0]
    assert report.equivalent and not report.shape_matches
    assert report.output_shape == (1, 20, 2)
    assert "equivalent after reshape to (B, H, W, F)" in report.note


@pytest.mark.parametrize("mode", ["graph", "xla"])
def test_compiled_modes_agree(mode):
    result = check_equivalence(small_spec(mode=mode, variants=["pointwise", "dense", "seed_matmul"]))
    assert all(r.equivalent for r in result.reports)


def test_use_bias_false_and_diff_outputs():
    result = check_equivalence(small_spec(use_bias=False, variants=["matmul_2d"]), diff_channel=1)
    report = result.reports[0]
    assert report.equivalent and report.params == 3 * 2
    assert len(report.diff_map) == 4 and len(report.diff_map[0]) == 5
    assert sum(report.diff_histogram["counts"]) == 1 * 4 * 5 * 2


def test_tolerance_scales_with_channels_and_precision():
    assert relative_tolerance("float32", 64) < relative_tolerance("float32", 1024)
    assert relative_tolerance("float64", 64) < relative_tolerance("float32", 64) < relative_tolerance("float16", 64)
    assert relative_tolerance("float32", 64) == pytest.approx(2 * 66 * 2**-24)


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_input_tensor_is_the_cast_reference_input_built_in_slabs(dtype):
    import numpy as np
    import tensorflow as tf

    from pointwise.worker.runtime import SLAB_ELEMENTS, default_runtime, make_input

    input_tensor = default_runtime().input_tensor

    # Several slabs and a short last one: 200 rows of 64*70 elements, 58 rows per slab.
    spec = make_run_spec(batch=2, height=100, width=64, channels=70, filters=3, dtype=dtype, seed=7)
    assert spec.batch * spec.height * spec.width * spec.channels > 3 * SLAB_ELEMENTS
    expected = tf.cast(tf.constant(make_input(spec)), dtype).numpy()
    assert np.array_equal(
        input_tensor(spec).numpy().view(np.uint16 if dtype != "float32" else np.uint32),
        expected.view(np.uint16 if dtype != "float32" else np.uint32),
    )


def test_kept_reference_slabs_change_no_figure(monkeypatch):
    from pointwise.worker import equivalence

    # Two reference slabs (1200 rows of 16 x 17, 2**18 // (16 * 17) = 963 rows per slab), and a variant that
    # differs from the baseline, so every figure depends on the reference.
    spec = make_run_spec(batch=3, height=400, width=16, channels=17, filters=16, variants=ALL, mode="eager")
    kept = check_equivalence(spec, diff_channel=5).to_dict()
    half = 16 * 16 * 8 * 2 * (2**18 // (16 * 17))  # room for one slab's pair of float64 arrays, not two
    monkeypatch.setattr(equivalence, "REFERENCE_CACHE_BYTES", half)
    assert check_equivalence(spec, diff_channel=5).to_dict() == kept
    monkeypatch.setattr(equivalence, "REFERENCE_CACHE_BYTES", 0)
    assert check_equivalence(spec, diff_channel=5).to_dict() == kept


def _to_tf32(values: np.ndarray) -> np.ndarray:
    """float32 rounded to TensorFloat-32's 10 mantissa bits (round to nearest), as a GPU's tensor cores read it."""
    bits = values.astype(np.float32).view(np.uint32)
    return ((bits + np.uint32(0x1000)) & np.uint32(0xFFFFE000)).view(np.float32)


def test_the_tf32_tolerance_covers_a_tf32_product_that_the_float32_bound_rejects():
    # What a GPU with TF32 on computes: operands rounded to TF32, products accumulated in float32.
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((4096, 64)), rng.standard_normal((64, 128))
    computed = _to_tf32(x).astype(np.float32) @ _to_tf32(w).astype(np.float32)
    scale = np.abs(x) @ np.abs(w)
    error = float(np.max(np.abs(computed - x @ w) / scale))
    assert relative_tolerance("float32", 64) < error <= relative_tolerance("float32", 64, tf32=True)
    # TF32 is a float32 setting: other dtypes keep their own bound.
    assert relative_tolerance("float16", 64, tf32=True) == relative_tolerance("float16", 64)


@pytest.mark.parametrize("differs", [False, True], ids=["identical", "differs"])
def test_the_difference_histogram_is_numpys_over_the_whole_difference(differs):
    from pointwise.worker.equivalence import HISTOGRAM_BINS, _histogram, _Reference

    # Several slabs; an identical output takes the shortcut, a differing one the pass over the slabs.
    spec = make_run_spec(batch=3, height=400, width=16, channels=17, filters=16)
    rng = np.random.default_rng(3)
    x = rng.standard_normal(spec.input_shape).astype(np.float32)
    kernel = rng.standard_normal((1, 1, 17, 16)).astype(np.float32)
    reference = _Reference(spec, x, kernel, np.zeros(16, np.float32))
    assert len(reference.slabs) > 1
    base = rng.standard_normal(spec.output_shape).astype(np.float32)
    out = base + (rng.standard_normal(base.shape).astype(np.float32) * 1e-6 if differs else 0)
    diff = out.astype(np.float64) - base.astype(np.float64)
    counts, edges = _histogram(reference, out, base, diff.min(), diff.max())
    expected_counts, expected_edges = np.histogram(diff, bins=HISTOGRAM_BINS)
    assert np.array_equal(counts, expected_counts) and np.array_equal(edges, expected_edges)
