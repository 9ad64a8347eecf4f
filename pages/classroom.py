import streamlit as st

from app import page_setup, show_context_messages

context = page_setup()
st.title("Classroom")
if show_context_messages(context):
    st.write(f"batch={context.spec.batch}")
