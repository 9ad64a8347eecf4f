"""The kernels that ran on JAX: what XLA compiled each variant's call into (`jax.jit(f).lower(...).compile()`).

Under `jax.jit` (the "graph" and "xla" modes) the rows are the instructions of the compiled module's entry
computation, a fusion described by its kind and the ops it fuses; in eager mode, the primitives JAX dispatches
one by one (from `jax.make_jaxpr`). No per-op times: JAX's profiler is not read, so `time_us` and `share` are None
and the row's count is per call; `wall_us` is a call's mean wall time.
"""

from __future__ import annotations

import collections
import re
import time

import jax

from pointwise.kernels import KernelRow, KernelsResult, VariantKernels
from pointwise.layers import make_layer
from pointwise.spec import RunSpec
from pointwise.worker.runtime import Runtime, default_runtime

TIMED_CALLS = 10
HLO_INSTRUCTION = re.compile(r" = (?:\([^()]*\)|\S+) ([a-z][\w-]*)\(")
"""`%name = SHAPE opcode(`: a shape is one token, or a parenthesised tuple (a GPU cuBLAS call returns the output
and its workspace: `(f32[...]{...}, s8[...]{0}) custom-call(`)."""
_BOOKKEEPING = frozenset({"parameter", "constant", "tuple", "get-tuple-element", "bitcast", "copy"})


def kernels_that_ran(spec: RunSpec, runtime: Runtime | None = None) -> KernelsResult:
    runtime = runtime or default_runtime()
    runtime.seed(spec.seed)
    with runtime.device_scope(spec.device):
        x = runtime.input_tensor(spec)
        variants = tuple(_variant_kernels(runtime, spec, key, x) for key in spec.variants)
    return KernelsResult(spec=spec, onednn=False, variants=variants)


def _variant_kernels(runtime, spec: RunSpec, key: str, x) -> VariantKernels:
    layer = make_layer(key, spec.filters, use_bias=spec.use_bias, dtype=spec.dtype, seed=spec.seed)
    try:
        fn, weights = runtime.pure_step(layer, x.shape, spec.pass_kind)
        if spec.mode == "eager":
            ops = [(eqn.primitive.name, "") for eqn in jax.make_jaxpr(fn)(weights, x).eqns]
        else:
            ops = compiled_ops(jax.jit(fn).lower(weights, x).compile().as_text())
        call = runtime.compile(fn, spec.mode)
        call(weights, x)
        runtime.sync(spec.device)
        start = time.perf_counter()
        for _ in range(TIMED_CALLS):
            call(weights, x)
        runtime.sync(spec.device)
        wall_us = 1e6 * (time.perf_counter() - start) / TIMED_CALLS
    except runtime.run_errors as exc:
        return VariantKernels(key, error=f"JAX cannot run it here: {str(exc).strip().splitlines()[0]}")
    counts = collections.Counter(ops)
    rows = tuple(KernelRow(op, float(n), None, None, detail) for (op, detail), n in counts.most_common())
    return VariantKernels(key, rows=rows, calls=TIMED_CALLS, wall_us=wall_us)


def compiled_ops(hlo_text: str) -> list[tuple[str, str]]:
    """(opcode, detail) of every instruction of the entry computation of a compiled HLO module's text, without
    bookkeeping; a fusion's detail is its kind and the ops inside it (e.g. "__ynn_fusion: convolution, reduce")."""
    computations = _computations(hlo_text)
    entry = next(body for name, body in computations.items() if name.startswith("ENTRY"))
    ops = []
    for line in entry:
        match = HLO_INSTRUCTION.search(line)
        if not match or match.group(1) in _BOOKKEEPING:
            continue
        opcode, detail = match.group(1), ""
        if opcode == "fusion":
            kind = re.search(r'"kind"\s*:\s*"([^"]+)"', line) or re.search(r"kind=(\w+)", line)
            called = re.search(r"calls=%?([\w.\-]+)", line)
            inner = computations.get(called.group(1), []) if called else []
            fused = sorted({m.group(1) for m in map(HLO_INSTRUCTION.search, inner) if m} - _BOOKKEEPING)
            detail = f"{kind.group(1) if kind else 'fusion'}: {', '.join(fused)}"
        elif opcode == "custom-call":
            target = re.search(r'custom_call_target="([^"]+)"', line)
            detail = target.group(1) if target else ""
        ops.append((opcode, detail))
    return ops


def _computations(hlo_text: str) -> dict[str, list[str]]:
    """Each computation's name ("ENTRY %main..." for the entry) and its instruction lines."""
    computations: dict[str, list[str]] = {}
    name = None
    for line in hlo_text.splitlines():
        if line.endswith("{") and "(" in line and " = " not in line.split("(", 1)[0]:
            header = line.split(" (", 1)[0].strip()
            name = header if header.startswith("ENTRY") else header.lstrip("%")
            computations[name] = []
        elif line.strip() == "}":
            name = None
        elif name is not None:
            computations[name].append(line)
    return computations
