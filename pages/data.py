"""Data page: pick a built-in dataset, see samples and basic statistics."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from synth_core.data import dataset_info, list_datasets
from synth_core.ui import session
from synth_core.viz.figures import class_histogram, scatter_figure, value_histogram
from synth_core.viz.grid import image_grid

st.title("Data")
st.caption("Choose the real data a generator will learn from. Everything here works offline.")

infos = list_datasets()
names = [d.name for d in infos]
current = session.dataset_name()
kinds = {"image": "Images", "points": "2-D points", "tabular": "Tables"}

choice = st.selectbox(
    "Dataset", names, index=names.index(current) if current in names else 0,
    format_func=lambda n: f"{dataset_info(n).label}  ·  {kinds[dataset_info(n).kind]}",
    key="data_select",
)
if choice != current:
    if session.set_dataset(choice):
        st.rerun()
    else:
        st.info(f"Still using **{dataset_info(current).label}**.")

ds = session.current_dataset()
info = dataset_info(ds.name)
st.markdown(f"**{info.label}**: {ds.description}  \n:gray[Source: `{ds.source}`]")

summary = ds.summary()
c1, c2, c3, c4 = st.columns(4)
c1.metric("Samples", f"{summary['samples']:,}")
c2.metric("Shape", summary["shape"])
c3.metric("Classes", summary.get("classes", "none"))
c4.metric("Kind", kinds[ds.kind])

if ds.kind == "tabular":
    frame = ds.frame()
    st.subheader("Table")
    st.dataframe(frame.head(200), width="stretch", height=300)
    st.subheader("Schema")
    st.caption("Inferred column types and how each column is encoded for the generators.")
    schema_tbl = ds.schema.table()
    # mixed-type cells (levels of a boolean and of a text column) must be text for Arrow
    schema_tbl = schema_tbl.astype({c: "string" for c in schema_tbl.columns if schema_tbl[c].dtype == object})
    st.dataframe(schema_tbl, hide_index=True, width="stretch")
    for w in ds.meta.get("warnings", []):
        st.warning(w)
    cols = st.columns(3)
    included = {c.name for c in ds.schema.included}
    shown = [c for c in frame.columns if c in included][:6]
    for i, name in enumerate(shown):
        col = frame[name]
        with cols[i % 3]:
            if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
                st.plotly_chart(value_histogram(col.dropna().to_numpy(dtype=float), title=name, height=240),
                                key=f"data_col_{i}", width="stretch")
            else:
                counts = col.astype("string").fillna("(missing)").value_counts().head(20)
                st.plotly_chart(class_histogram(counts.to_dict(), height=240), key=f"data_col_{i}",
                                width="stretch")
    if "per_class" in summary and len(summary["per_class"]) <= 30:
        st.plotly_chart(class_histogram(summary["per_class"]), key="data_classes", width="stretch")
    st.page_link("pages/train.py", label="Train a generator on this data", icon=":material/arrow_forward:")
    st.stop()

left, right = st.columns([3, 2])
with left:
    if ds.kind == "image":
        st.subheader("Samples")
        idx = np.random.default_rng(0).choice(len(ds), size=min(64, len(ds)), replace=False)
        st.image(image_grid(ds.decode(ds.x[idx]), nrow=8), caption="64 random real samples", width=480)
    else:
        st.subheader("Scatter")
        st.plotly_chart(scatter_figure(ds.x, None), key="data_scatter", width="stretch")
with right:
    st.subheader("Statistics")
    stats = {k: summary[k] for k in ("min", "max", "mean", "std")}
    if ds.kind == "image":
        # people read pixels as 0..255; the model sees (pixel / 127.5) - 1
        pix = {k: round((v + 1) * 127.5, 1) if k != "std" else round(v * 127.5, 1) for k, v in stats.items()}
        st.dataframe(pd.DataFrame([pix], index=["pixel value (0-255)"]).T, width="stretch")
        st.plotly_chart(value_histogram(ds.x[:500], title="Pixel value distribution"), key="data_pixels",
                        width="stretch")
    else:
        df = pd.DataFrame(ds.x, columns=ds.feature_names).describe().T
        st.dataframe(df, width="stretch")
    if "per_class" in summary and len(summary["per_class"]) <= 30:
        st.plotly_chart(class_histogram(summary["per_class"]), key="data_classes", width="stretch")

st.page_link("pages/train.py", label="Train a generator on this data", icon=":material/arrow_forward:")
