"""The Keras backend as a knob: validation, worker routing, the JAX runtime in a real worker, the CLI, and the
product where only TensorFlow is installed (only `importlib.util.find_spec` is mocked: the boundary)."""

import importlib.util
import json
import subprocess
import sys

import pytest

from conftest import ROOT, small_spec
from pointwise.backends import BACKEND_ENV, installed_backends, missing_backends_text
from pointwise.errors import InvalidSpecError
from pointwise.frames import equivalence_frame
from pointwise.jobs import WorkerKnobs, run_benchmark, run_check
from pointwise.results import stored_spec
from pointwise.spec import make_run_spec
from pointwise.variants import EQUIVALENT_KEYS, VARIANTS, keys_for_backend

JAX_KEYS = ("conv2d_1x1", "dense", "keras_ops", "pointwise")


@pytest.fixture
def without_jax(monkeypatch):
    """This machine as one where only TensorFlow is installed: the import system finds no `jax`."""
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "jax" else real_find_spec(name, *a)
    )


def test_the_registry_marks_tf_variants_tensorflow_only_and_keeps_them():
    assert keys_for_backend("jax") == JAX_KEYS
    assert keys_for_backend("tensorflow") == tuple(VARIANTS)
    for key in set(VARIANTS) - set(JAX_KEYS):
        assert VARIANTS[key].tensorflow_only, key


def test_a_jax_spec_defaults_to_the_variants_that_run_on_jax():
    assert make_run_spec().backend == "tensorflow" and make_run_spec().variants == EQUIVALENT_KEYS
    assert make_run_spec(backend="JAX").variants == keys_for_backend("jax", EQUIVALENT_KEYS) == JAX_KEYS


def test_a_tensorflow_only_variant_on_jax_is_refused_by_name():
    with pytest.raises(InvalidSpecError) as caught:
        make_run_spec(backend="jax", variants=["dense", "seed_matmul", "einsum_4d"])
    message = str(caught.value)
    assert caught.value.field == "variants" and "seed_matmul, einsum_4d" in message
    assert "TensorFlow only" in message and "Seed Example 1" in message


@pytest.mark.parametrize("value", ["torch", "", "jax;rm", 3])
def test_an_unknown_backend_is_refused_naming_the_field(value):
    with pytest.raises(InvalidSpecError) as caught:
        make_run_spec(backend=value)
    assert caught.value.field == "backend" and "tensorflow, jax" in str(caught.value)


def test_where_only_tensorflow_is_installed_jax_is_neither_offered_nor_run(without_jax):
    assert installed_backends() == ("tensorflow",)
    assert "pip install -r requirements-jax.txt" in missing_backends_text()
    with pytest.raises(InvalidSpecError) as caught:
        make_run_spec(backend="jax")
    assert caught.value.field == "backend" and "requirements-jax.txt" in str(caught.value)
    # A stored JAX run stays readable: the installation matters only for new runs.
    assert stored_spec({"backend": "jax"}).backend == "jax"
    assert make_run_spec().backend == "tensorflow"


def test_each_backend_is_its_own_worker_and_jax_ignores_tensorflows_knobs():
    tensorflow, jax = WorkerKnobs.for_spec(small_spec()), WorkerKnobs.for_spec(small_spec(backend="jax"))
    assert tensorflow != jax
    assert tensorflow.environment()[BACKEND_ENV] == "tensorflow" and jax.environment()[BACKEND_ENV] == "jax"
    assert WorkerKnobs.for_spec(small_spec(backend="jax", onednn="off", threads=2)) == jax


@pytest.mark.slow
def test_jax_worker_checks_every_jax_variant_against_conv2d_and_float64(pool):
    spec = small_spec(backend="jax", channels=64, filters=32, mode="graph")
    result = run_check(spec, pool=pool)
    assert [r.key for r in result.reports] == list(JAX_KEYS)
    for report in result.reports:
        assert report.equivalent, report
        assert report.max_rel_err <= report.rel_tolerance
        assert 0 < report.max_rel_err_vs_float64 <= report.rel_tolerance
        # The same input and weights given to TensorFlow's Conv2D 1x1, with the same tolerance.
        assert report.max_rel_err_vs_tensorflow is not None and report.max_rel_err_vs_tensorflow <= report.rel_tolerance
    assert "err vs TF Conv2D" in equivalence_frame(result.reports)
    assert "err vs TF Conv2D" not in equivalence_frame(run_check(small_spec(), pool=pool).reports)
    float64 = run_check(spec.with_changes(dtype="float64", mode="eager"), pool=pool)
    assert all(r.equivalent and r.max_rel_err_vs_float64 <= r.rel_tolerance for r in float64.reports)


