"""CTGAN: per-column layout, training-by-sampling, decoded output, marginals, conditioning, state."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
import torch

from synth_core.data.base import Dataset
from synth_core.data.tabular import infer_schema, tabular_dataset
from synth_core.errors import ConfigError
from synth_core.generators import get_generator
from synth_core.generators.tabular_nets import CondSampler, TabularLayout

from .conftest import stat_seed

FAST = dict(width=64, batch_size=200, lr_g=2e-3, lr_d=2e-3)
# 300 steps sat on the cliff where conditioning is being learnt: the blue-red size gap was 0.6-5.8 and the
# "big" share 0.26-0.76 over seeds 0-5. By 1,000 steps (~7 CPU s) every seed has learnt it (gap 15.5-19.6,
# "big" share 0.91-0.97; bench/margins.py ctgan).
STEPS = 1000


def train(g, steps: int):
    """Tiny nets train fastest on one thread (and do not thrash a busy machine)."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for _ in range(steps):
            g.train_step()
    finally:
        torch.set_num_threads(old)
    return g


def small_table(n: int = 400, seed: int = 0):
    """Mixed table: an imbalanced category (blue ~6%), a trimodal mode-encoded number tied to the
    colour, an integer, a boolean, a number with 10% missing, and a label."""
    rng = np.random.default_rng(seed)
    color = rng.choice(["red", "green", "blue"], n, p=[0.7, 0.24, 0.06])
    size = np.select([color == "red", color == "green"], [rng.normal(10, 1, n), rng.normal(20, 2, n)],
                     rng.normal(30, 1, n)).round(2)
    score = rng.normal(0, 1, n).round(3)
    score[rng.random(n) < 0.1] = np.nan
    df = pd.DataFrame({"color": color, "size": size, "count": rng.integers(0, 6, n),
                       "flag": rng.random(n) < 0.3, "score": score,
                       "label": np.where(size > 15, "big", "small")})
    schema = infer_schema(df, label="label").set_encoding("size", "mode")
    return tabular_dataset(df, "small", schema=schema), df


@pytest.fixture(scope="module")
def table():
    return small_table()


@pytest.fixture(scope="module")
def trained(table):
    ds, _ = table
    return train(get_generator("ctgan")(**FAST).setup(ds, seed=stat_seed(0)), STEPS)


def test_layout_round_trips_the_encoded_rows(table):
    ds, _ = table
    lay = TabularLayout.from_dataset(ds)
    kinds = [s.kind for s in lay.segments]
    # color(3) | size: alpha tanh + modes softmax | count linear | flag(2) | score linear + missing(2) | label(2)
    assert kinds[0] == "softmax" and "tanh" in kinds and kinds.count("linear") == 2
    assert [str(c.name) for c in lay.discrete] == ["color", "flag", "label"] and lay.discrete[-1].is_label
    h = lay.to_internal(ds.x, ds.y)
    x, y = lay.to_model(torch.from_numpy(h))
    alpha_col = ds.feature_names.index("size.norm")
    ok = np.abs(ds.x[:, alpha_col]) < 0.99  # alpha is clipped into tanh's range, as in CTGAN
    keep = np.ones(ds.x.shape[1], bool)
    keep[alpha_col] = False
    np.testing.assert_allclose(x.numpy()[:, keep], ds.x[:, keep])
    np.testing.assert_allclose(x.numpy()[ok, alpha_col], ds.x[ok, alpha_col])
    np.testing.assert_array_equal(y.numpy(), ds.y)


def test_training_by_sampling_uses_log_frequencies(table):
    ds, df = table
    lay = TabularLayout.from_dataset(ds)
    s = CondSampler(lay, lay.to_internal(ds.x, ds.y))
    gen = torch.Generator().manual_seed(0)
    cond, mask, cat, rows = s.sample_train(40_000, gen)
    col = mask.argmax(1).numpy()
    assert np.allclose(np.bincount(col, minlength=3) / len(col), 1 / 3, atol=0.01)  # columns uniformly
    color = lay.discrete[0]
    counts = np.array([(df.color == lv).sum() for lv in color.levels])
    expect = np.log1p(counts) / np.log1p(counts).sum()  # categories by log-frequency (paper, sec. 4.3)
    got = np.bincount(cat.numpy()[col == 0], minlength=3) / (col == 0).sum()
    np.testing.assert_allclose(got, expect, atol=0.015)
    # the real row drawn for each condition has the asked category, and cond is its one-hot
    h = lay.to_internal(ds.x, ds.y)
    for j, c in enumerate(lay.discrete):
        sel = col == j
        assert (h[rows.numpy()[sel], c.seg.start:c.seg.stop].argmax(1) == cat.numpy()[sel]).all()
    assert (cond.sum(1) == 1).all()


