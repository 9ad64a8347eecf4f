"""Runtime knobs: "default" is TensorFlow's own choice for this CPU, and the environment card says which it was."""

import subprocess
import sys

import pytest

from conftest import ROOT, small_spec
from pointwise.jobs import WorkerKnobs, run_benchmark
from pointwise.protocol import CPU_ALLOCATOR_BFC_ENV, INTER_THREADS_ENV, ONEDNN_ENV


def test_default_knobs_reach_tensorflow_as_absent_variables(monkeypatch):
    monkeypatch.setenv(ONEDNN_ENV, "0")
    monkeypatch.setenv(CPU_ALLOCATOR_BFC_ENV, "true")
    env = WorkerKnobs().environment()
    assert ONEDNN_ENV not in env and CPU_ALLOCATOR_BFC_ENV not in env
    chosen = WorkerKnobs(onednn="on", cpu_allocator_bfc="off", inter_threads=2).environment()
    assert chosen[ONEDNN_ENV] == "1" and chosen[CPU_ALLOCATOR_BFC_ENV] == "false" and chosen[INTER_THREADS_ENV] == "2"


def test_each_knob_combination_is_its_own_worker():
    specs = [small_spec(), small_spec(onednn="off"), small_spec(cpu_allocator_bfc="on"), small_spec(inter_threads=1)]
    assert len({WorkerKnobs.for_spec(spec) for spec in specs}) == len(specs)


def _tensorflow_default_onednn() -> bool:
    """What TensorFlow itself decides on this CPU when nobody sets TF_ENABLE_ONEDNN_OPTS."""
    code = (
        "import os; os.environ.pop('TF_ENABLE_ONEDNN_OPTS', None); os.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'\n"
        "from tensorflow.python.util import _pywrap_util_port\n"
        "print(_pywrap_util_port.IsMklEnabled())"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != ONEDNN_ENV}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env, cwd=ROOT)
    return out.stdout.strip().splitlines()[-1] == "True"


@pytest.mark.slow
def test_the_card_says_what_each_knob_was_and_why(pool):
    default = run_benchmark(small_spec(variants=["conv2d_1x1"]), pool=pool).environment
    assert default["onednn"] is _tensorflow_default_onednn()
    assert default["onednn_why"] == "TensorFlow's default on this machine"
    chosen = run_benchmark(small_spec(variants=["conv2d_1x1"], onednn="off", inter_threads=1), pool=pool).environment
    assert chosen["onednn"] is False and chosen["onednn_why"] == "chosen"
    assert chosen["inter_op_threads"] == 1 and chosen["inter_op_threads_why"] == "chosen"
