"""RealNVP (Dinh et al. 2017): exact log-density against oracles (standard normal at identity init,
a numerical Jacobian determinant, normalisation on a grid), invertibility, and quality on ring8."""
from __future__ import annotations

from functools import partial

import numpy as np
import pytest
import torch
from scipy import stats

from synth_core.data import load_dataset
from synth_core.errors import ConfigError
from synth_core.generators import get_generator
from synth_core.generators.realnvp import RealNVP, standard_normal_log_prob
from synth_core.metrics import mode_coverage

from .conftest import stat_seed, tiny_points, tiny_tabular


def _scrambled(ds, seed: int = 0, strength: float = 0.3, **params) -> RealNVP:
    """A flow far from the identity: every coupling's output layer gets random weights (the paper's
    N(0, I) base unless ``base`` is given)."""
    params.setdefault("base", "normal")
    g = RealNVP(**params).setup(ds, seed=seed)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in g.flow_.modules():
            if hasattr(m, "net"):
                last = m.net[-1]
                last.weight.copy_(strength * torch.randn(last.weight.shape, generator=gen))
                last.bias.copy_(strength * torch.randn(last.bias.shape, generator=gen))
    return g


def test_registered():
    assert get_generator("realnvp") is RealNVP


def test_identity_init_is_standard_normal():
    """Zero-initialised couplings without ActNorm or standardisation: log p(x) = log N(x; 0, I)."""
    ds = tiny_points()
    g = RealNVP(actnorm=False, standardize=False, base="normal").setup(ds, seed=0)
    x = np.random.default_rng(0).normal(size=(50, 2)) * 2
    np.testing.assert_allclose(g.log_prob(x), stats.multivariate_normal(np.zeros(2)).logpdf(x), rtol=1e-5, atol=1e-5)


