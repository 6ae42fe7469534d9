"""Latent space page: interpolations, traversals and the 2-D latent map of a live or finished run.
The maths lives in synth_core.viz.latent; this page only picks the run and the controls."""
from __future__ import annotations

import contextlib

import numpy as np
import streamlit as st

from synth_core.errors import SynthLabError
from synth_core.generators import get_generator
from synth_core.train.export import samples_frame
from synth_core.ui.run_picker import pick_run, trained_model
from synth_core.viz import latent

st.title("Latent space")
st.caption("Walk through what a generator learned: decode a path between two latent codes, vary two "
           "latent dimensions, and with a 2-D latent see the whole learned map at once.")

rec = pick_run("explore_run", "Train a GAN or a VAE on the **Train** page first.")
try:
    model = trained_model(rec)
except SynthLabError as exc:
    st.error(str(exc))
    st.stop()
gen, ds, lock, source = model.gen, model.dataset, model.lock, model.source

gen_cls = get_generator(rec.config["generator"])
st.markdown(f"**{gen_cls.label}** on **{ds.name}** · {source}")
views = latent.latent_views(gen, ds)
if views.size is None:
    st.info(latent.no_latent_message(gen_cls.label, gen_cls.family))
    st.page_link("pages/learn.py", label=f"Learn how {gen_cls.family} models work", icon=":material/school:")
    st.stop()

condition = None
if views.conditional:
    classes = list(ds.classes or [])
    condition = st.selectbox("Class", range(len(classes)), format_func=lambda i: str(classes[i]),
                             key="explore_class", help="Conditional model: every decoded sample is of this class.")


def decode(z: np.ndarray) -> np.ndarray:
    """The generator's decoder; a live run's model lock is held so training never runs mid-decode."""
    if lock is None:
        return gen.decode_latent(z, condition=condition)
    with lock:
        return gen.decode_latent(z, condition=condition)


try:
    # ---- interpolation ---------------------------------------------------------------------------
    st.subheader("Interpolation")
    c1, c2, c3 = st.columns(3)
    seed = int(c1.number_input("Seed (endpoints)", min_value=0, max_value=2**31 - 1, value=0, step=1,
                               key="explore_seed"))
    steps = int(c2.slider("Steps", 3, 16, 10, key="explore_steps"))
    method = c3.radio("Path", ["linear", "slerp"], horizontal=True, key="explore_method",
                      help="slerp follows the sphere between the two codes, so every point stays as typical "
                           "under the N(0, I) prior as the endpoints (a straight line dips towards 0).")
    z0, z1 = latent.endpoint_latents(views.size, seed)
    path = latent.interpolate(z0, z1, steps, method)
    x_path = latent.decode_batched(decode, path)
    if ds.kind == "image":
        st.image(latent.image_mosaic(ds, x_path, ncol=steps, target_px=1100), width="stretch",
                 caption=f"{method} path from z₀ (left) to z₁ (right), {views.size}-D latent, seed {seed}")
    elif ds.kind == "points":
        st.plotly_chart(latent.path_figure(ds.x, x_path), key="explore_path", width="stretch")
    else:  # a table: the decoded rows with their label column
        with lock if lock is not None else contextlib.nullcontext():
            x_rows, y_rows = gen.decode_latent_with_labels(path, condition=condition)
        st.dataframe(samples_frame(x_rows, ds, y_rows), width="stretch", hide_index=True)

    # ---- traversal and the 2-D latent map (side by side when both apply) --------------------------
    trav_col, map_col = st.columns(2, gap="large") if views.plane else (st.container(), None)
    if views.traversal:
        with trav_col:
            st.subheader("Latent traversal")
            st.caption("Start from z₀ and vary two latent dimensions over ±k σ (σ = 1 under the N(0, I) prior): "
                       "rows change the first dimension, columns the second. In a VAE, a dimension the decoder "
                       "ignores (posterior collapse) changes nothing along its axis.")
            t1, t2 = st.columns(2)
            dims = list(range(views.size))
            d_row = t1.selectbox("Row dimension", dims, index=0, key=f"explore_dim_row_{views.size}")
            d_col = t2.selectbox("Column dimension", dims, index=min(1, views.size - 1),
                                 key=f"explore_dim_col_{views.size}")
            k = t1.slider("k (σ)", 0.5, 4.0, 2.5, 0.5, key="explore_k")
            n = int(t2.slider("Grid size", 3, 12, 8, key="explore_n"))
            if d_row == d_col and views.size > 1:
                st.warning("Pick two different dimensions.")
            else:
                zg = latent.traversal_latents(z0, (d_row, d_col), k=k, n=n)
                x_grid = latent.decode_batched(decode, zg)
                if ds.kind == "image":
                    st.image(latent.image_mosaic(ds, x_grid, ncol=zg.shape[1], target_px=720), width="stretch")
                else:
                    st.plotly_chart(latent.warped_grid_figure(ds.x, x_grid.reshape(*zg.shape[:2], -1)),
                                    key="explore_traversal", width="stretch")

    if views.plane and map_col is not None:
        with map_col:
            st.subheader("2-D latent map")
            st.caption("The whole latent plane decoded on a grid (z₁ across, z₂ up). Cells are evenly spaced in "
                       "probability under the N(0, I) prior (Kingma & Welling 2014, Fig. 4), so each covers the "
                       "same prior mass.")
            m1, m2 = st.columns(2)
            size = int(m1.slider("Cells per side", 8, 30, 20, key="explore_map_n"))
            spacing = m2.radio("Spacing", ["quantile", "linear"], horizontal=True, key="explore_map_spacing",
                               help="quantile: inverse Gaussian CDF of an even grid; linear: even in [-3, 3].")
            zp = latent.latent_plane(size, spacing=spacing)
            x_map = latent.decode_batched(decode, zp)
            if ds.kind == "image":
                st.image(latent.image_mosaic(ds, x_map, ncol=size, target_px=900, pad=0), width="stretch")
            else:
                st.plotly_chart(latent.warped_grid_figure(ds.x, x_map.reshape(size, size, -1)),
                                key="explore_map", width="stretch")
    elif views.size != 2 and ds.kind in ("image", "points"):
        st.caption(f"The 2-D latent map needs a 2-D latent; this model's is {views.size}-D "
                   f"(train with latent size 2 to see it).")
except SynthLabError as exc:
    st.error(str(exc))
