"""Tune: the design planner and the decomposition (pure, synthetic samples where the statistics are under test),
and one real end-to-end `python -m pointwise tune` with a tiny budget on real workers."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT
from pointwise.errors import InvalidSpecError
from pointwise.spec import make_run_spec
from pointwise.tune_plan import (
    BASELINE_CHANGES,
    FACTOR_KEYS,
    FACTORS,
    MAX_SAMPLES,
    MIN_SAMPLES,
    CostModel,
    Factor,
    Level,
    PlannedRun,
    level_spec,
    plan_tune,
    price,
    validate_budget,
    worker_of,
)
from pointwise.tune_stats import Effect, by_size, effect, effects_frame, verdict

BASE = make_run_spec(**BASELINE_CHANGES)
FLAT = CostModel(worker_start_s=5.0, setup_per_variant_s=0.0, round_s=0.1, other_level_round_factor=1.0)
"""Round numbers that make the planner's arithmetic checkable by hand: 8 variants, 0.1 s per round."""


def _names(plan):
    return [run.factor.key if run.factor else "baseline" for run in plan.runs]


def test_a_generous_budget_keeps_every_factor_at_the_most_samples():
    plan = plan_tune(BASE, 900, FLAT)
    assert plan.samples == MAX_SAMPLES and not plan.dropped
    assert sorted(_names(plan)) == sorted(["baseline", *FACTOR_KEYS])
    # Runs that keep the baseline's worker (XLA, dtype) come before those that start one.
    assert _names(plan)[:3] == ["baseline", "xla", "dtype"]
    assert plan.estimated_s <= 900


def test_a_tighter_budget_takes_fewer_samples_first_then_drops_the_last_factors():
    everything = plan_tune(BASE, 900, FLAT)
    # Five worker starts (baseline, oneDNN, threads, JAX, allocator) = 25 s; seven runs x 30 rounds x 0.1 s = 21 s.
    assert everything.estimated_s == pytest.approx(46.0)
    fewer_samples = plan_tune(BASE, 30, FLAT)
    assert not fewer_samples.dropped and MIN_SAMPLES <= fewer_samples.samples < MAX_SAMPLES
    assert fewer_samples.estimated_s <= 30
    # At 20 s even five samples of all seven runs (28.5 s) or of six (23 s) do not fit: the last two in priority go.
    fewer_factors = plan_tune(BASE, 20, FLAT)
    assert [f.key for f in fewer_factors.dropped] == ["backend", "allocator"] and fewer_factors.samples == 10
    assert fewer_factors.estimated_s == pytest.approx(20.0)


def test_a_budget_too_small_for_the_baseline_names_the_budget():
    with pytest.raises(InvalidSpecError, match="budget") as caught:
        plan_tune(BASE, 5.1, FLAT)
    assert "at least about 6 s" in str(caught.value)


def test_worker_starts_follow_the_pools_least_recently_used_rule():
    start_only = CostModel(worker_start_s=1.0, setup_per_variant_s=0.0, round_s=0.0)
    default, onednn_off, one_thread = (
        worker_of(BASE, {}),
        worker_of(BASE, {"onednn": "off"}),
        worker_of(BASE, {"threads": 1}),
    )
    runs = [PlannedRun(None, 5, w, "graph") for w in (default, default, onednn_off, one_thread, default)]
    # Two warm workers: the default is evicted by the third knob set and started again at the end.
    assert price(runs, start_only, 8, warm=(), max_workers=2) == 4.0
    assert price(runs, start_only, 8, warm=(), max_workers=3) == 3.0
    assert price(runs, start_only, 8, warm=(default,), max_workers=3) == 2.0


def test_a_level_on_another_backend_runs_the_variants_written_for_it():
    spec = BASE.with_changes(variants=("conv2d_1x1", "seed_matmul", "dense"))
    on_jax = level_spec(spec, {"backend": "jax"}, 7)
    assert on_jax.backend == "jax" and on_jax.variants == ("conv2d_1x1", "dense") and on_jax.samples == 7
    assert level_spec(spec, {"onednn": "off"}, 7).variants == spec.variants


def test_the_design_is_generic_over_factors():
    # A later backend factor is one more entry: the planner prices it by the worker its changes select.
    backend = Factor("seed", "the seed", lambda card: "seed 0", lambda card: (Level("seed 1", {"seed": 1}),))
    onednn = next(f for f in FACTORS if f.key == "onednn")
    plan = plan_tune(BASE, 900, FLAT, (onednn, backend))
    assert _names(plan) == ["baseline", "seed", "onednn"]
    # oneDNN's other level is the opposite of what TensorFlow chose, read from the baseline's card.
    assert onednn.alternatives({"onednn": True})[0].changes == {"onednn": "off"}
    assert onednn.alternatives({"onednn": False})[0].changes == {"onednn": "on"}


@pytest.mark.parametrize("value", [0, -1, 9.9, float("nan"), float("inf"), "abc", "", True, None, 10**9, "1e400"])
def test_bad_budgets_are_refused_naming_the_field_and_value(value):
    with pytest.raises(InvalidSpecError) as caught:
        validate_budget(value)
    assert caught.value.field == "budget" and repr(value) in str(caught.value)