def test_identity_init_with_standardisation_is_the_diagonal_gaussian_fit():
    """Standardisation is part of the density: log p(x) = sum_j log N(x_j; mean_j, std_j)."""
    ds = tiny_tabular(labelled=False)
    g = RealNVP(actnorm=False, standardize=True, base="normal").setup(ds, seed=0)
    x = ds.x[:40].astype(np.float64)
    mean, std = ds.x.astype(np.float64).mean(0), ds.x.astype(np.float64).std(0, ddof=1)
    np.testing.assert_allclose(g.log_prob(x), stats.norm(mean, std).logpdf(x).sum(1), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("make", [tiny_points, partial(tiny_tabular, labelled=False)], ids=["points-2d", "tabular-3d"])
def test_change_of_variables_matches_numerical_jacobian(make):
    """log p(x) = log N(f(x)) + log|det df/dx| with the Jacobian from autograd, point by point."""
    ds = make()
    g = _scrambled(ds, seed=1)
    x = torch.from_numpy(ds.x[:6]).double()
    g.flow_.double()
    g.shift_, g.scale_ = g.shift_.double(), g.scale_.double()
    ours = torch.stack([g._log_prob(xi[None])[0] for xi in x])
    for xi, lp in zip(x, ours):
        jac = torch.autograd.functional.jacobian(lambda v: g.to_latent(v[None])[0], xi)  # (D, D)
        oracle = standard_normal_log_prob(g.to_latent(xi[None]))[0] + torch.linalg.slogdet(jac)[1]
        assert lp.item() == pytest.approx(oracle.item(), abs=1e-8)
        # ...and the scrambled flow really mixes dimensions (far from a per-axis map): at every point an
        # off-diagonal entry is sizeable next to its diagonal ones, |J_ij| / sqrt(|J_ii J_jj|) (a ratio
        # that per-axis scaling, e.g. standardisation, leaves unchanged)
        d = torch.diagonal(jac).abs()
        mixing = (jac.abs() / torch.sqrt(d[:, None] * d[None, :])).fill_diagonal_(0).max()
        assert mixing > 0.05, jac


@pytest.mark.slow
def test_density_integrates_to_one():
    """A proper density: a Riemann sum of exp(log p) over a wide 2-D grid is 1."""
    ds = tiny_points()
    g = _scrambled(ds, seed=2, strength=0.15, n_couplings=4, actnorm=False)
    lo, hi, n = -12.0, 12.0, 601
    grid = np.linspace(lo, hi, n)
    xx, yy = np.meshgrid(grid, grid)
    pts = np.stack([xx.ravel(), yy.ravel()], 1)
    mass = np.exp(g.log_prob(pts).astype(np.float64)).sum() * ((hi - lo) / (n - 1)) ** 2
    inside = (np.abs(g.sample(4000, seed=0)) < hi).all(1).mean()  # the box holds (nearly) all the mass
    assert inside > 0.995
    assert mass == pytest.approx(1.0, abs=0.02)


@pytest.mark.parametrize("make", [tiny_points, partial(tiny_tabular, labelled=False)], ids=["points-2d", "tabular-3d"])
def test_inverse_undoes_forward(make):
    ds = make()
    g = _scrambled(ds, seed=3)
    x = torch.from_numpy(ds.x[:100])
    with torch.no_grad():
        z = g.to_latent(x)
        back = g.flow_.inverse(z) * g.scale_ + g.shift_
    torch.testing.assert_close(back, x, rtol=1e-4, atol=1e-4)


def test_train_step_reports_likelihood_and_improves_it():
    ds = tiny_tabular(labelled=False)
    g = RealNVP(width=32, batch_size=128, base="normal").setup(ds, seed=stat_seed(0))
    first = g.train_step()
    assert set(first) == {"nll", "bits_per_dim"}
    assert first["bits_per_dim"] == pytest.approx(first["nll"] / (3 * np.log(2)), rel=1e-6)
    for _ in range(60):
        g.train_step()
    # The reported NLL is exactly the data-space NLL of the step's batch: log_prob on the same rows (the
    # batch drawn from a copy of the generator's RNG). Comparing with log_prob on the whole table instead
    # left 0.05-0.29 of its 0.3 allowance to batch noise over seeds 0-2 (bench/margins.py realnvp_tab).
    want = float(-g.log_prob(next_batch(g)).mean())  # before the step's update
    assert g.train_step()["nll"] == pytest.approx(want, abs=1e-4)
    # ...and training lowers the NLL of the whole table, against a fresh flow with the same seed (62 steps:
    # 4.18 -> 3.78-3.79 nats, a drop of 0.39-0.40 over seeds 0-3, threads 1-2)
    assert -g.log_prob(ds.x).mean() < table_nll_at_init(ds, stat_seed(0)) - 0.2


def next_batch(g: RealNVP) -> np.ndarray:
    """The rows ``g``'s next train_step will draw (its RNG is left untouched)."""
    state = g.rng_.get_state()
    x = g.dataset_.x
    idx = torch.randint(len(x), (min(g.hparams["batch_size"], len(x)),), generator=g.rng_).numpy()
    g.rng_.set_state(state)
    return x[idx]


def table_nll_at_init(ds, seed: int) -> float:
    """Mean NLL of ``ds`` under the untrained flow test_train_step_reports_likelihood_and_improves_it starts from."""
    return float(-RealNVP(width=32, batch_size=128, base="normal").setup(ds, seed=seed).log_prob(ds.x).mean())


def test_log_prob_rejects_wrong_width():
    g = RealNVP().setup(tiny_points(), seed=0)
    with pytest.raises(ConfigError):
        g.log_prob(np.zeros((3, 5)))


NLL_STEPS = 300


@pytest.mark.slow
def test_ring8_likelihood_beats_a_gaussian_quickly():
    """After 300 steps the flow's held-out NLL on ring8 is far below the best single Gaussian's
    (3.53 nats: std sqrt(2) per axis); the optimum, the ring's own entropy, is about -2.9 nats."""
    ds = load_dataset("ring8")
    train, held = ds.subset(8000, seed=0), ds.subset(2000, seed=1)
    g = RealNVP(width=64, batch_size=256).setup(train, seed=stat_seed(0))
    for _ in range(NLL_STEPS):
        g.train_step()
    assert -g.log_prob(held.x).mean() < 1.0


def test_cosine_lr_schedule():
    g = RealNVP(lr=1e-3, lr_schedule="cosine", lr_decay_steps=100, lr_min_ratio=0.01).setup(tiny_points(), seed=0)
    assert g._lr_at(0) == pytest.approx(1e-3)
    assert g._lr_at(50) == pytest.approx(1e-3 * (0.01 + 0.99 * 0.5))
    assert g._lr_at(100) == pytest.approx(1e-5) and g._lr_at(10_000) == pytest.approx(1e-5)
    g.train_step()
    assert g.opt_.param_groups[0]["lr"] == pytest.approx(1e-3)
    assert RealNVP(lr=1e-3).setup(tiny_points(), seed=0)._lr_at(10_000) == 1e-3  # default: constant


def test_resume_with_schedule_and_gmm_base_matches():
    """The LR is a function of the restored step count and the mixture base is in the state: a
    restored copy continues with exactly the original's losses."""
    import io

    ds = tiny_points()
    kw = dict(width=16, batch_size=64, lr_schedule="cosine", lr_decay_steps=10, base="gmm", base_components=3)
    a = RealNVP(**kw).setup(ds, seed=0)
    for _ in range(4):
        a.train_step()
    buf = io.BytesIO()
    torch.save(a.state_dict(), buf)
    buf.seek(0)
    b = RealNVP(**kw).setup(ds, seed=5)
    b.load_state_dict(torch.load(buf, weights_only=True))
    for _ in range(4):
        assert a.train_step() == b.train_step()
    np.testing.assert_array_equal(a.sample(50, seed=2), b.sample(50, seed=2))


@pytest.mark.slow
def test_gmm_base_density_integrates_to_one():
    """With a mixture base the flow is still a proper density: a grid Riemann sum of exp(log p) is 1."""
    ds = tiny_points()
    g = _scrambled(ds, seed=2, strength=0.15, n_couplings=4, actnorm=False, base="gmm", base_components=4)
    lo, hi, n = -12.0, 12.0, 601
    grid = np.linspace(lo, hi, n)
    xx, yy = np.meshgrid(grid, grid)
    pts = np.stack([xx.ravel(), yy.ravel()], 1)
    mass = np.exp(g.log_prob(pts).astype(np.float64)).sum() * ((hi - lo) / (n - 1)) ** 2
    assert mass == pytest.approx(1.0, abs=0.02)


def test_default_base_is_the_mixture():
    g = RealNVP().setup(tiny_points(), seed=0)
    assert g.hparams["base"] == "gmm" and len(g.base_.logits) == 16


@pytest.mark.slow
def test_ring8_covers_all_modes():
    """Default parameters (learnable Gaussian-mixture base, k-means initialised in latent space, 16
    components): all 8 ring modes with >= 70% high-quality samples. Measured on seed 0: 8/8 modes, 99.2%
    high-quality at 200 steps (~4 CPU s), 99.0% at 400. With the paper's N(0, I) base the best tuned
    configuration measured (12 couplings, 3x64 nets, linear mixing, batch 1024, cosine LR 2e-3 -> 2e-5,
    1,200 steps, 47 CPU s) reached only 7/8 modes and 61.5%: see the module docstring."""
    ds = load_dataset("ring8")
    g = RealNVP().setup(ds, seed=0)
    for _ in range(RING_STEPS):
        g.train_step()
    mc = mode_coverage(g.sample(2000, seed=1), ds.modes.centres, ds.modes.std)
    assert mc.modes_covered == 8, mc
    assert mc.high_quality >= 0.70, mc
    assert -g.log_prob(ds.x).mean() < -2.5  # near the ring's own entropy (~ -2.9 nats)


RING_STEPS = 200
