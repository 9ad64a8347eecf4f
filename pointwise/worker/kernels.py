"""The kernels that ran: profile each variant's call and name the ops TensorFlow executed. Runs in the worker.

TensorFlow's (a JAX worker runs `jax_kernels` instead). Each variant is built and stepped as the
timer does it (`TensorFlowRuntime.step_function`): one cold call, a warm-up, then
a few calls under TensorFlow's profiler (`tf.profiler.experimental`, host trace). What the trace holds depends
on the mode:
- graph: one event per executed kernel, named "node:OpType" after grappler's and oneDNN's rewrites (so Dense's
  MatMul shows as `_MklMatMul` with oneDNN on). TensorFlow's executor leaves the cheap kernels it runs inline
  untraced (Reshape, Tile, often BiasAddGrad); they are listed from the executed (partitioned) graph, which
  TensorFlow hands back as run metadata on the cold call, with no time.
- eager: one "EagerExecute" per op dispatched one by one, with its kernel's time ("EagerKernelExecute").
- xla: one event per executed instruction of the compiled HLO module (stat `hlo_op`); each is described from
  the optimised HLO text (`experimental_get_compiler_ir`): a fusion's kind and the ops it fuses.

Run metadata (step stats, `RunOptions(trace_level=FULL_TRACE)`) is no longer filled for `tf.function` calls in
TensorFlow 2, which is why the profiler is used.
"""

from __future__ import annotations

import collections
import math
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import keras
import tensorflow as tf
from tensorflow.python.eager import context
from tensorflow.tsl.profiler.protobuf import xplane_pb2

from pointwise.autotune import onednn_enabled
from pointwise.kernels import BOOKKEEPING_OPS, KernelRow, KernelsResult, VariantKernels, describe_op
from pointwise.layers import make_layer
from pointwise.spec import RunSpec
from pointwise.worker.runtime import default_runtime
from pointwise.worker.tensorflow_runtime import TensorFlowRuntime

WARMUP_CALLS = 2
PROFILE_TARGET_S = 0.2
"""Profile about this long per variant, within `MIN_CALLS`..`MAX_CALLS` calls: enough to average out a call."""
MIN_CALLS, MAX_CALLS = 3, 20
_CALL_OPS = ("PartitionedCall", "StatefulPartitionedCall", "__inference")
"""Ops that run a function: their kernels are traced on their own, so the call itself would count them twice."""
_HLO_BOOKKEEPING = frozenset({"parameter", "constant", "tuple", "get-tuple-element", "bitcast"})


def kernels_that_ran(spec: RunSpec, runtime: TensorFlowRuntime | None = None) -> KernelsResult:
    """Profile every variant of `spec` in its mode and pass; the ops that ran, most expensive first."""
    runtime = runtime or default_runtime()
    keras.utils.set_random_seed(spec.seed)
    with runtime.device_scope(spec.device):
        x = runtime.input_tensor(spec)
        variants = tuple(_variant_kernels(runtime, spec, key, x) for key in spec.variants)
    return KernelsResult(spec=spec, onednn=onednn_enabled(), variants=variants)


def _variant_kernels(runtime: TensorFlowRuntime, spec: RunSpec, key: str, x) -> VariantKernels:
    layer = make_layer(key, spec.filters, use_bias=spec.use_bias, dtype=spec.dtype, seed=spec.seed)
    function = runtime.step_function(layer, spec.mode, spec.pass_kind)

    def call() -> None:
        function(x)
        runtime.sync(spec.device)

    try:
        graphs = _executed_graphs(call)
        calls = _calls_to_profile(call)
        space, wall_s = profile_calls(call, calls)
    except runtime.run_errors as exc:
        first_line = (getattr(exc, "message", None) or str(exc)).strip().splitlines()[0]
        return VariantKernels(key, error=f"TensorFlow cannot run it here: {first_line}")
    if spec.mode == "xla":
        times = _xla_times(space)
        hlo = function.experimental_get_compiler_ir(x)(stage="optimized_hlo")
        rows = _xla_rows(hlo, times, calls)
    elif spec.mode == "graph":
        rows = _graph_rows(space, graphs, calls)
    else:
        rows = _eager_rows(space, calls)
    return VariantKernels(key, rows=rows, calls=calls, wall_us=1e6 * wall_s / calls)


