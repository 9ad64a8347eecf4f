"""The same layers on TensorFlow and on JAX, measured by the product side by side; and the JAX harness's truth.

1. The table: Conv2D 1x1, Dense and the `keras.ops` matmul layer at 8x56x56x64 -> 128 float32, forward and
   forward+backward, on each backend in its own worker (`pointwise.jobs.run_benchmark`, compiled calls: graph
   mode on TensorFlow, `jax.jit` on JAX), in alternating repeats (TF, JAX, TF, JAX...) so that drift in this shared
   machine's speed touches both. Each cell: the median and its bootstrap 95% CI of every repeat.
2. The harness's truth on JAX: in one JAX process, `pointwise.worker.timing.measure` and a hand-written loop
   (`jax.jit` of the layer's `stateless_call`, `block_until_ready` after every call) alternate in short rounds; the
   median of the rounds' ratios should be within 0.9-1.1.

    python benchmarks/backends.py [--samples 25] [--repeats 2]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import _common
from pointwise.jobs import WorkerKnobs, run_benchmark
from pointwise.spec import make_run_spec

VARIANTS = ("conv2d_1x1", "dense", "keras_ops")
LABELS = {"conv2d_1x1": "Conv2D 1x1", "dense": "Dense", "keras_ops": "keras.ops matmul"}
BACKENDS = ("tensorflow", "jax")
PASSES = {"forward": "forward", "backward": "forward+backward"}
TRUTH_ROUNDS = 8
HAND_CALLS = 20
"""Short stretches, many rounds: on a shared machine the load changes from one minute to the next, and each
round's ratio compares a harness stretch with the hand loop right after it."""


def backend_table(samples: int, repeats: int) -> None:
    cells: dict[tuple, list[str]] = {}
    cpu = None
    for repeat in range(repeats):
        for pass_kind in PASSES:
            for backend in BACKENDS:
                spec = make_run_spec(
                    **_common.REFERENCE_SHAPE, backend=backend, pass_kind=pass_kind, variants=VARIANTS, samples=samples
                )
                result = run_benchmark(spec)
                cpu = result.environment["cpu"]
                for s in result.statistics:
                    cell = f"{s.median_s * 1e3:.2f} [{s.median_ci_low_s * 1e3:.2f}, {s.median_ci_high_s * 1e3:.2f}]"
                    cells.setdefault((backend, pass_kind, s.key), []).append(cell)
                print(f"repeat {repeat + 1}/{repeats}: {backend} {pass_kind} done", file=sys.stderr, flush=True)
    print(f"CPU: {cpu}, {os.cpu_count()} cores; 8x56x56x64 -> 128 float32; compiled calls (TF graph, JAX jit)")
    print(f"{samples} samples per variant per run, {repeats} alternating repeats; cell: median ms [95% CI] per repeat")
    print("| backend | pass | " + " | ".join(LABELS[k] for k in VARIANTS) + " |")
    print("|---|---|" + "---|" * len(VARIANTS))
    for pass_kind, pass_label in PASSES.items():
        for backend in BACKENDS:
            row = [" ; ".join(cells[backend, pass_kind, key]) for key in VARIANTS]
            print(f"| {backend} | {pass_label} | " + " | ".join(row) + " |")


def jax_harness_truth() -> None:
    """Runs inside a JAX process (KERAS_BACKEND=jax): the harness's medians against a hand-written loop."""
    import jax
    import numpy as np

    from pointwise.layers import make_layer
    from pointwise.worker.runtime import default_runtime, make_input
    from pointwise.worker.timing import measure

    spec = make_run_spec(**_common.REFERENCE_SHAPE, backend="jax", variants=("conv2d_1x1", "dense"), samples=10)
    runtime = default_runtime()
    x = jax.numpy.asarray(make_input(spec), dtype="float32")

    def hand_loop_median_s(key: str) -> float:
        layer = make_layer(key, spec.filters, seed=0)
        layer.build(x.shape)
        weights = [v.value for v in layer.trainable_variables]
        call = jax.jit(lambda w, inputs: layer.stateless_call(w, [], inputs)[0])
        for _ in range(5):
            call(weights, x).block_until_ready()
        times = []
        for _ in range(HAND_CALLS):
            start = time.perf_counter()
            call(weights, x).block_until_ready()
            times.append(time.perf_counter() - start)
        return float(np.median(times))

    ratios = {key: [] for key in spec.variants}
    medians = {key: ([], []) for key in spec.variants}
    for _ in range(TRUTH_ROUNDS):
        for m in measure(spec, spec.variants, runtime=runtime):
            harness_s, hand_s = float(np.median(m.per_call_s)), hand_loop_median_s(m.key)
            ratios[m.key].append(harness_s / hand_s)
            medians[m.key][0].append(harness_s)
            medians[m.key][1].append(hand_s)
    print(f"JAX harness truth: forward, jax.jit, {TRUTH_ROUNDS} rounds, each the harness then the hand loop")
    print(f"{'variant':<12} {'harness ms':>11} {'hand loop ms':>13} {'median ratio':>13} {'ratio range':>16}")
    for key in spec.variants:
        harness_ms, hand_ms = (np.median(values) * 1e3 for values in medians[key])
        low, high = min(ratios[key]), max(ratios[key])
        print(f"{key:<12} {harness_ms:>11.3f} {hand_ms:>13.3f} {np.median(ratios[key]):>13.3f} {low:>7.2f}-{high:.2f}")
    print("goal: every median ratio within [0.90, 1.10]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=25)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--jax-harness-truth", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.jax_harness_truth:
        jax_harness_truth()
        return
    backend_table(args.samples, args.repeats)
    # The truth check needs Keras on JAX, which a process chooses at import: a child process, as a worker is.
    env = {**WorkerKnobs(backend="jax").environment(), "PYTHONPATH": str(_common.ROOT)}
    subprocess.run([sys.executable, __file__, "--jax-harness-truth"], env=env, check=True)


if __name__ == "__main__":
    main()
