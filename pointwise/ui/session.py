"""Per-server state the pages share: the warm default worker (the visitor's identity is `pointwise.ui.visitor`)."""

from __future__ import annotations

import os
import time

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
QUIET_S = 2.0
"""The warm-up's measurements (PointwiseConv2D's tuning, the ceilings) start once no page has been loaded or rerun
for this long: a browser drawing a page on the same 2 cores slows timed calls unevenly. A benchmark after a tuning
made while a browser drew pages showed PointwiseConv2D at 0.78x Conv2D 1x1, the matmul forms' speed (a slower
forward kernel, most likely); beside one busy core, 1 of 12 tunings picked a slower kernel here, none quiet
(`benchmarks/tuning_under_load.py`)."""
QUIET_WAIT_LIMIT_S = 60.0
"""After this without a quiet moment, the warm-up leaves its measurements to the first benchmark that needs them."""


class PageActivity:
    """When any session last loaded or reran a page on this server, and waiting for a quiet moment."""

    def __init__(self, clock=time.monotonic, sleep=time.sleep) -> None:
        self._clock, self._sleep = clock, sleep
        self._last = clock()

    def note(self) -> None:
        self._last = self._clock()

    def wait_for_quiet(self, quiet_s: float = QUIET_S, limit_s: float = QUIET_WAIT_LIMIT_S) -> bool:
        """True once `quiet_s` have passed with no page activity; False if that does not happen within `limit_s`."""
        deadline = self._clock() + limit_s
        while (wait := quiet_s - (self._clock() - self._last)) > 0:
            if self._clock() + wait > deadline:
                return False
            self._sleep(wait)
        return True


PAGE_ACTIVITY = PageActivity()


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
    PAGE_ACTIVITY.note()
    default_pool().keep_warm(
        WorkerKnobs.for_spec(RunSpec()), delay_s=0.0 if at_once else WARMUP_DELAY_S, then=answer_the_default
    )


def answer_the_default(pool: WorkerPool | None = None, activity: PageActivity = PAGE_ACTIVITY) -> None:
    """What a warm default worker computes before anyone asks: the default configuration's equivalence check as
    Explore runs it (cached; a visitor asking meanwhile waits for this answer rather than queueing a second one),
    then, each in a quiet moment (`QUIET_S`), PointwiseConv2D's tuning for the default input (kept by the worker
    for the default Benchmark) and the roofline ceilings of the default settings. Not the check where this
    server's limits refuse it."""
    default = RunSpec()
    try:
        check_live_size(make_run_spec())  # the sidebar's defaults, under this server's limits
    except InvalidSpecError:
        pass
    else:
        check_cached(check_spec(default), pool=pool)
    if TUNED_KEY in default.variants:
        # The check pins PointwiseConv2D's kernels; a benchmark tunes them first (~1 s): do that now.
        if not activity.wait_for_quiet():
            return
        tune_pointwise(default, pool=pool)
    if activity.wait_for_quiet():
        run_ceilings(default.device, default.dtype, WorkerKnobs.for_spec(default), pool=pool)


def apply_demo_secret() -> None:
    """Streamlit Community Cloud passes settings as secrets, not environment variables: mirror ours."""
    try:
        value = st.secrets.get(DEMO_ENV)
    except StreamlitSecretNotFoundError:
        return
    if value is not None:
        os.environ.setdefault(DEMO_ENV, str(value))
