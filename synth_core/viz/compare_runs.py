"""Run comparison, TensorBoard-style: several runs' loss curves overlaid (EMA smoothing, log scale,
x by step or wall time) and a table of their settings and quality scores. No Streamlit here.

``histories`` map a run label to the ``LossHistory.copy()`` layout: ``{"step": [...], "time": [...],
"losses": {name: [...]}}``.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .figures import PALETTE, decimate, smooth

X_AXES = {"step": "step", "time": "wall time since start (s)"}


def run_colours(labels: Sequence[str]) -> dict[str, str]:
    """One stable colour per run, the same in every panel."""
    return {lab: PALETTE[i % len(PALETTE)] for i, lab in enumerate(labels)}


def loss_keys(histories: Mapping[str, dict[str, Any]]) -> list[str]:
    """Every loss name, those that all runs share first (in first-seen order)."""
    seen: list[str] = []
    for h in histories.values():
        seen += [k for k in h.get("losses", {}) if k not in seen]
    shared = [k for k in seen if all(k in h.get("losses", {}) for h in histories.values())]
    return shared + [k for k in seen if k not in shared]


def _xy(history: dict[str, Any], key: str, x: str, smoothing: float, log_y: bool
        ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    vals = history.get("losses", {}).get(key)
    if vals is None:
        return None
    xs = np.asarray(history.get("step" if x == "step" else "time", []), dtype=np.float64)
    raw = np.asarray(vals, dtype=np.float64)
    n = min(len(xs), len(raw))
    xs, raw = xs[:n], raw[:n]
    ok = np.isfinite(xs)  # old runs may lack times
    xs, raw = xs[ok], raw[ok]
    if log_y:  # a log axis cannot show zero or negative losses: leave gaps, do not fake values
        raw = np.where(raw > 0, raw, np.nan)
    sm = smooth(raw, smoothing)
    return xs, raw, sm


def has_nonpositive(histories: Mapping[str, dict[str, Any]], keys: Sequence[str]) -> bool:
    """True if any charted value is <= 0 (a log scale would hide it)."""
    for h in histories.values():
        for k in keys:
            v = np.asarray(h.get("losses", {}).get(k, []), dtype=np.float64)
            if np.any(v[np.isfinite(v)] <= 0):
                return True
    return False


def _add_run_traces(fig: go.Figure, label: str, colour: str, xs: np.ndarray, raw: np.ndarray,
                    sm: np.ndarray, smoothing: float, max_points: int, showlegend: bool,
                    row: int | None = None, col: int | None = None) -> None:
    keep = decimate(len(xs), max_points)
    where = {} if row is None else {"row": row, "col": col}
    if smoothing > 0:  # TensorBoard: the raw curve stays as a faint line under the smoothed one
        fig.add_trace(go.Scattergl(x=xs[keep], y=raw[keep], mode="lines", name=label, legendgroup=label,
                                   showlegend=False, hoverinfo="skip", opacity=0.25,
                                   line=dict(width=1, color=colour)), **where)
    fig.add_trace(go.Scattergl(x=xs[keep], y=sm[keep], mode="lines", name=label, legendgroup=label,
                               showlegend=showlegend, line=dict(width=2, color=colour)), **where)


def overlay_figure(histories: Mapping[str, dict[str, Any]], key: str, *, smoothing: float = 0.6,
                   log_y: bool = False, x: str = "step", height: int = 400, max_points: int = 2000
                   ) -> go.Figure:
    """One loss (``key``) of several runs on one chart: a smoothed line per run over its raw curve."""
    if x not in X_AXES:
        raise ValueError(f"x must be one of {sorted(X_AXES)}")
    colours = run_colours(list(histories))
    fig = go.Figure()
    missing = []
    for label, h in histories.items():
        got = _xy(h, key, x, smoothing, log_y)
        if got is None or not len(got[0]):
            missing.append(label)
            continue
        _add_run_traces(fig, label, colours[label], *got, smoothing, max_points, True)
    title = key + (f"  (not logged by: {', '.join(missing)})" if missing else "")
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=60, b=10), template="plotly_white",
                      title=dict(text=title, font=dict(size=14)), xaxis_title=X_AXES[x], yaxis_title=key,
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0, title=None),
                      uirevision="compare")
    if log_y:
        fig.update_yaxes(type="log")
    return fig


def small_multiples_figure(histories: Mapping[str, dict[str, Any]], keys: Sequence[str] | None = None, *,
                           smoothing: float = 0.6, log_y: bool = False, x: str = "step", cols: int = 2,
                           panel_height: int = 260, max_points: int = 1000) -> go.Figure:
    """Every loss in its own small panel, runs overlaid in each with the same colours and one legend."""
    if x not in X_AXES:
        raise ValueError(f"x must be one of {sorted(X_AXES)}")
    keys = list(keys if keys is not None else loss_keys(histories))
    cols = max(1, min(cols, len(keys) or 1))
    rows = max(1, math.ceil(len(keys) / cols))
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=keys or None, horizontal_spacing=0.08,
                        vertical_spacing=min(0.12, 0.5 / rows))
    colours = run_colours(list(histories))
    shown: set[str] = set()
    for i, key in enumerate(keys):
        r, c = i // cols + 1, i % cols + 1
        for label, h in histories.items():
            got = _xy(h, key, x, smoothing, log_y)
            if got is None or not len(got[0]):
                continue
            _add_run_traces(fig, label, colours[label], *got, smoothing, max_points, label not in shown, r, c)
            shown.add(label)
        fig.update_xaxes(title_text=X_AXES[x] if r == rows else None, row=r, col=c)
        if log_y:
            fig.update_yaxes(type="log", row=r, col=c)
    fig.update_layout(height=panel_height * rows + 80, margin=dict(l=10, r=10, t=70, b=10),
                      template="plotly_white", uirevision="compare",
                      legend=dict(orientation="h", yanchor="bottom", y=1.0 + 40 / (panel_height * rows), x=0))
    return fig


# ---- the table ---------------------------------------------------------------------------------
def differing_params(configs: Sequence[Mapping[str, Any]]) -> list[str]:
    """Hyperparameters (and seed) that every run has but not with the same value, in first-seen order.

    A parameter only some generators have (a WGAN's gradient penalty) is not compared: the generator
    column already says the runs differ there."""
    names: list[str] = []
    for c in configs:
        names += [k for k in (c.get("params") or {}) if k not in names]
    shared = [k for k in names if all(k in (c.get("params") or {}) for c in configs)]
    out = [k for k in shared if len({repr((c.get("params") or {}).get(k)) for c in configs}) > 1]
    if len({c.get("seed") for c in configs}) > 1:
        out.append("seed")
    return out


def run_labels(configs: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Short unique legend names: generator, the first differing params, and the id's tail."""
    diff = [k for k in differing_params(list(configs.values())) if k != "seed"][:2]
    out: dict[str, str] = {}
    for rid, c in configs.items():
        tail = rid.rsplit("-", 1)[-1] if rid.count("-") >= 3 else rid[-12:]
        bits = [str(c.get("generator", "?"))] + [f"{k}={(c.get('params') or {}).get(k)}" for k in diff]
        label = f"{' '.join(bits)} #{tail}"
        n, base = 2, label
        while label in out.values():
            label, n = f"{base} ({n})", n + 1
        out[rid] = label
    return out


def comparison_table(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per run: ``rows`` hold ``run_id``, ``config``, ``status`` (status.json) and ``report``
    (``reports.report_summary``). Columns: identity, the params that differ, progress, scores."""
    configs = [r["config"] for r in rows]
    diff = differing_params(configs)
    groups: list[str] = []  # every group any report has, so each row has the same columns in order
    for r in rows:
        groups += [k for k in (r.get("report") or {}) if k.startswith("group:") and k not in groups]
    table = []
    for r in rows:
        cfg, status, rep = r["config"], r.get("status") or {}, r.get("report") or {}
        params = cfg.get("params") or {}
        row: dict[str, Any] = {"run": r["run_id"], "generator": cfg.get("generator"), "dataset": cfg.get("dataset"),
                               "status": status.get("status", "?"), "step": int(status.get("step", 0) or 0),
                               "steps": cfg.get("steps"), "overall": rep.get("overall"), "privacy": rep.get("privacy")}
        for k in groups:
            row[k[len("group:"):]] = rep.get(k)
        step = rep.get("report_step")
        row["report at step"] = step
        row["report stale"] = bool(rep) and step is not None and step != row["step"]
        for k in diff:  # the settings that explain the differences, after the scores
            v = cfg.get("seed") if k == "seed" else params.get(k)
            row[k] = v if isinstance(v, (int, float, bool)) or v is None else str(v)
        table.append(row)
    df = pd.DataFrame(table)
    # a score column holds numbers or NaN, never objects (keeps Streamlit's number formatting)
    for c in df.columns:
        if c not in ("run", "generator", "dataset", "status", "report stale", *diff) and df[c].dtype == object:
            df[c] = pd.to_numeric(df[c], errors="coerce")
    for c in ("step", "steps", "report at step"):  # whole numbers, with gaps where unknown
        if c in df:
            df[c] = pd.to_numeric(df[c], errors="coerce").round().astype("Int64")
    return df
