import time

import numpy as np
import pytest
import tensorflow as tf

from pointwise import autotune, tuning_rounds
from pointwise.layers import PointwiseConv2D


@pytest.fixture
def count_tunings(monkeypatch):
    """Counts the tunings that really time kernels, from an empty cache (restored afterwards)."""
    monkeypatch.setattr(autotune, "_TUNINGS", {})
    timed = []
    real_tune = autotune._tune

    def counting_tune(*args):
        timed.append(args)
        return real_tune(*args)

    monkeypatch.setattr(autotune, "_tune", counting_tune)
    return timed


def test_strategy_names_pair_every_forward_with_every_gradient_kernel():
    assert autotune.STRATEGIES["gemm"] == ("gemm", "gemm")
    assert autotune.STRATEGIES["conv_forward_gemm_backward"] == ("conv", "gemm")
    assert len(autotune.STRATEGIES) == len(autotune.FORWARD_KERNELS) * len(autotune.GRADIENT_KERNELS)
    assert autotune.FALLBACK_STRATEGY in autotune.STRATEGIES


def test_tuning_times_every_kernel_within_budget_and_is_cached(count_tunings):
    layer = PointwiseConv2D(32)
    x = tf.random.normal((4, 14, 14, 16))
    layer(x)
    tuning = layer.tuning
    assert tuning.shape == (4, 14, 14, 16)
    assert set(tuning.forward_s) == set(autotune.FORWARD_KERNELS)
    assert set(tuning.gradient_s) == set(autotune.GRADIENT_KERNELS)
    assert tuning_rounds.MIN_ROUNDS <= tuning.rounds <= tuning_rounds.MAX_ROUNDS
    # The budget is 2 s per new shape; the tuner aims at TUNING_BUDGET_S to leave room for a busy CPU.
    assert tuning.elapsed_s <= 2.0
    other = PointwiseConv2D(32)
    other(x)
    assert other.tuning is tuning and other.strategy == layer.strategy
    assert len(count_tunings) == 1


def test_each_part_of_the_key_tunes_apart(count_tunings):
    x = tf.random.normal((2, 5, 5, 8))
    for layer, inputs in [
        (PointwiseConv2D(4), x),
        (PointwiseConv2D(6), x),
        (PointwiseConv2D(4, use_bias=False), x),
        (PointwiseConv2D(4), x[:1]),
        (PointwiseConv2D(4, dtype="float64"), tf.cast(x, "float64")),
        (PointwiseConv2D(4), x),
    ]:
        layer(inputs)
    assert len(count_tunings) == 5


def test_the_winner_is_the_fastest_forward_with_the_fastest_gradients(monkeypatch):
    fastest = {
        ("forward", "gemm"): 3.0,
        ("forward", "conv"): 2.0,
        ("forward", "batched"): 1.0,
        ("gradient", "gemm"): 5.0,
        ("gradient", "conv"): 4.0,
        ("gradient", "batched"): 6.0,
    }
    monkeypatch.setattr(autotune, "measure_candidates", lambda candidates, deadline: (fastest, 3))
    tuning = autotune._tune((1, 2, 2, 3), 4, tf.float32, True)
    assert tuning.strategy == "batched_forward_conv_backward"
    assert tuning.forward_s == {"gemm": 3.0, "conv": 2.0, "batched": 1.0}


