"""Per-server and per-session state the pages share: the warm default worker, the visitor's token."""

from __future__ import annotations

import os
import secrets

import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from pointwise.errors import InvalidSpecError
from pointwise.jobs import WorkerKnobs, WorkerPool, check_cached, default_pool, run_ceilings, tune_pointwise
from pointwise.limits import DEMO_ENV
from pointwise.query import check_spec
from pointwise.spec import RunSpec, check_live_size, make_run_spec
from pointwise.variants import TUNED_KEY

WARMUP_DELAY_S = 3.0
"""The TensorFlow import takes a core for ~4 s: it starts once the first page (~2.5 s here) has rendered."""


def warm_default_worker(at_once: bool = False) -> None:
    """Called on every page view: start the default worker in the background if there is none, or keep it warm.

    `at_once` on a page that runs a job as it opens (Explore): its worker then loads TensorFlow while the page
    imports its own libraries, instead of after them.

    Without waiting (a page view costs a dictionary look-up), so Home renders as fast as without it; the first
    visitor's first job then skips the TensorFlow import and, with the default configuration, the equivalence
    check and the roofline's ceilings, computed right after the warm-up (`answer_the_default`); and the pool does
    not retire a worker people are using. (An
    earlier version imported TensorFlow at the lowest CPU priority instead of later: on a busy host some of
    TensorFlow's threads kept that priority, and measuring the ceilings took minutes.)
    """
    default_pool().keep_warm(
        WorkerKnobs.for_spec(RunSpec()), delay_s=0.0 if at_once else WARMUP_DELAY_S, then=answer_the_default
    )


def answer_the_default(pool: WorkerPool | None = None) -> None:
    """What a warm default worker computes before anyone asks: the default configuration's equivalence check as
    Explore runs it (cached; a visitor asking meanwhile waits for this answer rather than queueing a second one),
    then PointwiseConv2D's tuning for the default input (kept by the worker for the default Benchmark), then the
    roofline ceilings of the default settings. Not the check where this server's limits refuse it."""
    default = RunSpec()
    try:
        check_live_size(make_run_spec())  # the sidebar's defaults, under this server's limits
    except InvalidSpecError:
        pass
    else:
        check_cached(check_spec(default), pool=pool)
    if TUNED_KEY in default.variants:
        # The check pins PointwiseConv2D's kernels; a benchmark tunes them first (~1 s): do that now.
        tune_pointwise(default, pool=pool)
    run_ceilings(default.device, default.dtype, WorkerKnobs.for_spec(default), pool=pool)


def apply_demo_secret() -> None:
    """Streamlit Community Cloud passes settings as secrets, not environment variables: mirror ours."""
    try:
        value = st.secrets.get(DEMO_ENV)
    except StreamlitSecretNotFoundError:
        return
    if value is not None:
        os.environ.setdefault(DEMO_ENV, str(value))


def visitor_token() -> str:
    """A random token for this browser session: the owner of the runs it saves or imports (see RunStore)."""
    return st.session_state.setdefault("visitor_token", secrets.token_hex(16))
