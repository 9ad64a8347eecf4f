"""Links: the URL form of a configuration, parsed with the server's own rules (no browser needed here)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pointwise.query import QUERY_KEYS, default_config, link_params, parse_link, query_problems, spec_values
from pointwise.spec import DTYPES, MODES, PASSES, make_run_spec
from pointwise.variants import VARIANTS

DEVICES = ["CPU:0", "GPU:0"]


def test_defaults_give_an_empty_link_and_a_valid_spec():
    assert link_params(default_config()) == {}
    assert make_run_spec(**spec_values(default_config())).filters == 128


def test_keys_not_labels_and_repeated_variants():
    config = {**default_config(), "mode": "xla", "pass": "backward", "variants": ["conv2d_1x1", "seed_dense_flatten"]}
    assert link_params(config) == {
        "mode": ["xla"],
        "pass": ["backward"],
        "variants": ["conv2d_1x1", "seed_dense_flatten"],
    }


@pytest.mark.parametrize("raw", ["1e3", "1e400", "9" * 400, "1000.0", "0x10", "１０", "-1", "", " "])
def test_numbers_follow_the_server_rules_exactly(raw):
    parsed = parse_link({"filters": [raw]}, DEVICES)
    assert parsed.values == {}
    (warning,) = parsed.warnings
    assert "`filters` was not used" in warning and "Filters F stays at 128" in warning


def test_warning_names_the_value_kept_not_the_default_when_they_differ():
    current = {**default_config(), "batch": 16}
    (warning,) = parse_link({"batch": ["0"]}, DEVICES, current).warnings
    assert "Batch B stays at 16" in warning


def test_labels_from_old_links_are_accepted_as_aliases():
    parsed = parse_link(
        {"mode": ["XLA (jit_compile)"], "pass": ["forward+backward"], "variants": ["Conv2D 1x1 (baseline)", "dense"]},
        DEVICES,
    )
    assert parsed.values == {"mode": "xla", "pass": "backward", "variants": ["conv2d_1x1", "dense"]}
    assert parsed.warnings == []


def test_unknown_variants_are_left_out_and_named():
    parsed = parse_link({"variants": ["dense", "bogus", "[x](https://evil.example)"]}, DEVICES)
    assert parsed.values == {"variants": ["dense"]}
    (warning,) = parsed.warnings
    assert "bogus" in warning and "](" not in warning and "\\[x\\]" in warning


def test_hostile_values_are_escaped_and_bounded():
    hostile = "[Session expired](https://evil.example/login) " + "A" * 5000
    (warning,) = parse_link({"dtype": [hostile]}, DEVICES).warnings
    assert "](https" not in warning and "\\[Session expired\\]" in warning
    assert len(warning) < 1000


def test_unknown_parameters_are_left_alone():
    assert parse_link({"present": ["1"], "utm_source": ["x"]}, DEVICES) == parse_link({}, DEVICES)


configs = st.fixed_dictionaries(
    {
        "batch": st.integers(1, 65_536),
        "height": st.integers(1, 16_384),
        "filters": st.integers(1, 65_536),
        "samples": st.integers(3, 2_000),
        "device": st.sampled_from(DEVICES),
        "dtype": st.sampled_from(DTYPES),
        "mode": st.sampled_from(MODES),
        "pass": st.sampled_from(PASSES),
        "onednn": st.sampled_from(["default", "on", "off"]),
        "allocator": st.sampled_from(["default", "on", "off"]),
        "threads": st.integers(0, 256),
        "tf32": st.booleans(),
        "variants": st.lists(st.sampled_from(list(VARIANTS)), min_size=1, unique=True),
    }
)


@settings(max_examples=300, deadline=None)
@given(configs)
def test_a_link_reopens_the_same_configuration(values):
    config = {**default_config(), **values}
    parsed = parse_link(link_params(config), DEVICES)
    assert parsed.warnings == []
    assert {**default_config(), **parsed.values} == config


def test_query_problems_names_each_bad_parameter():
    problems = query_problems({"batch": "0", "mode": "warp", "dtype": "float32"}, DEVICES)
    assert set(problems) == {"batch", "mode"}
    assert all(f"`{key}`" in message for key, message in problems.items())
    assert set(QUERY_KEYS) >= set(problems)