def _executed_graphs(call: Callable[[], None]) -> list:
    """The cold call, with TensorFlow's run metadata on: the graphs of the functions it instantiated, as executed."""
    ctx = context.context()
    ctx.enable_run_metadata()
    try:
        call()
        return list(ctx.export_run_metadata().function_graphs)
    finally:
        ctx.disable_run_metadata()


def _calls_to_profile(call: Callable[[], None]) -> int:
    """Warm up, and size the profiled calls to about `PROFILE_TARGET_S` from the warm-up's speed."""
    start = time.perf_counter()
    for _ in range(WARMUP_CALLS):
        call()
    per_call = max((time.perf_counter() - start) / WARMUP_CALLS, 1e-9)
    return max(MIN_CALLS, min(MAX_CALLS, math.ceil(PROFILE_TARGET_S / per_call)))


def profile_calls(call: Callable[[], None], calls: int) -> tuple[xplane_pb2.XSpace, float]:
    """`calls` calls under the profiler: the trace, and their wall time (profiler overhead included)."""
    options = tf.profiler.experimental.ProfilerOptions(host_tracer_level=2, python_tracer_level=0)
    with tempfile.TemporaryDirectory(prefix="pointwise-kernels-") as logdir:
        tf.profiler.experimental.start(logdir, options=options)
        try:
            start = time.perf_counter()
            for _ in range(calls):
                call()
            wall_s = time.perf_counter() - start
        finally:
            tf.profiler.experimental.stop()
        trace = next(Path(logdir).rglob("*.xplane.pb"))
        return xplane_pb2.XSpace.FromString(trace.read_bytes()), wall_s


def traced_events(space: xplane_pb2.XSpace) -> Iterator[tuple[str, str, float, dict, int]]:
    """(event name, display name, duration in µs, stats by name, start in ps) of every event on every line."""
    for plane in space.planes:
        for line in plane.lines:
            for event in line.events:
                meta = plane.event_metadata[event.metadata_id]
                stats = {
                    plane.stat_metadata[s.metadata_id].name: _stat_value(plane, s) for s in (*meta.stats, *event.stats)
                }
                yield (
                    meta.name,
                    meta.display_name,
                    event.duration_ps / 1e6,
                    stats,
                    line.timestamp_ns * 1000 + event.offset_ps,
                )


def _stat_value(plane, stat):
    if stat.HasField("ref_value"):
        return plane.stat_metadata[stat.ref_value].name
    return getattr(stat, stat.WhichOneof("value")) if stat.WhichOneof("value") else None


def _rows(counts: dict[str, float], times: dict[str, float | None], details: dict[str, str], calls: int):
    """KernelRows per call, most expensive first; bookkeeping ops only where they were traced with a cost."""
    total = sum(t for t in times.values() if t) or None
    rows = []
    for op, count in counts.items():
        spent = times.get(op)
        if op in BOOKKEEPING_OPS and not spent:
            continue
        per_call = None if spent is None else spent / calls
        share = None if spent is None or total is None else spent / total
        rows.append(KernelRow(op, count / calls, per_call, share, details.get(op, describe_op(op))))
    return tuple(sorted(rows, key=lambda row: (row.time_us is None, -(row.time_us or 0.0), row.op)))


def _graph_rows(space, graphs: list, calls: int) -> tuple[KernelRow, ...]:
    counts: dict[str, float] = collections.Counter()
    times: dict[str, float | None] = collections.defaultdict(float)
    traced_nodes = set()
    for name, op, duration_us, _, _ in traced_events(space):
        if ":" not in name or not op or op.startswith(_CALL_OPS):
            continue
        traced_nodes.add(name.rsplit(":", 1)[0])
        counts[op] += 1
        times[op] += duration_us
    # The graph whose nodes the trace names is the step's; its untraced nodes ran too, once per call.
    executed = max(graphs, key=lambda g: len(_nodes(g) & traced_nodes), default=None)
    for node in [] if executed is None else _node_defs(executed):
        if node.name not in traced_nodes:
            counts[node.op] += calls
            times.setdefault(node.op, None)
    return _rows(counts, times, {}, calls)


def _node_defs(function_graphs) -> list:
    return [node for graph in function_graphs.partition_graphs for node in graph.node]


def _nodes(function_graphs) -> set[str]:
    return {node.name for node in _node_defs(function_graphs)}


