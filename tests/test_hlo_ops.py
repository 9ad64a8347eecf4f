"""The JAX kernels reader on compiled HLO: which operations XLA runs, on a CPU's and on a GPU's entry computation."""

import pytest

pytest.importorskip("jax")

from pointwise.worker.jax_kernels import compiled_ops

GPU_ENTRY = """HloModule jit_forward

%fused_add (p: f32[25088,128]) -> f32[8,56,56,128] {
  %p = f32[25088,128]{1,0} parameter(0)
  ROOT %r = f32[8,56,56,128]{3,2,1,0} add(%p, %p)
}

ENTRY %main.3 (p0: f32[8,56,56,64], p1: f32[64,128]) -> f32[8,56,56,128] {
  %p0 = f32[8,56,56,64]{3,2,1,0} parameter(0)
  %p1 = f32[64,128]{1,0} parameter(1)
  %custom-call.1 = (f32[25088,128]{1,0}, s8[4194304]{0}) custom-call(%p0, %p1), custom_call_target="__cublas$lt$matmul"
  %get-tuple-element = f32[25088,128]{1,0} get-tuple-element(%custom-call.1), index=0
  ROOT %loop_add_fusion = f32[8,56,56,128]{3,2,1,0} fusion(%get-tuple-element), kind=kLoop, calls=%fused_add
}
"""


def test_a_gpu_entry_with_a_tuple_shaped_cublas_call_lists_the_call_and_the_fusion():
    # A tuple-shaped result starts with "(": reading the opcode as the token before the first "(" failed on it
    # (measured on an H100: the cuBLAS call returns its output and a workspace).
    assert compiled_ops(GPU_ENTRY) == [("custom-call", "__cublas$lt$matmul"), ("fusion", "kLoop: add")]


def test_the_ops_of_a_real_compiled_matmul_on_this_cpu():
    import jax
    import jax.numpy as jnp

    x, w = jnp.ones((32, 16)), jnp.ones((16, 8))
    ops = compiled_ops(jax.jit(lambda a, b: jnp.tanh(a @ b)).lower(x, w).compile().as_text())
    assert ops, "a compiled matmul runs at least one operation"
    assert not {"parameter", "tuple", "get-tuple-element"} & {opcode for opcode, _ in ops}
    assert any("dot" in f"{opcode} {detail}" for opcode, detail in ops), ops