@pytest.mark.slow
@pytest.mark.parametrize("pass_kind", ["forward", "backward"])
def test_jax_benchmark_times_every_jax_variant_and_says_so_on_the_card(pool, pass_kind):
    result = run_benchmark(small_spec(backend="jax", pass_kind=pass_kind), pool=pool)
    assert [m.key for m in result.measurements] == list(JAX_KEYS)
    for measurement in result.measurements:
        assert len(measurement.per_call_s) == 3 and min(measurement.per_call_s) > 0
        # The cold call traces and compiles with XLA: far slower than a warm call of this tiny layer.
        assert measurement.cold_start_s > 5 * min(measurement.per_call_s)
    card = result.environment
    assert card["backend"] == "jax" and card["xla"] is True and card["onednn"] is None
    assert card["packages"]["jax"] != "not installed"
    # The roofline's GEMM is computed at run time, not folded to a constant by XLA (which gave 12 TFLOP/s).
    assert 1 < result.ceilings.peak_gflops_per_s < 5_000


def cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "pointwise", *args], cwd=ROOT, capture_output=True, text=True, timeout=240
    )


@pytest.mark.slow
def test_cli_backend_jax_checks_the_jax_variants():
    done = cli("check", "--shape", "1,3,4,8", "--filters", "4", "--backend", "jax", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["spec"]["backend"] == "jax"
    assert [v["key"] for v in data["variants"]] == list(JAX_KEYS) and all(v["equivalent"] for v in data["variants"])


@pytest.mark.parametrize(
    ("args", "field"),
    [(["--backend", "torch"], "backend"), (["--backend", "jax", "--variant", "seed_einsum"], "variants")],
)
def test_cli_bad_backend_input_exits_2_naming_the_field(args, field):
    done = cli("check", "--shape", "1,3,4,8", "--filters", "4", *args)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert field in done.stderr


def _benchmark_page(query):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    at.switch_page("pages/benchmark.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.slow
def test_sidebar_offers_jax_and_names_the_tensorflow_only_variants_it_skips(tmp_db):
    at = _benchmark_page({"backend": "jax"})
    backend = next(s for s in at.sidebar.selectbox if s.key == "backend")
    assert backend.value == "jax" and backend.options == ["TensorFlow", "JAX"]
    variants = next(m for m in at.sidebar.multiselect if m.key == "variants")
    assert "Seed Example 1: tf.matmul on 4-D input · TensorFlow only" in variants.options
    skipped = " ".join(w.value for w in at.sidebar.warning)
    assert "not run on JAX" in skipped and "Seed Example 1" in skipped and "Dense on 4-D input" not in skipped


@pytest.mark.slow
def test_sidebar_without_jax_offers_no_backend_and_refuses_a_jax_link(tmp_db, without_jax):
    at = _benchmark_page({"backend": "jax"})
    assert not [s for s in at.sidebar.selectbox if s.key == "backend"]
    assert any("requirements-jax.txt" in c.value for c in at.sidebar.caption)
    # The warning quotes the URL value, so it is markdown-escaped (`requirements\-jax`).
    assert any("`backend` was not used" in w.value and "installed backend" in w.value for w in at.warning)


@pytest.mark.slow
def test_a_jax_worker_benchmarks_without_importing_tensorflow():
    code = (
        "import json, sys\n"
        "from pointwise.spec import make_run_spec\n"
        "from pointwise.worker.handlers import JobEvents, JobHandler\n"
        "from pointwise.worker.runtime import default_runtime\n"
        "spec = make_run_spec(batch=1, height=3, width=4, channels=8, filters=4, samples=3, backend='jax')\n"
        "handler = JobHandler(default_runtime())\n"
        "events = JobEvents(progress=lambda *a: None, phase=lambda text: None)\n"
        "result = handler.handle({'kind': 'bench', 'spec': spec.to_dict()}, events)\n"
        "print(json.dumps([handler.runtime.name, len(result['measurements']), 'tensorflow' in sys.modules]))\n"
    )
    env = {**WorkerKnobs(backend="jax").environment(), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == ["jax", len(JAX_KEYS), False]


def test_history_lists_each_runs_backend_and_filters_by_it(tmp_db):
    import dataclasses

    from pointwise.frames import filter_runs, verdict_lines
    from pointwise.store import RunStore
    from test_store import _result

    tensorflow = _result({"conv2d_1x1": [1e-3, 2e-3, 3e-3], "dense": [1e-3, 1.5e-3, 2e-3]})
    jax = dataclasses.replace(tensorflow, spec=tensorflow.spec.with_changes(backend="jax", variants=["dense"]))
    store = RunStore()
    ids = {store.save(tensorflow): "tensorflow", store.save(jax): "jax"}
    runs = store.list_runs()
    assert dict(zip(runs["id"], runs["backend"], strict=True)) == ids
    assert filter_runs(runs, backends=["jax"])["id"].tolist() == [k for k, v in ids.items() if v == "jax"]
    assert store.load(max(ids)).spec.backend == "jax"
    # The verdict names the backend both variants ran on.
    assert verdict_lines(store.load(max(ids)))[0][1].endswith("(vs Conv2D 1x1, both on JAX)")


def test_compiled_ops_lists_the_entry_computation_with_what_each_fusion_fuses():
    import jax
    import jax.numpy as jnp

    from pointwise.worker.jax_kernels import compiled_ops

    a, b = jnp.ones((64, 32)), jnp.ones((32, 16))
    text = jax.jit(lambda a, b: jnp.tanh(a @ b + 1.0)).lower(a, b).compile().as_text()
    ops = compiled_ops(text)
    assert ops and all(opcode not in ("parameter", "constant") for opcode, _ in ops)
    # The matmul runs, as a dot or inside a fusion, and the tanh and the add are fused somewhere.
    assert any(opcode == "dot" or "dot" in detail for opcode, detail in ops)
    assert any(opcode == "fusion" and "tanh" in detail for opcode, detail in ops)


@pytest.mark.slow
@pytest.mark.parametrize(("mode", "matmul_ops"), [("graph", {"dot", "convolution", "fusion"}), ("eager", None)])
def test_kernels_on_jax_are_what_xla_compiled_or_the_primitives_dispatched(pool, mode, matmul_ops):
    from pointwise.jobs import kernels_cached
    from pointwise.kernels import kernels_summary

    result = kernels_cached(small_spec(backend="jax", mode=mode), fresh=True, pool=pool).result
    assert [v.key for v in result.variants] == list(JAX_KEYS)
    for variant in result.variants:
        assert variant.error is None and variant.rows and variant.wall_us > 0
        ops = {row.op for row in variant.rows}
        assert all(row.time_us is None and row.count >= 1 for row in variant.rows)
        if matmul_ops:
            assert ops & matmul_ops, (variant.key, ops)
        else:
            assert ops & {"dot_general", "conv_general_dilated", "custom_vjp_call"}, (variant.key, ops)
    assert kernels_summary(result).startswith("JAX, ")


@pytest.mark.slow
def test_scaling_on_jax_names_the_backend_in_its_charts(tmp_db):
    at = _benchmark_page(
        {"batch": "1", "height": "4", "width": "4", "channels": "3", "filters": "2", "samples": "3", "backend": "jax"}
    )
    at.switch_page("pages/scaling.py")
    at.run()
    at.sidebar.multiselect(key="variants").set_value(["conv2d_1x1", "dense"])
    at.run()
    form_inputs = [n for n in at.number_input if n.label in ("from", "to", "points")]
    for widget, value in zip(form_inputs, (2, 4, 2), strict=True):
        widget.set_value(value)
    next(b for b in at.button if b.label == "Run sweep").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    titles = [json.loads(chart.proto.spec)["layout"]["title"]["text"] for chart in at.get("plotly_chart")[:3]]
    assert all(" on JAX" in title for title in titles), titles


JAX_LAYER_CHECK = """
import json
import jax, jax.numpy as jnp, keras, numpy as np
from pointwise import jax_autotune
from pointwise.layers import PointwiseConv2D

x = jnp.asarray(np.random.default_rng(0).standard_normal((2, 5, 6, 8)), dtype="float32")
dense = keras.layers.Dense(4, kernel_initializer=keras.initializers.GlorotUniform(seed=0))
dense.build(x.shape)

def grads(layer):
    weights = [v.value for v in layer.trainable_variables]
    loss = lambda w, i: jnp.sum(jnp.sin(layer.stateless_call(w, [], i)[0]))
    return jax.grad(loss, argnums=(0, 1))(weights, x)

expected = grads(dense)
worst = {}
for strategy in [*jax_autotune.STRATEGIES, "auto"]:
    layer = PointwiseConv2D(4, strategy=strategy)
    layer.build(x.shape)
    for mine, theirs in zip(layer.trainable_variables, dense.trainable_variables):
        mine.assign(theirs.value)
    jax.jit(lambda i: layer(i))(x)  # tunes while jax.jit traces
    got = grads(layer)
    pairs = zip(jax.tree.leaves(got), jax.tree.leaves(expected))
    # Relative to each gradient's largest entry: the kernel's gradient sums B*H*W float32 terms, so its absolute
    # rounding grows with the (random) weights' scale while the relative error stays near float32's epsilon.
    worst[strategy] = max(float(jnp.max(jnp.abs(a - b)) / jnp.max(jnp.abs(b))) for a, b in pairs)
    worst[strategy + ":chosen"] = layer.strategy
tuning = layer.tuning
print(json.dumps({"worst": worst, "forward": sorted(tuning.forward_s), "gradient": sorted(tuning.gradient_s)}))
"""


@pytest.mark.slow
def test_pointwiseconv2d_on_jax_tunes_and_every_strategy_has_denses_gradients():
    env = {**WorkerKnobs(backend="jax").environment(), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", JAX_LAYER_CHECK], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout.splitlines()[-1])
    errors = {k: v for k, v in data["worst"].items() if not k.endswith(":chosen")}
    assert len(errors) == 10 and all(error < 1e-5 for error in errors.values()), errors
    assert data["worst"]["auto:chosen"] in data["worst"]  # the tuned choice is one of the strategies
    assert data["forward"] == data["gradient"] == ["batched", "conv", "gemm"]
