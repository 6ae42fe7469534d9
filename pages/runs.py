"""Runs page: every run on disk, its curves and samples, and downloads (config, model, data)."""
from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from synth_core.errors import SynthLabError
from synth_core.generators import get_generator
from synth_core.train import load_generator
from synth_core.train.export import history_from_metrics, metrics_csv, samples_csv, samples_npz
from synth_core.train.store import read_metrics
from synth_core.ui import session
from synth_core.viz.figures import loss_figure

st.title("Runs")
st.caption("Every training run in the runs folder, including those from earlier sessions and the CLI.")

mgr = session.manager()
records = mgr.records()
if not records:
    st.info("No runs yet. Start one on the **Train** page or with `synthlab train`.")
    st.stop()

table = pd.DataFrame([{
    "run": r.run_id, "generator": r.config.get("generator"), "dataset": r.config.get("dataset"),
    "status": r.state, "step": r.status.get("step", 0), "steps": r.config.get("steps"),
    "seed": r.config.get("seed"), "created": str(r.config.get("created_at", ""))[:19].replace("T", " "),
} for r in records])
st.dataframe(table, hide_index=True, width="stretch")

by_id = {r.run_id: r for r in records}
ids = list(by_id)
current = st.session_state.get("run_id")
rid = st.selectbox("Inspect run", ids, index=ids.index(current) if current in ids else 0, key="runs_select")
rec = by_id[rid]
st.markdown(f"**{get_generator(rec.config['generator']).label}** on **{rec.config['dataset']}** · "
            f"status **{rec.state}** at step {rec.status.get('step', 0):,}")
if rec.state == "failed" and rec.status.get("error"):
    st.error(rec.status["error"])
if rec.state == "interrupted":
    st.warning("This run was interrupted (the server stopped while it trained). Its last checkpoint is kept.")

left, right = st.columns([3, 2])
with left:
    rows = read_metrics(rec.path / "metrics.jsonl")
    if rows:
        st.plotly_chart(loss_figure(history_from_metrics(rows), height=340), key="runs_loss", width="stretch")
    else:
        st.caption("No training steps recorded.")
with right:
    samples = rec.sample_files()
    if samples:
        st.image(str(samples[-1]), caption=f"{samples[-1].stem.replace('_', ' ')}", width="stretch")

st.subheader("Downloads")
c1, c2, c3 = st.columns(3)
c1.download_button("Run config (JSON)", json.dumps(rec.config, indent=2), file_name=f"{rid}-config.json",
                   mime="application/json", width="stretch", key="dl_config",
                   help="Replay with: synthlab train --config <file>")
if rec.checkpoint.is_file():
    c2.download_button("Model checkpoint", rec.checkpoint.read_bytes(), file_name=f"{rid}-checkpoint.pt",
                       width="stretch", key="dl_ckpt", help="Load with torch.load(path, weights_only=True)")
c3.download_button("Losses (CSV)", metrics_csv(rec.path), file_name=f"{rid}-losses.csv", mime="text/csv",
                   width="stretch", key="dl_losses")

if rec.checkpoint.is_file():
    with st.form("synth_download"):
        f1, f2, f3 = st.columns([2, 1, 1])
        n = f1.number_input("Synthetic samples", min_value=1, max_value=200_000, value=1000, step=500)
        seed = f2.number_input("Seed", min_value=0, value=0, step=1)
        fmt = f3.selectbox("Format", ["NPZ", "CSV"])
        go = st.form_submit_button("Generate")
    if go:
        try:
            with st.spinner(f"Sampling {int(n):,} rows..."):
                gen, config, ds = load_generator(rec.path)
                x = gen.sample(int(n), seed=int(seed))
        except SynthLabError as exc:
            st.error(str(exc))
        else:
            if fmt == "CSV" and ds.kind != "image":
                st.download_button(f"Download {int(n):,} samples (CSV)", samples_csv(x, ds),
                                   file_name=f"{rid}-samples.csv", mime="text/csv", key="dl_samples")
            else:
                if fmt == "CSV":
                    st.info("Images download as NPZ (uint8 pixels, N x H x W x C).")
                st.download_button(f"Download {int(n):,} samples (NPZ)", samples_npz(x, ds),
                                   file_name=f"{rid}-samples.npz", key="dl_samples")
