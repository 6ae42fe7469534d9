"""Teaching views of a 2-D generator, as Plotly figures. Pure functions of arrays: no Streamlit, no torch.

Every view draws on the same frame: fixed axes from the data bounds, equal aspect, and a constant
``uirevision`` so a user's zoom survives the live view's polling. Traces are named so tests (and
the legend) can tell them apart: ``real``, ``generated``, ``D surface``, ``G gradient``,
``log density``, ``chain``, ``accepted``, ``rejected``.
"""
from __future__ import annotations


import numpy as np
import plotly.graph_objects as go

from .figures import REAL_COLOUR, SYNTH_COLOUR

Bounds = tuple[float, float, float, float]
ARROW_COLOUR = "#111827"
#: points drawn over a coloured surface (decision surface, density): real data as large black dots with a
#: white rim, generated samples as amber diamonds with a dark rim, so both stand out on any colour
ON_SURFACE = {"real": dict(size=7, color="#111827", symbol="circle", line=dict(width=1, color="white")),
              "generated": dict(size=7, color="#FBBF24", symbol="diamond", line=dict(width=0.8, color="#111827"))}
SURFACE_OPACITY = 0.6
CHAIN_COLOURS = ["#E4572E", "#17BEBB", "#9B5DE5", "#F2A541", "#76B041", "#00A6ED"]


def frame(bounds: Bounds, *, height: int = 420, title: str | None = None) -> go.Figure:
    """An empty figure with fixed axes (``bounds`` = x0, x1, y0, y1), equal aspect, zoom kept over updates."""
    fig = go.Figure()
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40 if title else 30, b=10), title=title,
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0, font=dict(size=11)),
                      uirevision="views2d", template="plotly_white")
    # constrain="domain": equal aspect shrinks the plot area instead of widening the ranges, so a
    # heatmap or contour over exactly ``bounds`` fills the frame
    fig.update_xaxes(range=[bounds[0], bounds[1]], showgrid=False, zeroline=False, constrain="domain")
    fig.update_yaxes(range=[bounds[2], bounds[3]], scaleanchor="x", scaleratio=1, showgrid=False, zeroline=False,
                     constrain="domain")
    return fig


def _subsample(pts: np.ndarray, max_points: int, seed: int = 0) -> np.ndarray:
    pts = np.asarray(pts, dtype=np.float64)[:, :2]
    if len(pts) > max_points:
        pts = pts[np.random.default_rng(seed).choice(len(pts), max_points, replace=False)]
    return pts


def add_points(fig: go.Figure, real: np.ndarray | None, fake: np.ndarray | None, *, max_points: int = 1500,
               fake_colour: str = SYNTH_COLOUR, opacity: float = 0.6, on_surface: bool = False) -> go.Figure:
    """Real and generated points on top of whatever the figure already shows. On a plain frame: real grey,
    generated in colour. ``on_surface`` (over a heatmap or contours): the high-contrast ``ON_SURFACE``
    markers, drawn above the surface, with a legend entry each."""
    for pts, name, colour in ((real, "real", REAL_COLOUR), (fake, "generated", fake_colour)):
        if pts is None or len(pts) == 0:
            continue
        p = _subsample(pts, max_points)
        marker = (dict(ON_SURFACE[name], opacity=0.85) if on_surface else
                  dict(size=4, color=colour, opacity=opacity, line=dict(width=0.4, color="white")))
        fig.add_trace(go.Scattergl(x=p[:, 0], y=p[:, 1], mode="markers", name=name, marker=marker,
                                   showlegend=True))
    if on_surface:
        fig.update_layout(showlegend=True)
    return fig


def samples_view(real: np.ndarray | None, fake: np.ndarray | None, bounds: Bounds, *,
                 height: int = 420) -> go.Figure:
    """Real and generated points."""
    return add_points(frame(bounds, height=height), real, fake)