def test_the_demo_caps_the_budget(monkeypatch):
    assert validate_budget("600") == 600.0
    monkeypatch.setenv("POINTWISE_DEMO", "1")
    assert validate_budget(90) == 90.0
    with pytest.raises(InvalidSpecError, match=r"\[10, 90\]"):
        validate_budget(600)


def _samples(median_s, n=30, seed=0):
    return median_s * (1 + 0.02 * np.random.default_rng(seed).standard_normal(n))


def test_an_effect_is_the_time_ratio_with_a_bootstrap_interval():
    slower = effect("onednn", "oneDNN", ("on", "off"), _samples(1e-3), _samples(1.8e-3, seed=1))
    assert slower.time_ratio == pytest.approx(1.8, rel=0.03)
    assert slower.ci_low < slower.time_ratio < slower.ci_high and slower.ci_low > 1.0
    assert slower.significant and slower.faster_level == "on" and slower.size == slower.time_ratio
    faster = effect("xla", "XLA", ("graph", "xla"), _samples(2e-3), _samples(1e-3, seed=2))
    assert faster.size == pytest.approx(2.0, rel=0.03) and faster.faster_level == "xla"
    low, high = faster.size_ci
    assert low < faster.size < high and (low, high) == (1 / faster.ci_high, 1 / faster.ci_low)
    same = effect("allocator", "the allocator", ("unset", "on"), _samples(1e-3), _samples(1e-3, seed=3))
    assert not same.significant and same.ci_low < 1.0 < same.ci_high


def test_the_verdict_lists_significant_effects_by_size_then_the_rest():
    effects = [
        effect("formulation", "the formulation", ("Conv2D", "Dense"), _samples(1.15e-3), _samples(1e-3, seed=4)),
        effect("allocator", "the allocator", ("unset", "on"), _samples(1e-3), _samples(1e-3, seed=5)),
        effect("onednn", "oneDNN", ("on", "off"), _samples(1e-3), _samples(1.8e-3, seed=6)),
    ]
    assert [e.factor for e in by_size(effects)] == ["onednn", "formulation", "allocator"]
    text = verdict(effects, "Test CPU")
    assert text.startswith("On this CPU (Test CPU), oneDNN matters 1.8")
    assert text.index("oneDNN") < text.index("the formulation 1.1") < text.index("no significant effect: the allocator")
    assert isinstance(effects[0], Effect) and effects[0].to_dict()["faster"] == "Dense"
    drifted = effect("drift", "drift", ("first run", "last run"), _samples(1e-3, seed=7), _samples(1.3e-3, seed=8))
    assert "Careful: the same baseline ran 1.3" in verdict(effects, "Test CPU", drifted)
    steady = effect("drift", "drift", ("first run", "last run"), _samples(1e-3, seed=7), _samples(1e-3, seed=8))
    assert verdict(effects, "Test CPU", steady) == text
    frame = effects_frame(by_size(effects))
    assert list(frame["factor"]) == ["oneDNN", "the formulation", "the allocator"]
    assert list(frame.loc[0, ["faster", "slower"]]) == ["on", "off"] and list(frame["significant"]) == [
        True,
        True,
        False,
    ]
    assert (frame["ci95 low"] < frame["time ratio"]).all() and (frame["time ratio"] < frame["ci95 high"]).all()


@pytest.mark.slow
def test_tune_cli_end_to_end_with_a_tiny_budget(tmp_path):
    out = tmp_path / "tune.json"
    command = [sys.executable, "-m", "pointwise", "tune", "--shape", "1,8,8,4", "--filters", "4"]
    command += ["--variant", "conv2d_1x1", "--variant", "dense", "--budget", "25", "--json", str(out)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text())
    assert "Run 1 of" in done.stderr and data["verdict"] in done.stdout
    assert data["verdict"].startswith(f"On this CPU ({data['cpu']}), ")
    # Every factor either ran or is named as dropped, with why (how many run depends on the machine's load).
    ran = [run["factor"] for run in data["runs"][1:]]
    dropped = {d["factor"] for d in data["dropped"]}
    labels = {f.key: f.label for f in FACTORS}
    assert data["runs"][0]["factor"] is None and all(d["why"] for d in data["dropped"])
    assert {labels[key] for key in ran} | dropped == set(labels.values())
    assert {e["factor"] for e in data["effects"]} == {"formulation", *ran}
    # The closing baseline run (drift check), where the budget allowed one, holds Conv2D 1x1 alone.
    assert data["drift"] is None or data["drift"]["baseline_level"] == "first run"
    medians = [row["median_ms"] for row in data["ranking"]]
    assert medians == sorted(medians) and len(medians) == 2 * len(data["runs"])
    # The baseline ran at TensorFlow's defaults: its card says what TensorFlow chose.
    card = data["runs"][0]["result"]["environment"]
    assert (
        card["onednn_why"] == "TensorFlow's default on this machine"
        and data["runs"][0]["result"]["spec"]["mode"] == "graph"
    )
