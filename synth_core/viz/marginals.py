"""Real vs synthetic, one small plot per table column: what a person can read off a table's samples.

Numbers and dates: overlaid histograms on the real data's bins (shares of rows, so sample sizes
need not match). Categories and booleans: bars of each level's share (the most common real levels;
the rest summed as "other"). Columns are plotted in the table's order, at most ``max_columns`` of
them, titled with their names. Pure function of two DataFrames: no Streamlit here.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .figures import REAL_COLOUR, SYNTH_COLOUR

MAX_COLUMNS = 12
MAX_LEVELS = 8
BINS = 20
MISSING = "(missing)"


def is_numeric_column(s: pd.Series) -> bool:
    """Numbers and dates get histograms; text, categories and booleans get level bars."""
    return bool((pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s))
                or pd.api.types.is_datetime64_any_dtype(s))


def _as_numbers(s: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(s):
        s = s.dt.tz_convert(None) if getattr(s.dt, "tz", None) is not None else s
        vals = (s - pd.Timestamp(0)) / pd.Timedelta(days=1)  # days since 1970
        return vals.to_numpy(dtype=np.float64, na_value=np.nan)
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _level_shares(real: pd.Series, synth: pd.Series, max_levels: int) -> tuple[list[str], list[float], list[float]]:
    r = real.astype("string").fillna(MISSING).value_counts(normalize=True)
    s = synth.astype("string").fillna(MISSING).value_counts(normalize=True)
    levels = [str(v) for v in r.index[:max_levels]]
    rv = [float(r.get(k, 0.0)) for k in levels]
    sv = [float(s.get(k, 0.0)) for k in levels]
    if len(r) > max_levels or set(s.index) - set(levels):
        levels.append("other")
        rv.append(max(0.0, 1.0 - sum(rv)))
        sv.append(max(0.0, 1.0 - sum(sv)))
    return levels, rv, sv


def column_marginals_figure(real: pd.DataFrame, synth: pd.DataFrame, *, max_columns: int = MAX_COLUMNS,
                            ncols: int = 4, row_height: int = 170, bins: int = BINS,
                            max_levels: int = MAX_LEVELS) -> go.Figure:
    """A grid of small real-vs-synthetic plots, one per column of ``real`` (and ``synth``), named."""
    cols = [c for c in real.columns if c in synth.columns][:max_columns]
    ncols = max(1, min(ncols, len(cols) or 1))
    nrows = max(1, math.ceil(len(cols) / ncols))
    fig = make_subplots(rows=nrows, cols=ncols, subplot_titles=[str(c) for c in cols],
                        horizontal_spacing=0.06, vertical_spacing=min(0.12, 0.5 / nrows))
    for i, c in enumerate(cols):
        row, col = i // ncols + 1, i % ncols + 1
        first = i == 0
        if is_numeric_column(real[c]):
            r, s = _as_numbers(real[c]), _as_numbers(synth[c])
            r, s = r[np.isfinite(r)], s[np.isfinite(s)]
            if r.size == 0:
                continue
            edges = np.histogram_bin_edges(r, bins=bins if np.ptp(r) > 0 else 1)
            mids = 0.5 * (edges[:-1] + edges[1:])
            width = float(edges[1] - edges[0]) if len(edges) > 1 else 1.0
            hr = np.histogram(r, edges)[0] / max(r.size, 1)
            hs = np.histogram(np.clip(s, edges[0], edges[-1]), edges)[0] / max(s.size, 1)
            fig.add_trace(go.Bar(x=mids, y=hr, width=width, name="real", marker_color=REAL_COLOUR, opacity=0.75,
                                 legendgroup="real", showlegend=first), row=row, col=col)
            fig.add_trace(go.Bar(x=mids, y=hs, width=width, name="synthetic", marker_color=SYNTH_COLOUR,
                                 opacity=0.55, legendgroup="synthetic", showlegend=first), row=row, col=col)
        else:
            levels, rv, sv = _level_shares(real[c], synth[c], max_levels)
            # side by side: each bar 0.4 of a level's slot, real left of centre, synthetic right
            fig.add_trace(go.Bar(x=levels, y=rv, name="real", marker_color=REAL_COLOUR, legendgroup="real",
                                 width=0.4, offset=-0.4, showlegend=first), row=row, col=col)
            fig.add_trace(go.Bar(x=levels, y=sv, name="synthetic", marker_color=SYNTH_COLOUR, width=0.4, offset=0.0,
                                 legendgroup="synthetic", showlegend=first), row=row, col=col)
    fig.update_layout(barmode="overlay", height=60 + nrows * row_height, margin=dict(l=10, r=10, t=50, b=10),
                      legend=dict(orientation="h", yanchor="bottom", y=1.0 + 0.25 / nrows, x=1, xanchor="right"),
                      uirevision="keep", template="plotly_white", bargap=0.05)
    fig.update_annotations(font_size=12)
    fig.update_yaxes(tickformat=".0%", nticks=4)
    fig.update_xaxes(tickfont_size=9)
    for i, c in enumerate(cols):
        if not is_numeric_column(real[c]):
            fig.update_xaxes(type="category", row=i // ncols + 1, col=i % ncols + 1)
    return fig


def real_rows(dataset, n: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Up to ``n`` real rows of a table (seeded pick, label included): the live view's reference."""
    idx = np.sort(np.random.default_rng(seed).choice(len(dataset), size=min(len(dataset), n), replace=False))
    return dataset.decode(dataset.x[idx], None if dataset.y is None else dataset.y[idx])
