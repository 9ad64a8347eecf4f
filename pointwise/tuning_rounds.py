"""What the TensorFlow and the JAX autotuners share: strategy names, the `Tuning` record, and the interleaved
timing rounds that rank candidate kernels.

Imports no backend: each autotuner passes its own `synced` timer (which waits for the device) and the errors that
mean "this kernel cannot run here".
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


def strategy_name(forward: str, gradient: str) -> str:
    """`gemm` / `conv` for one kernel both ways, else `<forward>_forward_<gradient>_backward`."""
    return forward if forward == gradient else f"{forward}_forward_{gradient}_backward"


@dataclass(frozen=True)
class Tuning:
    """What one tuning measured: the fastest seconds per call of every kernel that ran, and the winners.

    `shape` is the input shape that was timed (the batch axis resolved); `elapsed_s` the tuning's whole cost.
    """

    strategy: str
    shape: tuple[int, ...]
    forward_s: dict[str, float]
    gradient_s: dict[str, float]
    rounds: int
    elapsed_s: float


FALLBACK_STRATEGY = "conv_forward_gemm_backward"
"""For an input whose spatial or channel axes are undefined, which cannot be timed, on either backend: the
convolution's forward (never slower than it) and GEMM gradients (on the CPUs measured, up to 2.6x faster than the
convolution's at C < 512)."""


def tuning_from(minima: dict, rounds: int, shape: tuple[int, ...], start: float) -> Tuning:
    """The `Tuning` of `measure_candidates`' minima: the fastest forward and the fastest gradient kernel, chosen
    apart (`FALLBACK_STRATEGY` if either part has no kernel that ran); `start` the tuning's `perf_counter`."""
    forward_s = {name: s for (part, name), s in minima.items() if part == "forward"}
    gradient_s = {name: s for (part, name), s in minima.items() if part == "gradient"}
    if not forward_s or not gradient_s:
        strategy = FALLBACK_STRATEGY
    else:
        strategy = strategy_name(min(forward_s, key=forward_s.get), min(gradient_s, key=gradient_s.get))
    return Tuning(strategy, shape, forward_s, gradient_s, rounds, time.perf_counter() - start)


MIN_ROUNDS = 3
PRUNE_RATIO = 1.5
"""After the first round, a kernel this much slower than the fastest of its part is out of the running."""
MAX_ROUNDS = 25
TARGET_SAMPLE_S = 0.002
"""A sample times a block of calls lasting about this long, so that clock and dispatch are noise, not signal."""


def measure_candidates(
    candidates: dict, deadline: float, synced: Callable[..., float], errors: tuple[type[BaseException], ...]
) -> tuple[dict, int]:
    """Fastest seconds per call of each `(part, name)` candidate, timed in interleaved rounds until `deadline`.

    Each candidate is traced and run once untimed. A round times one block of every candidate, so that drift
    in the machine's speed touches all alike; the first round's blocks are single calls, whose times size the
    later blocks, and a candidate over `PRUNE_RATIO` times the fastest of its part is timed no further (a slow
    kernel would otherwise spend most of the budget). No round starts that would end past `deadline` (a
    `perf_counter` value), except the first `MIN_ROUNDS`. The minimum, not the median, ranks the candidates:
    on a shared CPU other processes only ever add time, and a few rounds' median still carries their bursts.
    A candidate whose first call raises one of `errors` (no kernel for this dtype or device) is left out.
    `synced(run, calls)` returns the seconds of `calls` calls, device work finished. Returns the minima and the
    number of rounds.
    """
    calls = {}
    for key, run in candidates.items():
        try:
            synced(run)
        except errors:
            continue
        calls[key] = 1
    samples = {key: [] for key in calls}
    rounds, round_s = 0, 0.0
    while calls and rounds < MAX_ROUNDS and (rounds < MIN_ROUNDS or time.perf_counter() + round_s <= deadline):
        round_start = time.perf_counter()
        for key, count in calls.items():
            samples[key].append(synced(candidates[key], count) / count)
        round_s = time.perf_counter() - round_start
        rounds += 1
        if rounds == 1:
            fastest = {key[0]: min(s[0] for k, s in samples.items() if k[0] == key[0]) for key in samples}
            calls = {
                key: max(1, math.ceil(TARGET_SAMPLE_S / max(s[0], 1e-9)))
                for key, s in samples.items()
                if s[0] <= PRUNE_RATIO * fastest[key[0]]
            }
    return {key: min(s) for key, s in samples.items()}, rounds
