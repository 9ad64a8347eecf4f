"""The only Streamlit code outside `app.py` and `pages/`: the sidebar, job progress and live results, page
messages, sessions.

Everything else in `pointwise` is UI-free (pure functions the pages and the CLI both call); this package is
where those results meet `st.*`. Pages import from here, never from the entry script, except `page_setup`
(the router's deep-link guard, which must live with the router in `app.py`).
"""

from pointwise.ui.context import PageContext, show_context_messages
from pointwise.ui.live import run_benchmark_live, run_sweep_live, show_verdicts
from pointwise.ui.progress import report_interrupted_job, run_with_progress
from pointwise.ui.session import visitor_token, warm_default_worker
from pointwise.ui.sidebar import render_sidebar

__all__ = [
    "PageContext",
    "render_sidebar",
    "report_interrupted_job",
    "run_benchmark_live",
    "run_sweep_live",
    "run_with_progress",
    "show_context_messages",
    "show_verdicts",
    "visitor_token",
    "warm_default_worker",
]
