"""The app's server: `python -m pointwise.ui.serve [Streamlit options]` serves what `streamlit run app.py [options]`
serves (as a Streamlit `st.App`), with the default worker warming up from the moment the server starts.

`streamlit run` runs none of our code until a visitor's page does, so the first visitor waited for the worker's
TensorFlow import and the default equivalence check (~4.5 s on a 2-core Xeon). Here the warm-up starts
(`warm_default_worker`) as soon as Streamlit's configuration is loaded, before the server itself. On 2 cores the
import then competes with a visitor's browser loading a page (Home's first render 1.27 -> 1.59 s,
`benchmarks/live_timings.py`), so `GiveWayToPageLoads` pauses a worker that is still starting while a page that runs
no job loads; a page that runs one (Explore) resumes it at once. `streamlit run app.py` still works: its first page
view starts the warm-up instead.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
import streamlit as st
from starlette.middleware import Middleware
from streamlit.web.bootstrap import load_config_options
from streamlit.web.cli import configurator_options

from pointwise.jobs import default_pool
from pointwise.ui.session import PAGE_ACTIVITY, apply_demo_secret, warm_default_worker

APP = Path(__file__).resolve().parents[2] / "app.py"
PAGE_LOAD_S = 1.5
"""How long a page load has the CPU to itself: a first visit renders Home in 1.1-1.3 s on this 2-core Xeon."""


class GiveWayToPageLoads:
    """ASGI middleware: a request for a page (its HTML) pauses a starting worker for `PAGE_LOAD_S`, or resumes it
    if the page runs a job as it opens. `pages` maps each page's URL path ("" for Home) to whether it does."""

    def __init__(self, app, pages: dict[str, bool]) -> None:
        self.app = app
        self.pages = pages

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope.get("method") == "GET":
            runs_a_job = self.pages.get(scope.get("path", "").rstrip("/").rsplit("/", 1)[-1])
            if runs_a_job is not None:
                PAGE_ACTIVITY.note()  # the warm-up's measurements wait for the browser to finish
            if runs_a_job is False:
                default_pool().pause_starting_workers(PAGE_LOAD_S)
            elif runs_a_job:
                default_pool().resume_starting_workers()
        await self.app(scope, receive, send)


def streamlit_config(options: list[str]) -> dict:
    """`--server.port=8501`-style options, parsed by Streamlit's own command-line definitions, as config names."""

    @click.command()
    @configurator_options
    def parse(**flags):
        return flags

    flags = parse.main(options, prog_name="python -m pointwise.ui.serve", standalone_mode=False)
    if not isinstance(flags, dict):  # --help: click printed it and returned its exit code
        raise SystemExit(flags)
    return {name.replace("_", "."): value for name, value in flags.items() if value is not None and value != ()}


def main(options: list[str]) -> None:
    from app import PAGES  # the router's pages, and which of them run a job as they open

    try:
        config = streamlit_config(options)
    except click.ClickException as exc:  # an unknown option or a bad value: click's own one-line message
        exc.show()
        raise SystemExit(exc.exit_code) from None
    # Loaded here as `run` loads it again below (identical, so Streamlit sees no change to warn about): the demo
    # setting may be one of Streamlit's secrets, which can only be read once the configuration is, and the worker
    # pool reads it once, as the warm-up creates it.
    load_config_options(config)
    apply_demo_secret()
    warm_default_worker(at_once=True)
    pages = {page.url_path: page.uses_config for page in PAGES}
    server = st.App(APP, middleware=[Middleware(GiveWayToPageLoads, pages=pages)])
    # Streamlit takes its configuration, secrets and import path from the launcher's folder: app.py's, as under
    # `streamlit run app.py`.
    sys.argv = [str(APP)]
    server.run(config=config)


if __name__ == "__main__":
    main(sys.argv[1:])