def _eager_rows(space, calls: int) -> tuple[KernelRow, ...]:
    """Each kernel execution attributed to the op whose EagerExecute event encloses it."""
    counts: dict[str, float] = collections.Counter()
    times: dict[str, float] = collections.defaultdict(float)
    enclosing: list[tuple[int, int, str]] = []
    events = sorted(traced_events(space), key=lambda event: event[4])
    for name, _, duration_us, stats, start_ps in events:
        end_ps = start_ps + int(duration_us * 1e6)
        if name == "EagerExecute" and stats.get("eager_op"):
            enclosing.append((start_ps, end_ps, stats["eager_op"]))
        elif name == "EagerKernelExecute":
            op = next((op for begin, end, op in reversed(enclosing) if begin <= start_ps and end_ps <= end), None)
            if op is not None:
                counts[op] += 1
                times[op] += duration_us
    return _rows(counts, times, {}, calls)


def _xla_times(space) -> dict[str, list[float]]:
    """Per HLO instruction: the durations of its events (`hlo_op` stat), "end: ..." markers left out."""
    times: dict[str, list[float]] = collections.defaultdict(list)
    for name, _, duration_us, stats, _ in traced_events(space):
        if stats.get("hlo_op") and not name.startswith("end: "):
            times[stats["hlo_op"]].append(duration_us)
    return times


_HLO_INSTRUCTION = re.compile(r"^\s*(?:ROOT\s+)?%?([\w.\-]+)\s*=\s*(?:\([^=]*?\)|\S+)\s+([\w\-]+)\((.*)$")
_HLO_COMPUTATION = re.compile(r"^(ENTRY\s+)?%?([\w.\-]+)\s.*\{\s*$")


def _xla_rows(hlo: str, times: dict[str, list[float]], calls: int) -> tuple[KernelRow, ...]:
    """The entry computation's instructions (bookkeeping left out unless timed), each with its time per call."""
    computations, entry = _hlo_computations(hlo)
    counts: dict[str, float] = {}
    spent: dict[str, float | None] = {}
    details: dict[str, str] = {}
    for name, opcode, rest in computations.get(entry, []):
        if opcode in _HLO_BOOKKEEPING and name not in times:
            continue
        counts[name] = len(times.get(name, ())) or calls
        spent[name] = sum(times[name]) if name in times else None
        details[name] = _hlo_detail(opcode, rest, computations)
    for name, durations in times.items():
        if name not in counts:  # an instruction of a nested computation (a loop body, a call)
            counts[name], spent[name], details[name] = len(durations), sum(durations), "nested instruction"
    return _rows(counts, spent, details, calls)


def _hlo_computations(hlo: str) -> tuple[dict[str, list[tuple[str, str, str]]], str | None]:
    """{computation: [(instruction, opcode, rest of line)]}, and the entry computation's name."""
    computations: dict[str, list[tuple[str, str, str]]] = {}
    current, entry = None, None
    for line in hlo.splitlines():
        header = _HLO_COMPUTATION.match(line)
        if header and not line.startswith("HloModule"):
            current = header.group(2)
            computations[current] = []
            entry = current if header.group(1) else entry
            continue
        instruction = _HLO_INSTRUCTION.match(line)
        if instruction and current is not None:
            computations[current].append(instruction.groups())
    return computations, entry


def _hlo_detail(opcode: str, rest: str, computations) -> str:
    """ "fusion (kLoop): transpose, copy", "custom-call __onednn$matmul", "dot (from Conv2DBackpropInput)"."""
    detail = opcode
    if opcode == "fusion":
        kind = re.search(r"kind=(\w+)", rest)
        called = re.search(r"calls=%?([\w.\-]+)", rest)
        inner = [op for _, op, _ in computations.get(called.group(1), [])] if called else []
        fused = ", ".join(dict.fromkeys(op for op in inner if op not in _HLO_BOOKKEEPING))
        detail = f"fusion ({kind.group(1) if kind else '?'}): {fused}"
    elif opcode == "custom-call":
        target = re.search(r'custom_call_target="([^"]+)"', rest)
        detail = f"custom-call {target.group(1)}" if target else opcode
    source = re.search(r'op_type="([^"]+)"', rest)
    return f"{detail} (from {source.group(1)})" if source else detail
