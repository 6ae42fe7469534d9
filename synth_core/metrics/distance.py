"""Distribution distances in the feature space: Fréchet distance and MMD.

References: Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule Converge to a Local
Nash Equilibrium" (FID); Gretton et al. 2012, "A Kernel Two-Sample Test" (MMD, median heuristic).
"""
from __future__ import annotations

import numpy as np

INFO = {
    "frechet": (
        "Fréchet distance",
        "||mu_r - mu_s||^2 + Tr(S_r + S_s - 2 (S_r S_s)^1/2) between Gaussians fitted to real and synthetic "
        "features (the FID formula, 0 is ideal); score = exp(-4 x distance / Tr(S_r)).",
        "Heusel et al. 2017 (FID), computed on this report's feature space, not Inception."),
    "mmd": (
        "MMD (RBF kernel)",
        "Unbiased squared maximum mean discrepancy with a Gaussian kernel whose bandwidth is the median "
        "pairwise distance (0 is ideal); score = 1 - sqrt(MMD^2 / (E k(r,r') + E k(s,s'))).",
        "Gretton et al. 2012, A Kernel Two-Sample Test."),
}


def _sqrt_psd(s: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((s + s.T) / 2.0)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance(mu1: np.ndarray, s1: np.ndarray, mu2: np.ndarray, s2: np.ndarray) -> float:
    """Fréchet distance between N(mu1, s1) and N(mu2, s2), in float64.

    Tr (s1 s2)^1/2 = Tr (A s2 A)^1/2 with A = s1^1/2: the second matrix is symmetric PSD, so two
    ``eigh`` calls replace ``scipy.linalg.sqrtm`` of a non-symmetric product (no complex parts, no
    failures on singular covariances).
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    s1, s2 = np.atleast_2d(np.asarray(s1, np.float64)), np.atleast_2d(np.asarray(s2, np.float64))
    a = _sqrt_psd(s1)
    m = a @ s2 @ a
    tr_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((m + m.T) / 2.0), 0.0, None)).sum()
    diff = mu1 - mu2
    return float(max(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * tr_sqrt, 0.0))


def gaussian_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float64)
    return x.mean(0), np.atleast_2d(np.cov(x, rowvar=False))


def frechet(real: np.ndarray, synth: np.ndarray) -> tuple[float, float]:
    """(Fréchet distance, distance relative to the real total variance Tr(S_r))."""
    mu_r, s_r = gaussian_stats(real)
    mu_s, s_s = gaussian_stats(synth)
    fd = frechet_distance(mu_r, s_r, mu_s, s_s)
    return fd, fd / max(float(np.trace(s_r)), 1e-12)


def median_bandwidth(x: np.ndarray, max_n: int = 1000, seed: int = 0) -> float:
    """Median pairwise Euclidean distance of (a subsample of) ``x``: the usual RBF bandwidth."""
    rng = np.random.default_rng(seed)
    x = x[rng.choice(len(x), size=min(len(x), max_n), replace=False)]
    d2 = (x ** 2).sum(1)[:, None] + (x ** 2).sum(1)[None, :] - 2 * x @ x.T
    iu = np.triu_indices(len(x), k=1)
    med = float(np.median(np.sqrt(np.clip(d2[iu], 0, None)))) if len(iu[0]) else 1.0
    return med if med > 1e-12 else 1.0


def mmd_rbf(real: np.ndarray, synth: np.ndarray, bandwidth: float | None = None) -> tuple[float, float]:
    """(unbiased MMD^2, MMD^2 normalised by E k(r,r') + E k(s,s')) with k = exp(-d^2 / (2 h^2)).

    The bandwidth ``h`` defaults to the median pairwise distance of the *real* features, so it does
    not move with the generator being judged. The normalised value is 1 when the two sets do not
    overlap at all (cross-kernel ~0), which gives a score that reaches 0 for pure noise.
    """
    x = np.asarray(real, dtype=np.float64)
    y = np.asarray(synth, dtype=np.float64)
    h = bandwidth or median_bandwidth(x)
    g = 1.0 / (2.0 * h * h)

    def kmean(a: np.ndarray, b: np.ndarray, same: bool) -> float:
        d2 = (a ** 2).sum(1)[:, None] + (b ** 2).sum(1)[None, :] - 2 * a @ b.T
        k = np.exp(-g * np.clip(d2, 0, None))
        if same:  # unbiased: drop the diagonal k(x, x) = 1 terms
            n = len(a)
            return float((k.sum() - np.trace(k)) / max(n * (n - 1), 1))
        return float(k.mean())

    kxx, kyy, kxy = kmean(x, x, True), kmean(y, y, True), kmean(x, y, False)
    mmd2 = kxx + kyy - 2 * kxy
    return mmd2, mmd2 / max(kxx + kyy, 1e-12)
