"""Classic 2-D toy distributions used to teach generative models (and to spot mode collapse).

The 8-Gaussian ring and 25-Gaussian grid follow Gulrajani et al. 2017 (WGAN-GP) and
Srivastava et al. 2017 (VEEGAN). Each set has ``modes`` (:class:`KnownModes`: centres and std) where the
data is a mixture, so mode-coverage metrics can be computed.
"""
from __future__ import annotations

import numpy as np

from .base import Dataset, KnownModes, register_dataset

N_POINTS = 10_000
SEED = 0


def ring_modes(k: int = 8, radius: float = 2.0) -> np.ndarray:
    angles = 2 * np.pi * np.arange(k) / k
    return np.stack([radius * np.cos(angles), radius * np.sin(angles)], axis=1)


def grid_modes() -> np.ndarray:
    g = np.arange(-2, 3, dtype=np.float64)
    return np.stack(np.meshgrid(g, g, indexing="ij"), axis=-1).reshape(-1, 2)


def _mixture(name: str, modes: np.ndarray, std: float, description: str) -> Dataset:
    rng = np.random.default_rng(SEED)
    idx = rng.integers(len(modes), size=N_POINTS)
    x = modes[idx] + std * rng.standard_normal((N_POINTS, 2))
    return Dataset(name=name, kind="points", x=x, y=idx, classes=[f"mode {i}" for i in range(len(modes))],
                   description=description, source="synthetic (synth_core.data.toy2d)",
                   feature_names=["x", "y"], modes=KnownModes(modes, std))


@register_dataset("ring8", kind="points", label="8 Gaussians (ring)",
                  description="Mixture of 8 Gaussians on a circle of radius 2, std 0.02: the classic mode-collapse test.")
def load_ring8() -> Dataset:
    return _mixture("ring8", ring_modes(), 0.02, "8 Gaussians (std 0.02) evenly spaced on a circle of radius 2.")


@register_dataset("grid25", kind="points", label="25 Gaussians (grid)",
                  description="Mixture of 25 Gaussians on a 5x5 grid with spacing 1, std 0.05.")
def load_grid25() -> Dataset:
    return _mixture("grid25", grid_modes(), 0.05, "25 Gaussians (std 0.05) on a 5x5 grid, spacing 1.")


@register_dataset("moons", kind="points", label="Two moons",
                  description="Two interleaving half circles (scikit-learn make_moons, noise 0.05).")
def load_moons() -> Dataset:
    from sklearn.datasets import make_moons

    x, y = make_moons(N_POINTS, noise=0.05, random_state=SEED)
    return Dataset(name="moons", kind="points", x=x, y=y, classes=["upper", "lower"],
                   description="Two interleaving half circles, noise 0.05.", source="sklearn.datasets.make_moons",
                   feature_names=["x", "y"])


@register_dataset("swissroll", kind="points", label="Swiss roll",
                  description="A 2-D Swiss roll spiral (scikit-learn make_swiss_roll, x/z plane), scaled to about [-2, 2].")
def load_swissroll() -> Dataset:
    from sklearn.datasets import make_swiss_roll

    x3, _ = make_swiss_roll(N_POINTS, noise=0.25, random_state=SEED)
    x = x3[:, [0, 2]] / 7.5
    return Dataset(name="swissroll", kind="points", x=x, description="Swiss roll spiral, noise 0.25, scaled by 1/7.5.",
                   source="sklearn.datasets.make_swiss_roll", feature_names=["x", "y"])


@register_dataset("circles", kind="points", label="Concentric circles",
                  description="Two concentric circles (scikit-learn make_circles, factor 0.5, noise 0.03), scaled x2.")
def load_circles() -> Dataset:
    from sklearn.datasets import make_circles

    x, y = make_circles(N_POINTS, factor=0.5, noise=0.03, random_state=SEED)
    return Dataset(name="circles", kind="points", x=2 * x, y=y, classes=["outer", "inner"],
                   description="Two concentric circles, radius 2 and 1, noise 0.06.",
                   source="sklearn.datasets.make_circles", feature_names=["x", "y"])
