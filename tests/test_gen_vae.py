"""VAE (Kingma & Welling 2014): the loss against torch.distributions, and ring8 mode coverage."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.distributions import Bernoulli, Normal, kl_divergence

from synth_core.data import load_dataset
from synth_core.generators import get_generator
from synth_core.generators.vae import negative_elbo
from synth_core.metrics import mode_coverage

from .conftest import stat_seed


def test_negative_elbo_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    x, out = torch.rand(6, 5, generator=g) * 2 - 1, torch.randn(6, 5, generator=g)
    mu, logvar, log_sigma = torch.randn(6, 3, generator=g), torch.randn(6, 3, generator=g), torch.randn(5, generator=g)
    kl_ref = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)).sum(1).mean()
    _, nelbo, recon, kl = negative_elbo(x, out, mu, logvar, likelihood="gaussian", log_sigma=log_sigma)
    rec_ref = -Normal(out, log_sigma.exp()).log_prob(x).sum(1).mean()
    torch.testing.assert_close(kl, kl_ref)
    torch.testing.assert_close(recon, rec_ref)
    torch.testing.assert_close(nelbo, rec_ref + kl_ref)
    xb = (x > 0).float() * 2 - 1  # binary pixels: BCE is exactly the Bernoulli NLL
    loss, _, recon_b, kl_b = negative_elbo(xb, out, mu, logvar, likelihood="bernoulli", beta=2.0)
    torch.testing.assert_close(recon_b, -Bernoulli(logits=out).log_prob((xb + 1) / 2).sum(1).mean())
    torch.testing.assert_close(loss, recon_b + 2.0 * kl_b)
    assert math.isfinite(loss.item())


def test_vae_images_mlp_and_conv():
    ds = load_dataset("digits").subset(128, seed=0)
    for arch in ("mlp", "conv"):
        g = get_generator("vae")(arch=arch).setup(ds, seed=0)
        assert set(g.train_step()) == {"neg_elbo", "recon", "kl"}
        x = g.sample(3, seed=0)
        assert x.shape == (3, 1, 8, 8) and np.abs(x).max() <= 1


def test_monte_carlo_kl_matches_closed_form_for_a_normal_prior():
    """With log_prior = log N(z; 0, I) the one-sample KL estimate log q(z|x) - log p(z) averages to the
    closed-form KL (Kingma & Welling 2014, Appendix B)."""
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(4, 3, generator=g), torch.randn(4, 3, generator=g) * 0.5
    x = out = torch.zeros(4, 2)
    log_sigma = torch.zeros(2)
    _, _, _, kl_exact = negative_elbo(x, out, mu, logvar, likelihood="gaussian", log_sigma=log_sigma)
    reps = 20_000
    mu_r, lv_r = mu.repeat(reps, 1), logvar.repeat(reps, 1)
    z = mu_r + torch.exp(0.5 * lv_r) * torch.randn(mu_r.shape, generator=g)
    log_prior = Normal(0.0, 1.0).log_prob(z).sum(1)
    _, _, _, kl_mc = negative_elbo(x.repeat(reps, 1), out.repeat(reps, 1), mu_r, lv_r, likelihood="gaussian",
                                   log_sigma=log_sigma, z=z, log_prior=log_prior)
    assert kl_mc.item() == pytest.approx(kl_exact.item(), abs=0.03)


def test_mixture_log_prob_matches_torch_distributions():
    from torch.distributions import Categorical, Independent, MixtureSameFamily

    from synth_core.generators.nets import DiagonalGaussianMixture

    torch.manual_seed(0)
    m = DiagonalGaussianMixture(3, 5)
    with torch.no_grad():
        m.logits.normal_()
        m.means.normal_()
        m.log_std.normal_(0, 0.3)
    ref = MixtureSameFamily(Categorical(logits=m.logits), Independent(Normal(m.means, m.log_std.exp()), 1))
    z = torch.randn(7, 3)
    torch.testing.assert_close(m.log_prob(z), ref.log_prob(z))


def test_prior_auto_follows_data_kind_and_sampling_uses_it():
    pts = load_dataset("ring8").subset(256, seed=0)
    g = get_generator("vae")().setup(pts, seed=0)
    assert g.prior_ == "mixture" and len(g.net_.prior.logits) == 16
    assert get_generator("vae")().setup(load_dataset("digits").subset(64, seed=0), seed=0).prior_ == "normal"
    assert get_generator("vae")(prior="normal").setup(pts, seed=0).prior_ == "normal"
    # the prior's parameters are learned (through the KL term) and saved with the model
    g.hparams["kl_warmup"] = 0
    before = g.net_.prior.means.detach().clone()
    g.train_step()
    assert not torch.equal(before, g.net_.prior.means)
    assert any(k.startswith("prior.") for k in g.state_dict()["net"])
    # samples decode z drawn from the mixture: moving every component moves the samples
    a = g.sample(64, seed=3)
    with torch.no_grad():
        g.net_.prior.means.add_(5.0)
    assert not np.allclose(a, g.sample(64, seed=3))


RING_STEPS = 4000
RING_WINDOW = range(3000, RING_STEPS + 1, 250)  # the snapshots the high-quality share is averaged over


@pytest.mark.slow  # ~20 CPU s on one thread
def test_vae_ring8_covers_all_modes():
    """Default parameters on 2-D points (mixture prior, 8-D latent, batch 128, lr 1e-3) cover all 8 ring
    modes, with >= 70% of samples within 3 sigma of a mode on average over steps 3,000-4,000. At a
    constant learning rate one snapshot swings by +-0.08 from one 250-step checkpoint to the next (seed 0:
    0.83 at 3,000, 0.67 at 4,000; seed 1: 0.54 at 2,500), so the test averages five snapshots: 0.78-0.80
    over seeds 0-3 (bench/margins.py vae). With the N(0, I) prior (``prior="normal"``, batch 512, lr 2e-3)
    it was 8/8 but only 32% HQ at 1,500 steps and 42% at 2,800: prior samples from the holes between the
    encoder's clusters decode between modes."""
    ds = load_dataset("ring8")
    g = get_generator("vae")().setup(ds, seed=stat_seed(0))
    hq = []
    for step in range(1, RING_STEPS + 1):
        g.train_step()
        if step in RING_WINDOW:
            mc = mode_coverage(g.sample(2000, seed=1), ds.modes.centres, ds.modes.std)
            assert mc.modes_covered == 8, (step, mc)
            hq.append(mc.high_quality)
    print("vae ring8 high-quality shares:", np.round(hq, 3))
    assert np.mean(hq) >= 0.70, hq
