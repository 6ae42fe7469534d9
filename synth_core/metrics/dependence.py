"""Column pair trends: are the relationships *between* features preserved?

Reference: SDMetrics "Column Pair Trends" (CorrelationSimilarity, ContingencySimilarity),
https://docs.sdv.dev/sdmetrics/reports/quality-report/whats-included
"""
from __future__ import annotations

import numpy as np

INFO = {
    "correlation_similarity": (
        "Pair trends (correlation similarity)",
        "1 - |r_real - r_synth| / 2 for the Pearson correlation r of every pair of numeric features, "
        "averaged over pairs; 1 means every correlation is reproduced.",
        "SDMetrics CorrelationSimilarity (Column Pair Trends)."),
    "contingency_similarity": (
        "Pair trends (contingency similarity)",
        "1 minus the total variation distance between real and synthetic joint frequency tables of each "
        "pair involving a categorical feature (numeric partners binned into real deciles), averaged over pairs.",
        "SDMetrics ContingencySimilarity (Column Pair Trends)."),
}


def correlation_matrix(x: np.ndarray) -> np.ndarray:
    """Pearson correlations; a constant column correlates 0 with everything (not NaN)."""
    x = np.asarray(x, dtype=np.float64)
    z = x - x.mean(0)
    sd = np.sqrt((z ** 2).mean(0))
    z = np.divide(z, sd, out=np.zeros_like(z), where=sd > 1e-12)
    c = (z.T @ z) / max(len(x), 1)
    np.fill_diagonal(c, 1.0)
    return np.clip(c, -1.0, 1.0)


def correlation_similarity(real: np.ndarray, synth: np.ndarray, numeric: list[int]) -> tuple[float | None, dict]:
    """Mean of 1 - |r_real - r_synth| / 2 over numeric pairs (pairs with a constant real column are
    skipped: their real correlation is undefined). Returns (score or None, matrices for the plot)."""
    if len(numeric) < 2:
        return None, {}
    cr = correlation_matrix(real[:, numeric])
    cs = correlation_matrix(synth[:, numeric])
    const = real[:, numeric].std(0) <= 1e-12
    iu = np.triu_indices(len(numeric), k=1)
    ok = ~(const[iu[0]] | const[iu[1]])
    if not ok.any():
        return None, {}
    sim = 1.0 - np.abs(cr[iu] - cs[iu])[ok] / 2.0
    return float(sim.mean()), {"real": cr, "synth": cs}


def _codes(real_col: np.ndarray, synth_col: np.ndarray, categorical: bool, bins: int = 10
           ) -> tuple[np.ndarray, np.ndarray, int]:
    """Integer codes for a contingency table: categorical levels (synthetic snapped to the nearest
    real level), or numeric values binned at the real deciles."""
    from .fidelity import snap_to_levels

    if categorical:
        levels = np.unique(real_col)
        s = snap_to_levels(synth_col, levels)
        return np.searchsorted(levels, real_col), np.searchsorted(levels, s), len(levels)
    edges = np.unique(np.quantile(real_col, np.linspace(0, 1, bins + 1))[1:-1])
    return np.searchsorted(edges, real_col), np.searchsorted(edges, synth_col), len(edges) + 1


def contingency_similarity(real: np.ndarray, synth: np.ndarray, categorical: set[int] | frozenset[int],
                           max_pairs: int = 400) -> float | None:
    """Mean 1 - TVD of joint frequency tables over pairs with at least one categorical feature."""
    d = real.shape[1]
    pairs = [(i, j) for i in range(d) for j in range(i + 1, d) if i in categorical or j in categorical]
    if not pairs:
        return None
    pairs = pairs[:max_pairs]  # bounded cost on wide tables; pairs are in column order
    codes = {j: _codes(real[:, j], synth[:, j], j in categorical) for j in {p for pr in pairs for p in pr}}
    sims = []
    for i, j in pairs:
        ri, si, ni = codes[i]
        rj, sj, nj = codes[j]
        pr = np.bincount(ri * nj + rj, minlength=ni * nj) / len(ri)
        ps = np.bincount(si * nj + sj, minlength=ni * nj) / max(len(si), 1)
        sims.append(1.0 - 0.5 * np.abs(pr - ps).sum())
    return float(np.mean(sims))
