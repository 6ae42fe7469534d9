"""Plain MLP GAN (Goodfellow et al. 2014). It is *expected* to mode-collapse on ring8, so this test
only checks that it trains and its numbers are finite; the measured coverage is printed (-s)."""
from __future__ import annotations

import numpy as np
import pytest

from synth_core.data import load_dataset
from synth_core.generators import get_generator
from synth_core.metrics import mode_coverage


@pytest.mark.slow
def test_gan_ring8_runs_and_reports_finite_numbers():
    ds = load_dataset("ring8")
    g = get_generator("gan")().setup(ds, seed=0)
    for _ in range(100):  # a smoke run: coverage at this budget is 0/8 (see the report)
        losses = g.train_step()
    assert all(np.isfinite(v) for v in losses.values())
    mc = mode_coverage(g.sample(2000, seed=1), np.array(ds.meta["modes"]), ds.meta["mode_std"])
    print("gan ring8:", mc.as_dict())
    assert 0 <= mc.modes_covered <= 8 and np.isfinite(mc.high_quality)


def test_gan_spectral_norm_and_images():
    g = get_generator("gan")(spectral_norm=True).setup(load_dataset("digits").subset(128, seed=0), seed=0)
    assert all(np.isfinite(v) for v in g.train_step().values())
    x = g.sample(4, seed=0)
    assert x.shape == (4, 1, 8, 8) and np.abs(x).max() <= 1  # tanh output for images
