"""Data page: pick a built-in dataset or upload your own, see samples and basic statistics."""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import streamlit as st

from synth_core.data import dataset_info
from synth_core.data.tabular import COLUMN_TYPES
from synth_core.data.uploads import UploadOptions
from synth_core.data.user_data import (TablePreview, label_candidates, preview_table, schema_editor_frame,
                                       schema_from_editor, upload_kind)
from synth_core.errors import SynthLabError
from synth_core.ui import session
from synth_core.viz.figures import class_histogram, scatter_figure, value_histogram
from synth_core.viz.grid import image_grid

UPLOAD_TYPES = ["csv", "tsv", "txt", "parquet", "pq", "npz", "npy", "zip"]
DELIMITERS = {"auto": None, ", (comma)": ",", "; (semicolon)": ";", "tab": "\t", "| (pipe)": "|"}

st.title("Data")
st.caption("Choose the real data a generator will learn from: a built-in set (everything works offline) or "
           "your own file.")

names = session.dataset_choices()
current = session.dataset_name()
kinds = {"image": "Images", "points": "2-D points", "tabular": "Tables"}

session.apply_pending_select("data_select")
if st.session_state.get("data_select") not in names:
    st.session_state["data_select"] = current if current in names else names[0]
choice = st.selectbox(
    "Dataset", names,
    format_func=lambda n: f"{dataset_info(n).label}  ·  {kinds[dataset_info(n).kind]}",
    key="data_select",
)
if choice != current:
    if session.set_dataset(choice):
        st.rerun()
    else:
        st.info(f"Still using **{dataset_info(current).label}**.")


@st.cache_data(max_entries=4, show_spinner="Reading the table...")
def _preview(filename: str, data: bytes, delimiter: str | None) -> TablePreview:
    return preview_table(filename, data, UploadOptions(delimiter=delimiter))


def _use(filename: str, data: bytes, options: UploadOptions) -> None:
    if session.use_upload(filename, data, options) is not None:
        st.rerun()


def upload_section() -> None:
    """File -> options (per type) -> schema editor for tables -> "Use this data"."""
    up = st.file_uploader("File", type=UPLOAD_TYPES, key="upload_file",
                          help="CSV/TSV or Parquet tables; NPZ/NPY arrays (x, optional y labels); a ZIP of "
                               "PNG/JPEG images, one sub-folder per class for labels.")
    if up is None:
        st.caption("Your file is parsed (never executed) and kept on this server; only this browser session "
                   "lists it.")
        return
    filename, data = up.name, up.getvalue()
    fid = hashlib.sha1(data).hexdigest()[:10]  # widget keys per file: a new file starts fresh
    kind = upload_kind(filename)
    if kind == "images":
        c1, c2 = st.columns(2)
        side = int(c1.number_input("Square side (pixels)", min_value=4, max_value=256, value=28, step=4,
                                   key=f"upload_side_{fid}",
                                   help="Each image is centre-cropped to a square and resized to this side."))
        color = c2.selectbox("Colour", ["auto", "grayscale", "rgb"], key=f"upload_color_{fid}",
                             help="auto: RGB only if some image has colour.")
        if st.button("Use this data", key="upload_use", type="primary"):
            _use(filename, data, UploadOptions(image_side=side, color=color))
        return
    if kind == "arrays":
        st.caption("x: N x D rows (2 columns = 2-D points) or images N x H x W (x C); optional y: one label "
                   "per row.")
        if st.button("Use this data", key="upload_use", type="primary"):
            _use(filename, data, UploadOptions())
        return
    delimiter = None
    if not filename.lower().endswith((".parquet", ".pq")):
        delimiter = DELIMITERS[st.selectbox("Delimiter", list(DELIMITERS), key=f"upload_delim_{fid}")]
    try:
        pv = _preview(filename, data, delimiter)
    except SynthLabError as exc:
        st.error(str(exc))
        return
    for w in pv.warnings:
        st.warning(w)
    st.dataframe(pv.frame.head(20), width="stretch", height=220)
    candidates = label_candidates(pv.schema)
    label = st.selectbox("Label (target) column", [None, *candidates], key=f"upload_label_{fid}",
                         format_func=lambda c: "(none)" if c is None else str(c),
                         help="A discrete column: conditional generators and the utility metric use it.")
    st.caption("Schema: change a column's type or untick **include** to drop it. Missing cells are kept and "
               "modelled (a missing flag for numbers, a `<missing>` level otherwise).")
    edited = st.data_editor(
        schema_editor_frame(pv.schema), key=f"upload_schema_{fid}", hide_index=True, width="stretch",
        disabled=["column", "missing", "distinct", "note"],
        column_config={"type": st.column_config.SelectboxColumn("type", options=list(COLUMN_TYPES), required=True),
                       "include": st.column_config.CheckboxColumn("include"),
                       "missing": st.column_config.NumberColumn("missing", help="empty cells")},
    )
    if st.button("Use this data", key="upload_use", type="primary"):
        try:
            schema = schema_from_editor(pv.schema, edited, label)
        except SynthLabError as exc:
            st.error(str(exc))
            return
        _use(filename, data, UploadOptions(schema=schema, delimiter=delimiter))


with st.expander("Upload your own data", icon=":material/upload_file:",
                 expanded=st.session_state.get("upload_file") is not None):
    upload_section()

ds = session.current_dataset()
info = dataset_info(ds.name)
st.markdown(f"**{info.label}**: {ds.description}  \n:gray[Source: `{ds.source}`]")
for w in ds.warnings:
    st.warning(w)

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
