"""WGAN-GP (Gulrajani et al. 2017) on ring8: trains, covers the ring; numbers printed with -s."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from synth_core.data import load_dataset
from synth_core.generators import get_generator
from synth_core.metrics import mode_coverage

from .conftest import stat_seed


def test_wgan_gp_arch_follows_data_kind():
    assert get_generator("wgan_gp")().setup(load_dataset("ring8").subset(64), seed=0).arch_ == "mlp"
    assert get_generator("wgan_gp")().setup(load_dataset("digits").subset(64), seed=0).arch_ == "conv"
    assert get_generator("wgan_gp")(arch="mlp").setup(load_dataset("digits").subset(64), seed=0).arch_ == "mlp"


def test_cosine_schedule_sets_both_rates_per_step():
    from .conftest import tiny_points

    g = get_generator("wgan_gp")(batch_size=32, width=16, z_dim=2, n_critic=2, lr_g=1e-3, lr_d=2e-3,
                                 lr_schedule="cosine", lr_decay_steps=4, lr_min_ratio=0.1).setup(tiny_points(), seed=0)
    assert g.lr_factor(0) == pytest.approx(1.0) and g.lr_factor(2) == pytest.approx(0.1 + 0.9 * 0.5)
    assert g.lr_factor(4) == pytest.approx(0.1) and g.lr_factor(100) == pytest.approx(0.1)
    for _ in range(3):
        g.train_step()
    # the updates of step 2 ran at factor 0.55
    assert g.opt_g_.param_groups[0]["lr"] == pytest.approx(1e-3 * 0.55)
    assert g.opt_d_.param_groups[0]["lr"] == pytest.approx(2e-3 * 0.55)
    assert get_generator("wgan_gp")(lr_schedule="constant").setup(tiny_points(), seed=0).lr_factor(10_000) == 1.0
    assert {p.name: p.default for p in get_generator("wgan_gp").params_for("image")}["lr_schedule"] == "constant"
    assert {p.name: p.default for p in get_generator("wgan_gp").params_for("points")}["lr_schedule"] == "cosine"


def test_cosine_schedule_single_updates_equal_whole_steps():
    """Step-by-step mode (one critic update per call) uses the same rate as whole steps."""
    from .conftest import tiny_points

    kw = dict(batch_size=32, width=16, z_dim=2, n_critic=2, lr_g=1e-3, lr_d=1e-3, lr_schedule="cosine",
              lr_decay_steps=3)
    whole = get_generator("wgan_gp")(**kw).setup(tiny_points(), seed=1)
    single = get_generator("wgan_gp")(**kw).setup(tiny_points(), seed=1)
    for _ in range(3):
        whole.train_step()
    while single.step_ < 3:
        single.train_update()
    for a, b in zip([*whole.G_.parameters(), *whole.D_.parameters()], [*single.G_.parameters(), *single.D_.parameters()]):
        assert torch.equal(a, b)


RING_STEPS = 3000


@pytest.mark.slow
def test_wgan_gp_ring8_covers_every_mode_with_its_points_defaults():
    """The issue's measure: all 8 modes, >= 70% of samples within 3 sigma of a mode. With the points
    defaults at step 3,000 of the 5,000-step schedule (measured 81% for seed 0; 77% and 84% for seeds
    1 and 2, 88% at 5,000 steps): about 100 CPU seconds."""
    ds = load_dataset("ring8")
    g = get_generator("wgan_gp")().setup(ds, seed=stat_seed(0))
    assert g.hparams["z_dim"] == 2 and g.hparams["lr_schedule"] == "cosine"  # the points defaults
    for _ in range(RING_STEPS):
        losses = g.train_step()
    assert set(losses) == {"loss_d", "loss_g", "wasserstein", "gp"}
    assert all(np.isfinite(v) for v in losses.values())
    mc = mode_coverage(g.sample(2000, seed=1), ds.modes.centres, ds.modes.std)
    print("wgan_gp ring8 @3000 steps:", mc)
    assert mc.modes_covered == 8 and mc.high_quality >= 0.70
