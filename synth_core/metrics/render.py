"""Text and HTML renderings of a :class:`~synth_core.metrics.report.Report`.

The HTML is one self-contained page (inline CSS and SVG, no scripts, no external assets) and every
piece of text - dataset names, feature names, notes - goes through ``html.escape``: dataset and
column names can come from user uploads.
"""
from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING

import numpy as np

from .catalog import GROUPS

if TYPE_CHECKING:  # pragma: no cover
    from .report import Report


def _fmt(v: float | None, digits: int = 4) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    a = abs(v)
    if a != 0 and (a >= 1e4 or a < 1e-3):
        return f"{v:.3g}"
    return f"{v:.{digits}f}"


def _verdict(overall: float) -> str:
    return ("excellent" if overall >= 85 else "good" if overall >= 70 else "fair" if overall >= 50
            else "poor" if overall >= 30 else "very poor")


def to_text(rep: "Report") -> str:
    lines = [f"SynthLab quality report: {rep.dataset or 'data'} ({rep.kind}), "
             f"{rep.n_real:,} real vs {rep.n_synth:,} synthetic",
             f"Overall quality: {rep.overall:.1f} / 100 ({_verdict(rep.overall)})"
             + (f"    Privacy: {rep.privacy:.1f} / 100" if rep.privacy is not None else "")
             + (" (uninformative: see notes)" if rep.privacy_caveat else ""),
             f"Features: {rep.feature_space}", ""]
    w_name = max(len(s.name) for s in rep.scores) if rep.scores else 10
    w_name = max(w_name, len("metric"))
    head = f"{'group':<12} {'metric':<{w_name}} {'value':>10} {'score':>6}"
    lines += [head, "-" * len(head)]
    for g in rep.group_order:
        for s in rep.scores:
            if s.group == g:
                score = "" if s.score is None else f"{100 * s.score:6.1f}"
                lines.append(f"{g:<12} {s.name:<{w_name}} {_fmt(s.value):>10} {score:>6}")
    lines += ["", "Group scores (weight):"]
    for g in rep.group_order:
        label = GROUPS[g]
        v = rep.groups.get(g)
        w = rep.weights.get(g)
        lines.append(f"  {label:<26} {('n/a' if v is None else f'{v:5.1f}'):>6}"
                     + (f"  ({100 * w:.0f}%)" if w else ""))
    if rep.notes:
        lines += ["", "Notes:"] + [f"  - {n}" for n in rep.notes]
    lines.append("")
    return "\n".join(lines)


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2em;color:#222;max-width:1100px}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em}
.big{font-size:2.2em;font-weight:600}.muted{color:#666;font-size:.9em}
table{border-collapse:collapse;width:100%;font-size:.9em}
th,td{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.bar{display:inline-block;height:10px;background:#4c78a8;vertical-align:middle}
.barbg{display:inline-block;width:100px;height:10px;background:#eee;vertical-align:middle}
"""


def _bar(score: float | None) -> str:
    if score is None:
        return ""
    w = int(round(100 * max(0.0, min(1.0, score))))
    return f'<span class="barbg"><span class="bar" style="width:{w}px"></span></span>'


def _scatter_svg(pca: dict, size: int = 360) -> str:
    """Inline SVG scatter of the 2-D PCA embedding (real blue, synthetic orange)."""
    r = np.asarray(pca.get("real", []), dtype=float).reshape(-1, 2)
    s = np.asarray(pca.get("synth", []), dtype=float).reshape(-1, 2)
    pts = np.concatenate([r, s]) if len(r) + len(s) else np.zeros((1, 2))
    pts = pts[np.isfinite(pts).all(1)]
    if not len(pts):
        return ""
    lo, hi = np.percentile(pts, 1, axis=0), np.percentile(pts, 99, axis=0)
    span = np.where(hi - lo > 1e-12, hi - lo, 1.0)

    def circles(a: np.ndarray, color: str) -> str:
        a = a[np.isfinite(a).all(1)]
        xy = np.clip((a - lo) / span, -0.05, 1.05) * (size - 20) + 10
        return "".join(f'<circle cx="{x:.1f}" cy="{size - y:.1f}" r="1.6" fill="{color}" fill-opacity="0.45"/>'
                       for x, y in xy)

    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
            f'style="border:1px solid #ddd">{circles(r, "#4c78a8")}{circles(s, "#f58518")}</svg>'
            '<div class="muted"><span style="color:#4c78a8">&#9679; real</span> '
            '<span style="color:#f58518">&#9679; synthetic</span></div>')


def to_html(rep: "Report") -> str:
    e = html.escape
    title = f"SynthLab quality report: {rep.dataset or 'data'} ({rep.kind})"
    rows = []
    for g in rep.group_order:
        for s in rep.scores:
            if s.group == g:
                rows.append(
                    f"<tr><td>{e(GROUPS[g])}</td><td><b>{e(s.name)}</b><div class='muted'>{e(s.definition)}"
                    f"<br><i>{e(s.reference)}</i></div></td><td class='num'>{e(_fmt(s.value))}</td>"
                    f"<td class='num'>{'' if s.score is None else e(f'{100 * s.score:.1f}')}</td>"
                    f"<td>{_bar(s.score)}</td></tr>")
    grows = "".join(
        f"<tr><td>{e(label)}</td><td class='num'>{'n/a' if rep.groups.get(g) is None else e(f'{rep.groups[g]:.1f}')}"
        f"</td><td class='num'>{e(f'{100 * rep.weights[g]:.0f}%') if rep.weights.get(g) else '-'}</td>"
        f"<td>{_bar(None if rep.groups.get(g) is None else rep.groups[g] / 100)}</td></tr>"
        for g, label in ((g, GROUPS[g]) for g in rep.group_order))
    notes = "".join(f"<li>{e(n)}</li>" for n in rep.notes)
    feats = "".join(
        f"<tr><td>{e(str(f['column']))}</td><td>{e(f['kind'])}</td><td>{e(f['metric'])}</td>"
        f"<td class='num'>{e(_fmt(f['score']))}</td></tr>"
        for f in rep.figures.get("columns", [])[:60])
    privacy = "" if rep.privacy is None else f" &middot; privacy <b>{e(f'{rep.privacy:.1f}')}</b> / 100"
    if rep.privacy_caveat:
        privacy += f" <span class='muted'>({e(rep.privacy_caveat)})</span>"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title><style>{_CSS}</style></head>
<body><h1>{e(title)}</h1>
<div><span class="big">{e(f'{rep.overall:.1f}')}</span> / 100 overall quality ({e(_verdict(rep.overall))}){privacy}</div>
<p class="muted">{e(f'{rep.n_real:,}')} real vs {e(f'{rep.n_synth:,}')} synthetic samples.
Feature space: {e(rep.feature_space)}</p>
<h2>Groups</h2><table><tr><th>group</th><th>score</th><th>weight</th><th></th></tr>{grows}</table>
<h2>Metrics</h2><table><tr><th>group</th><th>metric</th><th>value</th><th>score</th><th></th></tr>{''.join(rows)}</table>
{'<h2>Column shapes, per column</h2><table><tr><th>column</th><th>type</th><th>metric</th><th>score</th></tr>' + feats + '</table>' if feats else ''}
<h2>2-D PCA of the feature space</h2>{_scatter_svg(rep.figures.get('pca', {}))}
{'<h2>Notes</h2><ul>' + notes + '</ul>' if notes else ''}
</body></html>
"""
