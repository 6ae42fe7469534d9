"""Runs page: every run on disk, several runs compared (loss curves + quality scores), one run
inspected and continued from its checkpoint, and downloads (config, model, data)."""
from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from synth_core.data import dataset_info
from synth_core.errors import SynthLabError
from synth_core.generators import get_generator
from synth_core.train import LossHistory, RunStatus
from synth_core.train.evaluate import SAMPLE_RULE, evaluate_run
from synth_core.train.export import metrics_csv, synthetic_frame
from synth_core.train.run import MAX_STEPS
from synth_core.train.reports import load_report, report_summary
from synth_core.train.store import validate_run_id
from synth_core.ui import session
from synth_core.ui.downloads import download_panel
from synth_core.ui.run_picker import trained_model
from synth_core.viz.compare_runs import (comparison_table, has_nonpositive, loss_keys, overlay_figure,
                                         run_labels, small_multiples_figure)
from synth_core.viz.figures import loss_figure
from synth_core.viz.marginals import column_marginals_figure, real_rows


def _is_table(dataset: str) -> bool:
    try:
        return dataset_info(dataset).kind == "tabular"
    except SynthLabError:
        return False


ALL_LOSSES = "All losses (small multiples)"


@st.cache_data(max_entries=64, show_spinner=False)
def _history(path: str, mtime_ns: int, size: int) -> dict:
    """A run's loss curves, bounded in memory; re-read only when metrics.jsonl changes."""
    return LossHistory.from_metrics(path, max_points=4000).copy()


def _history_of(rec) -> dict:
    p = rec.folder.metrics_path
    try:
        stat = p.stat()
    except FileNotFoundError:
        return {"step": [], "time": [], "losses": {}}
    return _history(str(p), stat.st_mtime_ns, stat.st_size)


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

# ---- compare runs ---------------------------------------------------------------------------------
st.subheader("Compare runs")
here = session.dataset_name()
same_ds = here if any(r.config.get("dataset") == here for r in records) else records[0].config.get("dataset")
default = [r.run_id for r in records if r.config.get("dataset") == same_ds][:4]
chosen = st.multiselect("Runs to compare", ids, default=default, key="cmp_runs", max_selections=8,
                        format_func=lambda i: f"{i} · {by_id[i].state}",
                        help="Default: the newest runs on the current dataset.")
if chosen:
    recs = [by_id[i] for i in chosen]
    labels = run_labels({r.run_id: r.config for r in recs})
    histories = {labels[r.run_id]: _history_of(r) for r in recs}
    keys = loss_keys(histories)
    c1, c2, c3, c4 = st.columns([3, 3, 1.4, 2.2], vertical_alignment="bottom")
    key = c1.selectbox("Loss", keys + [ALL_LOSSES] if keys else [ALL_LOSSES], key="cmp_key")
    smoothing = c2.slider("Smoothing", 0.0, 0.99, 0.6, 0.01, key="cmp_smooth",
                          help="Exponential moving average, as in TensorBoard (0 = raw curve).")
    log_y = c3.toggle("Log scale", key="cmp_log")
    x_axis = c4.radio("X axis", ["Step", "Wall time"], horizontal=True, key="cmp_x",
                      help="Wall time: seconds since the run started (pauses included).")
    x = "step" if x_axis == "Step" else "time"
    if not keys:
        st.caption("None of these runs has recorded a training step yet.")
    elif key == ALL_LOSSES:
        st.plotly_chart(small_multiples_figure(histories, keys, smoothing=smoothing, log_y=log_y, x=x),
                        key="cmp_chart", width="stretch")
    else:
        st.plotly_chart(overlay_figure(histories, key, smoothing=smoothing, log_y=log_y, x=x),
                        key="cmp_chart", width="stretch")
    if log_y and keys and has_nonpositive(histories, keys if key == ALL_LOSSES else [key]):
        st.caption("Log scale: zero and negative values (e.g. a WGAN critic's loss) are left out of the chart.")

    reports = {r.run_id: load_report(r.path) for r in recs}

    def _needs_report(r) -> bool:
        rep = reports[r.run_id]
        stale = rep is not None and (rep.get("meta") or {}).get("step") not in (None, r.status.get("step"))
        return (rep is None or stale) and r.checkpoint.is_file() and not r.state.in_progress

    missing = [r for r in recs if _needs_report(r)]
    if st.button(f"Compute missing reports ({len(missing)})", key="cmp_reports", disabled=not missing,
                 help="Score each selected run without an up-to-date saved quality report, exactly as the "
                      f"Compare page and `synthlab evaluate` do ({SAMPLE_RULE}, sampling seed 0); reports are "
                      "saved with the run."):
        bar = st.progress(0.0, text="Starting...")
        failed = False
        for i, r in enumerate(missing):
            def _progress(stage: str, frac: float, i: int = i, rid: str = r.run_id) -> None:
                bar.progress(min(1.0, (i + min(max(frac, 0.0), 1.0)) / len(missing)),
                             text=f"{rid} ({i + 1}/{len(missing)}): {stage}...")
            try:
                evaluate_run(r.path, seed=0, progress=_progress)  # saves report.json beside the run
                reports[r.run_id] = load_report(r.path)
            except SynthLabError as exc:
                st.error(f"{r.run_id}: {exc}")
                failed = True
        bar.empty()
        if not failed:
            st.rerun()  # redraw the button's count and the table from the saved reports
    df = comparison_table([{"run_id": r.run_id, "config": r.config, "status": r.status,
                            "report": report_summary(reports[r.run_id])} for r in recs])
    cols = list(df.columns)
    scores = cols[cols.index("privacy"):cols.index("report at step")]  # privacy and the group scores, 0-100
    st.dataframe(df, hide_index=True, width="stretch", key="cmp_table", column_config={
        "overall": st.column_config.ProgressColumn("overall", min_value=0, max_value=100, format="%.1f",
                                                   help="Overall quality 0-100 from the saved report"),
        **{c: st.column_config.NumberColumn(c, format="%.1f") for c in scores},
    })
    if df["overall"].isna().any():
        st.caption("Runs without a saved report show no scores: press **Compute missing reports**, or compute "
                   "one on the **Compare** page.")
