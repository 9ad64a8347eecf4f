"""Goal: the harness's median is within 10% of an independent `time.perf_counter` loop for EVERY knob setting.

oneDNN on/off, the BFC CPU allocator on/off, one intra-op thread and TensorFlow's default, graph and XLA. The
knobs are read by TensorFlow at import, so each setting runs in its own process with exactly the environment a
worker gets (`WorkerKnobs.environment`); inside it, `pointwise.worker.timing.measure` and a plain loop of single
calls around the same layer alternate `ROUNDS` times (loop, harness, loop), and each round gives one ratio: the
harness median over the mean of the two loop medians around it, so machine drift affects both alike. The table
shows the medians over rounds. This process imports no TensorFlow.
"""

import json
import os
import subprocess
import sys

import _common
from pointwise.jobs import WorkerKnobs
from pointwise.worker.environment import cpu_model

KEYS = ("conv2d_1x1", "matmul_2d")
ROUNDS = 5
HAND_CALLS = 60
SETTINGS = [
    ("TensorFlow's defaults, graph", WorkerKnobs(), "graph"),
    ("TensorFlow's defaults, XLA", WorkerKnobs(), "xla"),
    ("oneDNN on", WorkerKnobs(onednn="on"), "graph"),
    ("oneDNN off", WorkerKnobs(onednn="off"), "graph"),
    ("BFC allocator on", WorkerKnobs(cpu_allocator_bfc="on"), "graph"),
    ("BFC allocator off", WorkerKnobs(cpu_allocator_bfc="off"), "graph"),
    ("1 intra-op thread", WorkerKnobs(threads=1), "graph"),
]


def child(mode: str) -> None:
    """Inside one setting's process: alternate the harness and the hand loop, print medians as JSON."""
    import time

    import numpy as np
    import tensorflow as tf

    from pointwise.layers import make_layer
    from pointwise.protocol import THREADS_ENV
    from pointwise.spec import make_run_spec
    from pointwise.worker.runtime import default_runtime, make_input
    from pointwise.worker.timing import measure

    runtime = default_runtime()
    runtime.configure(threads=int(os.environ.get(THREADS_ENV, "0")), inter_threads=0)
    spec = make_run_spec(**_common.REFERENCE_SHAPE, mode=mode, samples=30)
    x = tf.constant(make_input(spec), dtype=tf.float32)

    def hand_loop_median_s(key: str) -> float:
        call = tf.function(make_layer(key, spec.filters, seed=0), jit_compile=mode == "xla")
        for _ in range(5):
            call(x)
        times = []
        for _ in range(HAND_CALLS):
            start = time.perf_counter()
            call(x)
            times.append(time.perf_counter() - start)
        return float(np.median(times))

    rows = {k: [] for k in KEYS}
    for _ in range(ROUNDS):
        # Loop, harness, loop: a burst of load from other tenants lands on both sides of the round's ratio.
        before = {key: hand_loop_median_s(key) for key in KEYS}
        harness = {m.key: float(np.median(m.per_call_s)) for m in measure(spec, KEYS, runtime=runtime)}
        for key in KEYS:
            loop_s = (before[key] + hand_loop_median_s(key)) / 2
            rows[key].append((harness[key], loop_s, harness[key] / loop_s))
    card = runtime.card_settings(on_gpu=False)
    medians = {k: [float(np.median([r[i] for r in rows[k]])) for i in range(3)] for k in KEYS}
    print(json.dumps({"medians": medians, "onednn": card["onednn"]}))


def main() -> None:
    print(f"CPU: {cpu_model()}; 8x56x56x64 -> 128, float32, forward; {ROUNDS} alternating rounds per setting")
    print(f"{'setting':<30} {'oneDNN':>6} {'variant':<11} {'harness ms':>10} {'loop ms':>8} {'harness/loop':>12}")
    print("(each column: the median over rounds; the ratio is the median of the per-round ratios)")
    ratios = []
    for label, knobs, mode in SETTINGS:
        done = subprocess.run(
            [sys.executable, __file__, "--child", mode],
            env=knobs.environment(),
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            print(f"{label:<30} failed: {done.stderr.strip().splitlines()[-1:]}")
            continue
        data = json.loads(done.stdout.strip().splitlines()[-1])
        for key, (harness_s, loop_s, ratio) in data["medians"].items():
            ratios.append(ratio)
            print(
                f"{label:<30} {'on' if data['onednn'] else 'off':>6} {key:<11} {harness_s * 1e3:>10.3f} "
                f"{loop_s * 1e3:>8.3f} {ratio:>12.3f}"
            )
    if ratios:
        print(f"ratios from {min(ratios):.3f} to {max(ratios):.3f}; goal: every ratio within [0.90, 1.10]")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2])
    else:
        main()
