"""The parts generators share (generators/parts.py, gan_core's WGAN-GP critic update, synth_core.stats)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from synth_core.data import Dataset
from synth_core.errors import ConfigError
from synth_core.generators import get_generator
from synth_core.generators.gan_core import gradient_penalty
from synth_core.generators.parts import (PREVIEW_ROW, conv_image_ok, ema_copy, ema_update, feature_scaling, lr_factor,
                                         lr_schedule_params, preview_row, require_conv_image, require_labels,
                                         standardize, unstandardize)
from synth_core.stats import ks_statistic
from tests.conftest import tiny_images, tiny_points


def test_lr_schedule_params_are_declared_once_for_both_users():
    for name, decay in (("wgan_gp", 5000), ("realnvp", 3000)):
        got = {p.name: p for p in get_generator(name).params}
        want = {p.name: p for p in lr_schedule_params(decay_steps=decay)}
        assert all(got[k] == p for k, p in want.items())  # the same declaration, the generator's own length


def test_cosine_factor_anneals_then_holds():
    hp = {"lr_schedule": "cosine", "lr_decay_steps": 10, "lr_min_ratio": 0.1}
    assert lr_factor(hp, 0) == 1.0 and lr_factor(hp, 5) == pytest.approx(0.1 + 0.9 * 0.5)
    assert lr_factor(hp, 10) == pytest.approx(0.1) and lr_factor(hp, 1000) == pytest.approx(0.1)
    assert lr_factor({**hp, "lr_schedule": "constant"}, 5) == 1.0


def test_ema_averages_parameters_and_copies_buffers():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    avg = ema_copy(net)
    assert not any(p.requires_grad for p in avg.parameters())
    before = [p.detach().clone() for p in avg.parameters()]
    with torch.no_grad():
        for p in net.parameters():
            p.add_(1.0)
        net[1].running_mean.fill_(3.0)
    ema_update(avg, net, 0.9)
    for a, b0, p in zip(avg.parameters(), before, net.parameters()):
        torch.testing.assert_close(a, 0.9 * b0 + 0.1 * p)
    assert torch.equal(avg[1].running_mean, net[1].running_mean)


def test_standardisation_round_trips_and_matches_float64_moments():
    x = np.random.default_rng(0).normal([1.0, -5.0], [2.0, 0.01], size=(500, 2)).astype(np.float32)
    shift, scale = feature_scaling(x)
    np.testing.assert_allclose(shift.numpy(), x.astype(np.float64).mean(0), rtol=1e-6)
    np.testing.assert_allclose(scale.numpy(), x.astype(np.float64).std(0, ddof=1), rtol=1e-6)
    xt = torch.from_numpy(x)
    z = standardize(xt, shift, scale)
    assert z.mean(0).abs().max() < 1e-4 and (z.std(0) - 1).abs().max() < 1e-4
    torch.testing.assert_close(unstandardize(z, shift, scale), xt)
    shift, scale = feature_scaling(x, enabled=False)
    assert torch.equal(standardize(xt, shift, scale), xt)


def test_data_requirements():
    images, points = tiny_images(8), tiny_points(8)
    assert conv_image_ok(images) and not conv_image_ok(points)
    require_conv_image(images, "M")
    with pytest.raises(ConfigError, match="M uses convolutions and needs image data"):
        require_conv_image(points, "M")
    odd = Dataset(name="odd", kind="image", x=np.zeros((4, 1, 6, 6), np.float32))
    with pytest.raises(ConfigError, match="square images with a side divisible by 4; got 6x6"):
        require_conv_image(odd, "M")
    require_labels(images, "M")
    with pytest.raises(ConfigError, match="M needs a labelled dataset; odd has no labels"):
        require_labels(odd, "M")


def test_conditional_preview_is_one_grid_row_per_class():
    ds = tiny_images(64)
    k = ds.n_classes
    for name in ("cgan", "cvae"):
        g = get_generator(name)(width=8, batch_size=16).setup(ds, seed=0)
        x = g.preview()
        row = preview_row(g, len(x))
        assert len(x) == k * row and row == g.preview_size // k
    assert preview_row(get_generator("dcgan")(width=8).setup(ds, seed=0), 64) == PREVIEW_ROW


def test_pacgan_penalty_with_groups_of_one_is_the_per_row_penalty():
    torch.manual_seed(0)
    critic = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    real, fake = torch.randn(12, 3), torch.randn(12, 3)
    one = gradient_penalty(critic, real, fake, torch.Generator().manual_seed(1))
    eps = torch.rand(12, generator=torch.Generator().manual_seed(1)).view(-1, 1)  # the oracle: eq. 3 by hand
    xhat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    grad, = torch.autograd.grad(critic(xhat).sum(), xhat)
    torch.testing.assert_close(one, ((grad.norm(dim=1) - 1) ** 2).mean())
    # groups of 3 rows: one eps per group, the norm over the group's 9 numbers
    grouped = gradient_penalty(critic, real, fake, torch.Generator().manual_seed(1), group=3)
    eps = torch.rand(4, generator=torch.Generator().manual_seed(1)).repeat_interleave(3).view(-1, 1)
    xhat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    grad, = torch.autograd.grad(critic(xhat).sum(), xhat)
    torch.testing.assert_close(grouped, ((grad.reshape(4, 9).norm(dim=1) - 1) ** 2).mean())


def test_ks_statistic_edge_cases():
    assert ks_statistic([], [1.0]) == 1.0
    assert ks_statistic([0.0, 1.0], [0.0, 1.0]) == 0.0
    assert math.isclose(ks_statistic([0.0], [1.0]), 1.0)
