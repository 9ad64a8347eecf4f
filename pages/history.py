import dataclasses
import hashlib
import time

import pandas as pd
import streamlit as st

from app import page_setup
from pointwise import ImportRejectedError, StoreError
from pointwise.charts import timing_distribution
from pointwise.frames import compare_frame, filter_runs, samples_frame
from pointwise.limits import demo_mode
from pointwise.store import IMPORTS_PER_MINUTE, MAX_IMPORT_BYTES, MAX_LABEL_CHARS, RunStore, imports_allowed
from pointwise.text import bounded, escape_html, escape_markdown
from pointwise.ui import visitor_token

_IMPORT_TIMES = "history_import_times"
_NOTICE = "history_notice"
_NOT_YOURS = "In the public demo you can rename and delete only the runs made or imported in this session."


def import_upload(store: RunStore, upload) -> None:
    """Import one uploaded file (rate-limited per session in the demo) and say what happened."""
    name = escape_markdown(upload.name, 80)
    times = st.session_state.setdefault(_IMPORT_TIMES, [])
    now = time.monotonic()
    if demo_mode() and not imports_allowed(times, now):
        st.error(f"Nothing was imported: at most {IMPORTS_PER_MINUTE} imports a minute per visitor. Try again soon.")
        return
    times[:] = [t for t in times if now - t < 60] + [now]
    try:
        outcome = store.import_json(upload.getvalue(), owner=visitor_token())
    except (ImportRejectedError, StoreError) as exc:
        st.error(f"Nothing was imported from {name}: {escape_markdown(exc, 600)}")
        return
    if outcome.added:
        st.success(f"Imported {len(outcome.added)} run(s) from {name}: " + ", ".join(f"#{i}" for i in outcome.added))
    if outcome.already_stored:
        stored = ", ".join(f"#{i}" for i in sorted(set(outcome.already_stored)))
        st.info(f"Already stored, not imported again: {stored}.")


def load_selected(store: RunStore, run_ids: list[int]) -> dict:
    """The selected runs that can be read, by id; an unreadable one gets a warning and is left out."""
    results = {}
    for run_id in run_ids:
        try:
            result = store.load(run_id)
        except StoreError as exc:
            st.warning(escape_markdown(exc, 300))
            continue
        results[run_id] = result
    return results


def compare(results: dict) -> None:
    """Runs are columns keyed `#id label`: two runs with one label stay two columns."""
    st.subheader("Comparison")
    labelled = [dataclasses.replace(r, label=f"#{i} {bounded(r.label, 60)}") for i, r in results.items()]
    samples = [samples_frame(r, run_label=escape_html(r.label, 70)) for r in labelled]
    st.plotly_chart(timing_distribution(pd.concat(samples), "box", color="run"))
    st.dataframe(compare_frame(labelled), hide_index=True)


def rename_form(store: RunStore, run_id: int, label: str, owner: str | None) -> None:
    with st.form(f"rename-{run_id}"):
        new_label = st.text_input(f"Label of run #{run_id}", value=label, max_chars=MAX_LABEL_CHARS)
        if st.form_submit_button("Rename", icon=":material/edit:"):
            try:
                store.rename(run_id, new_label, owner=owner)
            except StoreError as exc:
                st.error(escape_markdown(exc, 300))
                return
            st.session_state[_NOTICE] = f"Renamed run #{run_id}."
            st.rerun()


def delete_controls(store: RunStore, run_ids: list[int], owner: str | None) -> None:
    """A confirmation tied to exactly these ids, then a delete of exactly these ids."""
    listed = ", ".join(f"#{i}" for i in run_ids)
    confirm_key = "confirm-delete-" + "-".join(map(str, run_ids))
    confirm = st.checkbox(f"Yes, delete {listed}", key=confirm_key)
    if st.button("Delete selected", disabled=not confirm, icon=":material/delete:"):
        try:
            deleted = store.delete(run_ids, owner=owner)
        except StoreError as exc:
            st.error(escape_markdown(exc, 300))
            return
        st.session_state.pop(confirm_key, None)
        st.session_state[_NOTICE] = f"Deleted {deleted} run(s): {listed}."
        st.rerun()


def filtered(runs: pd.DataFrame) -> pd.DataFrame:
    f1, f2, f3, f4, f5 = st.columns(5)
    devices = f1.multiselect("Device", sorted(runs["device"].unique()))
    backends = f2.multiselect("Backend", sorted(runs["backend"].unique()))
    machines = f3.multiselect("Machine", sorted(runs["machine"].unique()))
    variant = f4.text_input("Variant key contains", max_chars=40)
    since = f5.date_input("Since", value=None)
    return filter_runs(
        runs, devices=devices, machines=machines, variant_contains=variant, since=since, backends=backends
    )


def selected_run_ids(shown: pd.DataFrame) -> list[int]:
    """The ids of the selected rows. The table's key follows the ids it shows, so a selection never outlives
    the rows it was made on (after a delete, an import or a filter change it starts empty)."""
    ids = [int(i) for i in shown["id"]]
    key = "runs-" + hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()[:16]
    selection = st.dataframe(shown, hide_index=True, on_select="rerun", selection_mode="multi-row", key=key)
    return [ids[row] for row in selection.selection.rows if 0 <= row < len(ids)]


page_setup()
st.title("History")
store = RunStore()
owner = visitor_token() if demo_mode() else None
st.caption("Every run saved on this server: filter, select rows to compare, export, rename or delete them.")

with st.expander("Import results (JSON from `python -m pointwise bench --json` or an export)"):
    upload = st.file_uploader("Result file", type=["json"], max_upload_size=MAX_IMPORT_BYTES // 2**20)
    if upload is not None and st.button("Import", icon=":material/upload:"):
        import_upload(store, upload)

notice = st.session_state.pop(_NOTICE, None)
if notice:
    st.success(notice)
try:
    runs = store.list_runs()
except StoreError as exc:
    st.error(escape_markdown(exc, 400))
    st.stop()
if runs.empty:
    st.info("No stored runs yet. Run a benchmark, or import a JSON file above.")
    st.stop()

shown = filtered(runs)
selected_ids = selected_run_ids(shown)
st.caption(f"{len(shown)} of {len(runs)} runs shown; select rows to compare, export, rename or delete.")

if selected_ids:
    results = load_selected(store, selected_ids)
    if len(results) >= 2:
        compare(results)
    try:
        exported = store.export_json(list(results)) if results else None
    except StoreError as exc:
        st.error(escape_markdown(exc, 300))
        exported = None
    if exported:
        st.download_button(
            "Export selected (JSON)", exported, "pointwise-runs.json", "application/json", on_click="ignore"
        )
    mine = selected_ids if owner is None else sorted(set(selected_ids) & store.owned_ids(owner), reverse=True)
    if len(mine) < len(selected_ids):
        st.info(f"{len(selected_ids) - len(mine)} of the selected runs were made by other visitors. {_NOT_YOURS}")
    if len(mine) == 1 and mine[0] in results:
        rename_form(store, mine[0], results[mine[0]].label, owner)
    if mine:
        delete_controls(store, mine, owner)
