"""Results that grow while you watch: a benchmark's samples as they arrive, as a partial `BenchmarkResult`.

The worker sends every timed sample in its "progress" event (`pointwise.protocol.progress_event`); a
`SampleStream` collects them on the server, so a page can draw the distribution and a running verdict long
before the job ends. Running statistics use `RUNNING_RESAMPLES` bootstrap resamples: they are recomputed on
every redraw, on a server core the measurement may be sharing, and the final statistics replace them anyway.
"""

from __future__ import annotations

import time

from pointwise.frames import samples_frame, verdict_lines
from pointwise.protocol import PROGRESS
from pointwise.results import BenchmarkResult, Measurement
from pointwise.spec import RunSpec
from pointwise.stats import summarize
from pointwise.variants import BASELINE_KEY

RUNNING_RESAMPLES = 200
"""A tenth of `stats.BOOTSTRAP_RESAMPLES`: intervals good to a few percent, for a verdict marked "running"."""
REDRAW_S = 0.5
"""Least time between two redraws of the running view."""
MIN_SAMPLES = 3
"""Per variant, before a variant has a running statistic (a median of fewer says little)."""


class SampleStream:
    """The samples of one benchmark job so far, per variant, in the order the worker times them."""

    def __init__(self, spec: RunSpec, clock=time.monotonic) -> None:
        self.spec = spec
        keys = spec.variants if BASELINE_KEY in spec.variants else (BASELINE_KEY, *spec.variants)
        self.samples: dict[str, list[float]] = {key: [] for key in keys}
        self.total = 0
        self._clock = clock
        self._last_redraw: float | None = None

    def add(self, event: dict) -> bool:
        """Take a progress event's sample; True if it carried one (other events are ignored)."""
        if event.get("event") != PROGRESS or "per_call_s" not in event or event.get("variant") not in self.samples:
            return False
        self.samples[event["variant"]].append(float(event["per_call_s"]))
        self.total = int(event["total"])
        return True

    @property
    def count(self) -> int:
        return sum(len(times) for times in self.samples.values())

    def redraw_due(self) -> bool:
        """True at most once per `REDRAW_S`, and only once every variant has `MIN_SAMPLES` samples."""
        if any(len(times) < MIN_SAMPLES for times in self.samples.values()):
            return False
        now = self._clock()
        if self._last_redraw is not None and now - self._last_redraw < REDRAW_S:
            return False
        self._last_redraw = now
        return True

    def partial_result(self) -> BenchmarkResult:
        """The samples so far as a `BenchmarkResult` (no environment, cold start or block size yet)."""
        measurements = tuple(
            Measurement(key=key, per_call_s=tuple(times), calls_per_block=1, cold_start_s=0.0)
            for key, times in self.samples.items()
            if times
        )
        return BenchmarkResult(spec=self.spec, measurements=measurements, environment={})

    def running_view(self):
        """(samples DataFrame, running verdict lines, title): what a page draws while the job runs."""
        partial = self.partial_result()
        verdicts = verdict_lines(partial, summarize(partial, RUNNING_RESAMPLES))
        title = f"Verdict (running, {self.count} of {self.total} samples)"
        return samples_frame(partial), verdicts, title