def decision_surface_view(xs: np.ndarray, ys: np.ndarray, values: np.ndarray, real: np.ndarray | None,
                          fake: np.ndarray | None, bounds: Bounds, *, probability: bool = True,
                          height: int = 420) -> go.Figure:
    """D's output on a grid (``values``: len(ys) x len(xs)) as a heatmap under the points.

    ``probability``: values are D(x) = P(real) in [0, 1] (non-saturating GAN, colour scale fixed at 0..1,
    white at 0.5); else raw critic scores (WGAN-GP: unbounded, only differences matter, so the colour
    scale is centred on their median). Either way blue = looks real, red = looks generated, and the
    colour bar says so."""
    values = np.asarray(values, dtype=np.float64)
    fig = frame(bounds, height=height)
    if probability:
        scale = dict(zmin=0.0, zmax=1.0, zmid=0.5)
        bar = dict(title=dict(text=SURFACE_TITLE[True], side="right"), tickvals=[0, 0.5, 1],
                   ticktext=["0 fake", "0.5", "1 real"])
    else:
        lo, hi = np.nanpercentile(values, [2, 98]) if np.isfinite(values).any() else (0.0, 1.0)
        half = max(float(hi - lo) / 2, 1e-9)
        mid = float(np.nanmedian(values)) if np.isfinite(values).any() else 0.0
        scale = dict(zmin=mid - half, zmax=mid + half)
        bar = dict(title=dict(text=SURFACE_TITLE[False], side="right"))
    fig.add_trace(go.Heatmap(x=np.asarray(xs, dtype=np.float64), y=np.asarray(ys, dtype=np.float64), z=values,
                             name="D surface", colorscale="RdBu", reversescale=False, opacity=SURFACE_OPACITY,
                             colorbar=dict(thickness=12, len=0.8, **bar), hoverinfo="skip", showlegend=False,
                             **scale))
    return add_points(fig, real, fake, on_surface=True)


#: colour bar titles of the decision surface: a probability D, or a WGAN critic's unbounded score
SURFACE_TITLE = {True: "P(real) = D(x)", False: "critic score<br>higher = looks real"}


