"""Plotly figures for a quality ``Report`` (``report.figures``). Pure functions, no Streamlit."""
from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .figures import REAL_COLOUR, SYNTH_COLOUR

LAYOUT = dict(template="plotly_white", margin=dict(l=10, r=10, t=40, b=10),
              legend=dict(orientation="h", yanchor="bottom", y=1.02, x=1, xanchor="right"))


def feature_histogram(name: str, h: dict[str, Any], height: int = 240) -> go.Figure:
    """Real vs synthetic distribution of one feature (``report.figures['histograms'][name]``)."""
    fig = go.Figure()
    if h.get("categorical"):
        x = [str(v) for v in h["levels"]]
    else:
        e = np.asarray(h["edges"], dtype=float)
        x = (e[:-1] + e[1:]) / 2
    for key, label, colour in (("real", "real", REAL_COLOUR), ("synth", "synthetic", SYNTH_COLOUR)):
        fig.add_trace(go.Bar(x=x, y=h[key], name=label, marker_color=colour, opacity=0.6))
    fig.update_layout(barmode="overlay", bargap=0 if not h.get("categorical") else 0.2, height=height,
                      title=dict(text=name, font=dict(size=14)), **LAYOUT)
    fig.update_yaxes(title_text="share")
    return fig


def correlation_heatmaps(c: dict[str, Any], height: int = 360) -> go.Figure:
    """Real | synthetic | difference correlation matrices (``report.figures['correlation']``)."""
    real, synth = np.asarray(c["real"], float), np.asarray(c["synth"], float)
    names = [str(n) for n in c["features"]]
    fig = make_subplots(rows=1, cols=3, subplot_titles=("real", "synthetic", "synthetic − real"),
                        horizontal_spacing=0.06)
    for i, (m, scale, zmin, zmax) in enumerate(((real, "RdBu", -1, 1), (synth, "RdBu", -1, 1),
                                                (synth - real, "PuOr", -1, 1)), start=1):
        fig.add_trace(go.Heatmap(z=m, x=names, y=names, colorscale=scale, zmin=zmin, zmax=zmax, reversescale=True,
                                 showscale=i == 3, hovertemplate="%{y} × %{x}: %{z:.2f}<extra></extra>"),
                      row=1, col=i)
        fig.update_yaxes(autorange="reversed", row=1, col=i, showticklabels=i == 1)
    fig.update_layout(height=height, template="plotly_white", margin=dict(l=10, r=10, t=40, b=10))
    return fig


def embedding_scatter(p: dict[str, Any], height: int = 420) -> go.Figure:
    """2-D PCA of both sets in the report's feature space (``report.figures['pca']``)."""
    r, s = np.asarray(p["real"], float), np.asarray(p["synth"], float)
    ev = p.get("explained_variance_ratio")
    fig = go.Figure()
    fig.add_trace(go.Scattergl(x=r[:, 0], y=r[:, 1], mode="markers", name="real",
                               marker=dict(size=4, color=REAL_COLOUR, opacity=0.55)))
    fig.add_trace(go.Scattergl(x=s[:, 0], y=s[:, 1], mode="markers", name="synthetic",
                               marker=dict(size=4, color=SYNTH_COLOUR, opacity=0.55)))
    method = p.get("method", "PCA")
    fig.update_layout(height=height, title=dict(text=f"{method} of {p.get('space', 'features')}", font=dict(size=14)),
                      xaxis_title=f"PC1 ({100 * ev[0]:.0f}% var)" if ev is not None else f"{method} 1",
                      yaxis_title=f"PC2 ({100 * ev[1]:.0f}% var)" if ev is not None else f"{method} 2",
                      **LAYOUT)
    return fig


def dcr_histogram(d: dict[str, Any], height: int = 280) -> go.Figure:
    """Distance to closest training record: synthetic vs a held-out real baseline."""
    e = np.asarray(d["edges"], float)
    x = (e[:-1] + e[1:]) / 2
    fig = go.Figure()
    fig.add_trace(go.Bar(x=x, y=d["baseline"], name="held-out real → train", marker_color=REAL_COLOUR, opacity=0.6))
    fig.add_trace(go.Bar(x=x, y=d["synth"], name="synthetic → train", marker_color=SYNTH_COLOUR, opacity=0.6))
    fig.add_vline(x=float(d["threshold"]), line_dash="dash", line_color="#E4572E",
                  annotation_text="near-copy threshold", annotation_position="top right")
    fig.update_layout(barmode="overlay", bargap=0, height=height, xaxis_title=f"distance ({d.get('space', '')})",
                      yaxis_title="share", title=dict(text="Distance to closest training record", font=dict(size=14)),
                      **LAYOUT)
    return fig


