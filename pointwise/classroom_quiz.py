"""Predict, then measure: the Classroom's questions, the small runs that answer them, and the verdicts.

A student commits to a guess before the page reveals anything; the truth then comes from a real run in the
TensorFlow worker (`pointwise.jobs`), never from a sentence we wrote. This module builds the runs' specs
and reads their results; the page sends the jobs and stores the answers in the session.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from pointwise.results import BenchmarkResult, EquivalenceResult
from pointwise.spec import RunSpec, make_run_spec
from pointwise.variants import BASELINE_KEY, VARIANTS

QUIZ_SIDE = 56
QUIZ_CHANNELS = 3
QUIZ_FILTERS = 4
"""The article step's layer (C=3 -> F=4) on a 56x56 image: MobileNet's resolution after its first strides."""
EXAMPLE_3 = "seed_dense_flatten"
SPEED_CONTENDERS = (BASELINE_KEY, "dense", "seed_matmul")
SPEED_SAMPLES = 5
"""Few samples keep the speed question under ~10 s on 2 cores; the Benchmark page measures properly."""


@dataclass(frozen=True)
class Question:
    key: str
    prompt: str
    options: tuple[str, ...] = ()
    """Choices shown as labels; empty for a number question."""


QUESTIONS: dict[str, Question] = {
    q.key: q
    for q in (
        Question("example3_pointwise", "Does Seed Example 3 compute a pointwise convolution?", ("yes", "no")),
        Question(
            "example3_params",
            f"How many parameters does Example 3 have at {QUIZ_SIDE}x{QUIZ_SIDE} "
            f"(C = {QUIZ_CHANNELS} input channels, F = {QUIZ_FILTERS} filters)?",
        ),
        Question(
            "fastest",
            "Which is fastest: Conv2D 1x1, Dense, or Example 1?",
            tuple(VARIANTS[key].label for key in SPEED_CONTENDERS),
        ),
    )
}


@dataclass(frozen=True)
class Reveal:
    """A guess beside the measured truth. `detail` says what was measured, in our own words and numbers."""

    guess: str
    truth: str
    correct: bool
    detail: str

    def to_dict(self) -> dict:
        return asdict(self)


def example3_spec() -> RunSpec:
    """One 56x56x3 image through Conv2D 1x1 and Seed Example 3, both mapping 3 channels to 4."""
    return make_run_spec(
        batch=1,
        height=QUIZ_SIDE,
        width=QUIZ_SIDE,
        channels=QUIZ_CHANNELS,
        filters=QUIZ_FILTERS,
        variants=(BASELINE_KEY, EXAMPLE_3),
        samples=3,
    )


def speed_spec() -> RunSpec:
    return make_run_spec(
        batch=1, height=QUIZ_SIDE, width=QUIZ_SIDE, channels=32, filters=64, variants=SPEED_CONTENDERS, samples=5
    )


def _report(result: EquivalenceResult, key: str):
    return next(r for r in result.reports if r.key == key)


def reveal_pointwise(guess: str, result: EquivalenceResult) -> Reveal:
    """Example 3 is pointwise only if its output matches Conv2D 1x1's, shape and values."""
    report = _report(result, EXAMPLE_3)
    truth = "yes" if report.equivalent else "no"
    detail = (
        f"Measured: Conv2D 1x1 returns shape {tuple(report.baseline_shape)}, Example 3 returns "
        f"{tuple(report.output_shape or ())}. Its Dense layer sees the whole image as one vector, so each "
        f"output mixes every pixel instead of one pixel's channels."
    )
    return Reveal(guess, truth, guess == truth, detail)


def reveal_params(guess: int, result: EquivalenceResult) -> Reveal:
    """The parameter count of the Keras layer the worker built; exact answers only count as right."""
    report = _report(result, EXAMPLE_3)
    spec = result.spec
    formula = f"{spec.height}·{spec.width}·{spec.channels}·{spec.filters} + {spec.filters}"
    detail = (
        f"Measured: the layer has {report.params:,} weights ({formula}): one per input value per filter, "
        f"plus a bias each. Conv2D 1x1 has {report.baseline_params:,}, whatever the image size."
    )
    return Reveal(f"{guess:,}", f"{report.params:,}", guess == report.params, detail)


def reveal_fastest(guess: str, result: BenchmarkResult) -> Reveal:
    """The variant with the smallest median time per call; the detail lists every median."""
    medians = {s.key: s.median_s for s in result.statistics}
    fastest = min(medians, key=medians.get)
    spec = result.spec
    times = ", ".join(f"{VARIANTS[k].label} {medians[k] * 1e3:.3f} ms" for k in SPEED_CONTENDERS if k in medians)
    detail = (
        f"Measured on this server, {spec.batch}x{spec.height}x{spec.width}x{spec.channels} -> {spec.filters}, "
        f"median of {spec.samples} samples: {times}. Close times swap places from run to run."
    )
    return Reveal(guess, VARIANTS[fastest].label, guess == VARIANTS[fastest].label, detail)
