"""Jobs with a live status: progress bar, queue position, phases, sweep points, and a Cancel button.

`ProgressText` turns the pool's events into the bar's fraction and line (pure, tested without Streamlit);
`run_with_progress` draws them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import streamlit as st

from pointwise.errors import PointwiseError
from pointwise.jobs import EventCallback
from pointwise.protocol import PHASE, POINT, PROGRESS, QUEUED, RUNNING, STARTING
from pointwise.text import escape_markdown
from pointwise.variants import VARIANTS

T = TypeVar("T")
_RUNNING_KEY = "_pointwise_running_job"


@dataclass
class ProgressText:
    """The bar's state. A sweep is one job per point: its "point" events set the outer fraction and a prefix."""

    fraction: float = 0.0
    text: str = ""
    point: str = ""
    points_done: int = 0
    points: int = 1

    def update(self, event: dict) -> None:
        kind = event.get("event")
        if kind == POINT:
            self.point, self.points_done, self.points = f"{event['text']} · ", event["index"], event["total"]
            self.fraction, self.text = 0.0, ""
        elif kind == QUEUED and event["position"] > 0:
            self.text = f"Queued: {event['position']} job(s) ahead of yours on this device."
        elif kind == QUEUED:
            self.text = "Waiting for the TensorFlow worker (starting up, or finishing another task)…"
        elif kind == STARTING:
            self.text = "Starting the TensorFlow worker (about 5 s, first run only)…"
        elif kind == PHASE:
            self.text = f"{event['text']}…"
        elif kind == PROGRESS:
            self.fraction = event["done"] / event["total"]
            variant = VARIANTS[event["variant"]].label if event["variant"] in VARIANTS else event["variant"]
            self.text = f"Sample {event['done']} of {event['total']} ({variant})"
        elif kind == RUNNING and not self.text:
            self.text = "Running…"

    @property
    def overall(self) -> float:
        return (self.points_done + min(self.fraction, 1.0)) / self.points

    @property
    def line(self) -> str:
        return self.point + (self.text or "Running…")


def run_with_progress(title: str, job: Callable[[EventCallback], T]) -> T | None:
    """Run `job(on_event)` with a live status, progress bar, queue position and a Cancel button.

    Cancel works through Streamlit itself: any click reruns the script, Streamlit raises its rerun
    exception inside `on_event`, and the pool kills the worker. The next run reports the cancellation.
    Expected failures (`PointwiseError`) are shown with `st.error`; the result is then None.
    """
    st.session_state[_RUNNING_KEY] = title
    cancel_slot = st.empty()
    cancel_slot.button("Cancel", icon=":material/cancel:", key="cancel_job")
    with st.status(title, expanded=True) as status:
        bar = st.progress(0.0, text="Sending the job to the TensorFlow worker…")
        state = ProgressText()

        def on_event(event: dict) -> None:
            state.update(event)
            bar.progress(state.overall, text=escape_markdown(state.line, 400))

        try:
            result = job(on_event)
        except PointwiseError as exc:
            status.update(label=f"{title}: failed", state="error")
            st.session_state.pop(_RUNNING_KEY, None)
            cancel_slot.empty()
            # Messages can quote a visitor's value (an imported label, a URL value): text, not markdown.
            st.error(escape_markdown(exc, 1000))
            return None
        status.update(label=f"{title}: done", state="complete", expanded=False)
    st.session_state.pop(_RUNNING_KEY, None)
    cancel_slot.empty()
    return result


def report_interrupted_job() -> None:
    """If the previous script run was stopped mid-job (Cancel, or a widget change), say so once."""
    title = st.session_state.pop(_RUNNING_KEY, None)
    if not title:
        return
    # The Cancel button's value is True only in the rerun its click caused; any other rerun was a widget change.
    if st.session_state.get("cancel_job"):
        st.info(f"{title} was cancelled and its worker stopped. Previous results are kept.", icon=":material/cancel:")
    else:
        st.info(
            f"{title} was stopped: a setting changed while it ran. Previous results are kept.",
            icon=":material/sync:",
        )
