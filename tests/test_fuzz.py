"""Hypothesis fuzzing of everything a visitor controls: 1,000 generated inputs per surface.

Each surface must either accept the input or reject it with the project's own error naming the field;
nothing else may escape (no uncaught exception, no crash, no hang).
"""

import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from pointwise import cli
from pointwise.charts import speedup_chart, timing_distribution
from pointwise.classroom import load_uploaded_image
from pointwise.errors import ImportRejectedError, InvalidSpecError
from pointwise.frames import compare_frame, samples_frame, stats_frame
from pointwise.query import QUERY_KEYS, query_problems
from pointwise.spec import SPEC_FIELDS, RunSpec, make_run_spec
from pointwise.store import parse_result_json
from test_store import _payload

FUZZ = settings(
    max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)

scalars = st.one_of(
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.booleans(),
    st.none(),
    st.sampled_from(["8", "0", "-1", "1e9", "float16", "GPU:0", "CPU:0", "on", "xla"]),
)
values = st.one_of(scalars, st.lists(scalars, max_size=4))


@FUZZ
@given(st.dictionaries(st.sampled_from([*SPEC_FIELDS, "shape", "__class__"]), values, max_size=8))
def test_sidebar_and_spec_values(raw):
    try:
        spec = make_run_spec(**raw)
    except InvalidSpecError as exc:
        assert exc.field in (*raw, "shape") and f"`{exc.field}`" in str(exc)
    else:
        assert isinstance(spec, RunSpec)


url_text = st.text(st.characters(codec="utf-8"), max_size=40)


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from([*QUERY_KEYS, "x", "script"]), st.one_of(url_text, st.lists(url_text, max_size=3)), max_size=6
    )
)
def test_url_query_parameters(params):
    problems = query_problems(params, ["CPU:0"])
    for key, message in problems.items():
        assert key in params and f"`{key}`" in message and ("stays at" in message or "left out" in message)


def _image_bytes(fmt, size):
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buffer, format=fmt)
    return buffer.getvalue()


VALID_IMAGES = [_image_bytes("PNG", (31, 17)), _image_bytes("JPEG", (40, 40))]


@st.composite
def mutated_images(draw):
    data = bytearray(draw(st.sampled_from(VALID_IMAGES)))
    for _ in range(draw(st.integers(0, 8))):
        position = draw(st.integers(0, len(data) - 1))
        data[position] = draw(st.integers(0, 255))
    cut = draw(st.integers(1, len(data)))
    return bytes(data[:cut])


@FUZZ
@given(st.one_of(st.binary(max_size=2000), mutated_images()))
def test_uploaded_images(data):
    try:
        image = load_uploaded_image(data)
    except ImportRejectedError as exc:
        assert str(exc)
    else:
        assert image.ndim == 3 and image.shape[2] == 3 and image.min() >= 0 and image.max() <= 1


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63), st.floats(allow_nan=False), st.text(max_size=10)),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
VALID = _payload()


@st.composite
def mutated_payloads(draw):
    payload = json.loads(json.dumps(VALID))
    section = draw(
        st.sampled_from(["spec", "measurements", "environment", "label", "format", "format_version", "ceilings"])
    )
    if section == "spec":
        payload["spec"][draw(st.sampled_from([*SPEC_FIELDS, "extra"]))] = draw(json_values)
    elif section == "measurements":
        entry = payload["measurements"][0]
        entry[draw(st.sampled_from(["key", "per_call_s", "calls_per_block", "cold_start_s", "peak_memory_bytes"]))] = (
            draw(json_values)
        )
    elif section == "environment" and draw(st.booleans()):
        payload["environment"][draw(st.sampled_from(["cpu", "machine", "packages", "date"]))] = draw(json_values)
    else:
        payload[section] = draw(json_values)
    return json.dumps(payload)


def _render_like_the_pages(result):
    """What Home and History draw from an accepted run: any exception here would reach every visitor."""
    stats = stats_frame(result)
    speedup_chart(stats)
    timing_distribution(samples_frame(result, run_label="#1 run"), "box", color="run")
    compare_frame([result, result])


@FUZZ
@given(st.one_of(json_values.map(json.dumps), mutated_payloads(), st.binary(max_size=200)))
def test_imported_json_files(document):
    """The fuzz of imports also renders what it accepted."""
    try:
        results = parse_result_json(document)
    except ImportRejectedError as exc:
        assert str(exc) and len(str(exc)) < 1000
    else:
        assert results and all(r.measurements for r in results)
        for result in results:
            _render_like_the_pages(result)


argv_words = st.one_of(
    st.sampled_from(
        [
            "check",
            "bench",
            "sweep",
            "ceilings",
            "variants",
            "--shape",
            "--filters",
            "--variant",
            "--dtype",
            "--device",
            "--mode",
            "--pass",
            "--samples",
            "--json",
            "--param",
            "--start",
            "--stop",
            "--points",
            "--onednn",
            "--threads",
            "--seed",
            "--time-limit",
            "1,2,2,3",
            "0,1,1,1",
            "8",
            "-3",
            "float8",
            "GPU:9",
            "xla",
            "channels",
        ]
    ),
    st.text(max_size=12),
)


@pytest.fixture
def no_worker(monkeypatch):
    """The worker is the boundary not under test here: argument handling is. Jobs return at once."""
    from pointwise import jobs, sweep
    from pointwise.errors import JobFailedError

    def refuse(*args, **kwargs):
        raise JobFailedError("fuzz: no worker")

    for name in ("run_check", "run_benchmark", "run_ceilings"):
        monkeypatch.setattr(jobs, name, refuse)
    monkeypatch.setattr(sweep, "run_benchmark", refuse)


@FUZZ
@given(argv=st.lists(argv_words, max_size=10))
def test_cli_arguments(argv, no_worker, capsys):
    try:
        code = cli.main(argv)
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    assert code in (0, 1, 2), (argv, code)
    if code == 2:
        assert len(captured.err.strip().splitlines()) == 1, captured.err
