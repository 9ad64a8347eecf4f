"""GPU truth, for a lent GPU machine: sync, TF32, the kernels that ran and PointwiseConv2D's choice.

    python benchmarks/gpu_check.py [--backend tensorflow|jax]

Runs in one process on GPU:0 (or `--device`) with whichever Keras backend is installed (TensorFlow first). It prints:
1. Sync truth: the harness median (`worker.timing.measure`, which syncs once per block) against an independent
   loop that waits for every single call (TensorFlow: `.numpy()` of a scalar reduction forces completion; JAX:
   `block_until_ready`). An asynchronous GPU timed without a sync would show a ratio far below 1.
2. TF32 on vs off: the speed ratio and each setting's max relative error against the float64 reference.
3. The kernels that ran (JAX: the compiled HLO's entry operations).
4. What `PointwiseConv2D(strategy="auto")` chose on this GPU, and the candidates' times.
"""

import argparse
import importlib.util
import os
import sys
import time

import _common  # sets the import path

SHAPE = _common.REFERENCE_SHAPE
KEYS = ("conv2d_1x1", "dense", "keras_ops", "pointwise")
ROUNDS = 3
LOOP_CALLS = 200


def _backend(requested: str | None) -> str:
    if requested:
        return requested
    return "tensorflow" if importlib.util.find_spec("tensorflow") else "jax"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("tensorflow", "jax"))
    parser.add_argument("--device", default="GPU:0", help="CPU:0 only to try this script where no GPU is")
    args = parser.parse_args()
    backend = _backend(args.backend)
    # Keras reads its backend once, at import: set it before anything imports keras.
    os.environ["KERAS_BACKEND"] = backend

    import numpy as np

    from pointwise.layers import make_layer
    from pointwise.spec import make_run_spec
    from pointwise.worker.equivalence import check_equivalence
    from pointwise.worker.runtime import load_runtime
    from pointwise.worker.timing import measure

    runtime = load_runtime(backend)
    found = {d["name"]: d["description"] for d in runtime.devices()}
    if args.device not in found:
        print(f"{args.device} is not visible to {backend} (found: {', '.join(found)}): nothing to check.")
        return 1
    print(f"backend {backend}, {args.device} = {found[args.device]}, shape {SHAPE}, float32")

    def spec_for(tf32: bool, pass_kind: str = "forward"):
        return make_run_spec(
            **SHAPE,
            device=args.device,
            backend=backend,
            mode="xla" if backend == "jax" else "graph",
            tf32=tf32,
            pass_kind=pass_kind,
            samples=30,
            variants=KEYS,
        )

    def independent_loops_s(key: str, spec) -> tuple[float, float]:
        """Seconds per call from code that shares nothing with the harness but the layer: (throughput, latency).

        Throughput: median over blocks of `LOOP_CALLS` back-to-back calls with one wait on the last output, as a
        training loop runs. Latency: median of single calls, each waited for (adds one host round trip per call).
        """
        layer = make_layer(key, spec.filters, use_bias=spec.use_bias, dtype=spec.dtype, seed=spec.seed)
        with runtime.device_scope(spec.device):
            x = runtime.input_tensor(spec)
            step = runtime.step(layer, x, spec.mode, spec.pass_kind)
            for _ in range(10):
                _wait(step(), backend)
            blocks, singles = [], []
            for _ in range(5):
                start = time.perf_counter()
                for _ in range(LOOP_CALLS):
                    out = step()
                _wait(out, backend)
                blocks.append((time.perf_counter() - start) / LOOP_CALLS)
            for _ in range(LOOP_CALLS):
                start = time.perf_counter()
                _wait(step(), backend)
                singles.append(time.perf_counter() - start)
        return float(np.median(blocks)), float(np.median(singles))

    print(
        "\n1. Sync truth (TF32 on, forward): harness median vs two independent loops (goal: harness/pipelined 0.9-1.1)"
    )
    spec = spec_for(True)
    harness = {k: [] for k in KEYS}
    pipelined = {k: [] for k in KEYS}
    single = {k: [] for k in KEYS}
    runtime.prepare(spec)
    for _ in range(ROUNDS):
        for m in measure(spec, KEYS, runtime=runtime):
            harness[m.key].append(float(np.median(m.per_call_s)))
        for key in KEYS:
            throughput_s, latency_s = independent_loops_s(key, spec)
            pipelined[key].append(throughput_s)
            single[key].append(latency_s)
    for key in KEYS:
        h, p, one = np.median(harness[key]), np.median(pipelined[key]), np.median(single[key])
        print(
            f"  {key:<11} harness {h * 1e6:9.1f} us  pipelined loop {p * 1e6:9.1f} us  harness/pipelined {h / p:5.2f}"
            f"   one call waited for {one * 1e6:9.1f} us"
        )

    print("\n2. TF32 on vs off (forward and forward+backward)")
    for pass_kind in ("forward", "backward"):
        medians, errors = {}, {}
        for tf32 in (True, False):
            spec = spec_for(tf32, pass_kind)
            runtime.prepare(spec)
            medians[tf32] = {m.key: float(np.median(m.per_call_s)) for m in measure(spec, KEYS, runtime=runtime)}
            reports = check_equivalence(spec, runtime=runtime).reports
            errors[tf32] = {r.key: r.max_rel_err_vs_float64 for r in reports}
            if errors[tf32].get(KEYS[0]) is None:  # the baseline reports its own error beside every variant
                errors[tf32][KEYS[0]] = reports[-1].baseline_max_rel_err_vs_float64
        for key in KEYS:
            on, off = medians[True][key], medians[False][key]
            print(
                f"  {pass_kind:<8} {key:<11} on {on * 1e6:8.1f} us  off {off * 1e6:8.1f} us  off/on {off / on:5.2f}"
                f"   rel err vs float64: on {_fmt(errors[True].get(key))}  off {_fmt(errors[False].get(key))}"
            )

    print("\n3. The kernels that ran")
    _print_kernels(backend, runtime, spec_for(True))

    print("\n4. PointwiseConv2D(strategy='auto') on this device")
    spec = spec_for(True)
    layer = make_layer("pointwise", spec.filters, use_bias=spec.use_bias, dtype=spec.dtype, seed=spec.seed)
    with runtime.device_scope(spec.device):
        step = runtime.step(layer, runtime.input_tensor(spec), spec.mode, spec.pass_kind)
        step()
        runtime.sync(spec.device)
    print(f"  chose {getattr(layer, 'strategy', None)!r}; candidates: {getattr(layer, 'tuning', None)}")
    return 0


def _fmt(error: float | None) -> str:
    return "n/a" if error is None else f"{error:.1e}"


def _wait(out, backend: str) -> None:
    if backend == "jax":
        import jax

        jax.block_until_ready(out)
    else:
        import tensorflow as tf

        first = out[0] if isinstance(out, (tuple, list)) else out
        float(tf.reduce_sum(first).numpy())


def _print_kernels(backend: str, runtime, spec) -> None:
    """The product's own reader: the profiler's kernels on TensorFlow, the compiled HLO's entry on JAX."""
    if backend == "jax":
        from pointwise.worker.jax_kernels import kernels_that_ran
    else:
        from pointwise.worker.kernels import kernels_that_ran
    for variant in kernels_that_ran(spec, runtime).variants:
        ops = "; ".join(f"{row.op} {row.detail}".strip() for row in variant.rows) or variant.error
        print(f"  {variant.key:<11} {ops}")


if __name__ == "__main__":
    sys.exit(main())
