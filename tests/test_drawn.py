"""Hand-drawn 2-D distributions: validation, sampling, names, persistence and re-registration."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from synth_core.data import dataset_info, load_dataset
from synth_core.data import drawn
from synth_core.data.base import unregister_dataset
from synth_core.errors import ConfigError, DataError

BLOBS = [{"x": -1.0, "y": 0.0, "spread": 0.1, "weight": 3.0}, {"x": 2.0, "y": 1.0, "spread": 0.2, "weight": 1.0}]


@pytest.fixture
def cleanup():
    names: list[str] = []
    yield names
    for n in names:
        unregister_dataset(n)


def test_sampling_follows_the_blobs():
    comps = drawn.components(drawn.parse_blobs(BLOBS))
    x = drawn.sample_components(comps, 20_000, seed=0)
    assert x.shape == (20_000, 2) and x.dtype == np.float32
    left = x[:, 0] < 0.5
    assert left.mean() == pytest.approx(0.75, abs=0.02)  # weights 3 : 1
    assert np.allclose(x[left].mean(0), [-1.0, 0.0], atol=0.01)
    assert np.allclose(x[left].std(0), 0.1, rtol=0.05) and np.allclose(x[~left].std(0), 0.2, rtol=0.05)
    assert np.array_equal(x, drawn.sample_components(comps, 20_000, seed=0))  # seeded


def test_selected_points_become_small_blobs():
    grid = drawn.candidate_grid(5)
    assert grid.shape == (25, 2) and grid.min() == -3.0 and grid.max() == 3.0
    comps = drawn.components([], grid[[0, 24]])
    assert [(c.x, c.y, c.spread) for c in comps] == [(-3.0, -3.0, drawn.POINT_SPREAD), (3.0, 3.0, drawn.POINT_SPREAD)]


@pytest.mark.parametrize("blobs,points,match", [
    ([], None, "empty"),
    ([{"x": None, "y": None, "spread": None, "weight": None}], None, "empty"),  # an unfilled table row
    ([{"x": 0, "y": 0, "spread": 0, "weight": 1}], None, "spread must be positive"),
    ([{"x": 0, "y": 0, "spread": 0.1, "weight": -1}], None, "weight"),
    ([{"x": "a", "y": 0, "spread": 0.1}], None, "x must be a number"),
    ([{"x": float("inf"), "y": 0, "spread": 0.1}], None, "finite"),
    ([{"x": 5000, "y": 0, "spread": 0.1}], None, "within"),
    ([{"x": 0, "y": 0, "spread": 0.1, "weight": 0}], None, "weights are zero"),
    ([], np.full((drawn.MAX_COMPONENTS + 1, 2), 0.5), "At most"),
    ([], np.array([[np.nan, 0.0]]), "finite"),
])
def test_bad_drawings_raise_config_errors(blobs, points, match):
    with pytest.raises(ConfigError, match=match):
        drawn.components(drawn.parse_blobs(blobs), points)


@pytest.mark.parametrize("n", [0, 10, 10**7, 2.5])
def test_bad_sample_counts(n):
    with pytest.raises(ConfigError, match="samples"):
        drawn.sample_components(drawn.components(drawn.parse_blobs(BLOBS)), n)


def test_name_is_a_content_hash():
    comps = drawn.components(drawn.parse_blobs(BLOBS))
    a = drawn.make_drawn_dataset(comps, 1000, seed=0)
    assert a.name == drawn.make_drawn_dataset(comps, 1000, seed=0).name
    assert drawn.NAME_RE.match(a.name)
    others = {drawn.make_drawn_dataset(comps, 1000, seed=1).name, drawn.make_drawn_dataset(comps, 2000, seed=0).name,
              drawn.make_drawn_dataset(comps[:1], 1000, seed=0).name}
    assert a.name not in others and len(others) == 3


def test_save_register_reload_after_restart(cleanup):
    ds = drawn.make_drawn_dataset(drawn.components(drawn.parse_blobs(BLOBS)), 1000, seed=4)
    name = drawn.save_drawing(ds)
    cleanup.append(name)
    path = Path(os.environ["SYNTHLAB_DATA_DIR"]) / "drawn" / f"{name}.npy"
    assert path.is_file() and not list(path.parent.glob(".*tmp*"))
    assert dataset_info(name).kind == "points"
    assert np.array_equal(load_dataset(name).x, ds.x)
    assert drawn.save_drawing(ds) == name  # the same drawing again: no error, same dataset
    # a restart forgets the registry; the name alone finds the drawing on disk again (CLI, a run's
    # worker, a continued run), and register_saved_drawings is idempotent
    unregister_dataset(name)
    assert dataset_info(name).kind == "points"
    assert np.array_equal(load_dataset(name).x, ds.x)
    unregister_dataset(name)
    assert drawn.register_saved_drawings() == [name]
    assert np.array_equal(load_dataset(name).x, ds.x)


def test_damaged_or_foreign_files(cleanup, tmp_path):
    root = tmp_path / "d"
    root.mkdir()
    np.save(root / "drawn-0123abcd.npy", np.zeros((5, 3), np.float32))  # wrong shape
    (root / "notes.npy").write_bytes(b"junk")                           # not a drawing name: ignored
    (root / "drawn-deadbeef.npy").write_bytes(b"not numpy")            # unreadable
    names = drawn.register_saved_drawings(root)
    cleanup.extend(names)
    assert names == ["drawn-0123abcd", "drawn-deadbeef"]
    with pytest.raises(DataError, match="damaged"):
        load_dataset("drawn-0123abcd")
    with pytest.raises(DataError, match="could not be read"):
        load_dataset("drawn-deadbeef")
    obj = np.array([{"a": 1}], dtype=object)
    np.save(root / "drawn-00000000.npy", obj, allow_pickle=True)       # pickles are never loaded
    cleanup.extend(drawn.register_saved_drawings(root)[:1])
    with pytest.raises(DataError):
        load_dataset("drawn-00000000")


def test_only_drawings_can_be_saved():
    with pytest.raises(ConfigError):
        drawn.save_drawing(load_dataset("ring8"))
