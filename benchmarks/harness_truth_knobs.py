"""Goal: the harness's median is within 10% of an independent `time.perf_counter` loop for EVERY knob setting.

oneDNN on/off, the BFC CPU allocator on/off, one intra-op thread and TensorFlow's default, graph and XLA. The
knobs are read by TensorFlow at import, so each setting runs in its own process with exactly the environment a
worker gets (`WorkerKnobs.environment`); inside it, `pointwise.worker.timing.measure` and a plain loop of single
calls around the same layer alternate, `ROUNDS` times, so the machine's drift and other tenants' bursts hit
both alike; the ratio compares the medians of all their samples.
This process imports no TensorFlow.
"""

import json
import os
import subprocess
import sys

import _common
from pointwise.jobs import WorkerKnobs
from pointwise.worker.environment import cpu_model

KEYS = ("conv2d_1x1", "matmul_2d")
ROUNDS = 6
HAND_CALLS = 60
SAMPLES_PER_ROUND = 30
"""As a benchmark runs it (30 samples after a fresh build and warm-up): a few samples right after the warm-up
would measure the harness's first calls, not its steady state."""
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
    spec = make_run_spec(**_common.REFERENCE_SHAPE, mode=mode, samples=SAMPLES_PER_ROUND)
    x = tf.constant(make_input(spec), dtype=tf.float32)
    calls = {}
    for key in KEYS:
        calls[key] = tf.function(make_layer(key, spec.filters, seed=0), jit_compile=mode == "xla")
        for _ in range(5):
            calls[key](x)

    def hand_loop_s(key: str) -> list[float]:
        times = []
        for _ in range(HAND_CALLS):
            start = time.perf_counter()
            calls[key](x)
            times.append(time.perf_counter() - start)
        return times

    harness = {k: [] for k in KEYS}
    hand = {k: [] for k in KEYS}
    for _ in range(ROUNDS):
        # Short alternating stretches: load from other tenants shifts within seconds, so both sides see it alike.
        for key in KEYS:
            hand[key] += hand_loop_s(key)
        for m in measure(spec, KEYS, runtime=runtime):
            harness[m.key] += m.per_call_s
    card = runtime.card_settings(on_gpu=False)
    medians = {k: [float(np.median(harness[k])), float(np.median(hand[k]))] for k in KEYS}
    print(json.dumps({"medians": medians, "onednn": card["onednn"]}))


def main() -> None:
    print(f"CPU: {cpu_model()}; 8x56x56x64 -> 128, float32, forward; {ROUNDS} alternating rounds per setting")
    print(f"{'setting':<30} {'oneDNN':>6} {'variant':<11} {'harness ms':>10} {'loop ms':>8} {'harness/loop':>12}")
    print(
        f"(medians of all samples: harness {ROUNDS} x {SAMPLES_PER_ROUND} blocks, loop {ROUNDS} x {HAND_CALLS} calls)"
    )
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
        for key, (harness_s, loop_s) in data["medians"].items():
            ratio = harness_s / loop_s
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
