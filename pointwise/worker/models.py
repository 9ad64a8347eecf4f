"""The `model` job: build a real network, list its layers and, if asked, convert it, check it and time it.

Raw numbers only leave here (errors, per-call seconds); medians, intervals and speedups are computed on the
server (`pointwise.model_frames`). Three models are compared: the original (`conv2d`), the converted one
(`converted`) and the converted one with BatchNormalization folded into its pointwise layers (`folded`,
inference only: folding uses the moving statistics, which training updates).

Timing runs `rounds` interleaved rounds, each one call of every model in turn, so that drift in a shared
machine's speed touches all of them alike. Inference is the compiled call (`tf.function`, training=False);
a training step is forward, backward and an SGD update, compiled as one `tf.function`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from pointwise.model_conversion import conversion_plan, convert_with_plan, fold_batchnorm, foldable_pairs
from pointwise.models import ModelRequest, tolerance
from pointwise.worker.environment import cpu_model, package_versions
from pointwise.worker.model_inventory import KIND_1X1, build_network, inventory, randomize_batchnorm

ORIGINAL, CONVERTED, FOLDED = "conv2d", "converted", "folded"


def run_model_job(request: ModelRequest, events) -> dict:
    """The job's plain-data result: the inventory, and with `request.convert` the conversion's checks and times."""
    events.phase(f"Building {request.network.label} at {request.input_size}x{request.input_size}")
    keras.utils.set_random_seed(request.seed)
    model = build_network(request.network.builder, request.input_size)
    result = {
        "request": request.to_dict(),
        "inventory": inventory(model, request.batch),
        "environment": {"cpu": cpu_model(), "packages": package_versions()},
    }
    if request.convert:
        result["conversion"] = convert_and_measure(model, request, events)
    return result


def convert_and_measure(model: keras.Model, request: ModelRequest, events) -> dict:
    randomize_batchnorm(model, request.seed)
    events.phase("Planning the conversion (timing strided 1x1 layers both ways)")
    plan = conversion_plan(model, request.variant, request.strided, request.batch)
    converted = convert_with_plan(model, plan, request.variant)
    folded = fold_batchnorm(converted)
    rng = np.random.default_rng(request.seed)
    x = tf.constant(rng.normal(size=(request.batch, request.input_size, request.input_size, 3)), tf.float32)
    events.phase("Checking the converted model against the original (the variant tunes each new shape once)")
    converted_names = [d.layer for d in plan if d.action != "kept"]
    equivalence = check_models(model, converted, folded, converted_names, x)
    models = {ORIGINAL: model, CONVERTED: converted, FOLDED: folded}
    timings, steps = time_models(models, x, request.rounds, events)
    events.phase("Profiling the original model's steps (the time spent in its 1x1 layers)")
    pointwise_names = {row["layer"] for row in inventory(model, request.batch) if row["layer_kind"] == KIND_1X1}
    profiled = profiled_1x1_time({p: fns[ORIGINAL] for p, fns in steps.items()}, pointwise_names)
    return {
        "plan": [d.to_dict() for d in plan],
        "folded_pairs": len(foldable_pairs(converted)),
        "equivalence": equivalence,
        "timings": timings,
        "profiled_1x1": profiled,
    }


def _errors(reference: np.ndarray, candidate: np.ndarray, limit: float) -> dict:
    """max |a - b|, that over max |reference| (the scale of the numbers compared), and whether within `limit`."""
    max_abs = float(np.max(np.abs(reference - candidate))) if reference.size else 0.0
    scale = float(np.max(np.abs(reference))) if reference.size else 0.0
    max_rel = max_abs / scale if scale > 0 else max_abs
    return {"max_abs": max_abs, "max_rel": max_rel, "ok": bool(np.isfinite(max_rel) and max_rel <= limit)}


def check_models(original, converted, folded, converted_names: list[str], x) -> dict:
    """Logits of the converted and folded models against the original's; each converted layer's output too."""
    limit = tolerance("float32")
    reference = original(x, training=False).numpy()
    layers = []
    if converted_names:
        taps = [keras.Model(m.inputs, [m.get_layer(n).output for n in converted_names]) for m in (original, converted)]
        outputs = [[t.numpy() for t in tap(x, training=False)] for tap in taps]
        for name, a, b in zip(converted_names, *outputs, strict=True):
            layers.append({"layer": name, **_errors(a, b, limit)})
    first = next((row["layer"] for row in layers if not row["ok"]), None)
    return {
        "tolerance": limit,
        "dtype": "float32",
        "logits": _errors(reference, converted(x, training=False).numpy(), limit),
        "folded_logits": _errors(reference, folded(x, training=False).numpy(), limit),
        "layers": layers,
        "first_diverging": first,
    }


def _inference(model, x) -> Callable[[], object]:
    call = tf.function(lambda: model(x, training=False))
    return lambda: call().numpy()


def _training_step(model, x) -> Callable[[], object]:
    labels = tf.constant(np.arange(x.shape[0]) % model.outputs[0].shape[-1])
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = keras.optimizers.SGD(1e-3)
    optimizer.build(model.trainable_variables)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = loss_fn(labels, model(x, training=True))
        optimizer.apply_gradients(
            zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables, strict=True)
        )
        return loss

    return lambda: step().numpy()


def time_models(models: dict, x, rounds: int, events) -> tuple[dict, dict]:
    """{"inference": {model: [seconds per call, ...]}, "training": {...}}, timed in interleaved rounds, and the
    compiled steps that were timed (by pass, then model)."""
    steps = {
        "inference": {key: _inference(m, x) for key, m in models.items()},
        "training": {key: _training_step(m, x) for key, m in models.items() if key != FOLDED},
    }
    samples = {}
    for pass_name, fns in steps.items():
        events.phase(f"Compiling and warming up the {pass_name} step of every model")
        for fn in fns.values():
            fn()
        samples[pass_name] = _interleaved(fns, rounds, pass_name, events)
    return samples, steps


def _interleaved(fns: dict, rounds: int, pass_name: str, events) -> dict[str, list[float]]:
    samples = {key: [] for key in fns}
    total = rounds * len(fns)
    for _ in range(rounds):
        for key, fn in fns.items():
            start = time.perf_counter()
            fn()
            samples[key].append(time.perf_counter() - start)
            events.progress(f"{pass_name} · {key}", sum(map(len, samples.values())), total, samples[key][-1])
    return samples


def profiled_1x1_time(steps: dict, layer_names: set[str], calls: int = 3) -> dict:
    """{pass: {"pointwise_us": ..., "total_us": ...}}: the original model's op time in its 1x1 layers, traced.

    Each step runs `calls` times under TensorFlow's profiler (the kernels job's tracer,
    `pointwise.worker.kernels`); every traced op is attributed by its node name, which holds the Keras layer's
    name as a path component ("model/block_1_expand_1/convolution", and "gradient_tape/.../block_1_expand_1/..."
    for its gradients). Times are summed per call; the server divides.
    """
    from pointwise.worker.kernels import profile_calls, traced_events

    totals = {}
    for pass_name, step in steps.items():
        space, _ = profile_calls(step, calls)
        pointwise_us = total_us = 0.0
        for name, op, duration_us, _, _ in traced_events(space):
            if ":" not in name or not op:
                continue
            total_us += duration_us
            if _in_layers(name, layer_names):
                pointwise_us += duration_us
        totals[pass_name] = {"pointwise_us": pointwise_us / calls, "total_us": total_us / calls}
    return totals


def _in_layers(node: str, layer_names: set[str]) -> bool:
    # Keras suffixes a layer's name scope with "_1", "_2" when traced again: "Conv_1" may appear as "Conv_1_1".
    components = node.split(":", 1)[0].split("/")
    return any(c in layer_names or re.sub(r"_[0-9]+$", "", c) in layer_names for c in components)
