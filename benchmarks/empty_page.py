"""A Streamlit page with a title and nothing else: `live_timings.py` opens it to measure Streamlit's own floor
(a new browser session connecting, loading Streamlit's scripts, drawing one element) on this machine."""

import streamlit as st

st.title("Empty page")
