"""Pointwise Lab: the entry point and router (`streamlit run app.py`; `python -m pointwise.ui.serve` runs it with
the default worker warming up as the server starts). Nothing else lives here.

Routing: with a `pages/` folder beside this file, Streamlit starts in its legacy multipage mode and stays
there until some session runs `st.navigation`. A deep link opened first on a fresh server (a shared demo
waking up on `/benchmark?batch=16`) would then run the page file alone: no sidebar, file names in the
menu. So every page begins with `page_setup()`: inside the router it just returns the configuration;
run alone, it runs the router itself (which calls `st.navigation`, switching the whole server to this
navigation for good), lets that render the requested page, and stops the outer run.

This file is also imported as the module `app` by the pages, for `page_setup` only; the sidebar, job
progress and session helpers are in `pointwise.ui`. The router only runs when Streamlit executes this file
as the main script.
"""

from __future__ import annotations

import threading
from typing import NamedTuple

import streamlit as st

from pointwise.errors import InvalidSpecError
from pointwise.limits import check_settings
from pointwise.text import escape_markdown
from pointwise.ui import PageContext, apply_demo_secret, render_sidebar, warm_default_worker


class Page(NamedTuple):
    path: str
    title: str
    icon: str
    url_path: str
    # Runs the sidebar's configuration; the other pages neither show it nor rewrite the URL. (Comments, not
    # strings, in this file: Streamlit's "magic" prints a loose string in the entry script on every page.)
    uses_config: bool


PAGES = [
    Page("pages/home.py", "Home", ":material/home:", "", uses_config=False),
    Page("pages/explore.py", "Explore", ":material/search:", "explore", uses_config=True),
    Page("pages/benchmark.py", "Benchmark", ":material/speed:", "benchmark", uses_config=True),
    Page("pages/scaling.py", "Scaling", ":material/show_chart:", "scaling", uses_config=True),
    Page("pages/tune.py", "Tune", ":material/tune:", "tune", uses_config=True),
    Page("pages/models.py", "Models", ":material/account_tree:", "models", uses_config=False),
    Page("pages/classroom.py", "Classroom", ":material/school:", "classroom", uses_config=False),
    Page("pages/history.py", "History", ":material/history:", "history", uses_config=False),
]

_routing = threading.local()


def run_router() -> None:
    apply_demo_secret()
    st.set_page_config(page_title="Pointwise Lab", page_icon="🔬", layout="wide")
    try:
        check_settings()
    except InvalidSpecError as exc:
        # A misconfigured server must say which setting is wrong, not fail later inside a job.
        st.error(f"The server's settings are invalid: {escape_markdown(exc, 600)}")
        st.stop()
    navigation = st.navigation(
        [st.Page(p.path, title=p.title, icon=p.icon, url_path=p.url_path, default=not p.url_path) for p in PAGES]
    )
    page = next(p for p in PAGES if p.url_path == navigation.url_path)
    # Every page, Home included (after Home has rendered); at once on a page that is about to run a job.
    warm_default_worker(at_once=page.uses_config)
    _routing.context = render_sidebar(page.url_path, page.uses_config)
    try:
        navigation.run()
    finally:
        _routing.context = None


def page_setup() -> PageContext:
    """Call first in every page: the shared configuration (see the module docstring for why)."""
    context = getattr(_routing, "context", None)
    if context is not None:
        return context
    run_router()
    st.stop()


if __name__ == "__main__":
    import app  # the importable twin of this script: the router's state must live where pages see it

    app.run_router()
