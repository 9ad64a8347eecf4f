"""The run configuration in the sidebar, bound to the URL by `pointwise.query`'s rules.

Streamlit's own `bind="query-params"` writes a widget's display label into the URL when the widget has a
`format_func`, and parses numbers its own way (it accepted `1e3`, crashed on `1e400`): so the URL is read and
written here, with stable keys and exactly the server's parsing, and the widgets hold the values in between.
"""

from __future__ import annotations

import streamlit as st

from pointwise.backends import BACKEND_LABELS, installed_backends, missing_backends_text
from pointwise.devices import available_devices, probe_gpus
from pointwise.errors import InvalidSpecError
from pointwise.limits import active_limits, demo_mode
from pointwise.query import (
    QUERY_KEYS,
    QUERY_LABELS,
    default_config,
    int_range,
    link_params,
    parse_link,
    runnable_values,
)
from pointwise.spec import (
    DTYPES,
    KNOB_CHOICES,
    KNOB_LABELS,
    MODE_LABELS,
    MODES,
    PASS_LABELS,
    PASSES,
    is_gpu,
    make_run_spec,
)
from pointwise.text import escape_markdown
from pointwise.ui.context import PageContext
from pointwise.variants import VARIANTS, backend_label_suffix

_CONFIG_STATE = "_pointwise_config"
_URL_WRITES_STATE = "_pointwise_url_writes"
_RUN_STATE = "_pointwise_sidebar_runs"


def _apply_link(devices: list[str]) -> tuple[dict, list[str]]:
    """The session's configuration, updated with the URL values that did not come from this app.

    The URL changes under the app on a first visit, an in-app link that carries values (Classroom ->
    Benchmark) and browser history navigation; then its values win and are pushed into the widgets. On
    every other rerun the widgets are the truth and the URL follows them (`_write_link`). A value is the
    app's own if it is what the last or the previous write put there: a rerun can interrupt a write half
    way (the visitor changed another control meanwhile), leaving a mix of the two, which must not be read
    back as a link and undo the visitor's change.
    """
    config = st.session_state.setdefault(_CONFIG_STATE, default_config())
    run = st.session_state[_RUN_STATE] = st.session_state.get(_RUN_STATE, 0) + 1
    previous, last, written_at = st.session_state.get(_URL_WRITES_STATE, (None, None, 0))
    # The previous write can only be half-done in the run right after it; later it is just history.
    ours = [w for w in (last, previous if run - written_at <= 1 else None) if w is not None]
    link = {}
    for key in QUERY_KEYS:
        if key in st.query_params:
            value = st.query_params.get_all(key)
            if all(value != w.get(key) for w in ours):
                link[key] = value
    if not link:
        return config, []
    parsed = parse_link(link, devices, config)
    config.update(parsed.values)
    for key, value in parsed.values.items():
        st.session_state[key] = value
    return config, parsed.warnings


def _write_link(config: dict) -> None:
    """Make the URL the canonical form of `config` (keys, not labels; only non-default values)."""
    canonical = link_params(config)
    last = st.session_state.get(_URL_WRITES_STATE, (None, None, 0))[1]
    if canonical != last:
        # Recorded before writing, so a write cut short by a rerun is still recognised as the app's own.
        st.session_state[_URL_WRITES_STATE] = (last, canonical, st.session_state[_RUN_STATE])
    for key in QUERY_KEYS:
        wanted = canonical.get(key)
        present = st.query_params.get_all(key) if key in st.query_params else None
        if wanted == present:
            continue
        if wanted is None:
            del st.query_params[key]
        else:
            st.query_params[key] = wanted


