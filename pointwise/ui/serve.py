"""The app's server: `python -m pointwise.ui.serve [Streamlit options]` is `streamlit run app.py [options]`, with the
default worker warming up from the moment the server starts instead of when the first visitor arrives.

`streamlit run` runs none of our code until a visitor's page does, so the first visitor waited for the worker's
TensorFlow import and the default equivalence check (~4.5 s on a 2-core Xeon). This module starts that warm-up
(`warm_default_worker`), then hands over to Streamlit's own command line in the same process, where the pages find
the same worker pool. `streamlit run app.py` still works: its first page view starts the warm-up instead.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

from streamlit.runtime import Runtime
from streamlit.web import cli as streamlit_cli

from pointwise.ui.session import apply_demo_secret, warm_default_worker

APP = Path(__file__).resolve().parents[2] / "app.py"


def warm_once_streamlit_is_up(poll_s: float = 0.02) -> None:
    """Start the warm-up as soon as Streamlit has applied its configuration (its `Runtime` then exists, before the
    server listens). Not earlier: the demo setting may come from Streamlit's secrets, and reading them before
    Streamlit has applied its command-line options makes it warn "restart streamlit"; the worker pool reads the
    demo setting once, when the warm-up creates it."""
    while not Runtime.exists():
        time.sleep(poll_s)
    apply_demo_secret()
    warm_default_worker(at_once=True)


def main(streamlit_options: list[str]) -> None:
    threading.Thread(target=warm_once_streamlit_is_up, daemon=True, name="pointwise-serve-warm").start()
    # Click exits the process when the server stops (SystemExit), as `streamlit run` does.
    streamlit_cli.main(["run", str(APP), *streamlit_options], prog_name="streamlit")


if __name__ == "__main__":
    main(sys.argv[1:])