@pytest.mark.slow
def test_decoded_samples_respect_the_schema(table, trained):
    ds, df = table
    x, y = trained.sample_with_labels(1000, seed=1)
    out = ds.decode(x, y)
    assert list(out.columns) == list(df.columns)
    assert set(out.color.unique()) <= {"red", "green", "blue"} and set(out.label.unique()) <= {"big", "small"}
    assert out.flag.dtype == bool and str(out["count"].dtype) == str(df["count"].dtype)
    for c in ("size", "count", "score"):
        assert out[c].min() >= df[c].min() and out[c].max() <= df[c].max()
    assert (out["count"] == out["count"].round()).all()


def test_marginals_of_an_imbalanced_column(table, trained):
    ds, df = table
    out = ds.decode(trained.sample(3000, seed=2))
    share = out.color.value_counts(normalize=True)
    real = df.color.value_counts(normalize=True)
    # honest bounds for 1,000 steps on 400 rows: within 0.15 of the real shares, and the rare level alive
    for lv in ("red", "green"):
        assert abs(share.get(lv, 0.0) - real[lv]) < 0.15, share.to_dict()
    assert 0.01 < share.get("blue", 0.0) < 0.2, share.to_dict()


def test_condition_on_a_column_gives_only_that_level(table, trained):
    ds, _ = table
    for level in ("blue", "red"):  # blue is the rare level (~6%)
        out = ds.decode(trained.sample(500, condition={"color": level}, seed=3))
        assert (out.color == level).all()
        # the generator itself honours the condition (the cross-entropy term works), before the
        # conditioned block is set exactly
        assert trained.last_agreement_ > 0.8
    blue = ds.decode(trained.sample(500, condition={"color": "blue"}, seed=4))
    red = ds.decode(trained.sample(500, condition={"color": "red"}, seed=4))
    # rows follow the condition (real means: 30 vs 10; after 1,000 steps the gap is 15.5-19.6 over seeds 0-5)
    assert blue["size"].mean() > red["size"].mean() + 10


def test_condition_on_the_label(table, trained):
    ds, _ = table
    assert trained.conditional and "label" in trained.condition_columns()
    k = ds.classes.index("big")
    x, y = trained.sample_with_labels(300, condition=k, seed=5)
    assert (y == k).all()
    x2, y2 = trained.sample_with_labels(300, condition={"label": "big"}, seed=5)
    np.testing.assert_array_equal(x, x2)
    big = ds.decode(x, y)
    small = ds.decode(*trained.sample_with_labels(300, condition=ds.classes.index("small"), seed=5))
    # the label drives the rows, not only the label column: in the real table size > 15 exactly when the
    # label is "big". Measured after 1,000 steps: 91-97% of "big" rows and 0-4% of "small" rows (seeds 0-5)
    assert (big["size"] > 15).mean() > 0.8
    assert (small["size"] > 15).mean() < 0.2


def test_bad_conditions_raise_config_error(trained):
    with pytest.raises(ConfigError, match="color, flag, label"):
        trained.sample(5, condition={"size": 3})
    with pytest.raises(ConfigError, match="levels: blue, green, red"):
        trained.sample(5, condition={"color": "purple"})
    with pytest.raises(ConfigError, match="one column at a time"):
        trained.sample(5, condition={"color": "red", "flag": True})
    with pytest.raises(ConfigError, match="class index"):
        trained.sample(5, condition=7)


def test_state_round_trip_gives_identical_samples(table, trained):
    ds, _ = table
    buf = io.BytesIO()
    torch.save(trained.state_dict(), buf)
    buf.seek(0)
    h = get_generator("ctgan")(**FAST).setup(ds, seed=123)
    h.load_state_dict(torch.load(buf, weights_only=True))
    np.testing.assert_array_equal(trained.sample(200, seed=9), h.sample(200, seed=9))
    np.testing.assert_array_equal(trained.sample(200, condition={"color": "blue"}, seed=9),
                                  h.sample(200, condition={"color": "blue"}, seed=9))


def test_plain_numeric_table_degrades_to_no_condition_vector():
    rng = np.random.default_rng(0)
    ds = Dataset(name="plain", kind="tabular", x=rng.normal(size=(200, 3)))
    g = get_generator("ctgan")(**FAST).setup(ds, seed=0)
    assert not g.use_cond_ and not g.conditional and g.condition_columns() == []
    train(g, 3)
    losses = g.train_step()
    assert np.isfinite(list(losses.values())).all() and losses["cond_ce"] == 0.0
    assert g.sample(20, seed=0).shape == (20, 3)
    with pytest.raises(ConfigError, match="without a condition"):
        g.sample(5, condition={"a": 1})


def test_pac_must_fit_in_a_batch(table):
    ds, _ = table
    with pytest.raises(ConfigError, match="pac"):
        get_generator("ctgan")(batch_size=10, pac=20).setup(ds)
