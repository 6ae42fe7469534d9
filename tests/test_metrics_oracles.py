"""Metric primitives against brute-force / scipy float64 oracles (tiny data, fixed seeds)."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
from scipy.stats import ks_2samp

from synth_core.metrics import distance, fidelity, privacy
from synth_core.metrics._common import knn_distances, nearest
from synth_core.metrics.prdc import prdc
from synth_core.stats import ks_statistic


def _prdc_brute(real: np.ndarray, fake: np.ndarray, k: int) -> dict[str, float]:
    """Naeem et al. 2020 exactly as written, with explicit loops-free full matrices (float64)."""
    d_rr = np.linalg.norm(real[:, None] - real[None], axis=2)
    d_ff = np.linalg.norm(fake[:, None] - fake[None], axis=2)
    d_rf = np.linalg.norm(real[:, None] - fake[None], axis=2)
    r_rad = np.sort(d_rr, axis=1)[:, k]      # column 0 is the point itself
    f_rad = np.sort(d_ff, axis=1)[:, k]
    precision = (d_rf < r_rad[:, None]).any(0).mean()
    recall = (d_rf < f_rad[None, :]).any(1).mean()
    density = (d_rf < r_rad[:, None]).sum(0).mean() / k
    coverage = (d_rf.min(1) < r_rad).mean()
    return {"precision": precision, "recall": recall, "density": density, "coverage": coverage}


@pytest.mark.parametrize("seed,shift", [(0, 0.0), (1, 0.7), (2, 3.0)])
def test_prdc_matches_brute_force(seed, shift):
    rng = np.random.default_rng(seed)
    real = rng.standard_normal((120, 3))
    fake = rng.standard_normal((90, 3)) * 1.3 + shift
    got = prdc(real, fake, k=5, chunk=17)  # odd chunk size exercises the chunk boundaries
    want = _prdc_brute(real, fake, 5)
    for key in want:
        assert got[key] == pytest.approx(want[key], abs=1e-12), key


def test_knn_and_nearest_match_brute_force():
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((50, 4)), rng.standard_normal((30, 4))
    d = np.linalg.norm(x[:, None] - x[None], axis=2)
    np.fill_diagonal(d, np.inf)
    np.testing.assert_allclose(knn_distances(x, 3, chunk=7), np.sort(d, 1)[:, :3], atol=1e-10)
    dxy = np.linalg.norm(y[:, None] - x[None], axis=2)
    dist, idx = nearest(y, x, chunk=8)
    np.testing.assert_array_equal(idx, dxy.argmin(1))
    np.testing.assert_allclose(dist, dxy.min(1), atol=1e-10)


def test_frechet_matches_scipy_sqrtm():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((6, 6)), rng.standard_normal((6, 6))
    s1, s2 = a @ a.T + 0.1 * np.eye(6), b @ b.T + 0.1 * np.eye(6)
    mu1, mu2 = rng.standard_normal(6), rng.standard_normal(6)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    want = float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))
    assert distance.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(want, rel=1e-9)


def test_frechet_closed_form_diagonal_and_identity():
    v1, v2 = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    mu1, mu2 = np.zeros(3), np.array([1.0, -2.0, 0.5])
    want = 1 + 4 + 0.25 + ((np.sqrt(v1) - np.sqrt(v2)) ** 2).sum()
    assert distance.frechet_distance(mu1, np.diag(v1), mu2, np.diag(v2)) == pytest.approx(want, rel=1e-12)
    x = np.random.default_rng(1).standard_normal((200, 5))
    assert distance.frechet(x, x)[0] == pytest.approx(0.0, abs=1e-9)
    # singular covariance (a constant feature, like MNIST's blank border) stays finite
    s = np.diag([1.0, 0.0])
    assert distance.frechet_distance(np.zeros(2), s, np.zeros(2), s) == pytest.approx(0.0, abs=1e-12)


def test_mmd_unbiased_matches_brute_force():
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((40, 2)), rng.standard_normal((30, 2)) + 0.5
    h = 1.3
    k = lambda a, b: np.exp(-np.linalg.norm(a[:, None] - b[None], axis=2) ** 2 / (2 * h * h))  # noqa: E731
    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    want = ((kxx.sum() - 40) / (40 * 39) + (kyy.sum() - 30) / (30 * 29) - 2 * kxy.mean())
    mmd2, norm = distance.mmd_rbf(x, y, bandwidth=h)
    assert mmd2 == pytest.approx(want, rel=1e-10)
    assert 0 < norm < 1


def test_ks_statistic_and_snapping_match_references():
    """(KS/TV complements, correlation and contingency similarity of the decoded table: test_metrics_table.py)"""
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal(300), rng.standard_normal(200) * 1.5 + 0.2
    assert ks_statistic(a, b) == pytest.approx(ks_2samp(a, b).statistic, abs=1e-12)
    np.testing.assert_array_equal(fidelity.snap_to_levels(np.array([0.1, 1.2, 1.9, 2.2, -5]), np.array([0, 1, 2.0])),
                                  [0, 1, 2, 2, 0])


def test_dcr_flags_copies_and_not_fresh_samples():
    rng = np.random.default_rng(6)
    train = rng.standard_normal((400, 3))
    fresh = rng.standard_normal((300, 3))
    honest = privacy.dcr(train, fresh)
    assert honest["near_copy_share"] < 0.12 and honest["exact_copy_share"] == 0
    assert 0.7 < honest["dcr_ratio"] < 1.4
    copies = privacy.dcr(train, train[:300] + 1e-9)
    assert copies["near_copy_share"] == 1.0 and copies["dcr_ratio"] < 0.01
    np.testing.assert_array_equal(copies["synth_nn"], np.arange(300))
    with_holdout = privacy.dcr(train, fresh, holdout=rng.standard_normal((300, 3)))
    assert with_holdout["baseline"] == "holdout" and with_holdout["near_copy_share"] < 0.12
