"""Latent-space views: interpolations, traversals and the 2-D latent map. Pure functions, no Streamlit.

A generator with a latent space declares ``has_latent`` and gives ``latent_size()`` and
``decode_latent(z, condition)`` (GANs: G(z); VAEs: the decoder mean). The functions here build
latent batches (seeded), decode them in batches through any ``decode(z) -> x`` callable (so a page
can hold a live run's model lock around it), and turn the results into images (image data) or
Plotly figures (2-D points).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Literal

import numpy as np
import plotly.graph_objects as go
from PIL import Image
from scipy.special import ndtri

from ..data.base import Dataset
from .figures import REAL_COLOUR, SYNTH_COLOUR
from .grid import image_grid

if TYPE_CHECKING:  # for the type only: importing the generators package loads every model
    from ..generators.base import Generator

Method = Literal["linear", "slerp"]
Decode = Callable[[np.ndarray], np.ndarray]

#: why a family has no latent vector to decode (shown instead of the views)
NO_LATENT_REASON = {
    "rule-based": "it draws every column independently from the data; no code is decoded.",
    "probabilistic": "it samples from an explicit density fitted to the data, not by decoding a latent code.",
    "mcmc": "its samples are states of Markov chains that wander over a fitted density; no code is decoded.",
    "diffusion": "it generates by denoising step by step from noise, with no single latent code exposed here.",
    "flow": "its latent is the flow's image of the data, which SynthLab does not expose as a view yet.",
}


@dataclass(frozen=True)
class LatentViews:
    """Which latent views make sense for a generator on its data."""

    size: int | None
    kind: str             # the dataset kind: "image", "points" or "tabular"
    conditional: bool     # a class selector applies
    interpolation: bool
    traversal: bool       # two dimensions varied on a grid (images and 2-D points)
    plane: bool           # the whole 2-D latent plane (latent_size == 2)


def latent_views(gen: Generator, dataset: Dataset) -> LatentViews:
    """What :mod:`pages/explore` can show for ``gen`` (a set-up generator) trained on ``dataset``."""
    conditional = gen.conditional and dataset.n_classes > 0
    if not gen.has_latent:
        return LatentViews(None, dataset.kind, conditional, False, False, False)
    size = int(gen.latent_size())  # type: ignore[arg-type]
    grid_ok = dataset.kind in ("image", "points")
    return LatentViews(int(size), dataset.kind, conditional, True, grid_ok and size >= 1, grid_ok and size == 2)


def no_latent_message(label: str, family: str) -> str:
    """One line that says why a model has no latent views."""
    why = NO_LATENT_REASON.get(family, "it does not expose a latent code to decode.")
    return f"{label} has no latent space to explore: {why}"


# ---- latent batches -----------------------------------------------------------------------------
def endpoint_latents(latent_size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two latent vectors drawn from the prior N(0, I) with ``seed`` (the interpolation endpoints)."""
    z = np.random.default_rng(int(seed)).standard_normal((2, int(latent_size)))
    return z[0].astype(np.float32), z[1].astype(np.float32)


