"""An empty multipage app: `live_timings.py` opens its `/explore` in a new browser session to measure Streamlit's
own floor for a deep link into a multipage app (the app's navigation drawn, one title) on this machine. A deep
link costs more than `/`: Streamlit's browser code first looks for the server under the page's path
(`/explore/_stcore/health`), and only after that fails, and a pause, under `/`."""

import streamlit as st


def home() -> None:
    st.title("Home")


def explore() -> None:
    st.title("Explore")


st.navigation([st.Page(home, title="Home", default=True), st.Page(explore, title="Explore", url_path="explore")]).run()
