import numpy as np
import torch

from synth_core.data import Dataset, load_dataset
from synth_core.generators import get_generator

from .conftest import stat_seed


def test_recovers_mean_and_covariance_of_known_distribution():
    rng = np.random.default_rng(0)
    mean = np.array([1.0, -2.0, 0.5])
    cov = np.array([[2.0, 0.8, -0.4], [0.8, 1.0, 0.3], [-0.4, 0.3, 0.5]])
    x = rng.multivariate_normal(mean, cov, size=20_000)
    ds = Dataset(name="known", kind="tabular", x=x)
    g = get_generator("gaussian")(reg=1e-8).setup(ds, seed=0)
    losses = g.train_step()
    # fitted parameters vs the float64 oracle (numpy's MLE), then vs the truth
    np.testing.assert_allclose(g.mean_.numpy(), x.mean(0), atol=1e-5)
    fitted_cov = (g.chol_ @ g.chol_.T).numpy()
    np.testing.assert_allclose(fitted_cov, np.cov(x.T, bias=True), atol=1e-5)
    s = g.sample(50_000, seed=stat_seed(1)).astype(np.float64)
    np.testing.assert_allclose(s.mean(0), mean, atol=0.05)
    np.testing.assert_allclose(np.cov(s.T), cov, atol=0.06)
    # NLL per dim matches scipy's oracle on the same data
    from scipy.stats import multivariate_normal
    nll = -multivariate_normal(x.mean(0), np.cov(x.T, bias=True)).logpdf(x).mean() / 3
    assert abs(losses["nll_per_dim"] - nll) < 1e-3


def test_diagonal_ignores_correlation():
    rng = np.random.default_rng(1)
    x = rng.multivariate_normal([0, 0], [[1, 0.9], [0.9, 1]], size=5000)
    g = get_generator("gaussian")(covariance="diagonal").setup(Dataset(name="c", kind="points", x=x), seed=0)
    g.train_step()
    s = g.sample(20_000, seed=stat_seed(0))
    assert abs(np.corrcoef(s.T)[0, 1]) < 0.05


def test_images_are_clipped_and_look_like_mean_digit():
    ds = load_dataset("digits")
    g = get_generator("gaussian")().setup(ds, seed=0)
    g.train_step()
    s = g.sample(2000, seed=stat_seed(0))
    assert s.min() >= -1 and s.max() <= 1
    r = np.corrcoef(s.mean(0).ravel(), ds.x.mean(0).ravel())[0, 1]
    assert r > 0.95
