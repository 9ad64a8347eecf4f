"""History and Home through AppTest over a real database: selection by run id, ownership, visitor text as text."""

import datetime as dt
import json
import re
import sqlite3

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from pointwise.frames import filter_runs
from pointwise.store import RunStore
from test_stats import _result
from test_store import _payload

EVIL_LABEL = "[Session expired - log in again](https://evil.example/login) ![x](https://evil.example/t.png)"


def _page(page):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _select(at, rows):
    """Select table rows the way the browser does: through the dataframe's selection state."""
    at.session_state[at.dataframe[0].key] = {"selection": {"rows": rows, "columns": [], "cells": []}}
    at.run()
    assert not at.exception, [e.value for e in at.exception]


def _button(at, label):
    return next(b for b in at.button if b.label == label)


def _saved(labels, owner=None):
    store = RunStore()
    return [
        store.save(_result({"conv2d_1x1": [1e-3, 2e-3, 3e-3 + i * 1e-4]}), label=lb, owner=owner)
        for i, lb in enumerate(labels)
    ]


def test_deleting_the_top_run_clears_the_selection_and_the_confirmation(tmp_db):
    ids = _saved(["bottom", "middle", "top"])
    at = _page("pages/history.py")
    _select(at, [0])
    at.checkbox[0].check()
    at.run()
    _button(at, "Delete selected").click()
    at.run()
    assert [int(i) for i in RunStore().list_runs()["id"]] == ids[:2][::-1]
    assert any(f"#{ids[2]}" in s.value for s in at.success)
    # The run below the deleted one is not selected, and nothing is ready to delete it.
    assert not [c for c in at.checkbox if c.label.startswith("Yes, delete")]
    assert not [b for b in at.button if b.label == "Delete selected"]


def test_deleting_rows_0_and_3_of_4_deletes_exactly_those(tmp_db):
    ids = _saved(["a", "b", "c", "d"])
    at = _page("pages/history.py")
    _select(at, [0, 3])
    assert any(c.label == f"Yes, delete #{ids[3]}, #{ids[0]}" for c in at.checkbox)
    at.checkbox[0].check()
    at.run()
    _button(at, "Delete selected").click()
    at.run()
    assert not at.exception
    assert sorted(int(i) for i in RunStore().list_runs()["id"]) == [ids[1], ids[2]]


def test_compare_keeps_two_runs_with_one_label_apart(tmp_db):
    first, second = _saved(["same", "same"])
    at = _page("pages/history.py")
    _select(at, [0, 1])
    table = at.dataframe[1].value
    assert f"#{second} same" in table.columns and f"#{first} same" in table.columns


def test_in_demo_mode_visitors_delete_and_rename_only_their_own_runs(tmp_db, monkeypatch):
    monkeypatch.setenv("POINTWISE_DEMO", "1")
    (theirs,) = _saved(["theirs"], owner="someone-else")
    at = _page("pages/history.py")
    at.file_uploader[0].set_value(("mine.json", json.dumps(_payload(label="mine")).encode(), "application/json"))
    at.run()
    _button(at, "Import").click()
    at.run()
    mine = max(int(i) for i in RunStore().list_runs()["id"])
    _select(at, [1])  # theirs: no rename, no delete
    assert any("made by other visitors" in i.value for i in at.info)
    assert not at.checkbox and not [b for b in at.button if b.label in ("Rename", "Delete selected")]
    _select(at, [0, 1])  # both: only mine may be deleted
    assert [c.label for c in at.checkbox] == [f"Yes, delete #{mine}"]
    at.checkbox[0].check()
    at.run()
    _button(at, "Delete selected").click()
    at.run()
    assert [int(i) for i in RunStore().list_runs()["id"]] == [theirs]


def test_rename_in_history_changes_only_the_selected_run(tmp_db):
    ids = _saved(["one", "two"])
    at = _page("pages/history.py")
    _select(at, [1])
    at.text_input[1].input(EVIL_LABEL)
    next(b for b in at.button if b.label == "Rename").click()
    at.run()
    assert RunStore().load(ids[0]).label == EVIL_LABEL and RunStore().load(ids[1]).label == "two"


def test_the_database_path_is_not_shown(tmp_db):
    _saved(["a"])
    at = _page("pages/history.py")
    texts = [c.value for c in at.caption] + [m.value for m in at.markdown] + [e.value for e in at.error]
    assert not any(str(tmp_db.parent) in t for t in texts)


@pytest.mark.parametrize(
    "environment",
    [
        {"cpu": ":red[**re-enter your token**]", "date": "2026"},
        {"cpu": "<img src=x>", "date": "[d](https://evil.example)"},
    ],
)
def test_home_shows_visitor_text_as_text(tmp_db, environment):
    RunStore().import_json(json.dumps(_payload(label=EVIL_LABEL, environment=environment)))
    at = _page("pages/home.py")
    caption = next(c.value for c in at.caption if "Session expired" in c.value)
    # Every bracket, parenthesis, angle bracket and colon arrives escaped: markdown sees only literal text.
    assert not re.search(r"(?<!\\)[\[\]()<>:]", caption), caption
    assert "\\[Session expired" in caption


def test_home_skips_a_corrupt_row_and_shows_the_one_before(tmp_db):
    _, bad = _saved(["good", "bad"])
    with sqlite3.connect(tmp_db) as db:
        db.execute("UPDATE runs SET payload = 'not json' WHERE id = ?", (bad,))
    at = _page("pages/home.py")
    assert any(f"\\#{bad}" in w.value for w in at.warning)
    assert any(c.value.startswith("good") for c in at.caption) and at.get("plotly_chart")


def test_filter_runs_applies_every_filter_given_and_reads_text_as_text():
    runs = pd.DataFrame(
        {
            "device": ["CPU:0", "GPU:0", "CPU:0"],
            "machine": ["lab-1", "lab-1", "lab-2"],
            "variants": ["conv2d_1x1,dense", "conv2d_1x1,seed_einsum", "conv2d_1x1"],
            "created_at": ["2026-11-20T10:00:00+00:00", "2026-11-25T10:00:00+00:00", "2026-11-26T09:00:00+00:00"],
        }
    )
    assert filter_runs(runs).equals(runs)
    assert list(filter_runs(runs, devices=["CPU:0"]).index) == [0, 2]
    assert list(filter_runs(runs, devices=["CPU:0"], machines=["lab-2"]).index) == [2]
    assert list(filter_runs(runs, variant_contains="seed").index) == [1]
    assert filter_runs(runs, variant_contains=".*").empty
    assert list(filter_runs(runs, since=dt.date(2026, 11, 25)).index) == [1, 2]