def lerp(z0: np.ndarray, z1: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Straight-line interpolation, one row per ``t`` in [0, 1]."""
    t = np.asarray(t, dtype=np.float64)[:, None]
    return ((1.0 - t) * np.asarray(z0, np.float64) + t * np.asarray(z1, np.float64)).astype(np.float32)


def slerp(z0: np.ndarray, z1: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical interpolation (White 2016, "Sampling Generative Networks"): the direction moves along
    the great circle between the endpoints and the norm changes linearly, so no point falls into the
    low-density centre of a Gaussian prior (a straight line between two typical high-dimensional
    samples passes much closer to the origin than any sample). Equal norms stay exactly equal."""
    a, b = np.asarray(z0, np.float64), np.asarray(z1, np.float64)
    t = np.asarray(t, dtype=np.float64)[:, None]
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na < 1e-12 or nb < 1e-12:
        return lerp(a, b, t[:, 0])
    ua, ub = a / na, b / nb
    omega = np.arccos(np.clip(ua @ ub, -1.0, 1.0))
    if np.sin(omega) < 1e-6:  # (anti)parallel: the great circle is undefined, fall back to a line
        return lerp(a, b, t[:, 0])
    direction = (np.sin((1 - t) * omega) * ua + np.sin(t * omega) * ub) / np.sin(omega)
    norm = (1 - t) * na + t * nb
    out = direction * norm
    out[t[:, 0] == 0] = a  # exact endpoints (no rounding drift)
    out[t[:, 0] == 1] = b
    return out.astype(np.float32)


def interpolate(z0: np.ndarray, z1: np.ndarray, steps: int, method: Method = "linear") -> np.ndarray:
    """``steps`` latents from ``z0`` to ``z1`` inclusive (steps x latent_size)."""
    if steps < 2:
        raise ValueError("an interpolation needs at least 2 steps")
    t = np.linspace(0.0, 1.0, int(steps))
    if method == "linear":
        return lerp(z0, z1, t)
    if method == "slerp":
        return slerp(z0, z1, t)
    raise ValueError(f"unknown interpolation method {method!r}; use 'linear' or 'slerp'")


def traversal_latents(base: np.ndarray, dims: tuple[int, int], *, k: float = 3.0, n: int = 7,
                      sigma: float | np.ndarray = 1.0) -> np.ndarray:
    """A latent-traversal grid (n x n x latent_size): ``base`` with dimension ``dims[0]`` set to
    ``base + v * sigma`` down the rows and ``dims[1]`` across the columns, v in [-k, k]. ``sigma`` is
    the spread of each dimension (1 under the N(0, I) prior). With a 1-D latent both dims must be 0
    and the grid is one row."""
    base = np.asarray(base, dtype=np.float64).reshape(-1)
    d = len(base)
    i, j = int(dims[0]), int(dims[1])
    if not (0 <= i < d and 0 <= j < d):
        raise ValueError(f"dims must be in 0..{d - 1}; got {dims}")
    sig = np.broadcast_to(np.asarray(sigma, dtype=np.float64), (d,))
    v = np.linspace(-float(k), float(k), int(n))
    if d == 1 or i == j:
        z = np.repeat(base[None, None, :], int(n), axis=1)  # 1 x n x d
        z[0, :, j] = base[j] + v * sig[j]
        return z.astype(np.float32)
    z = np.broadcast_to(base, (int(n), int(n), d)).copy()
    z[:, :, i] = (base[i] + v * sig[i])[:, None]
    z[:, :, j] = (base[j] + v * sig[j])[None, :]
    return z.astype(np.float32)


def latent_plane(n: int, *, spacing: Literal["quantile", "linear"] = "quantile", extent: float = 3.0) -> np.ndarray:
    """An n x n x 2 grid over a 2-D latent plane, z1 across the columns and z2 *decreasing* down the
    rows (so the mosaic reads like a plot with the y axis up). ``quantile``: evenly spaced
    probabilities through the inverse Gaussian CDF, as in Kingma & Welling's manifold figure (equal
    prior mass per cell); ``linear``: evenly spaced in [-extent, extent]."""
    n = int(n)
    if spacing == "quantile":
        v = ndtri((np.arange(n) + 0.5) / n)
    elif spacing == "linear":
        v = np.linspace(-extent, extent, n)
    else:
        raise ValueError(f"unknown spacing {spacing!r}; use 'quantile' or 'linear'")
    z1, z2 = np.meshgrid(v, v[::-1])
    return np.stack([z1, z2], axis=-1).astype(np.float32)


def decode_batched(decode: Decode, z: np.ndarray, batch: int = 256) -> np.ndarray:
    """Decode a (..., latent_size) array in batches; returns (N, *sample_shape) in model space."""
    flat = np.asarray(z, dtype=np.float32).reshape(-1, np.asarray(z).shape[-1])
    parts = [np.asarray(decode(flat[s:s + batch]), dtype=np.float32) for s in range(0, len(flat), batch)]
    return np.concatenate(parts) if parts else np.zeros((0,), np.float32)


# ---- rendering ----------------------------------------------------------------------------------
def image_mosaic(dataset: Dataset, x: np.ndarray, ncol: int, *, target_px: int = 720, pad: int = 1) -> Image.Image:
    """Decoded samples (model space) as one image, ``ncol`` per row, in the given order."""
    return image_grid(dataset.decode(x), nrow=int(ncol), target_px=target_px, pad=pad)


def _real_trace(data: np.ndarray, max_points: int = 2000) -> go.Scattergl:
    pts = np.asarray(data, dtype=np.float64)[:, :2]
    if len(pts) > max_points:
        pts = pts[np.random.default_rng(0).choice(len(pts), max_points, replace=False)]
    return go.Scattergl(x=pts[:, 0], y=pts[:, 1], mode="markers", name="real data",
                        marker=dict(size=4, color=REAL_COLOUR, opacity=0.5))


def _layout(fig: go.Figure, height: int) -> go.Figure:
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=1.08),
                      plot_bgcolor="white")
    fig.update_yaxes(scaleanchor="x", scaleratio=1, showgrid=False, zeroline=False)
    fig.update_xaxes(showgrid=False, zeroline=False)
    return fig


def path_figure(data: np.ndarray, path: np.ndarray, *, height: int = 420) -> go.Figure:
    """An interpolation path decoded into 2-D points, drawn over the real data (colour = position t)."""
    p = np.asarray(path, dtype=np.float64)[:, :2]
    t = np.linspace(0, 1, len(p))
    fig = go.Figure([_real_trace(data)])
    fig.add_trace(go.Scatter(x=p[:, 0], y=p[:, 1], mode="lines+markers", name="G(z(t))",
                             line=dict(color=SYNTH_COLOUR, width=1.5),
                             marker=dict(size=8, color=t, colorscale="Viridis", showscale=True,
                                         colorbar=dict(title="t", thickness=10))))
    fig.add_trace(go.Scatter(x=p[[0, -1], 0], y=p[[0, -1], 1], mode="markers+text", text=["start", "end"],
                             textposition="top center", showlegend=False,
                             marker=dict(size=12, color="rgba(0,0,0,0)", line=dict(color="black", width=2))))
    return _layout(fig, height)


def warped_grid_figure(data: np.ndarray, points: np.ndarray, *, height: int = 420) -> go.Figure:
    """A latent grid (rows x cols x 2 decoded points) drawn as a mesh over the real data: where the
    generator sends each row and column of the latent grid."""
    g = np.asarray(points, dtype=np.float64)[..., :2]
    fig = go.Figure([_real_trace(data)])
    xs: list[float | None] = []
    ys: list[float | None] = []
    for line in list(g) + list(g.transpose(1, 0, 2)):  # rows, then columns
        xs += list(line[:, 0]) + [None]
        ys += list(line[:, 1]) + [None]
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name="decoded latent grid",
                             line=dict(color=SYNTH_COLOUR, width=1)))
    flat = g.reshape(-1, 2)
    fig.add_trace(go.Scatter(x=flat[:, 0], y=flat[:, 1], mode="markers", showlegend=False,
                             marker=dict(size=4, color=SYNTH_COLOUR)))
    return _layout(fig, height)
