import numpy as np
import pytest

from synth_core.data import load_dataset
from synth_core.errors import ConfigError
from synth_core.generators import get_generator

from .conftest import stat_seed


def test_losses_finite_and_shapes_on_tiny_mnist():
    ds = load_dataset("mnist").subset(256, seed=0)
    g = get_generator("dcgan")(batch_size=32, width=16).setup(ds, seed=0)
    for _ in range(5):
        losses = g.train_step()
        assert set(losses) == {"loss_d", "loss_g", "D(x)", "D(G(z))"}
        assert all(np.isfinite(v) for v in losses.values())
    x = g.sample(10, seed=0)
    assert x.shape == (10, 1, 28, 28) and x.min() >= -1 and x.max() <= 1
    assert g.preview().shape == (64, 1, 28, 28)
    # the preview uses fixed noise: same picture twice without training in between
    np.testing.assert_array_equal(g.preview(), g.preview())


MEAN_DIGIT_STEPS = 300


def mean_digit(seed: int) -> tuple[float, float, float]:
    """Correlation of the mean sample with the mean real 8x8 digit before and after training, and the
    samples' mean per-pixel spread after."""
    ds = load_dataset("digits")
    g = get_generator("dcgan")(batch_size=64, width=32, z_dim=32).setup(ds, seed=seed)
    before = np.corrcoef(g.sample(500, seed=0).mean(0).ravel(), ds.x.mean(0).ravel())[0, 1]
    for _ in range(MEAN_DIGIT_STEPS):
        g.train_step()
    s = g.sample(500, seed=0)
    after = np.corrcoef(s.mean(0).ravel(), ds.x.mean(0).ravel())[0, 1]
    return float(before), float(after), float(s.std(0).mean())


@pytest.mark.slow
def test_learns_the_mean_digit_on_8x8_digits():
    """A few hundred steps on 8x8 digits: the average sample approaches the average real digit (measured over
    seeds 0-3, threads 1-2: correlation 0.957-0.979 from -0.10-0.07; spread 0.42-0.44)."""
    before, after, spread = mean_digit(stat_seed(0))
    assert after > 0.85 and after > before
    assert spread > 0.1  # not collapsed to one constant image


def test_rejects_non_images():
    with pytest.raises(ConfigError, match="does not support points"):
        get_generator("dcgan")().setup(load_dataset("ring8"), seed=0)
