"""Pointwise Lab: the entry point (`streamlit run app.py`), router and the sidebar every page shares.

Routing: with a `pages/` folder beside this file, Streamlit starts in its legacy multipage mode and stays
there until some session runs `st.navigation`. A deep link opened first on a fresh server (a shared demo
waking up on `/benchmark?batch=16`) would then run the page file alone: no sidebar, file names in the
menu. So every page begins with `page_setup()`: inside the router it just returns the configuration;
run alone, it runs the router itself (which calls `st.navigation`, switching the whole server to this
navigation for good), lets that render the requested page, and stops the outer run.

This file is also imported as the module `app` by the pages, for `page_setup`; its router only runs when
Streamlit executes it as the main script.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from pointwise import InvalidSpecError, PointwiseError, make_run_spec
from pointwise.devices import available_devices, probe_gpus
from pointwise.jobs import EventCallback, WorkerKnobs, default_pool
from pointwise.limits import DEMO_ENV, active_limits, check_settings, demo_mode
from pointwise.query import (
    QUERY_KEYS,
    QUERY_LABELS,
    default_config,
    int_range,
    link_params,
    parse_link,
    spec_values,
)
from pointwise.spec import DTYPES, MODE_LABELS, MODES, PASS_LABELS, PASSES, RunSpec
from pointwise.text import escape_markdown
from pointwise.variants import VARIANTS

PAGES = [
    ("pages/home.py", "Home", ":material/home:", ""),
    ("pages/explore.py", "Explore", ":material/search:", "explore"),
    ("pages/benchmark.py", "Benchmark", ":material/speed:", "benchmark"),
    ("pages/scaling.py", "Scaling", ":material/show_chart:", "scaling"),
    ("pages/classroom.py", "Classroom", ":material/school:", "classroom"),
    ("pages/history.py", "History", ":material/history:", "history"),
]
# The pages that run the sidebar's configuration; the others neither show it nor rewrite the URL. (A comment,
# not a docstring: Streamlit's "magic" would print a loose string in the entry script on every page.)
CONFIG_PAGES = ("explore", "benchmark", "scaling")

_CONFIG_STATE = "_pointwise_config"
_URL_WRITTEN_STATE = "_pointwise_url_written"
_routing = threading.local()


@dataclass
class PageContext:
    """What the sidebar gives a page: a validated spec, or the reason there is none."""

    spec: RunSpec | None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)


def run_router() -> None:
    _demo_mode_from_secrets()
    st.set_page_config(page_title="Pointwise Lab", page_icon="🔬", layout="wide")
    try:
        check_settings()
    except InvalidSpecError as exc:
        # A misconfigured server must say which setting is wrong, not fail later inside a job.
        st.error(f"The server's settings are invalid: {escape_markdown(exc, 600)}")
        st.stop()
    navigation = st.navigation(
        [st.Page(path, title=title, icon=icon, url_path=url, default=(url == "")) for path, title, icon, url in PAGES]
    )
    if navigation.url_path:
        # Not on Home: the TF import takes a core for ~4 s, and Home must render within 2 s on 2 cores.
        _warm_default_worker()
    _routing.context = render_sidebar(navigation.url_path)
    try:
        navigation.run()
    finally:
        _routing.context = None


def _demo_mode_from_secrets() -> None:
    """Streamlit Community Cloud passes settings as secrets, not environment variables: mirror ours."""
    try:
        value = st.secrets.get(DEMO_ENV)
    except StreamlitSecretNotFoundError:
        return
    if value is not None:
        os.environ.setdefault(DEMO_ENV, str(value))


def page_setup() -> PageContext:
    """Call first in every page: the shared configuration (see the module docstring for why)."""
    context = getattr(_routing, "context", None)
    if context is not None:
        return context
    run_router()
    st.stop()


def _apply_link(devices: list[str]) -> tuple[dict, list[str]]:
    """The session's configuration, updated from the URL when the URL changed since the app last wrote it.

    The URL changes under the app on a first visit, an in-app link that carries values (Classroom ->
    Benchmark) and browser history navigation; then its values win and are pushed into the widgets. On
    every other rerun the widgets are the truth and the URL follows them (`_write_link`).
    """
    config = st.session_state.setdefault(_CONFIG_STATE, default_config())
    link = {key: st.query_params.get_all(key) for key in QUERY_KEYS if key in st.query_params}
    if link == st.session_state.get(_URL_WRITTEN_STATE):
        return config, []
    parsed = parse_link(link, devices, config)
    config.update(parsed.values)
    for key, value in parsed.values.items():
        st.session_state[key] = value
    return config, parsed.warnings


def _write_link(config: dict) -> None:
    """Make the URL the canonical form of `config` (keys, not labels; only non-default values)."""
    canonical = link_params(config)
    for key in QUERY_KEYS:
        wanted = canonical.get(key)
        present = st.query_params.get_all(key) if key in st.query_params else None
        if wanted == present:
            continue
        if wanted is None:
            del st.query_params[key]
        else:
            st.query_params[key] = wanted
    st.session_state[_URL_WRITTEN_STATE] = canonical


def render_sidebar(url_path: str) -> PageContext:
    """The run configuration in the sidebar, on the pages that use it (`CONFIG_PAGES`)."""
    devices = available_devices()
    config, warnings = _apply_link(devices)
    if url_path not in CONFIG_PAGES:
        return PageContext(spec=None)
    for key in QUERY_KEYS:
        # A widget's state is dropped while a page without the sidebar is shown: restore it from the config.
        if key not in st.session_state:
            st.session_state[key] = config[key]
    sidebar = st.sidebar
    sidebar.markdown("### Run configuration")
    if demo_mode():
        sidebar.caption(demo_caps_text(url_path))
    config.update(_config_widgets(sidebar, devices))
    _write_link(config)
    try:
        spec = make_run_spec(**spec_values(config))
    except InvalidSpecError as exc:
        sidebar.error(escape_markdown(exc, 600))
        return PageContext(spec=None, error=str(exc), warnings=warnings)
    return PageContext(spec=spec, warnings=warnings)


def _int_input(container, key: str, help_text: str) -> int:
    """An integer input with the server-side bounds of `key` (re-checked by `make_run_spec`)."""
    low, high = int_range(key)
    return container.number_input(QUERY_LABELS[key], min_value=low, max_value=high, step=1, key=key, help=help_text)


def _config_widgets(sidebar, devices: list[str]) -> dict:
    """Every sidebar control; their values come from session state (set from the URL or the last run)."""
    values = {}
    # Two columns read B H / W C on a desktop; a phone stacks the left column first, so pair them by row.
    for row in (("batch", "images per call", "height", "pixels"), ("width", "pixels", "channels", "input channels")):
        left, right = sidebar.columns(2)
        values[row[0]] = _int_input(left, row[0], row[1])
        values[row[2]] = _int_input(right, row[2], row[3])
    values["filters"] = _int_input(sidebar, "filters", "output channels: the layer maps C -> F at every pixel")
    values["device"] = sidebar.selectbox(QUERY_LABELS["device"], devices, key="device")
    if not probe_gpus():
        sidebar.caption("No GPU found on this machine (nvidia-smi): CPU only.")
    values["dtype"] = sidebar.selectbox(QUERY_LABELS["dtype"], DTYPES, key="dtype")
    values["mode"] = sidebar.selectbox(QUERY_LABELS["mode"], MODES, key="mode", format_func=MODE_LABELS.get)
    values["pass"] = sidebar.selectbox(QUERY_LABELS["pass"], PASSES, key="pass", format_func=PASS_LABELS.get)
    if values["device"].startswith("GPU"):
        values["tf32"] = sidebar.toggle(
            QUERY_LABELS["tf32"],
            key="tf32",
            help="TensorFloat-32 on Ampere and newer GPUs: faster float32 matmuls with a 10-bit mantissa.",
        )
    else:
        values["onednn"] = sidebar.toggle(
            "oneDNN (TF_ENABLE_ONEDNN_OPTS)",
            key="onednn",
            help="Read by TensorFlow at import, so it selects a separate worker process.",
        )
    values["samples"] = _int_input(sidebar, "samples", "timed blocks per variant")
    values["variants"] = sidebar.multiselect(
        QUERY_LABELS["variants"],
        list(VARIANTS),
        key="variants",
        format_func=lambda k: VARIANTS[k].label,
        help="Seed examples are labelled 'Seed Example N'. Conv2D 1x1 is always timed as the reference.",
    )
    return values


def demo_caps_text(url_path: str) -> str:
    """Every demo cap that applies on the page, in one line."""
    limits = active_limits()
    caps = [f"estimated memory ≤ {limits.memory_budget_mb:,} MiB", f"jobs stop after {limits.job_time_limit_s:.0f} s"]
    if url_path == "explore":
        caps.insert(0, f"live runs ≤ {limits.live_max_elements:,} elements B·H·W·max(C, F)")
    if url_path in ("benchmark", "scaling"):
        caps.append(f"≤ {limits.max_samples:,} samples per variant")
        caps.append(f"≤ {limits.max_queued_jobs} jobs queued per device")
    if url_path == "scaling":
        caps.append(f"≤ {limits.max_sweep_points} sweep points")
    return "Public demo, capped: " + "; ".join(caps) + ". Run it locally for larger runs."


def show_context_messages(context: PageContext) -> bool:
    """Show link warnings and the configuration error; True when the page has a spec to work with."""
    for warning in context.warnings:
        st.warning(warning, icon=":material/link_off:")
    if context.spec is None:
        if context.error:
            st.error(f"Fix the run configuration in the sidebar: {escape_markdown(context.error, 600)}")
        return False
    return True


@st.cache_resource(show_spinner=False)
def _warm_default_worker() -> bool:
    """Start the default worker once per server, in the background, so the first run skips the TF import."""
    threading.Thread(target=default_pool().warm, args=(WorkerKnobs(),), daemon=True).start()
    return True


T = TypeVar("T")
_RUNNING_KEY = "_pointwise_running_job"


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
        # A sweep is one job per point: its "point" events give the outer fraction and a prefix for every line.
        state = {"fraction": 0.0, "text": "", "point": "", "points_done": 0, "points": 1}

        def on_event(event: dict) -> None:
            kind = event.get("event")
            if kind == "point":
                state.update(point=f"{event['text']} · ", points_done=event["index"], points=event["total"])
                state.update(fraction=0.0, text="")
            elif kind == "queued" and event["position"] > 0:
                state["text"] = f"Queued: {event['position']} job(s) ahead of yours on this device."
            elif kind == "queued":
                state["text"] = "Waiting for the TensorFlow worker (starting up, or finishing another task)…"
            elif kind == "starting":
                state["text"] = "Starting the TensorFlow worker (about 5 s, first run only)…"
            elif kind == "phase":
                state["text"] = f"{event['text']}…"
            elif kind == "progress":
                state["fraction"] = event["done"] / event["total"]
                variant = VARIANTS[event["variant"]].label if event["variant"] in VARIANTS else event["variant"]
                state["text"] = f"Sample {event['done']} of {event['total']} ({variant})"
            elif kind == "running" and not state["text"]:
                state["text"] = "Running…"
            overall = (state["points_done"] + min(state["fraction"], 1.0)) / state["points"]
            bar.progress(overall, text=state["point"] + (state["text"] or "Running…"))

        try:
            result = job(on_event)
        except PointwiseError as exc:
            status.update(label=f"{title}: failed", state="error")
            st.session_state.pop(_RUNNING_KEY, None)
            cancel_slot.empty()
            st.error(str(exc))
            return None
        status.update(label=f"{title}: done", state="complete", expanded=False)
    st.session_state.pop(_RUNNING_KEY, None)
    cancel_slot.empty()
    return result


def report_interrupted_job() -> None:
    """If the previous script run was stopped mid-job (Cancel, or a widget change), say so once."""
    title = st.session_state.pop(_RUNNING_KEY, None)
    if title:
        st.info(f"{title} was cancelled and its worker stopped. Previous results are kept.", icon=":material/cancel:")


def visitor_token() -> str:
    """A random token for this browser session: the owner of the runs it saves or imports (see RunStore)."""
    import secrets  # here, not at the top: only pages that save, rename or delete runs need it

    return st.session_state.setdefault("visitor_token", secrets.token_hex(16))


if __name__ == "__main__":
    import app  # the importable twin of this script: the router's state must live where pages see it

    app.run_router()
