"""Gaussian copula (and, as a shared oracle check, the multivariate Gaussian): on correlated
Gaussian data both recover means, variances and correlations; on skewed data only the copula keeps
the marginals."""
from __future__ import annotations

import numpy as np
import pytest

from synth_core.data import Dataset
from synth_core.generators import get_generator

from .conftest import stat_seed

MEAN = np.array([0.5, -1.0, 2.0])
COV = np.array([[1.0, 0.6, -0.3], [0.6, 2.0, 0.4], [-0.3, 0.4, 0.5]])


def _gaussian_table(n: int = 4000) -> Dataset:
    x = np.random.default_rng(0).multivariate_normal(MEAN, COV, size=n)
    return Dataset(name="g", kind="tabular", x=x, feature_names=["a", "b", "c"])


def _fit(name: str, ds: Dataset, seed: int | None = None):
    g = get_generator(name)().setup(ds, seed=stat_seed(0) if seed is None else seed)
    g.train_step()
    return g


MOMENT_SAMPLES = 20_000


def moment_errors(name: str, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sample minus training-table means, sample/table variance ratios minus 1, and correlation differences.
    The reference is the table the model fits, not the distribution it was drawn from: the 4,000-row table's
    own variance is 5% off the truth in one column, which used 5/8 of the variance tolerance before the
    model did anything (seed 1 failed, 1.01x the tolerance; bench/margins.py closed)."""
    ds = _gaussian_table()
    x = ds.x.astype(np.float64)
    s = _fit(name, ds, seed).sample(MOMENT_SAMPLES, seed=seed + 1).astype(np.float64)
    return s.mean(0) - x.mean(0), s.var(0) / x.var(0) - 1, np.corrcoef(s.T) - np.corrcoef(x.T)


@pytest.mark.parametrize("name", ["copula", "gaussian"])
def test_recovers_moments_of_a_correlated_gaussian(name):
    """Means within 0.06, variances within 8%, correlations within 0.04 of the training table's (measured
    worst over seeds 0-3, threads 1-2: 0.31x, 0.41x and 0.22x of those tolerances)."""
    mean, var, corr = moment_errors(name, stat_seed(0))
    assert np.abs(mean).max() < 0.06 and np.abs(var).max() < 0.08 and np.abs(corr).max() < 0.04, (mean, var, corr)


def test_keeps_skewed_and_discrete_marginals():
    rng = np.random.default_rng(1)
    z = rng.multivariate_normal([0, 0], [[1, 0.7], [0.7, 1]], size=3000)
    expo = -np.log1p(-np.clip(_phi(z[:, 0]), 0, 1 - 1e-12))   # Exp(1) marginal, correlated with z1
    counts = np.digitize(z[:, 1], [-1, 0, 1])                   # 4 categories 0..3
    ds = Dataset(name="s", kind="tabular", x=np.stack([expo, counts], 1), feature_names=["t", "k"])
    s = _fit("copula", ds).sample(6000, seed=stat_seed(2)).astype(np.float64)
    assert s[:, 0].min() >= 0 and abs(np.median(s[:, 0]) - np.log(2)) < 0.06  # Exp(1) median is ln 2
    assert set(np.unique(s[:, 1])) <= {0.0, 1.0, 2.0, 3.0}
    np.testing.assert_allclose(np.bincount(s[:, 1].astype(int), minlength=4) / len(s),
                               np.bincount(counts, minlength=4) / len(counts), atol=0.025)
    rho = lambda a, b: np.corrcoef(np.argsort(np.argsort(a)), np.argsort(np.argsort(b)))[0, 1]  # noqa: E731
    assert abs(rho(s[:, 0], s[:, 1]) - rho(expo, counts)) < 0.06  # rank dependence kept
    # The Gaussian baseline gets the skewed marginal wrong: its median sits at the mean (1), not ln 2.
    assert abs(np.median(_fit("gaussian", ds).sample(6000, seed=stat_seed(2))[:, 0]) - np.log(2)) > 0.2


def test_constant_columns_are_handled():
    x = _gaussian_table(500).x.copy()
    x[:, 1] = 3.0
    s = _fit("copula", Dataset(name="c", kind="tabular", x=x)).sample(100, seed=0)
    assert np.isfinite(s).all() and (s[:, 1] == 3.0).all()


def _phi(z: np.ndarray) -> np.ndarray:
    from scipy.stats import norm

    return norm.cdf(z)
