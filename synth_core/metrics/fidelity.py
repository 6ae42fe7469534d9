"""One-dimensional distribution checks: snapping numbers to category levels and the pixel-intensity
histogram of images (the exact two-sample KS statistic lives in ``synth_core.stats``, shared with the
generators).

References: SDMetrics "Column Shapes" (KSComplement, TVComplement),
https://docs.sdv.dev/sdmetrics/reports/quality-report/whats-included .
"""
from __future__ import annotations

import numpy as np

INFO = {
    "intensity_tv_complement": (
        "Pixel intensities (TV complement)",
        "1 minus the total variation distance between the real and synthetic histograms of all pixel "
        "values (32 bins on [-1, 1] plus out-of-range); catches grey backgrounds and washed-out images.",
        "SDMetrics TVComplement applied to binned pixel intensities."),
}


def snap_to_levels(values: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Synthetic values of a categorical column given as plain numbers -> the nearest real level (a
    continuous generator outputs 0.93 for category 1; rounding to the nearest level is what decoding
    would do)."""
    levels = np.sort(np.asarray(levels, dtype=np.float64))
    v = np.asarray(values, dtype=np.float64)
    pos = np.clip(np.searchsorted(levels, v), 1, max(len(levels) - 1, 1))
    if len(levels) == 1:
        return np.full_like(v, levels[0])
    left, right = levels[pos - 1], levels[pos]
    return np.where(np.abs(v - left) <= np.abs(right - v), left, right)


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
