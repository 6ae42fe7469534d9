"""SynthLab entry point: a router over pages/ plus the shared sidebar. No logic lives here."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

# a local file, not ":material/...:" or an emoji: those favicons load from fonts.gstatic.com (offline: errors)
st.set_page_config(page_title="SynthLab", page_icon=str(Path(__file__).parent / "assets" / "favicon.png"),
                   layout="wide")

from synth_core.data import dataset_info  # noqa: E402  (after set_page_config)
from synth_core.device import describe_device, resolve_device  # noqa: E402
from synth_core.ui import session  # noqa: E402

pages = [
    st.Page("pages/data.py", title="Data", icon=":material/dataset:", default=True),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/compare.py", title="Compare", icon=":material/compare:"),
    st.Page("pages/runs.py", title="Runs", icon=":material/history:"),
    st.Page("pages/explore.py", title="Latent space", icon=":material/scatter_plot:"),
    st.Page("pages/learn.py", title="Learn", icon=":material/school:"),
]
nav = st.navigation(pages)

session.restore_from_url()  # ?owner= and ?run= in the address: what a refresh must not lose

with st.sidebar:
    st.markdown("### SynthLab")
    st.caption("Train synthetic-data generators and see how good their data is.")
    info = dataset_info(session.dataset_name())
    st.markdown(f"**Dataset:** {info.label}")
    run = session.current_run()
    if run is not None:
        session.run_summary(run)
    st.caption(f"Device: {describe_device(resolve_device('auto'))}")

nav.run()
