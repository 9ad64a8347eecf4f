"""Page tests through Streamlit's AppTest, from the entry script, with a real worker and a real database."""

import json
import subprocess
import sys

import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from pointwise.store import RunStore
from test_store import _payload

PAGES = [
    "pages/home.py",
    "pages/explore.py",
    "pages/benchmark.py",
    "pages/scaling.py",
    "pages/models.py",
    "pages/classroom.py",
    "pages/history.py",
    "pages/tune.py",
]
CONFIG_PAGES = ["pages/explore.py", "pages/benchmark.py", "pages/scaling.py", "pages/tune.py"]
SMALLEST = {"batch": "1", "height": "1", "width": "1", "channels": "1", "filters": "1", "samples": "3"}
TIMEOUT_S = 180


def _app(query=None):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT_S)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at


def _assert_clean(at):
    assert not at.exception, [e.value for e in at.exception]


@pytest.mark.slow
@pytest.mark.parametrize("query", [None, SMALLEST], ids=["defaults", "smallest"])
def test_every_page_renders_without_exception(query, tmp_db):
    at = _app(query)
    at.run()
    _assert_clean(at)
    assert at.title[0].value == "Pointwise Lab"
    for page in PAGES:
        at.switch_page(page)
        at.run()
        _assert_clean(at)
        assert at.title, page
        batch_inputs = [n for n in at.sidebar.number_input if n.key == "batch"]
        if page in CONFIG_PAGES:
            assert batch_inputs[0].value == int((query or {}).get("batch", 8))
        else:
            assert not batch_inputs, f"{page} does not use the run configuration, so it must not show it"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"batch": "0"}, "batch"),
        ({"height": "abc"}, "height"),
        ({"filters": "99999999"}, "filters"),
        ({"dtype": "float8"}, "dtype"),
        ({"device": "GPU:9"}, "device"),
        ({"mode": "warp"}, "mode"),
        ({"variants": "bogus"}, "variants"),
        ({"onednn": "perhaps"}, "onednn"),
    ],
)
def test_bad_query_parameters_warn_and_use_defaults(query, field, tmp_db):
    at = _app(query)
    at.switch_page("pages/benchmark.py")
    at.run()
    _assert_clean(at)
    warnings = [w.value for w in at.warning]
    assert any(f"`{field}` was not used" in w and "stays at" in w for w in warnings), warnings


def test_oversized_configuration_is_an_error_not_a_crash(tmp_db):
    at = _app({"batch": "4096", "height": "4096", "width": "4096"})
    at.switch_page("pages/benchmark.py")
    at.run()
    _assert_clean(at)
    assert any("estimated memory" in e.value for e in at.error)


@pytest.mark.slow
def test_small_benchmark_runs_end_to_end_and_is_saved(tmp_db):
    query = {**SMALLEST, "height": "4", "width": "4", "channels": "3", "filters": "2"}
    at = _app(query)
    at.switch_page("pages/benchmark.py")
    at.run()
    next(b for b in at.button if b.label == "Run benchmark").click()
    at.run()
    _assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    assert len(at.get("plotly_chart")) >= 3
    stats = at.dataframe[0].value
    assert "median (ms)" in stats.columns and len(stats) == 8
    assert any("Verdict" in h.value for h in at.subheader)
    assert RunStore().count() == 1
    # The run on screen is the one this server holds: no button offers it again, but a second visitor gets one.
    assert not [b for b in at.button if b.label.startswith("Show the cached run")]
    other = _app(query)
    other.switch_page("pages/benchmark.py")
    other.run()
    assert [b for b in other.button if b.label.startswith("Show the cached run")]
    at.switch_page("pages/home.py")
    at.run()
    assert any("Latest stored result" in s.value for s in at.subheader)
    assert at.get("plotly_chart")


def test_history_imports_a_cli_json_file_and_rejects_a_bad_one(tmp_db):
    at = _app()
    at.switch_page("pages/history.py")
    at.run()
    at.file_uploader[0].set_value(("bench.json", json.dumps(_payload(label="imported")).encode(), "application/json"))
    at.run()
    next(b for b in at.button if b.label == "Import").click()
    at.run()
    _assert_clean(at)
    assert any("Imported 1 run" in s.value for s in at.success)
    assert RunStore().list_runs().iloc[0]["label"] == "imported"
    at.file_uploader[0].set_value(("evil.json", b'{"format": "pointwise-benchmark", "spec": 1}', "application/json"))
    at.run()
    next(b for b in at.button if b.label == "Import").click()
    at.run()
    _assert_clean(at)
    assert any("Nothing was imported" in e.value for e in at.error)
    assert RunStore().count() == 1


@pytest.mark.slow
def test_explore_shows_equivalence_table_and_example_3_warning(tmp_db):
    at = _app({**SMALLEST, "height": "3", "width": "4", "channels": "2", "filters": "2"})
    at.switch_page("pages/explore.py")
    at.run()
    at.sidebar.multiselect(key="variants").set_value(["conv2d_1x1", "seed_dense_flatten", "pointwise"])
    at.run()
    _assert_clean(at)
    table = at.dataframe[0].value
    assert list(table["equivalent"]) == ["yes", "no", "yes"]
    assert any("Not a pointwise convolution" in e.value for e in at.error)
    # The difference map gives way to a message when every difference is exactly 0; the histogram stays.
    identical = any("identical to Conv2D 1x1" in s.value for s in at.success)
    assert len(at.get("plotly_chart")) == (1 if identical else 2)


@pytest.mark.slow
def test_rendering_every_page_never_imports_tensorflow_or_jax_in_the_server_process(tmp_db):
    # A fresh interpreter: other test modules import TensorFlow into this one.
    code = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        f"at = AppTest.from_file({str(ROOT / 'app.py')!r}, default_timeout={TIMEOUT_S})\n"
        f"for key, value in {SMALLEST!r}.items(): at.query_params[key] = value\n"
        "at.run()\n"
        f"for page in {PAGES!r}:\n"
        "    at.switch_page(page); at.run(); assert not at.exception, page\n"
        "assert not {'tensorflow', 'keras', 'jax'} & set(sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=600)


@pytest.mark.slow
def test_scaling_sweep_draws_its_charts(tmp_db):
    at = _app({**SMALLEST, "height": "4", "width": "4", "channels": "3", "filters": "2"})
    at.switch_page("pages/scaling.py")
    at.run()
    at.sidebar.multiselect(key="variants").set_value(["conv2d_1x1", "pointwise"])
    at.run()
    assert at.selectbox(key="sweep_param").value == "channels"
    form_inputs = [n for n in at.number_input if n.label in ("from", "to", "points")]
    form_inputs[0].set_value(2)
    form_inputs[1].set_value(4)
    form_inputs[2].set_value(2)
    next(b for b in at.button if b.label == "Run sweep").click()
    at.run()
    _assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    assert len(at.get("plotly_chart")) == 4  # time, GFLOP/s, speedup, roofline
    table = at.dataframe[0].value
    assert sorted(table["channels C"].unique()) == [2, 4]


def test_demo_mode_caps_are_shown_and_enforced(tmp_db, monkeypatch):
    monkeypatch.setenv("POINTWISE_DEMO", "1")
    at = _app({"samples": "500"})
    at.switch_page("pages/benchmark.py")
    at.run()
    _assert_clean(at)
    assert any("Public demo" in c.value for c in at.sidebar.caption)
    assert any("`samples`" in w.value for w in at.warning)
    assert at.sidebar.number_input(key="samples").value == 30
