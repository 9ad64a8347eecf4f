"""Goal 1: the harness's reported median is within 10% of a plain hand-written loop, same op, same process.

For Conv2D 1x1 and matmul_2d at 8x56x56x64 -> 128 in graph mode: `pointwise.worker.timing.measure` and a naive
`perf_counter` loop around single calls alternate three times, so machine drift affects both equally.
"""

import time

import numpy as np
import tensorflow as tf

import _common
from pointwise.layers import make_layer
from pointwise.spec import make_run_spec
from pointwise.worker.runtime import make_input
from pointwise.worker.timing import measure

ROUNDS = 3
HAND_CALLS = 60


def hand_loop_median_s(key: str, spec) -> float:
    layer = make_layer(key, spec.filters, seed=0)
    x = tf.constant(make_input(spec), dtype=tf.float32)
    call = tf.function(layer)
    for _ in range(5):
        call(x)
    times = []
    for _ in range(HAND_CALLS):
        start = time.perf_counter()
        call(x)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> None:
    spec = make_run_spec(**_common.REFERENCE_SHAPE, mode="graph", samples=30)
    keys = ("conv2d_1x1", "matmul_2d")
    harness = {k: [] for k in keys}
    hand = {k: [] for k in keys}
    for _ in range(ROUNDS):
        for m in measure(spec, keys):
            harness[m.key].append(float(np.median(m.per_call_s)))
        for key in keys:
            hand[key].append(hand_loop_median_s(key, spec))
    print(f"shape 8x56x56x64 -> 128, graph mode, {ROUNDS} alternating rounds (median of round medians)")
    print(f"{'variant':<12} {'harness ms':>11} {'hand loop ms':>13} {'harness/hand':>13}")
    for key in keys:
        h, loop = np.median(harness[key]), np.median(hand[key])
        print(f"{key:<12} {h * 1e3:>11.3f} {loop * 1e3:>13.3f} {h / loop:>13.3f}")
    print("goal: every ratio within [0.90, 1.10]")


if __name__ == "__main__":
    main()
