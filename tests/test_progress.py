"""The job progress line: what a visitor reads while a job runs (pure state, no Streamlit needed)."""

from pointwise.protocol import PHASE, POINT, PROGRESS, QUEUED, RUNNING, STARTING
from pointwise.ui.progress import ProgressText


def test_queue_position_only_when_jobs_are_ahead():
    state = ProgressText()
    state.update({"event": QUEUED, "position": 2})
    assert state.line == "Queued: 2 job(s) ahead of yours on this device."
    state.update({"event": QUEUED, "position": 0})
    assert "Queued" not in state.line and "Waiting for the TensorFlow worker" in state.line


def test_samples_phases_and_heartbeats():
    state = ProgressText()
    state.update({"event": STARTING})
    assert "Starting the TensorFlow worker" in state.line
    state.update({"event": PROGRESS, "variant": "dense", "done": 3, "total": 12})
    assert state.line == "Sample 3 of 12 (Dense on 4-D input)" and state.overall == 0.25
    state.update({"event": RUNNING})
    assert state.line.startswith("Sample 3"), "a heartbeat does not replace a real message"
    state.update({"event": PHASE, "text": "Measuring the roofline ceilings"})
    assert state.line == "Measuring the roofline ceilings…"


def test_sweep_points_prefix_the_line_and_drive_the_bar():
    state = ProgressText()
    state.update({"event": POINT, "index": 1, "total": 4, "text": "Point 2 of 4 (channels C = 8)"})
    state.update({"event": PROGRESS, "variant": "conv2d_1x1", "done": 5, "total": 10})
    assert state.line.startswith("Point 2 of 4 (channels C = 8) · Sample 5 of 10")
    assert state.overall == (1 + 0.5) / 4