def render_sidebar(url_path: str, uses_config: bool) -> PageContext:
    """The run configuration in the sidebar, on the pages that use it (`uses_config`).

    Every page applies a link's values (so `/history?batch=16` then Benchmark keeps them), but only the
    pages that run the configuration show it and rewrite the URL.
    """
    devices = available_devices()
    config, warnings = _apply_link(devices)
    if not uses_config:
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
    values, skipped = runnable_values(config)
    if skipped:
        sidebar.warning(skipped, icon=":material/block:")
    try:
        spec = make_run_spec(**values)
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
    values["backend"] = _backend_widget(sidebar)
    values["device"] = sidebar.selectbox(QUERY_LABELS["device"], devices, key="device")
    if not probe_gpus():
        sidebar.caption("No GPU found on this machine (nvidia-smi): CPU only.")
    values["dtype"] = sidebar.selectbox(QUERY_LABELS["dtype"], DTYPES, key="dtype")
    values["mode"] = sidebar.selectbox(QUERY_LABELS["mode"], MODES, key="mode", format_func=MODE_LABELS.get)
    values["pass"] = sidebar.selectbox(QUERY_LABELS["pass"], PASSES, key="pass", format_func=PASS_LABELS.get)
    if is_gpu(values["device"]):
        values["tf32"] = sidebar.toggle(
            QUERY_LABELS["tf32"],
            key="tf32",
            help="TensorFloat-32 on Ampere and newer GPUs: faster float32 matmuls with a 10-bit mantissa.",
        )
    values.update(_runtime_knobs(sidebar))
    values["samples"] = _int_input(sidebar, "samples", "timed blocks per variant")
    values["variants"] = sidebar.multiselect(
        QUERY_LABELS["variants"],
        list(VARIANTS),
        key="variants",
        format_func=lambda k: VARIANTS[k].label + backend_label_suffix(k),
        help=(
            "Seed examples are labelled 'Seed Example N'. Conv2D 1x1 is always timed as the reference. Variants "
            "written with tf.* run on TensorFlow only."
        ),
    )
    return values


def _backend_widget(sidebar) -> str:
    """The Keras backend, offered only among those installed here; the others are named with how to add them."""
    backends = installed_backends()
    missing = missing_backends_text()
    if len(backends) == 1:
        sidebar.caption(f"Keras backend: {BACKEND_LABELS[backends[0]]}. {missing}")
        return backends[0]
    return sidebar.selectbox(
        QUERY_LABELS["backend"],
        backends,
        key="backend",
        format_func=BACKEND_LABELS.get,
        help="Read by Keras at import (KERAS_BACKEND), so each backend runs in its own worker. On JAX both "
        "compiled modes are jax.jit (XLA). " + (missing or ""),
    )


def _runtime_knobs(sidebar) -> dict:
    """The settings TensorFlow reads at import; each combination gets its own warm worker."""
    values = {}
    with sidebar.expander("Runtime knobs", icon=":material/tune:"):
        st.caption(
            "Read by TensorFlow when a worker starts, so each combination runs in its own worker. "
            "\"TensorFlow's default\" leaves TensorFlow's own choice for this CPU; the environment card of a "
            "result says what it chose. They are TensorFlow's: a JAX run ignores them."
        )
        for key, help_text in (
            ("onednn", "oneDNN kernels (TF turns them on by default on CPUs with AVX-512 VNNI, AMX and newer)."),
            ("allocator", "TensorFlow's best-fit-with-coalescing allocator for CPU tensors."),
        ):
            values[key] = st.selectbox(
                QUERY_LABELS[key], KNOB_CHOICES, key=key, format_func=KNOB_LABELS.get, help=help_text
            )
        left, right = st.columns(2)
        values["threads"] = _int_input(left, "threads", "threads inside one op; 0 = TensorFlow's default")
        values["inter_threads"] = _int_input(right, "inter_threads", "ops run at once; 0 = TensorFlow's default")
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
    if url_path == "tune":
        caps.append(f"tune budget ≤ {limits.max_tune_budget_s:.0f} s")
    return "Public demo, capped: " + "; ".join(caps) + ". Run it locally for larger runs."