def class_histogram_figure(c: dict[str, Any], height: int = 280) -> go.Figure:
    """Predicted-class shares of real vs synthetic samples (mode coverage at a glance)."""
    fig = go.Figure()
    fig.add_trace(go.Bar(x=c["classes"], y=c["real"], name="real", marker_color=REAL_COLOUR))
    fig.add_trace(go.Bar(x=c["classes"], y=c["synth"], name="synthetic", marker_color=SYNTH_COLOUR))
    fig.update_layout(barmode="group", height=height, yaxis_title="share",
                      title=dict(text=f"Classes as labelled by {c.get('judge', 'the judge')}", font=dict(size=14)),
                      **LAYOUT)
    return fig


def column_scores_figure(columns: list[dict[str, Any]], height: int | None = None) -> go.Figure:
    """One bar per decoded column: its KS / TV complement (``report.figures['columns']``), worst first."""
    cols = sorted(columns, key=lambda c: c["score"])
    fig = go.Figure(go.Bar(
        x=[c["score"] for c in cols], y=[str(c["column"]) for c in cols], orientation="h",
        marker_color=[_score_colour(c["score"]) for c in cols],
        text=[f"{c['score']:.2f} ({'KS' if c['metric'] == 'KSComplement' else 'TV'})" for c in cols],
        textposition="auto", hovertemplate="%{y}: %{x:.3f}<extra></extra>"))
    fig.update_layout(height=height or max(220, 28 * len(cols) + 80), xaxis=dict(range=[0, 1], title="score"),
                      yaxis=dict(autorange="reversed"),
                      title=dict(text="Column shapes: each column, real vs synthetic", font=dict(size=14)), **LAYOUT)
    return fig


def pair_scores_heatmap(pairs: dict[str, Any], height: int | None = None) -> go.Figure:
    """Column x column pair-trend scores (correlation or contingency similarity), named columns."""
    names = [str(c) for c in pairs["columns"]]
    pos = {n: i for i, n in enumerate(names)}
    m = np.full((len(names), len(names)), np.nan)
    text = np.full((len(names), len(names)), "", dtype=object)
    for p in pairs["scores"]:
        if p["score"] is None:
            continue
        i, j = pos[str(p["a"])], pos[str(p["b"])]
        m[i, j] = m[j, i] = p["score"]
        text[i, j] = text[j, i] = "correlation" if p["metric"] == "CorrelationSimilarity" else "contingency"
    fig = go.Figure(go.Heatmap(z=m, x=names, y=names, zmin=0, zmax=1, colorscale="RdYlGn", customdata=text,
                               hovertemplate="%{y} × %{x}: %{z:.3f} (%{customdata})<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(height=height or max(320, 26 * len(names) + 120), template="plotly_white",
                      margin=dict(l=10, r=10, t=40, b=10),
                      title=dict(text="Column pair trends: 1 = the pair's relationship is reproduced",
                                 font=dict(size=14)))
    return fig


def mean_image_figure(m: dict[str, Any], height: int = 260) -> go.Figure:
    """Real | synthetic average image (``report.figures['mean_image']``, pixels in [-1, 1])."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("real mean image", "synthetic mean image"))
    for i, key in enumerate(("real", "synth"), start=1):
        fig.add_trace(go.Heatmap(z=np.asarray(m[key], float), zmin=-1, zmax=1, colorscale="gray", showscale=False),
                      row=1, col=i)
        fig.update_yaxes(autorange="reversed", showticklabels=False, scaleanchor=f"x{i}", row=1, col=i)
        fig.update_xaxes(showticklabels=False, row=1, col=i)
    fig.update_layout(height=height, template="plotly_white", margin=dict(l=10, r=10, t=40, b=10))
    return fig


def metric_definitions_markdown(scores: list[dict[str, Any]], group_labels: dict[str, str]) -> str:
    """Each metric's definition and reference as wrapped Markdown, grouped (no table cells that scroll)."""
    from .text import escape_markdown

    lines, seen, last = [], set(), None
    for s in scores:
        if s["key"] in seen:
            continue
        seen.add(s["key"])
        if s["group"] != last:
            lines.append(f"\n**{escape_markdown(group_labels.get(s['group'], s['group']))}**\n")
            last = s["group"]
        lines.append(f"- **{escape_markdown(s['name'])}**: {escape_markdown(s['definition'])} "
                     f"_{escape_markdown(s['reference'])}_")
    return "\n".join(lines)


def _score_colour(score: float | None) -> str:
    if score is None or not np.isfinite(score):
        return "#BBBBBB"
    return "#16A34A" if score >= 0.8 else "#D97706" if score >= 0.5 else "#DC2626"


def traffic_light(score: float | None) -> str:
    """CSS background for a 0-1 score: green >= 0.8, amber >= 0.5, red below."""
    if score is None or not np.isfinite(score):
        return ""
    if score >= 0.8:
        return "background-color: #DCFCE7"
    if score >= 0.5:
        return "background-color: #FEF3C7"
    return "background-color: #FEE2E2"
