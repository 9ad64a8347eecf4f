"""The only Streamlit code outside `app.py` and `pages/`: the sidebar, job progress and live results, page
messages, sessions.

Everything else in `pointwise` is UI-free (pure functions the pages and the CLI both call); this package is
where those results meet `st.*`. Pages import from here, never from the entry script, except `page_setup`
(the router's deep-link guard, which must live with the router in `app.py`). `pointwise.ui.live` is imported by
the pages that draw live charts, not here: it brings plotly, pandas and scipy (~1.1 s), which Home must not wait for.
"""

from pointwise.ui.context import PageContext, show_context_messages
from pointwise.ui.progress import report_interrupted_job, run_with_progress
from pointwise.ui.session import apply_demo_secret, warm_default_worker
from pointwise.ui.sidebar import render_sidebar
from pointwise.ui.visitor import Visitor, current_visitor, visitor_token

__all__ = [
    "PageContext",
    "Visitor",
    "apply_demo_secret",
    "current_visitor",
    "render_sidebar",
    "report_interrupted_job",
    "run_with_progress",
    "show_context_messages",
    "visitor_token",
    "warm_default_worker",
]
