"""TVAE: the loss against a torch.distributions oracle, decoded output, marginals, state round-trip."""
from __future__ import annotations

import io
import math

import numpy as np
import pytest
import torch
from torch.distributions import Categorical, Normal, kl_divergence

from synth_core.data.base import Dataset
from synth_core.errors import ConfigError
from synth_core.generators import get_generator
from synth_core.generators.tabular_nets import TabularLayout
from synth_core.generators.tvae import tvae_loss

from .conftest import stat_seed
from .test_gen_ctgan import small_table, train

FAST = dict(width=64, batch_size=100, z_dim=16, lr=2e-3)
STEPS = 400


@pytest.fixture(scope="module")
def table():
    return small_table()


def train_tvae(ds, seed: int):
    """TVAE trained STEPS steps on the small table; the first step's losses kept as ``first_losses``."""
    g = get_generator("tvae")(**FAST).setup(ds, seed=seed)
    first = g.train_step()
    train(g, STEPS - 1)
    g.first_losses = first
    return g


@pytest.fixture(scope="module")
def trained(table):
    return train_tvae(table[0], stat_seed(0))


def test_loss_matches_a_torch_distributions_oracle(table):
    ds, _ = table
    lay = TabularLayout.from_dataset(ds)
    gen = torch.Generator().manual_seed(0)
    x = torch.from_numpy(lay.to_internal(ds.x[:16], ds.y[:16]))
    raw = torch.randn(x.shape, generator=gen)
    mu, logvar = torch.randn((16, 4), generator=gen), torch.randn((16, 4), generator=gen) * 0.3
    n_scalar = sum(s.kind != "softmax" for s in lay.segments)
    log_sigma = torch.linspace(-2, 0, n_scalar)
    loss, recon, kl = tvae_loss(x, raw, mu, logvar, lay, log_sigma, recon_weight=2.0)
    want = torch.zeros(16)
    j = 0
    for s in lay.segments:
        r, t = raw[:, s.start:s.stop], x[:, s.start:s.stop]
        if s.kind == "softmax":
            want -= Categorical(logits=r).log_prob(t.argmax(1))
        else:
            mean = torch.tanh(r[:, 0]) if s.kind == "tanh" else r[:, 0]
            want -= Normal(mean, log_sigma[j].exp()).log_prob(t[:, 0])
            j += 1
    want_kl = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(1)
    torch.testing.assert_close(recon, want.mean())
    torch.testing.assert_close(kl, want_kl.mean())
    torch.testing.assert_close(loss, 2 * want.mean() + want_kl.mean())


@pytest.mark.slow
def test_reports_elbo_recon_kl_and_learns(trained):
    last = trained.train_step()
    assert set(last) == {"neg_elbo", "recon", "kl"}
    assert math.isclose(last["neg_elbo"], last["recon"] + last["kl"], rel_tol=1e-5, abs_tol=1e-5)
    assert last["neg_elbo"] < trained.first_losses["neg_elbo"] - 20  # ~98 nats at step 1, ~10 after training
    assert last["kl"] > 0.5  # the latent is used (no posterior collapse)


def test_decoded_samples_respect_the_schema(table, trained):
    ds, df = table
    x, y = trained.sample_with_labels(1000, seed=1)
    out = ds.decode(x, y)
    assert list(out.columns) == list(df.columns)
    assert set(out.color.unique()) <= {"red", "green", "blue"} and set(out.label.unique()) <= {"big", "small"}
    assert out.flag.dtype == bool and str(out["count"].dtype) == str(df["count"].dtype)
    for c in ("size", "count", "score"):
        assert out[c].min() >= df[c].min() and out[c].max() <= df[c].max()
    assert 0.02 < out.score.isna().mean() < 0.25  # 10% missing in the real table


def test_marginals_of_an_imbalanced_column(table, trained):
    ds, df = table
    out = ds.decode(trained.sample(3000, seed=2))
    share = out.color.value_counts(normalize=True)
    real = df.color.value_counts(normalize=True)
    for lv in ("red", "green"):
        assert abs(share.get(lv, 0.0) - real[lv]) < 0.12, share.to_dict()
    assert 0.01 < share.get("blue", 0.0) < 0.15, share.to_dict()


def test_state_round_trip_gives_identical_samples(table, trained):
    ds, _ = table
    buf = io.BytesIO()
    torch.save(trained.state_dict(), buf)
    buf.seek(0)
    h = get_generator("tvae")(**FAST).setup(ds, seed=77)
    h.load_state_dict(torch.load(buf, weights_only=True))
    np.testing.assert_array_equal(trained.sample(200, seed=9), h.sample(200, seed=9))
    xa, ya = trained.sample_with_labels(50, seed=3)
    np.testing.assert_array_equal(xa, trained.sample(50, seed=3))  # same stream with or without labels


def test_is_unconditional_and_runs_on_plain_tables():
    rng = np.random.default_rng(0)
    ds = Dataset(name="plain", kind="tabular", x=rng.normal(size=(100, 3)))
    g = train(get_generator("tvae")(**FAST).setup(ds, seed=0), 3)
    assert g.sample(10, seed=0).shape == (10, 3)
    with pytest.raises(ConfigError, match="unconditional"):
        g.sample(5, condition=0)
