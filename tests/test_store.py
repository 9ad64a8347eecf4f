import json
import os
import sqlite3

import pytest

from pointwise.errors import ImportRejectedError, StoreError
from pointwise.store import SCHEMA_VERSION, RunStore, parse_result_json
from test_stats import _result


def _payload(**overrides):
    data = _result({"conv2d_1x1": [1e-3, 2e-3, 3e-3], "dense": [1e-3, 1.5e-3, 2e-3]}).to_dict()
    data["environment"] = {"machine": "lab-1", "date": "2026-11-25T10:00:00+00:00"}
    data.update(overrides)
    return data


def test_save_list_load_rename_delete(tmp_db):
    store = RunStore()
    assert store.count() == 0 and store.list_runs().empty and store.latest() is None
    first = store.save(_result({"conv2d_1x1": [1e-3, 2e-3, 3e-3]}), label="first")
    second = store.save(_result({"conv2d_1x1": [2e-3, 2e-3, 2e-3]}))
    runs = store.list_runs()
    assert list(runs["id"]) == [second, first]
    assert store.load(first).label == "first" and store.latest().measurements[0].per_call_s == (2e-3,) * 3
    store.rename(second, "renamed")
    assert store.load(second).label == "renamed"
    assert store.delete([first]) == 1 and store.count() == 1
    with pytest.raises(StoreError, match="No stored run with id"):
        store.load(first)
    with sqlite3.connect(tmp_db) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_import_cli_file_and_export_round_trip(tmp_db):
    store = RunStore()
    ids = store.import_json(json.dumps(_payload(label="from GPU box")))
    assert store.list_runs().iloc[0]["machine"] == "lab-1"
    exported = store.export_json(ids)
    assert len(store.import_json(exported)) == 1 and store.count() == 2


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"[]", "Expected 1 to"),
        (json.dumps({"format": "other"}), "not a pointwise benchmark result"),
        (json.dumps(_payload(spec={"batch": 0})), "Invalid value for `batch`"),
        (json.dumps(_payload(spec={"batch": 2, "colour": 1})), "colour"),
        (json.dumps(_payload(measurements=[])), "`measurements` is empty"),
        (
            json.dumps(
                _payload(measurements=[{"key": "rm -rf", "per_call_s": [1], "calls_per_block": 1, "cold_start_s": 0}])
            ),
            "unknown variant key",
        ),
        (
            json.dumps(
                _payload(measurements=[{"key": "dense", "per_call_s": [-1], "calls_per_block": 1, "cold_start_s": 0}])
            ),
            "per_call_s",
        ),
        (b'{"format": "pointwise-benchmark", "x": NaN}', "not valid JSON"),
        (json.dumps(_payload(label="x" * 500)), "label"),
        (b" " * (21 * 2**20), "the limit is"),
    ],
)
def test_malformed_or_hostile_imports_are_rejected_and_nothing_is_touched(tmp_db, document, message):
    store = RunStore()
    kept = store.save(_result({"conv2d_1x1": [1e-3, 2e-3, 3e-3]}))
    before = tmp_db.read_bytes()
    with pytest.raises(ImportRejectedError, match=message):
        store.import_json(document)
    assert store.count() == 1 and store.load(kept) is not None
    assert tmp_db.read_bytes() == before


def test_import_is_all_or_nothing(tmp_db):
    store = RunStore()
    good = _payload()
    bad = _payload(spec={"batch": -1})
    with pytest.raises(ImportRejectedError, match="run 2"):
        store.import_json(json.dumps([good, bad]))
    assert store.count() == 0


def test_newer_schema_is_refused(tmp_db):
    RunStore().save(_result({"conv2d_1x1": [1e-3, 2e-3, 3e-3]}))
    with sqlite3.connect(tmp_db) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer than this app"):
        RunStore().list_runs()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_database_gives_store_error(tmp_db):
    store = RunStore()
    store.save(_result({"conv2d_1x1": [1e-3, 2e-3, 3e-3]}))
    tmp_db.chmod(0o444)
    with pytest.raises(StoreError):
        store.save(_result({"conv2d_1x1": [1e-3, 2e-3, 3e-3]}))


def test_unwritable_location_gives_store_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match="Cannot open the run database"):
        RunStore(blocker / "runs.sqlite3").save(_result({"conv2d_1x1": [1e-3, 2e-3, 3e-3]}))


def test_corrupt_database_gives_store_error(tmp_db):
    tmp_db.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError):
        RunStore().list_runs()


def test_parse_accepts_single_and_list():
    assert len(parse_result_json(json.dumps(_payload()))) == 1
    assert len(parse_result_json(json.dumps([_payload(), _payload()]))) == 2
