"""Plotly figure builders for the pages. Pure functions of data: no Streamlit here."""
from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

PALETTE = ["#4F46E5", "#E4572E", "#17BEBB", "#F2A541", "#76B041", "#9B5DE5", "#F15BB5", "#00A6ED"]
REAL_COLOUR = "#9CA3AF"
SYNTH_COLOUR = "#4F46E5"


def decimate(idx_len: int, max_points: int) -> np.ndarray:
    if idx_len <= max_points:
        return np.arange(idx_len)
    return np.unique(np.linspace(0, idx_len - 1, max_points).round().astype(int))


def smooth(values: np.ndarray, weight: float) -> np.ndarray:
    """TensorBoard-style exponential moving average with debiasing; NaNs are skipped."""
    if weight <= 0:
        return values
    out = np.empty_like(values, dtype=np.float64)
    last, num = 0.0, 0
    for i, v in enumerate(values):
        if np.isfinite(v):
            last = last * weight + (1 - weight) * v
            num += 1
            out[i] = last / (1 - weight**num)
        else:
            out[i] = np.nan
    return out


def loss_figure(history: dict[str, Any], *, smoothing: float = 0.0, max_points: int = 1500,
                height: int = 320, log_y: bool = False) -> go.Figure:
    """One line per named loss against the step. ``history`` is ``LossHistory.copy()``."""
    steps = np.asarray(history.get("step", []))
    keep = decimate(len(steps), max_points)
    fig = go.Figure()
    for i, (name, vals) in enumerate(history.get("losses", {}).items()):
        v = smooth(np.asarray(vals, dtype=np.float64), smoothing)[keep]
        fig.add_trace(go.Scatter(x=steps[keep], y=v, mode="lines", name=name,
                                 line=dict(width=1.8, color=PALETTE[i % len(PALETTE)])))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), xaxis_title="step",
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
                      uirevision="keep", template="plotly_white")
    if log_y:
        fig.update_yaxes(type="log")
    return fig


def scatter_figure(real: np.ndarray | None, synth: np.ndarray | None, *, height: int = 420,
                   max_points: int = 3000, title: str | None = None,
                   bounds: tuple[float, float, float, float] | None = None) -> go.Figure:
    """Real (grey) and synthetic (colour) 2-D points overlaid, same axes, equal aspect."""
    fig = go.Figure()
    rng = np.random.default_rng(0)
    for pts, name, colour, size in ((real, "real", REAL_COLOUR, 4), (synth, "synthetic", SYNTH_COLOUR, 4)):
        if pts is None or len(pts) == 0:
            continue
        pts = np.asarray(pts)
        if len(pts) > max_points:
            pts = pts[rng.choice(len(pts), max_points, replace=False)]
        fig.add_trace(go.Scattergl(x=pts[:, 0], y=pts[:, 1], mode="markers", name=name,
                                   marker=dict(size=size, color=colour, opacity=0.55)))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40 if title else 20, b=10), title=title,
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
                      uirevision="keep", template="plotly_white")
    fig.update_yaxes(scaleanchor="x", scaleratio=1)
    if bounds:
        fig.update_xaxes(range=[bounds[0], bounds[1]])
        fig.update_yaxes(range=[bounds[2], bounds[3]])
    return fig


def class_histogram(counts: dict[str, int], *, height: int = 260) -> go.Figure:
    fig = go.Figure(go.Bar(x=list(counts), y=list(counts.values()), marker_color=SYNTH_COLOUR))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=20, b=10), template="plotly_white",
                      xaxis_title="class", yaxis_title="samples")
    return fig


def value_histogram(real: np.ndarray, synth: np.ndarray | None = None, *, bins: int = 50,
                    height: int = 260, title: str | None = None) -> go.Figure:
    """Overlaid normalised histograms of one feature (or all pixel values)."""
    fig = go.Figure()
    lo = float(np.nanmin(real)) if synth is None else float(min(np.nanmin(real), np.nanmin(synth)))
    hi = float(np.nanmax(real)) if synth is None else float(max(np.nanmax(real), np.nanmax(synth)))
    edges = np.linspace(lo, hi if hi > lo else lo + 1, bins + 1)
    for data, name, colour in ((real, "real", REAL_COLOUR), (synth, "synthetic", SYNTH_COLOUR)):
        if data is None:
            continue
        h, _ = np.histogram(np.asarray(data).ravel(), bins=edges, density=True)
        fig.add_trace(go.Bar(x=(edges[:-1] + edges[1:]) / 2, y=h, name=name, marker_color=colour, opacity=0.6))
    fig.update_layout(barmode="overlay", height=height, margin=dict(l=10, r=10, t=30 if title else 10, b=10),
                      title=title, template="plotly_white", bargap=0,
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0))
    return fig
