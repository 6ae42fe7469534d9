"""Compare page: real vs synthetic side by side, and an honest quality report, for any run."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import streamlit as st

from synth_core.errors import SynthLabError
from synth_core.generators import get_generator
from synth_core.metrics import GROUPS
from synth_core.train.conditional import condition_columns, parse_where, sample_where_labelled
from synth_core.train.evaluate import SAMPLE_RULE, evaluate_run, run_config
from synth_core.train.export import samples_csv, samples_frame
from synth_core.ui.run_picker import pick_run, trained_model
from synth_core.viz.figures import scatter_figure, value_histogram
from synth_core.viz.grid import data_bounds, image_grid, png_bytes
from synth_core.viz.report_figures import (class_histogram_figure, column_scores_figure, correlation_heatmaps,
                                           dcr_histogram, embedding_scatter, feature_histogram, mean_image_figure,
                                           metric_definitions_markdown, pair_scores_heatmap, traffic_light)

st.title("Compare")
st.caption("Real data next to samples from a trained generator, and a quality report with honest metrics.")

rec = pick_run("compare_run", "Train a generator on the **Train** page first.")
rid = rec.run_id
c1, c2 = st.columns(2)
n = c1.select_slider("Synthetic samples", options=[64, 256, 1000, 2000, 5000], value=1000, key="compare_n")
seed = int(c2.number_input("Sampling seed", min_value=0, max_value=2**31 - 1, value=0, step=1, key="compare_seed"))

try:
    model = trained_model(rec)
    ds, step, source = model.dataset, model.step, model.source
    conditional = model.gen.conditional
    synth, synth_y = model.sample_with_labels(int(n), seed=seed)  # a table's rows come with their label
except SynthLabError as exc:
    st.error(str(exc))
    st.stop()

st.markdown(f"**{get_generator(rec.config['generator']).label}** on **{ds.name}** · {source}")
finite = np.isfinite(synth.reshape(len(synth), -1)).all(1)
if not finite.all():
    st.warning(f"{(~finite).sum()} of {len(synth)} synthetic samples contain NaN/inf and are left out of the plots.")
    synth = synth[finite]
    synth_y = None if synth_y is None else synth_y[finite]
rng = np.random.default_rng(seed)
real_idx = rng.choice(len(ds), size=min(len(ds), max(len(synth), 1)), replace=False)
real, real_y = ds.x[real_idx], (None if ds.y is None else ds.y[real_idx])

if ds.kind == "image":
    left, right = st.columns(2)
    left.markdown("**Real**")
    left.image(image_grid(ds.decode(real[:64]), nrow=8), width="stretch")
    right.markdown("**Synthetic**")
    right.image(image_grid(ds.decode(synth[:64]), nrow=8), width="stretch")
elif ds.kind == "tabular":
    real_df, synth_df = samples_frame(real, ds, real_y), samples_frame(synth, ds, synth_y)
    t1, t2 = st.columns(2)
    t1.markdown("**Real rows**")
    t1.dataframe(real_df.head(100), width="stretch", height=260)
    t2.markdown("**Synthetic rows**")
    t2.dataframe(synth_df.head(100), width="stretch", height=260)
    cols = st.columns(3)
    for i, name in enumerate(list(real_df.columns)[:9]):
        r, s_ = real_df[name], synth_df[name]
        with cols[i % 3]:
            if pd.api.types.is_numeric_dtype(r) and not pd.api.types.is_bool_dtype(r):
                st.plotly_chart(value_histogram(r.dropna().to_numpy(float), s_.dropna().to_numpy(float), title=name,
                                                height=240), key=f"cmp_col_{i}", width="stretch")
            else:
                levels = r.astype("string").fillna("(missing)").value_counts(normalize=True)
                syn = s_.astype("string").fillna("(missing)").value_counts(normalize=True)
                st.plotly_chart(feature_histogram(name, {"categorical": True, "levels": list(levels.index[:20]),
                                                         "real": levels.values[:20].tolist(),
                                                         "synth": [float(syn.get(k, 0.0)) for k in levels.index[:20]]},
                                                  height=240), key=f"cmp_col_{i}", width="stretch")
    with st.expander("Generate rows where …"):
        try:
            cond_cols = condition_columns(ds)
        except SynthLabError:
            cond_cols = {}
        if not cond_cols:
            st.caption("This table has no categorical, boolean or label column to condition on.")
        else:
            first = next(iter(cond_cols.values()))
            example = f"{first.name}={first.levels[0]}" if first.levels else ""
            st.caption("Rows whose values you choose, e.g. `" + example + "`; separate several with commas. "
                       "Columns: " + ", ".join(f"`{k}`" for k in cond_cols) + ". CTGAN conditions on a column "
                       "directly; other generators keep only the samples that match.")
            w1, w2 = st.columns([3, 1])
            where_text = w1.text_input("Condition (column=value)", key="compare_where", placeholder=example)
            where_n = int(w2.number_input("Rows", min_value=1, max_value=100_000, value=500, step=100,
                                          key="compare_where_n"))
            if st.button("Generate rows", key="compare_where_go"):
                try:
                    where = parse_where(where_text, ds)
                    with model.locked():
                        wx, wy = sample_where_labelled(model.gen, ds, where_n, where, seed=seed)
                except SynthLabError as exc:
                    st.session_state.pop("compare_where_result", None)
                    st.error(str(exc))
                else:
                    st.session_state["compare_where_result"] = {
                        "run": rid, "where": where_text, "frame": samples_frame(wx, ds, wy).head(100),
                        "csv": samples_csv(wx, ds, wy), "n": len(wx)}
            res = st.session_state.get("compare_where_result")
            if res is not None and res["run"] == rid:
                st.text(f"{res['n']:,} rows where {res['where']} (first 100 shown)")  # user text: shown literally
                st.dataframe(res["frame"], width="stretch", height=260)
                st.download_button("Download CSV", res["csv"], file_name=f"{rid}-where.csv", mime="text/csv",
                                   key="dl_where_csv")
else:
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(scatter_figure(real, synth, height=520, bounds=data_bounds(ds.x),
                                       title="Real (grey) and synthetic (colour)"), key="cmp_scatter", width="stretch")
    with right:
        for j, name in enumerate((ds.feature_names or [])[:6]):
            st.plotly_chart(value_histogram(real[:, j], synth[:, j], title=f"Feature {name}", height=240),
                            key=f"cmp_hist_{j}", width="stretch")

# ---- quality report ----------------------------------------------------------------------------
st.divider()
st.subheader("Quality report")
st.caption(f"Scores {SAMPLE_RULE} against the run's training rows; utility and privacy use its holdout. "
           "The Runs page and `synthlab evaluate` compute the same report (same run, same seed, same numbers).")
reports: dict[str, dict] = st.session_state.setdefault("reports", {})
report_key = f"{rid}@{step}/seed={seed}"
want_tsne = st.checkbox("Also embed with t-SNE (slower than PCA)", key="compare_tsne")
if st.button("Compute quality report", type="primary", key="compute_report",
             help="Column shapes, pair trends, fidelity, diversity, distribution distance, detection, utility "
                  "and privacy against the real data."):
    bar = st.progress(0.0, text="Starting...")

    def _progress(stage: str, frac: float) -> None:
        bar.progress(min(max(frac, 0.0), 1.0), text=f"{stage}...")

    try:
        rep = evaluate_run(rec.path, seed=seed, model=model, tsne=want_tsne, progress=_progress)  # also saved
    except SynthLabError as exc:
        bar.empty()
        st.error(str(exc))
    else:
        bar.empty()
        entry = {"dict": rep.to_dict(), "html": rep.to_html(), "run": rid, "neighbours_png": None}
        nb = rep.figures.get("neighbours", {}).get("closest", [])
        if nb and ds.kind == "image":  # synthetic samples (top) over their nearest training image (bottom)
            train = run_config(rec.path).split(ds)[0]  # neighbour indices refer to the training rows
            pair = np.concatenate([ds.decode(rep.samples[[r["synth_index"] for r in nb]]),
                                   ds.decode(train.x[[r["real_index"] for r in nb]])])
            entry["neighbours_png"] = png_bytes(image_grid(pair, nrow=len(nb), target_px=720))
        reports[report_key] = entry

entry = reports.get(report_key)
if entry is None:
    st.caption("Press the button to score samples against the real data. For images the first report "
               "trains a small judge classifier on the real data (cached afterwards).")
else:
    d = entry["dict"]
    order = [g for g in d.get("group_order", list(GROUPS)) if g in GROUPS]
    m1, m2, m3 = st.columns(3)
    m1.metric("Overall quality", f"{d['overall']:.0f} / 100",
              help="Weighted geometric mean of the group scores (weights below).")
    m2.metric("Privacy", "n/a" if d["privacy"] is None else f"{d['privacy']:.0f} / 100",
              help="Not part of the overall score: copying the training set is perfect quality and zero privacy.")
    m3.metric("Samples scored", f"{d['n_synth']:,} vs {d['n_real']:,} real",
              help=d["meta"].get("sample_rule"))
    caveat = d["meta"].get("privacy_caveat")
    if caveat:
        st.warning(caveat, icon=":material/info:")
    st.caption(f"Feature space: {d['feature_space']}")
    groups = {GROUPS[g]: d["groups"][g] for g in order if d["groups"].get(g) is not None}
    st.caption("Group scores (0-100): " + " · ".join(f"{k} {v:.0f}" for k, v in groups.items())
               + "  ·  weights: " + ", ".join(f"{GROUPS[g]} {d['weights'][g]:.2f}" for g in order
                                            if g in d["weights"]))
    by_group = sorted(d["scores"], key=lambda s: order.index(s["group"]) if s["group"] in order else len(order))
    table = pd.DataFrame([{"group": GROUPS.get(s["group"], s["group"]), "metric": s["name"], "value": s["value"],
                           "score": s["score"]} for s in by_group])
    st.dataframe(table.style.map(traffic_light, subset=["score"]).format({"value": "{:.4g}", "score": "{:.2f}"},
                                                                         na_rep="–"),
                 hide_index=True, width="stretch")
    with st.expander("What each metric means"):
        # plain wrapped text, not table cells: long definitions stay readable without scrolling sideways
        st.markdown(metric_definitions_markdown(by_group, GROUPS))
    for note in d["notes"]:
        st.caption(f"• {note}")

    fig = d["figures"]
    if d["kind"] == "image":
        tabs = st.tabs(["Classes", "Pixels", "Embedding", "Privacy"])
        with tabs[0]:
            if "class_histogram" in fig:
                st.plotly_chart(class_histogram_figure(fig["class_histogram"]), key="rep_classes", width="stretch")
            else:
                st.caption("No labels: the judge is an autoencoder and has no classes to count.")
        with tabs[1]:
            st.caption("Pixel statistics are shown for reference and are not in the overall score.")
            if "pixel_histogram" in fig:
                st.plotly_chart(feature_histogram("Pixel intensities", fig["pixel_histogram"]), key="rep_pixels",
                                width="stretch")
            if "mean_image" in fig:
                st.plotly_chart(mean_image_figure(fig["mean_image"]), key="rep_mean_image", width="stretch")
    else:
        tabs = st.tabs(["Columns", "Column pairs", "Embedding", "Privacy"])
        with tabs[0]:
            if "class_histogram" in fig:
                st.plotly_chart(class_histogram_figure(fig["class_histogram"]), key="rep_classes", width="stretch")
            if "columns" in fig:
                st.plotly_chart(column_scores_figure(fig["columns"]), key="rep_columns", width="stretch")
            cols = st.columns(2)
            for i, (name, h) in enumerate(list(fig.get("histograms", {}).items())[:12]):
                with cols[i % 2]:
                    st.plotly_chart(feature_histogram(name, h), key=f"rep_hist_{i}", width="stretch")
        with tabs[1]:
            if fig.get("pairs", {}).get("scores"):
                st.plotly_chart(pair_scores_heatmap(fig["pairs"]), key="rep_pairs", width="stretch")
            if "correlation" in fig and len(fig["correlation"]["features"]) >= 2:
                st.plotly_chart(correlation_heatmaps(fig["correlation"]), key="rep_corr", width="stretch")
            if not fig.get("pairs", {}).get("scores"):
                st.caption("Fewer than two columns: no pairs to compare.")
    with tabs[2]:
        e1, e2 = st.columns(2) if "tsne" in fig else (st.container(), None)
        if "pca" in fig:
            with e1:
                st.plotly_chart(embedding_scatter(fig["pca"]), key="rep_pca", width="stretch")
        if "tsne" in fig and e2 is not None:
            with e2:
                st.plotly_chart(embedding_scatter(fig["tsne"]), key="rep_tsne", width="stretch")
    with tabs[3]:
        if "dcr" in fig:
            st.plotly_chart(dcr_histogram(fig["dcr"]), key="rep_dcr", width="stretch")
        nb = fig.get("neighbours", {}).get("closest", [])
        if nb and entry.get("neighbours_png"):
            st.markdown("**Closest synthetic samples (top) and their nearest real training image (bottom)**")
            st.image(entry["neighbours_png"], width="stretch")
            st.caption("Distances: " + ", ".join(f"{r['distance']:.2f}{' (near copy)' if r['near_copy'] else ''}"
                                                 for r in nb))
        elif nb:
            st.dataframe(pd.DataFrame(nb), hide_index=True)
    b1, b2 = st.columns(2)
    b1.download_button("Report (JSON)", json.dumps(d, indent=2), file_name=f"{rid}-report.json",
                       mime="application/json", key="dl_report_json", width="stretch")
    b2.download_button("Report (HTML)", entry["html"], file_name=f"{rid}-report.html", mime="text/html",
                       key="dl_report_html", width="stretch")

if len(reports) > 1:
    st.subheader("All reports this session")
    summary = [{"run": v["run"], "generator": v["dict"]["meta"].get("generator"),
                "step": v["dict"]["meta"].get("step"), "seed": v["dict"]["meta"].get("seed"),
                "samples": v["dict"]["n_synth"], "overall": v["dict"]["overall"], "privacy": v["dict"]["privacy"],
                **{GROUPS[g]: s for g, s in v["dict"]["groups"].items()
                   if g in GROUPS and g in v["dict"].get("weights", {})}}
               for v in reports.values()]
    st.dataframe(pd.DataFrame(summary), hide_index=True, width="stretch")
