"""Column shapes: does each feature, on its own, have the real distribution?

References: SDMetrics "Column Shapes" (KSComplement, TVComplement),
https://docs.sdv.dev/sdmetrics/reports/quality-report/whats-included ; Wasserstein-1 is the
earth mover's distance between the two 1-D empirical distributions (scipy.stats.wasserstein_distance).
"""
from __future__ import annotations

import numpy as np
from scipy.stats import wasserstein_distance

INFO = {
    "ks_complement": (
        "Column shapes (KS complement)",
        "1 minus the Kolmogorov-Smirnov statistic (largest gap between the real and synthetic CDFs), "
        "averaged over numeric features; 1 means identical marginals.",
        "SDMetrics KSComplement (Column Shapes); Kolmogorov-Smirnov two-sample test."),
    "tv_complement": (
        "Column shapes (TV complement)",
        "1 minus the total variation distance between real and synthetic category frequencies, averaged "
        "over categorical features.",
        "SDMetrics TVComplement (Column Shapes)."),
    "wasserstein": (
        "Wasserstein-1 per feature",
        "Earth mover's distance between real and synthetic values of each feature, in units of the real "
        "standard deviation, averaged over features (0 is ideal); score = exp(-distance).",
        "Vaserstein 1969; scipy.stats.wasserstein_distance."),
    "intensity_tv_complement": (
        "Pixel intensities (TV complement)",
        "1 minus the total variation distance between the real and synthetic histograms of all pixel "
        "values (32 bins on [-1, 1] plus out-of-range); catches grey backgrounds and washed-out images.",
        "SDMetrics TVComplement applied to binned pixel intensities."),
}


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample KS statistic sup |F_a - F_b| (exact; equals scipy.stats.ks_2samp(a, b).statistic)."""
    a = np.sort(np.asarray(a, dtype=np.float64))
    b = np.sort(np.asarray(b, dtype=np.float64))
    if len(a) == 0 or len(b) == 0:
        return 1.0
    grid = np.concatenate([a, b])
    fa = np.searchsorted(a, grid, side="right") / len(a)
    fb = np.searchsorted(b, grid, side="right") / len(b)
    return float(np.abs(fa - fb).max())


def snap_to_levels(values: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Synthetic values of a categorical column -> the nearest real level (a continuous generator
    outputs 0.93 for category 1; rounding to the nearest level is what decoding would do)."""
    levels = np.sort(np.asarray(levels, dtype=np.float64))
    v = np.asarray(values, dtype=np.float64)
    pos = np.clip(np.searchsorted(levels, v), 1, max(len(levels) - 1, 1))
    if len(levels) == 1:
        return np.full_like(v, levels[0])
    left, right = levels[pos - 1], levels[pos]
    return np.where(np.abs(v - left) <= np.abs(right - v), left, right)


def tv_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Total variation distance between the category frequencies of ``a`` and ``b`` (b snapped to a's levels)."""
    levels = np.unique(a)
    b = snap_to_levels(b, levels)
    pa = np.array([(a == v).mean() for v in levels])
    pb = np.array([(b == v).mean() for v in levels])
    return float(0.5 * np.abs(pa - pb).sum())


def column_shapes(real: np.ndarray, synth: np.ndarray, categorical: set[int] | frozenset[int] = frozenset()
                  ) -> dict[str, np.ndarray]:
    """Per-feature KS / TV complements and standardised Wasserstein-1.

    Returns arrays of length D: ``shape`` (KS complement for numeric, TV complement for categorical),
    ``is_categorical``, and ``wasserstein`` (in real-std units; NaN for categorical features).
    """
    real = np.asarray(real, dtype=np.float64)
    synth = np.asarray(synth, dtype=np.float64)
    d = real.shape[1]
    shape = np.empty(d)
    wd = np.full(d, np.nan)
    is_cat = np.zeros(d, dtype=bool)
    for j in range(d):
        if j in categorical:
            is_cat[j] = True
            shape[j] = 1.0 - tv_distance(real[:, j], synth[:, j])
        else:
            shape[j] = 1.0 - ks_statistic(real[:, j], synth[:, j])
            sd = real[:, j].std()
            wd[j] = wasserstein_distance(real[:, j], synth[:, j]) / (sd if sd > 1e-12 else 1.0)
    return {"shape": shape, "is_categorical": is_cat, "wasserstein": wd}


def intensity_tv_complement(real: np.ndarray, synth: np.ndarray, bins: int = 32) -> tuple[float, dict]:
    """TV complement of pixel-value histograms; returns (score, histogram data for the plot)."""
    edges = np.linspace(-1.0, 1.0, bins + 1)
    # outer bins catch values a generator puts outside [-1, 1] (they count against it)
    full = np.concatenate([[-np.inf], edges[1:-1], [np.inf]])
    hr = np.histogram(np.asarray(real, dtype=np.float64).ravel(), full)[0].astype(np.float64)
    hs = np.histogram(np.asarray(synth, dtype=np.float64).ravel(), full)[0].astype(np.float64)
    pr, ps = hr / max(hr.sum(), 1), hs / max(hs.sum(), 1)
    score = 1.0 - 0.5 * float(np.abs(pr - ps).sum())
    return score, {"edges": edges.tolist(), "real": pr.tolist(), "synth": ps.tolist()}


def histogram(real: np.ndarray, synth: np.ndarray, bins: int = 30, categorical: bool = False) -> dict:
    """Plot data: shared bin edges from the real range, densities (probability per bin) for both."""
    real = np.asarray(real, dtype=np.float64)
    synth = np.asarray(synth, dtype=np.float64)
    if categorical:
        levels = np.unique(real)
        s = snap_to_levels(synth, levels)
        return {"categorical": True, "levels": levels.tolist(),
                "real": [float((real == v).mean()) for v in levels],
                "synth": [float((s == v).mean()) for v in levels]}
    lo, hi = np.percentile(real, [0.5, 99.5]) if len(real) else (0.0, 1.0)
    pad = 0.1 * (hi - lo) if hi > lo else 1.0
    edges = np.linspace(lo - pad, hi + pad, bins + 1)
    hr = np.histogram(real, edges)[0] / max(len(real), 1)
    hs = np.histogram(synth[np.isfinite(synth)], edges)[0] / max(len(synth), 1)
    return {"categorical": False, "edges": edges.tolist(), "real": hr.tolist(), "synth": hs.tolist()}
