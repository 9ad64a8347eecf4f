import dataclasses
import json
import os
import shutil
import sqlite3
import subprocess
import sys

import pytest

from conftest import ROOT, small_spec
from pointwise.errors import ImportRejectedError, StoreError
from pointwise.store import SCHEMA_VERSION, ImportOutcome, RunStore, parse_result_json
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
    outcome = store.import_json(json.dumps(_payload(label="from GPU box")))
    assert store.list_runs().iloc[0]["machine"] == "lab-1"
    exported = store.export_json(outcome.added)
    again = store.import_json(exported)
    assert again == ImportOutcome(added=[], already_stored=outcome.added) and store.count() == 1
    elsewhere = RunStore(tmp_db.with_name("other.sqlite3"))
    (new_id,) = elsewhere.import_json(exported).added
    assert elsewhere.load(new_id).label == "from GPU box"
    assert elsewhere.load(new_id).measurements == store.load(outcome.added[0]).measurements


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


def _saved_long_run(store, samples=200, **env):
    """A run saved under the local limits, as a local install would have stored it before a demo restart."""
    spec = small_spec(samples=samples)
    result = _result({"conv2d_1x1": [1e-3 + i * 1e-6 for i in range(samples)]}, spec=spec)
    return store.save(dataclasses.replace(result, environment={"machine": "lab-1", **env}), label="long")


def test_runs_saved_under_local_limits_stay_readable_in_demo_mode(tmp_db, monkeypatch):
    store = RunStore()
    run_id = _saved_long_run(store)
    monkeypatch.setenv("POINTWISE_DEMO", "1")
    assert store.load(run_id).spec.samples == 200 and store.latest().label == "long"
    assert json.loads(store.export_json([run_id]))[0]["spec"]["samples"] == 200


def test_a_corrupt_row_is_skipped_and_the_others_stay_usable(tmp_db):
    store = RunStore()
    good = store.save(_result({"conv2d_1x1": [1e-3, 2e-3, 3e-3]}), label="good")
    bad = store.save(_result({"conv2d_1x1": [1e-3, 2e-3, 3e-3]}), label="bad")
    with sqlite3.connect(tmp_db) as db:
        db.execute("UPDATE runs SET payload = '{not json' WHERE id = ?", (bad,))
    latest, problems = store.latest_readable()
    assert latest.label == "good" and problems == [f"Stored run #{bad} cannot be read: its stored data is damaged."]
    assert list(store.list_runs()["id"]) == [bad, good]
    with pytest.raises(StoreError, match=f"#{bad} cannot be read"):
        store.load(bad)
    assert store.delete([bad]) == 1 and store.latest().label == "good"


def test_an_environment_value_json_cannot_hold_still_exports_and_imports_again(tmp_db):
    store = RunStore()
    run_id = _saved_long_run(store, samples=5, cpu=float("inf"), note="x" * 5000)
    exported = store.export_json([run_id])
    other = RunStore(tmp_db.with_name("other.sqlite3"))
    (new_id,) = other.import_json(exported).added
    assert other.load(new_id).environment["cpu"] == "inf" and len(other.load(new_id).environment["note"]) <= 500


def test_importing_the_same_run_twice_stores_it_once(tmp_db):
    store = RunStore()
    first = store.import_json(json.dumps(_payload(label="a")))
    other_machine = _payload(environment={"machine": "lab-2", "date": "2026-11-25T10:00:00+00:00"})
    second = store.import_json(json.dumps([_payload(label="renamed copy"), other_machine]))
    assert second.already_stored == first.added and len(second.added) == 1 and store.count() == 2


def test_owners_rename_and_delete_only_their_own_runs(tmp_db):
    store = RunStore()
    mine = store.save(_result({"conv2d_1x1": [1e-3, 2e-3, 3e-3]}), owner="visitor-a")
    theirs = store.save(_result({"dense": [1e-3, 2e-3, 3e-3]}), owner="visitor-b")
    assert store.owned_ids("visitor-a") == {mine}
    with pytest.raises(StoreError, match=f"Run #{theirs} was not renamed"):
        store.rename(theirs, "hijacked", owner="visitor-a")
    assert store.delete([mine, theirs], owner="visitor-a") == 1
    assert list(store.list_runs()["id"]) == [theirs] and store.load(theirs).label != "hijacked"
    store.rename(theirs, "  [x](https://evil.example)\n" + "y" * 300, owner=None)
    assert len(store.load(theirs).label) == 200 and "\n" not in store.load(theirs).label


V1_SCHEMA = """
CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL, label TEXT NOT NULL,
  source TEXT NOT NULL, machine TEXT NOT NULL, device TEXT NOT NULL, dtype TEXT NOT NULL, mode TEXT NOT NULL,
  pass_kind TEXT NOT NULL, shape TEXT NOT NULL, filters INTEGER NOT NULL, variants TEXT NOT NULL,
  payload TEXT NOT NULL);
PRAGMA user_version = 1;
"""


