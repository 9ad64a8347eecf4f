"""A misconfigured server says which setting is wrong on every page instead of failing inside a job."""

import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT


@pytest.mark.parametrize(
    ("variable", "value"),
    [("POINTWISE_JOB_TIME_LIMIT_S", "nan"), ("POINTWISE_WORKER_MAX_RSS_MB", "inf"), ("POINTWISE_DEMO", "maybe")],
)
def test_a_bad_setting_is_named_on_the_page(monkeypatch, tmp_db, variable, value):
    monkeypatch.setenv(variable, value)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    (error,) = at.error
    assert variable.replace("_", "\\_") in error.value or variable in error.value
    assert not at.title, "nothing else renders on a misconfigured server"
