import numpy as np
import pytest

from synth_core.data import load_dataset
from synth_core.errors import ConfigError
from synth_core.generators import get_generator


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


def test_learns_the_mean_digit_on_8x8_digits():
    """A few hundred steps on 8x8 digits: the average sample approaches the average real digit."""
    ds = load_dataset("digits")
    g = get_generator("dcgan")(batch_size=64, width=32, z_dim=32).setup(ds, seed=0)
    before = np.corrcoef(g.sample(500, seed=0).mean(0).ravel(), ds.x.mean(0).ravel())[0, 1]
    for _ in range(300):
        g.train_step()
    s = g.sample(500, seed=0)
    after = np.corrcoef(s.mean(0).ravel(), ds.x.mean(0).ravel())[0, 1]
    assert after > 0.85 and after > before
    assert s.std(0).mean() > 0.1  # not collapsed to one constant image


def test_rejects_non_images():
    with pytest.raises(ConfigError, match="does not support points"):
        get_generator("dcgan")().setup(load_dataset("ring8"), seed=0)
