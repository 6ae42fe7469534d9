"""Gaussian mixture (EM): covers the 8-Gaussian ring, EM never lowers the likelihood, BIC picks the
true K, and the torch log-density agrees with scikit-learn's (the oracle)."""
from __future__ import annotations

import numpy as np
import pytest

from synth_core.data import load_dataset
from synth_core.generators import get_generator
from synth_core.metrics import mode_coverage

from .conftest import stat_seed, tiny_images, tiny_points


def _ring_fit(steps: int = 20, seed: int | None = None, **params):
    ds = load_dataset("ring8").subset(3000, seed=0)
    g = get_generator("gmm")(**params).setup(ds, seed=stat_seed(0) if seed is None else seed)
    losses = [g.train_step() for _ in range(steps)]
    return g, ds, losses


def test_covers_all_ring_modes():
    g, ds, losses = _ring_fit()
    cov = mode_coverage(g.sample(4000, seed=0), ds.modes.centres, ds.modes.std)
    assert cov.modes_covered == 8 and cov.high_quality >= 0.7, cov
    assert cov.kl_to_uniform < 0.05


def test_em_is_monotone():
    _, _, losses = _ring_fit(steps=10)
    nll = [l["nll_per_dim"] for l in losses]
    assert all(b <= a + 1e-9 for a, b in zip(nll, nll[1:]))
    assert nll[-1] < nll[0]


def test_bic_selects_true_k():
    ds = load_dataset("ring8").subset(1000, seed=0)
    g = get_generator("gmm")(k_selection="bic", k_max=9).setup(ds, seed=stat_seed(0))
    g.train_step()
    assert len(g.params_["weights"]) == 8


def test_log_prob_matches_sklearn():
    from sklearn.mixture import GaussianMixture

    ds = load_dataset("ring8").subset(1000, seed=1)
    g = get_generator("gmm")(n_components=3).setup(ds, seed=0)
    for _ in range(5):
        g.train_step()
    p = g.params_
    sk = GaussianMixture(3, covariance_type="full")
    sk.weights_ = p["weights"].numpy()
    sk.means_ = p["means"].numpy()
    cov = (p["scale"] @ p["scale"].transpose(1, 2)).numpy()
    sk.covariances_ = cov
    sk.precisions_cholesky_ = np.linalg.cholesky(np.linalg.inv(cov))
    x = ds.x[:50].astype(np.float64)
    np.testing.assert_allclose(g.log_prob(x), sk.score_samples(x), rtol=1e-6)


def test_images_use_diagonal_covariance_and_stay_in_range():
    ds = tiny_images()
    g = get_generator("gmm")(n_components=4).setup(ds, seed=0)
    g.train_step()
    assert g.params_["scale"].dim() == 2  # auto -> diagonal for 64 features
    s = g.sample(16, seed=0)
    assert s.shape == (16, *ds.sample_shape) and s.min() >= -1 and s.max() <= 1


@pytest.mark.parametrize("name", ["gmm", "kde", "gaussian", "copula"])
def test_sampling_before_the_first_fit_says_what_to_do(name):
    g = get_generator(name)().setup(tiny_points(), seed=0)
    with pytest.raises(RuntimeError, match="has not been fitted yet: run one training step first"):
        g.sample(5, seed=0)
    g.train_step()
    assert g.sample(5, seed=0).shape == (5, 2)