def test_measure_candidates_interleaves_prunes_drops_failures_and_keeps_its_deadline():
    def sleeper(seconds):
        return lambda: time.sleep(seconds)

    def no_kernel():
        raise tf.errors.NotFoundError(None, None, "no kernel for this dtype")

    runs = {"close": 0, "far": 0}

    def counted(key, seconds):
        def run():
            runs[key] += 1
            time.sleep(seconds)

        return run

    start = time.perf_counter()
    fastest, rounds = autotune.measure_candidates(
        {
            ("forward", "slow"): sleeper(0.01),
            ("forward", "fast"): sleeper(0.008),
            ("forward", "missing"): no_kernel,
            ("gradient", "close"): counted("close", 0.006),
            ("gradient", "far"): counted("far", 0.02),
        },
        start + 0.2,
    )
    elapsed = time.perf_counter() - start
    assert set(fastest) == {("forward", "slow"), ("forward", "fast"), ("gradient", "close"), ("gradient", "far")}
    assert fastest["forward", "fast"] < fastest["forward", "slow"]
    assert fastest["forward", "slow"] >= 0.01
    assert tuning_rounds.MIN_ROUNDS <= rounds < tuning_rounds.MAX_ROUNDS
    # Over PRUNE_RATIO times the fastest gradient after the first round: its untimed call and one sample only.
    assert runs == {"close": rounds + 1, "far": 2}
    # No round starts that would end past the deadline: the last may end at most one round's noise late.
    assert elapsed <= 0.2 + 0.05


def test_unknown_batch_is_tuned_at_the_tuning_batch_and_unknown_spatial_axes_fall_back(count_tunings):
    assert autotune.choose_strategy((None, 6, 6, 4), 3, "float32", True)[1].shape == (autotune.TUNING_BATCH, 6, 6, 4)
    assert autotune.choose_strategy((2, None, None, 4), 3, "float32", True) == (autotune.FALLBACK_STRATEGY, None)
    layer = PointwiseConv2D(3)
    fn = tf.function(layer, input_signature=[tf.TensorSpec((None, None, None, 4))])
    assert tuple(fn(tf.ones((2, 3, 5, 4))).shape) == (2, 3, 5, 3)
    assert layer.strategy == autotune.FALLBACK_STRATEGY and layer.tuning is None
    assert len(count_tunings) == 1


def test_tuning_inside_a_trace_runs_eagerly_and_leaves_only_the_chosen_kernels_in_the_graph(count_tunings):
    layer = PointwiseConv2D(8)
    with tf.device("/CPU:0"):
        graph = tf.function(layer).get_concrete_function(tf.TensorSpec((2, 7, 7, 16))).graph
    assert layer.tuning is not None and len(count_tunings) == 1
    op_types = {op.type for op in graph.get_operations()}
    assert not op_types & {"RandomStandardNormal", "StatefulPartitionedCall", "PartitionedCall"}
    forward = autotune.STRATEGIES[layer.strategy][0]
    assert ("Conv2D" in op_types) is (forward == "conv")
    assert ("MatMul" in op_types) is (forward == "gemm")


def test_tuning_under_a_gradient_tape_leaves_the_gradients_alone(count_tunings):
    x = tf.random.normal((2, 3, 3, 5))
    layer = PointwiseConv2D(4, use_bias=False)
    layer.build(x.shape)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(layer(x))
    grad_inputs, grad_kernel = tape.gradient(loss, [x, layer.kernel])
    assert len(count_tunings) == 1
    np.testing.assert_allclose(grad_inputs, np.broadcast_to(np.sum(layer.kernel.numpy(), axis=1), x.shape), rtol=1e-5)
    np.testing.assert_allclose(grad_kernel, np.broadcast_to(np.sum(x, axis=(0, 1, 2))[:, None], (5, 4)), rtol=1e-5)


def test_the_equivalence_check_pins_every_kernel_and_times_none(count_tunings, monkeypatch):
    from conftest import small_spec
    from pointwise.worker.equivalence import check_equivalence

    report = check_equivalence(small_spec(variants=["pointwise"], mode="eager")).reports[-1]
    assert count_tunings == [] and report.equivalent
    assert "each kernel a tuning can choose was checked (gemm, conv, batched)" in report.note
    # A kernel that computed something else would be the one reported, whichever kernel a tuning would pick.
    real_batched = autotune.FORWARD_KERNELS["batched"]
    monkeypatch.setitem(autotune.FORWARD_KERNELS, "batched", lambda x, k, b: real_batched(x, k, b) * 1.01)
    broken = check_equivalence(small_spec(variants=["pointwise"], mode="eager")).reports[-1]
    assert not broken.equivalent and "batched's largest error shown" in broken.note
