"""WGAN-GP (Gulrajani et al. 2017) on ring8: trains, covers the ring; numbers printed with -s."""
from __future__ import annotations

import numpy as np
import pytest

from synth_core.data import load_dataset
from synth_core.generators import get_generator
from synth_core.metrics import mode_coverage


def test_wgan_gp_arch_follows_data_kind():
    assert get_generator("wgan_gp")().setup(load_dataset("ring8").subset(64), seed=0).arch_ == "mlp"
    assert get_generator("wgan_gp")().setup(load_dataset("digits").subset(64), seed=0).arch_ == "conv"
    assert get_generator("wgan_gp")(arch="mlp").setup(load_dataset("digits").subset(64), seed=0).arch_ == "mlp"


@pytest.mark.slow
def test_wgan_gp_ring8_runs():
    ds = load_dataset("ring8")
    g = get_generator("wgan_gp")().setup(ds, seed=0)
    for _ in range(100):
        losses = g.train_step()
    assert set(losses) == {"loss_d", "loss_g", "wasserstein", "gp"}
    assert all(np.isfinite(v) for v in losses.values())
    x = g.sample(2000, seed=1)
    mc = mode_coverage(x, np.array(ds.meta["modes"]), ds.meta["mode_std"])
    print("wgan_gp ring8 @100 steps:", mc.as_dict())
    # At this budget (~14 steps/s on a contended CPU core) WGAN-GP has NOT converged to the
    # 0.02-wide modes (measured ~0% high-quality after 1,000-1,500 steps): only check it is finite
    # and on the right scale (the ring has radius 2).
    assert np.isfinite(x).all() and 0.5 < np.linalg.norm(x, axis=1).mean() < 4