def arrow_segments(origins: np.ndarray, directions: np.ndarray, length: float, *,
                   head: float = 0.35, head_angle: float = 0.45) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Line segments for a quiver plot: shafts of ``length`` along each unit direction, and two-stroke
    heads. Returns (shaft_x, shaft_y, head_x, head_y), each with NaN separators between segments.
    Rows with a zero (or non-finite) direction get no arrow."""
    o = np.asarray(origins, dtype=np.float64)[:, :2]
    d = np.asarray(directions, dtype=np.float64)[:, :2]
    norm = np.linalg.norm(d, axis=1)
    ok = np.isfinite(norm) & (norm > 0) & np.isfinite(o).all(1)
    o, u = o[ok], d[ok] / norm[ok, None]
    tip = o + length * u
    nan = np.full(len(o), np.nan)
    shaft_x = np.stack([o[:, 0], tip[:, 0], nan], 1).ravel()
    shaft_y = np.stack([o[:, 1], tip[:, 1], nan], 1).ravel()
    c, s = np.cos(head_angle), np.sin(head_angle)
    back = -u * length * head
    left = np.stack([c * back[:, 0] - s * back[:, 1], s * back[:, 0] + c * back[:, 1]], 1)
    right = np.stack([c * back[:, 0] + s * back[:, 1], -s * back[:, 0] + c * back[:, 1]], 1)
    head_x = np.stack([tip[:, 0] + left[:, 0], tip[:, 0], tip[:, 0] + right[:, 0], nan], 1).ravel()
    head_y = np.stack([tip[:, 1] + left[:, 1], tip[:, 1], tip[:, 1] + right[:, 1], nan], 1).ravel()
    return shaft_x, shaft_y, head_x, head_y


def gradient_arrows_view(origins: np.ndarray, directions: np.ndarray, real: np.ndarray | None,
                         fake: np.ndarray | None, bounds: Bounds, *, surface: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
                         probability: bool = True, height: int = 420) -> go.Figure:
    """Arrows at generated points showing where the generator's loss pushes each one (−∂loss_G/∂x).

    Arrows have one length (a twentieth of the plot width): the view teaches direction; relative
    strength is in the hover text. ``surface`` (xs, ys, values) draws the decision surface beneath."""
    if surface is not None:
        fig = decision_surface_view(*surface, real, fake, bounds, probability=probability, height=height)
    else:
        fig = add_points(frame(bounds, height=height), real, fake, on_surface=True)
    length = (bounds[1] - bounds[0]) / 20
    sx, sy, hx, hy = arrow_segments(origins, directions, length)
    line = dict(color=ARROW_COLOUR, width=1.4)
    fig.add_trace(go.Scatter(x=sx, y=sy, mode="lines", name="G gradient", line=line, hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=hx, y=hy, mode="lines", name="arrow heads", line=line, hoverinfo="skip",
                             showlegend=False))
    return fig


def density_view(xs: np.ndarray, ys: np.ndarray, log_density: np.ndarray, real: np.ndarray | None,
                 fake: np.ndarray | None, bounds: Bounds, *, floor: float = 12.0, height: int = 420) -> go.Figure:
    """Filled contours of the model's log-density on a grid, clipped ``floor`` nats below its peak so the
    tails do not swamp the colour scale, with the points on top."""
    z = np.asarray(log_density, dtype=np.float64)
    top = float(np.nanmax(z[np.isfinite(z)])) if np.isfinite(z).any() else 0.0
    z = np.clip(np.nan_to_num(z, nan=top - floor, neginf=top - floor, posinf=top), top - floor, top)
    fig = frame(bounds, height=height)
    fig.add_trace(go.Contour(x=np.asarray(xs, dtype=np.float64), y=np.asarray(ys, dtype=np.float64), z=z,
                             name="log density", colorscale="Viridis", ncontours=14, opacity=0.7,
                             contours=dict(coloring="fill", showlines=True), line=dict(width=0.5),
                             colorbar=dict(title=dict(text="model log p(x)<br>higher = more likely", side="right"),
                                           thickness=12, len=0.8),
                             hoverinfo="skip", showlegend=False))
    return add_points(fig, real, fake, max_points=800, on_surface=True)


def mcmc_trace_view(proposals: np.ndarray, states: np.ndarray, accepted: np.ndarray, real: np.ndarray | None,
                    bounds: Bounds, *, height: int = 420) -> go.Figure:
    """Recent MCMC iterations of a few chains (arrays T x C x 2 and T x C): each chain's path as a
    solid line, accepted proposals as filled dots, rejected ones as faded crosses."""
    fig = frame(bounds, height=height)
    if real is not None and len(real):
        p = _subsample(real, 1500)
        fig.add_trace(go.Scattergl(x=p[:, 0], y=p[:, 1], mode="markers", name="real",
                                   marker=dict(size=3, color=REAL_COLOUR, opacity=0.35)))
    proposals, states = np.asarray(proposals, dtype=np.float64), np.asarray(states, dtype=np.float64)
    accepted = np.asarray(accepted, dtype=bool)
    n_chains = proposals.shape[1] if proposals.ndim == 3 else 0
    for c in range(n_chains):
        colour = CHAIN_COLOURS[c % len(CHAIN_COLOURS)]
        path, prop, acc = states[:, c, :2], proposals[:, c, :2], accepted[:, c]
        first = c == 0
        fig.add_trace(go.Scatter(x=path[:, 0], y=path[:, 1], mode="lines", name="chain", legendgroup="chain",
                                 showlegend=first, line=dict(color=colour, width=1.5)))
        fig.add_trace(go.Scatter(x=prop[acc, 0], y=prop[acc, 1], mode="markers", name="accepted",
                                 legendgroup="accepted", showlegend=first,
                                 marker=dict(size=6, color=colour, symbol="circle")))
        fig.add_trace(go.Scatter(x=prop[~acc, 0], y=prop[~acc, 1], mode="markers", name="rejected",
                                 legendgroup="rejected", showlegend=first,
                                 marker=dict(size=7, color=colour, symbol="x-thin-open", opacity=0.45,
                                             line=dict(width=1.5, color=colour))))
        if len(path):
            fig.add_trace(go.Scatter(x=path[-1:, 0], y=path[-1:, 1], mode="markers", name="now",
                                     legendgroup="now", showlegend=first,
                                     marker=dict(size=11, color=colour, symbol="star", line=dict(width=1, color="black"))))
    return fig


def draw_canvas_figure(grid: np.ndarray, selected: list[int] | np.ndarray, bounds: Bounds, *,
                       height: int = 340) -> go.Figure:
    """The "draw your own data" canvas: candidate grid points (trace 0, the one to lasso/box-select),
    the already chosen ones filled in."""
    grid = np.asarray(grid, dtype=np.float64)
    chosen = np.zeros(len(grid), dtype=bool)
    chosen[np.asarray(selected, dtype=int)] = True
    fig = frame(bounds, height=height)
    fig.add_trace(go.Scatter(x=grid[:, 0], y=grid[:, 1], mode="markers", name="grid",
                             marker=dict(size=np.where(chosen, 8, 5).tolist(),
                                         color=np.where(chosen, SYNTH_COLOUR, "#D1D5DB").tolist())))
    fig.update_layout(dragmode="lasso", showlegend=False, uirevision="draw-canvas")
    return fig
