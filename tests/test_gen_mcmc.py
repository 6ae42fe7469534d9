"""MCMC (random-walk MH and MALA): covers the 8-Gaussian ring from a fitted GMM, matches the
moments of a single fitted Gaussian, reports acceptance/ESS, and the ESS estimator agrees with the
closed form for an AR(1) process."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from synth_core.data import Dataset, load_dataset
from synth_core.generators import get_generator
from synth_core.generators.mcmc import effective_sample_size
from synth_core.metrics import mode_coverage

from .conftest import stat_seed


def _run(ds: Dataset, steps: int, seed: int | None = None, **params):
    """MCMC run for ``steps`` steps; seed ``stat_seed(0)`` unless given (bench/margins.py passes others)."""
    g = get_generator("mcmc")(**params).setup(ds, seed=stat_seed(0) if seed is None else seed)
    losses = [g.train_step() for _ in range(steps)]
    return g, losses


@pytest.mark.parametrize("method", ["mala", "mh"])
def test_covers_all_ring_modes(method):
    ds = load_dataset("ring8").subset(3000, seed=0)
    g, losses = _run(ds, 30, method=method)  # 300 iterations: 200 burn-in, 20 kept per chain
    cov = mode_coverage(g.sample(1000, seed=0), ds.modes.centres, ds.modes.std)
    assert cov.modes_covered == 8 and cov.high_quality >= 0.7, cov
    last = losses[-1]
    assert {"acceptance_rate", "ess", "mean_log_density", "step_size"} <= set(last)
    target = 0.574 if method == "mala" else 0.234
    assert abs(last["acceptance_rate"] - target) < 0.12  # burn-in adaptation reached its target
    assert last["ess"] > 0


def test_kde_target_covers_ring_modes():
    ds = load_dataset("ring8").subset(2000, seed=0)
    g, _ = _run(ds, 25, density="kde", method="mh", kde_points=1000, n_chains=48, burn_in=150)
    cov = mode_coverage(g.sample(1000, seed=0), ds.modes.centres, ds.modes.std)
    assert cov.modes_covered == 8 and cov.high_quality >= 0.7, cov


@pytest.mark.parametrize("method", ["mala", "mh"])
def test_matches_moments_of_a_fitted_gaussian(method):
    rng = np.random.default_rng(0)
    cov = np.array([[1.0, 0.6, -0.3], [0.6, 2.0, 0.4], [-0.3, 0.4, 0.5]])
    ds = Dataset(name="blob", kind="tabular", x=rng.multivariate_normal([0.5, -1.0, 2.0], cov, size=2000))
    g, losses = _run(ds, 60, method=method, n_components=1, burn_in=100, thin=2)
    # The target is the fitted Gaussian: compare against its parameters, not the raw data.
    mu, chol = g.target_["means"][0].numpy(), g.target_["scale"][0].numpy()
    pool = g.pool_.numpy()
    assert len(pool) == 64 * 250
    sd = np.sqrt(np.diag(chol @ chol.T))
    np.testing.assert_allclose(pool.mean(0), mu, atol=0.12 * sd.max())
    np.testing.assert_allclose(np.cov(pool.T), chol @ chol.T, atol=0.15 * sd.max() ** 2)
    ess = losses[-1]["ess"]
    assert ess > (400 if method == "mala" else 100), ess  # MALA mixes far better on a smooth target
    assert np.isfinite([v for l in losses for v in l.values()]).all()


def test_effective_sample_size_matches_ar1_oracle():
    # AR(1) with coefficient phi has integrated autocorrelation time (1 + phi) / (1 - phi).
    phi, t, c = 0.5, 4000, 4
    g = torch.Generator().manual_seed(0)
    eps = torch.randn((t, c, 1), generator=g, dtype=torch.float64)
    x = torch.zeros_like(eps)
    for i in range(1, t):
        x[i] = phi * x[i - 1] + eps[i]
    ess = float(effective_sample_size(x)[0])
    assert abs(ess - c * t * (1 - phi) / (1 + phi)) < 0.15 * c * t / 3
    # Independent draws: ESS close to the number of draws.
    iid = torch.randn((1000, 4, 2), generator=g, dtype=torch.float64)
    assert (effective_sample_size(iid) > 3000).all()


def test_trace_burn_in_fallback_and_determinism():
    ds = load_dataset("ring8").subset(500, seed=0)
    g, _ = _run(ds, 2, burn_in=50)
    assert len(g.pool_) == 0 and g.in_burn_in
    assert g.sample(10, seed=0).shape == (10, 2)  # current chain states before the first kept draw
    tr = g.trace()
    assert tr["proposals"].shape == (20, 4, 2) and tr["accepted"].shape == (20, 4)
    # A chain that accepted sits on its proposal; one that rejected did not move.
    acc = tr["accepted"]
    np.testing.assert_array_equal(tr["states"][acc], tr["proposals"][acc])
    from synth_core.train import views
    from synth_core.viz.grid import data_bounds

    def trace_guide() -> str:
        return views.build_view(g, views.TRACE, ds.x, None, data_bounds(ds.x)).guide

    assert "Burn-in" in trace_guide()  # the trace view says no draw is kept yet
    for _ in range(8):
        g.train_step()
    assert not g.in_burn_in and "Burn-in" not in trace_guide()
    np.testing.assert_array_equal(g.sample(50, seed=3), g.sample(50, seed=3))
