"""Jobs whose results are drawn while they run: a benchmark's samples, a sweep's finished points.

The running view is drawn in a placeholder above the progress bar and replaced by the page's final view when
the job ends; redraws are throttled (`pointwise.live.REDRAW_S`), since each one costs the server a bootstrap
and a chart while the worker may be timing on the other core.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from pointwise.charts import timing_distribution
from pointwise.jobs import Computed, EventCallback, benchmark_and_cache
from pointwise.live import MIN_SAMPLES, SampleStream
from pointwise.spec import RunSpec
from pointwise.sweep import SweepPoint
from pointwise.text import escape_markdown
from pointwise.ui.progress import run_with_progress


def run_benchmark_live(spec: RunSpec, slot) -> Computed | None:
    """A fresh benchmark of `spec` (cached for later visitors), its distribution and verdict drawn as it runs in
    `slot` (an `st.empty()`)."""
    stream = SampleStream(spec)
    # Replaces the empty chart the slot held before the click, until the first samples are drawn.
    slot.caption(
        f"Each variant's first call (trace, weight build) and warm-up come first; the distribution is drawn once "
        f"every variant has {MIN_SAMPLES} samples, and redrawn as more arrive."
    )

    def job(on_event: EventCallback) -> Computed:
        def on_sample(event: dict) -> None:
            on_event(event)
            if stream.add(event) and stream.redraw_due():
                _draw_running(slot, stream)

        return benchmark_and_cache(spec, on_event=on_sample)

    computed = run_with_progress("Benchmarking", job)
    slot.empty()
    return computed


def _draw_running(slot, stream: SampleStream) -> None:
    frame, verdicts, title = stream.running_view()
    with slot.container():
        st.subheader(title)
        show_verdicts(verdicts)
        st.plotly_chart(timing_distribution(frame, "box"), key=f"running_distribution_{stream.count}")


def show_verdicts(verdicts: list[tuple[str, str]]) -> None:
    """One bullet per variant: its label (visitor text, escaped) and its verdict."""
    if verdicts:
        st.markdown("\n".join(f"- **{escape_markdown(label)}**: {escape_markdown(text)}" for label, text in verdicts))


def run_sweep_live(
    title: str, sweep: Callable, draw: Callable[[list[SweepPoint]], None], slot
) -> list[SweepPoint] | None:
    """Run `sweep(on_event, on_point)` with progress; `draw(points so far)` redraws in `slot` (an `st.empty()`) as
    each point finishes."""
    slot.caption("Each point is a benchmark of its own; the chart is drawn when the first one finishes.")

    def on_point(points: list[SweepPoint]) -> None:
        with slot.container():
            draw(points)

    points = run_with_progress(title, lambda on_event: sweep(on_event, on_point))
    slot.empty()
    return points