else:
    st.caption("Pick runs above to overlay their loss curves and compare their quality scores.")

# ---- inspect one run -----------------------------------------------------------------------------
st.subheader("Inspect run")
url_run = st.query_params.get("run")
if url_run is not None:
    try:
        validate_run_id(url_run)
    except SynthLabError as exc:  # never used as a path
        st.warning(f"Ignoring the run in the address: {exc}")
        url_run = None
current = st.session_state.get("run_id") or url_run
rid = st.selectbox("Inspect run", ids, index=ids.index(current) if current in ids else 0, key="runs_select")
rec = by_id[rid]
st.markdown(f"**{get_generator(rec.config['generator']).label}** on **{rec.config['dataset']}** · "
            f"status **{rec.state}** at step {rec.status.get('step', 0):,}")
if rec.state == RunStatus.FAILED and rec.status.get("error"):
    st.error(rec.status["error"])
if rec.state == RunStatus.INTERRUPTED:
    st.warning("This run was interrupted (the server stopped while it trained). Its last checkpoint is kept: "
               "continue it below.")

closed_form = get_generator(rec.config["generator"]).closed_form
left, right = st.columns([3, 2])
with left:
    hist = _history_of(rec)
    if closed_form and hist["step"]:  # one closed-form step: its result, not a one-point curve
        st.markdown("**Fit**")
        st.caption("Fitted in one closed-form step"
                   + "".join(f" · {k} = {v[-1]:.4g}" for k, v in hist["losses"].items()))
    elif hist["step"]:
        st.plotly_chart(loss_figure(hist, height=340), key="runs_loss", width="stretch")
    else:
        st.caption("No training steps recorded.")
with right:
    samples = rec.sample_files()
    if _is_table(rec.config["dataset"]) and rec.checkpoint.is_file():  # a table: its columns, named
        try:
            model = trained_model(rec)
            synth_tab = synthetic_frame(model, model.dataset, 1000, seed=0)
        except SynthLabError as exc:
            st.caption(str(exc))
        else:
            st.markdown(f"**Columns: real vs synthetic** · {model.source}")
            st.plotly_chart(column_marginals_figure(real_rows(model.dataset), synth_tab, ncols=2, max_columns=8,
                                                    row_height=150), key="runs_marginals", width="stretch")
    elif samples:
        st.image(str(samples[-1]), caption=f"{samples[-1].stem.replace('_', ' ')}", width="stretch")

if closed_form and int(rec.status.get("step", 0) or 0) >= 1:
    st.caption("Fitted in closed form in one step: there is nothing to continue. Start a new run on the "
               "**Train** page to refit with other settings.")
elif rec.state.continuable and rec.checkpoint.is_file():
    done = int(rec.status.get("step", 0) or 0)
    planned = int(rec.config.get("steps") or done)
    with st.form("continue_form", border=True):
        st.markdown("**Continue training** from the last checkpoint (same run, same folder; curves go on).")
        f1, f2 = st.columns([2, 1], vertical_alignment="bottom")
        target = f1.number_input("Train to step", min_value=done + 1, max_value=MAX_STEPS,
                                 value=planned if planned > done else 2 * max(done, 1), step=100,
                                 key=f"continue_steps/{rid}",
                                 help="The total step count to reach; an interrupted run resumes from its "
                                      "last checkpoint, so a few steps after it are trained again.")
        go_on = f2.form_submit_button("Continue training", type="primary", width="stretch", key="continue_go")
    if go_on:
        try:
            cont = mgr.continue_run(rid, steps=int(target))
        except SynthLabError as exc:
            st.error(str(exc))
        else:
            session.follow(cont)
            st.switch_page("pages/train.py")

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
    download_panel(rec.path, key="runs_dl")