def test_a_version_1_database_is_read_as_is_and_migrated_on_the_first_write(tmp_db):
    with sqlite3.connect(tmp_db) as db:
        db.executescript(V1_SCHEMA)
        db.execute(
            "INSERT INTO runs (created_at, label, source, machine, device, dtype, mode, pass_kind, shape, filters, "
            "variants, payload) VALUES ('', 'old', 'app', 'm', 'CPU:0', 'float32', 'graph', 'forward', '1x4x5x3', 2, "
            "'conv2d_1x1', ?)",
            (json.dumps(_payload()),),
        )
    store = RunStore()
    assert store.load(1).label == "old" and store.owned_ids("anyone") == set()
    assert store.list_runs()["backend"].tolist() == ["tensorflow"]
    assert store.import_json(json.dumps(_payload())).already_stored == [1]
    new = store.save(_result({"dense": [1e-3, 2e-3, 3e-3]}), owner="anyone")
    with sqlite3.connect(tmp_db) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
        assert db.execute("SELECT owner FROM runs WHERE id = 1").fetchone()[0] is None
        assert db.execute("SELECT backend FROM runs ORDER BY id").fetchall() == [("tensorflow",), ("tensorflow",)]
    assert store.owned_ids("anyone") == {new} and store.delete([1], owner="anyone") == 0


def test_foreign_and_empty_files_are_refused_and_left_unchanged(tmp_path):
    foreign = tmp_path / "notes.sqlite3"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE notes (body TEXT)")
    empty = tmp_path / "empty.sqlite3"
    empty.touch()
    for path in (foreign, empty):
        before = path.read_bytes()
        with pytest.raises(StoreError, match=r"not a .*run database"):
            RunStore(path).save(_result({"conv2d_1x1": [1e-3, 2e-3, 3e-3]}))
        assert path.read_bytes() == before
    with pytest.raises(StoreError, match="not a Pointwise Lab run database"):
        RunStore(foreign).list_runs()
    assert RunStore(empty).list_runs().empty


READ_AS_UNPRIVILEGED = """
import sys
sys.path.insert(0, {root!r})
from pointwise.store import RunStore
store = RunStore({db!r})
print(list(store.list_runs()["label"]), store.load({run_id}).label, store.latest().label)
try:
    store.save(store.latest())
except Exception as exc:
    print(type(exc).__name__, exc)
"""


@pytest.mark.skipif(not shutil.which("setpriv"), reason="needs setpriv to drop root's file-permission override")
def test_read_only_storage_still_shows_stored_runs(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    db = folder / "runs.sqlite3"
    run_id = RunStore(db).save(_result({"conv2d_1x1": [1e-3, 2e-3, 3e-3]}), label="kept")
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    folder.chmod(0o555)
    db.chmod(0o444)
    # Root ignores permissions through CAP_DAC_OVERRIDE: without it, the folder is as read-only as for anyone.
    drop = ["setpriv", "--inh-caps=-dac_override,-dac_read_search", "--bounding-set=-dac_override,-dac_read_search"]
    code = READ_AS_UNPRIVILEGED.format(root=str(ROOT), db=str(db), run_id=run_id)
    try:
        done = subprocess.run([*drop, sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    finally:
        folder.chmod(0o755)
    lines = done.stdout.splitlines()
    assert lines[0] == "['kept'] kept kept", done.stdout + done.stderr
    assert lines[1].startswith("StoreError") and str(tmp_path) not in lines[1], lines


def test_store_errors_shown_to_visitors_do_not_hold_the_database_path(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    corrupt = tmp_path / "corrupt.sqlite3"
    corrupt.write_bytes(b"this is not sqlite" * 100)
    for action in (
        lambda: RunStore(blocker / "runs.sqlite3").save(_result({"conv2d_1x1": [1e-3, 2e-3, 3e-3]})),
        lambda: RunStore(corrupt).list_runs(),
        lambda: RunStore(tmp_path / "missing.sqlite3").load(1),
    ):
        with pytest.raises(StoreError) as caught:
            action()
        assert str(tmp_path) not in str(caught.value)
    assert str(blocker) in caplog.text


def test_saving_stores_raw_samples_and_computes_no_statistics(tmp_db):
    result = _result({"conv2d_1x1": [1e-3, 2e-3, 3e-3], "dense": [1e-3, 1.5e-3, 2e-3]})
    run_id = RunStore().save(result)
    assert "statistics" not in result.__dict__, "saving must not run the bootstrap (the page computes it once)"
    with sqlite3.connect(tmp_db) as db:
        payload = json.loads(db.execute("SELECT payload FROM runs WHERE id = ?", (run_id,)).fetchone()[0])
    assert "statistics" not in payload and payload["measurements"][1]["per_call_s"] == [1e-3, 1.5e-3, 2e-3]
    assert RunStore().load(run_id).statistics[1].speedup_vs_conv2d == pytest.approx(2e-3 / 1.5e-3)


def test_a_default_label_names_a_non_default_backend():
    from pointwise.store import default_label

    pytest.importorskip("jax")  # a JAX spec is refused where JAX is not installed
    times = {"conv2d_1x1": [1e-3, 2e-3], "dense": [1e-3, 2e-3]}
    on_jax = default_label(_result(times, spec=small_spec(backend="jax", variants=["dense"])))
    on_tensorflow = default_label(_result(times, spec=small_spec(variants=["dense"])))
    assert " jax " in on_jax and "jax" not in on_tensorflow and "tensorflow" not in on_tensorflow
