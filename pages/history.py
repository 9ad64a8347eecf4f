import pandas as pd
import streamlit as st

from app import page_setup
from pointwise import ImportRejectedError, StoreError
from pointwise.charts import timing_distribution
from pointwise.frames import compare_frame, samples_frame
from pointwise.store import MAX_IMPORT_BYTES, RunStore

page_setup()
st.title("History")
store = RunStore()
st.caption(f"Stored runs live in the SQLite file `{store.path}` (set `POINTWISE_DB` to move it).")

with st.expander("Import results (JSON from `python -m pointwise bench --json` or an export)"):
    upload = st.file_uploader("Result file", type=["json"], max_upload_size=MAX_IMPORT_BYTES // 2**20)
    if upload is not None and st.button("Import", icon=":material/upload:"):
        try:
            ids = store.import_json(upload.getvalue())
            st.success(f"Imported {len(ids)} run(s).")
        except (ImportRejectedError, StoreError) as exc:
            st.error(f"Nothing was imported: {exc}")

try:
    runs = store.list_runs()
except StoreError as exc:
    st.error(str(exc))
    st.stop()
if runs.empty:
    st.info("No stored runs yet. Run a benchmark, or import a JSON file above.")
    st.stop()

f1, f2, f3, f4 = st.columns(4)
devices = f1.multiselect("Device", sorted(runs["device"].unique()))
machines = f2.multiselect("Machine", sorted(runs["machine"].unique()))
variant = f3.text_input("Variant key contains")
since = f4.date_input("Since", value=None)
shown = runs
if devices:
    shown = shown[shown["device"].isin(devices)]
if machines:
    shown = shown[shown["machine"].isin(machines)]
if variant:
    shown = shown[shown["variants"].str.contains(variant, regex=False)]
if since:
    shown = shown[shown["created_at"] >= since.isoformat()]

selection = st.dataframe(shown, hide_index=True, on_select="rerun", selection_mode="multi-row", key="runs")
selected_ids = [int(shown.iloc[i]["id"]) for i in selection.selection.rows]
st.caption(f"{len(shown)} of {len(runs)} runs shown; select rows to compare, export or delete.")

if selected_ids:
    try:
        results = [store.load(i) for i in selected_ids]
    except StoreError as exc:
        st.error(str(exc))
        st.stop()
    if len(results) >= 2:
        st.subheader("Comparison")
        samples = [samples_frame(r, run_label=f"#{i} {r.label}") for i, r in zip(selected_ids, results, strict=True)]
        st.plotly_chart(timing_distribution(pd.concat(samples), "box", color="run"))
        st.dataframe(compare_frame(results), hide_index=True)
    e1, e2 = st.columns(2)
    e1.download_button(
        "Export selected (JSON)", store.export_json(selected_ids), "pointwise-runs.json", "application/json"
    )
    confirm = e2.checkbox(f"Yes, delete {len(selected_ids)} run(s)")
    if e2.button("Delete selected", disabled=not confirm, icon=":material/delete:"):
        try:
            store.delete(selected_ids)
            st.rerun()
        except StoreError as exc:
            st.error(str(exc))
