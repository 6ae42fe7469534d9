"""Compare page: real vs synthetic side by side for any run (live or on disk)."""
from __future__ import annotations

import numpy as np
import streamlit as st

from synth_core.data import load_dataset
from synth_core.errors import SynthLabError
from synth_core.generators import get_generator
from synth_core.train import load_generator
from synth_core.ui import session
from synth_core.viz.figures import scatter_figure, value_histogram
from synth_core.viz.grid import data_bounds, image_grid

st.title("Compare")
st.caption("Real data next to samples from a trained generator.")

mgr = session.manager()
records = [r for r in mgr.records() if r.checkpoint.is_file() or mgr.get(r.run_id) is not None]
if not records:
    st.info("No trained runs yet. Train a generator on the **Train** page first.")
    st.page_link("pages/train.py", label="Go to Train", icon=":material/model_training:")
    st.stop()

ids = [r.run_id for r in records]
current = st.session_state.get("run_id")
by_id = {r.run_id: r for r in records}


def _label(rid: str) -> str:
    r = by_id[rid]
    st_ = r.status
    return f"{r.config.get('generator')} on {r.config.get('dataset')} · {st_.get('status')} at step {st_.get('step', 0):,} · {rid}"


rid = st.selectbox("Run", ids, index=ids.index(current) if current in ids else 0, format_func=_label,
                   key="compare_run")
rec = by_id[rid]
c1, c2 = st.columns(2)
n = c1.select_slider("Synthetic samples", options=[64, 256, 1000, 2000, 5000], value=1000, key="compare_n")
seed = c2.number_input("Sampling seed", min_value=0, max_value=2**31 - 1, value=0, step=1, key="compare_seed")


@st.cache_resource(max_entries=4, show_spinner="Loading the checkpoint...")
def _disk_generator(path: str, mtime: float):
    return load_generator(path)


try:
    live = mgr.get(rid)
    if live is not None and live.generator is not None:
        ds = load_dataset(live.config.dataset)
        synth = live.sample(int(n), seed=int(seed))
        source = f"live model at step {live.step:,}"
    else:
        gen, config, ds = _disk_generator(str(rec.path), rec.checkpoint.stat().st_mtime)
        synth = gen.sample(int(n), seed=int(seed))
        source = f"checkpoint at step {gen.step_:,}"
except SynthLabError as exc:
    st.error(str(exc))
    st.stop()

st.markdown(f"**{get_generator(rec.config['generator']).label}** on **{ds.name}** · {source}")
finite = np.isfinite(synth.reshape(len(synth), -1)).all(1)
if not finite.all():
    st.warning(f"{(~finite).sum()} of {len(synth)} synthetic samples contain NaN/inf and are left out of the plots.")
    synth = synth[finite]
rng = np.random.default_rng(int(seed))
real = ds.x[rng.choice(len(ds), size=min(len(ds), len(synth)), replace=False)]

if ds.kind == "image":
    left, right = st.columns(2)
    left.markdown("**Real**")
    left.image(image_grid(ds.decode(real[:64]), nrow=8), width="stretch")
    right.markdown("**Synthetic**")
    right.image(image_grid(ds.decode(synth[:64]), nrow=8), width="stretch")
    st.plotly_chart(value_histogram(real, synth, title="Pixel value distribution"), key="cmp_pixels",
                    width="stretch")
else:
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(scatter_figure(real, synth, height=520, bounds=data_bounds(ds.x),
                                       title="Real (grey) and synthetic (colour)"), key="cmp_scatter", width="stretch")
    with right:
        for j, name in enumerate(ds.feature_names or []):
            st.plotly_chart(value_histogram(real[:, j], synth[:, j], title=f"Feature {name}", height=240),
                            key=f"cmp_hist_{j}", width="stretch")
