"""Independent-marginals baseline: marginals match, dependence is lost, rules hold on every row,
and the rule language refuses anything outside its whitelist."""
from __future__ import annotations

import numpy as np
import pytest

from synth_core.data import Dataset
from synth_core.errors import ConfigError
from synth_core.generators import get_generator
from synth_core.generators.rules import parse_rules

from .conftest import stat_seed, tiny_tabular


def _table(n: int = 2000, seed: int = 0) -> Dataset:
    """Two correlated continuous columns and an integer column with 4 levels."""
    rng = np.random.default_rng(seed)
    a = rng.normal(5.0, 2.0, n)
    b = 0.8 * a + rng.normal(0, 1.0, n)
    k = rng.choice([0, 1, 2, 3], size=n, p=[0.1, 0.2, 0.3, 0.4])
    return Dataset(name="t", kind="tabular", x=np.stack([a, b, k], 1), feature_names=["a", "b", "kids"])


def _fit(ds: Dataset, **params):
    g = get_generator("marginals")(**params).setup(ds, seed=stat_seed(0))
    g.train_step()
    return g


def test_marginals_match_and_dependence_is_lost():
    ds = _table()
    s = _fit(ds).sample(4000, seed=stat_seed(1)).astype(np.float64)
    x = ds.x.astype(np.float64)
    np.testing.assert_allclose(s[:, :2].mean(0), x[:, :2].mean(0), atol=0.1)
    np.testing.assert_allclose(s[:, :2].std(0), x[:, :2].std(0), rtol=0.05)
    # The integer column is sampled as categories: only observed values, at their frequencies.
    assert set(np.unique(s[:, 2])) <= {0.0, 1.0, 2.0, 3.0}
    freq = np.bincount(s[:, 2].astype(int), minlength=4) / len(s)
    np.testing.assert_allclose(freq, [0.1, 0.2, 0.3, 0.4], atol=0.03)
    # Independent sampling: the real correlation (~0.85) is gone.
    assert np.corrcoef(x[:, 0], x[:, 1])[0, 1] > 0.8
    assert abs(np.corrcoef(s[:, 0], s[:, 1])[0, 1]) < 0.06


def test_histogram_method():
    ds = _table()
    s = _fit(ds, method="histogram", bins=30).sample(3000, seed=stat_seed(0))
    assert abs(s[:, 0].mean() - ds.x[:, 0].mean()) < 0.15


@pytest.mark.parametrize("mode", ["resample", "clip"])
def test_rules_hold_on_every_row(mode):
    ds = _table()
    rules = "a in [4, 6]   # range\nkids in {1, 3}\nb = a * 2 + kids - abs(-1) + sqrt(4) ** 2 / 2"
    g = _fit(ds, rules=rules, range_mode=mode)
    s = g.sample(3000, seed=stat_seed(2)).astype(np.float64)
    a, b, k = s.T
    assert ((a >= 4) & (a <= 6)).all()
    assert set(np.unique(k)) == {1.0, 3.0}
    np.testing.assert_allclose(b, a * 2 + k - 1 + 2, rtol=1e-5, atol=1e-4)
    if mode == "resample":  # truncated marginal: no pile-up at the bounds
        assert (a == 4).mean() < 0.01 and (a == 6).mean() < 0.01
    else:
        assert (a == 4).mean() > 0.05
    # Choices keep the observed relative frequencies (0.2 : 0.4).
    assert 0.28 < (k == 1).mean() < 0.39


def test_constraint_on_formula_output_and_functions():
    ds = tiny_tabular()
    rules = "c = max(a, b) + log(exp(1)) - min(a, b, 0) + clip(a, -1, 1)\nc in [0, 3]"
    s = _fit(ds, rules=rules).sample(2000, seed=stat_seed(0)).astype(np.float64)
    a, b, c = s.T
    assert ((c >= 0) & (c <= 3)).all()
    ok = (c > 0) & (c < 3)  # rows not needing the final clip follow the formula exactly
    expect = np.maximum(a, b) + 1 - np.minimum.reduce([a, b, np.zeros_like(a)]) + np.clip(a, -1, 1)
    np.testing.assert_allclose(c[ok], expect[ok], rtol=1e-4, atol=1e-4)
    assert ok.mean() > 0.9  # rejection redraws rows, so clipping is rare


def test_parse_rules_accepts_the_grammar():
    rules = parse_rules("# comment\n\na in [-1.5, 2e1]\nb in {1, 2, 3}\nc = -a ** 2 / 4", ["a", "b", "c"])
    assert [r.kind for r in rules] == ["range", "choices", "formula"]
    assert rules[0].low == -1.5 and rules[0].high == 20.0 and rules[1].choices == (1.0, 2.0, 3.0)
    # Column names that are not identifiers are written with underscores.
    assert parse_rules("petal_length_cm in [0, 1]", ["petal length (cm)"])[0].column == 0


@pytest.mark.parametrize("text,fragment", [
    ("__import__('os')", "line 1"),
    ("a = __import__('os').system('echo hi')", "not allowed"),
    ("a in [0, 1]\nb = a.__class__", "line 2"),
    ("a = b[0]", "not allowed"),
    ("a = (lambda: 1)()", "not allowed"),
    ("a = 'text'", "not a number"),
    ("a = open('x')", "not allowed"),
    ("a = b if b else c", "not allowed"),
    ("a = zzz + 1", "unknown column"),
    ("a = a + 1", "itself"),
    ("a in [3, 1]", "empty"),
    ("a in [b, 1]", "must be numbers"),
    ("a in [1, 2, 3]", "exactly two"),
    ("a in [0, 1]\na in {1}", "already has"),
    ("b = a\na = c", "later"),
    ("a = log(b, c)", "arguments"),
    ("a = max(b, key=c)", "not allowed"),
    ("a in (0, 1)", "range"),
    ("a = 1; b = 2", "one rule per line"),
    ("a = (" * 300 + "1" + ")" * 300, "characters"),
    ("a =", "not a valid rule"),
    ("a == 1", "not a rule"),
    ("a = 2 ** 3 ** 1000\na in [1, 10 ** 400]", "line 2"),
])
def test_bad_rules_are_refused_with_the_line(text, fragment):
    with pytest.raises(ConfigError, match="(?s)" + fragment.replace("(", r"\(")):
        parse_rules(text, ["a", "b", "c"])


def test_bad_rule_fails_at_setup():
    with pytest.raises(ConfigError, match="line 1"):
        get_generator("marginals")(rules="import os").setup(tiny_tabular(), seed=0)
