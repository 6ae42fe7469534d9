"""Typed table columns: the encoder's ColumnSpec descriptors, the one rule that matches a person's value
to a level, and that CTGAN/TVAE's layout and the conditional sampler read the same descriptors."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from synth_core.data import load_dataset
from synth_core.data.base import Dataset
from synth_core.data.table_columns import ColumnSpec
from synth_core.data.tabular import TabularDataset, TabularEncoder, tabular_dataset
from synth_core.errors import ConfigError
from synth_core.generators.tabular_nets import TabularLayout
from synth_core.train.conditional import condition_columns


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(0)
    n = 200
    df = pd.DataFrame({
        "color": rng.choice(["red", "green", "Blue"], n),
        "size": rng.normal(size=n),
        "kids": rng.integers(0, 3, n).astype(float),
        "flag": rng.random(n) < 0.4,
        "note": pd.Series(rng.choice(["a", "b", None], n), dtype=object),
        "label": rng.choice(["lo", "hi"], n),
    })
    df.loc[::7, "size"] = np.nan
    return df, tabular_dataset(df, "t", label="label")


def test_descriptors_cover_the_matrix_in_order(table):
    df, ds = table
    specs = ds.column_specs
    assert [s.name for s in specs] == ["color", "size", "kids", "flag", "note"]
    assert specs[0].start == 0 and specs[-1].stop == ds.n_features
    assert all(a.stop == b.start for a, b in zip(specs, specs[1:]))  # contiguous, no gaps
    by = {s.name: s for s in specs}
    assert by["color"].kind == "categorical" and by["color"].levels == ("Blue", "green", "red")
    assert by["color"].span == slice(by["color"].start, by["color"].stop) and by["color"].width == 3
    assert by["flag"].kind == "boolean" and by["flag"].levels == (False, True)
    assert by["note"].has_missing and by["note"].n_levels == 3 and by["note"].level_values()[-1] is None
    assert by["size"].is_numeric and by["size"].has_missing and by["size"].width == 2  # value + missing flag
    assert by["size"].dtype == str(df["size"].dtype)
    lab = ds.label_spec
    assert lab is not None and lab.is_label and lab.span is None and lab.levels == ("hi", "lo")
    assert lab.width == ds.n_classes
    # the same descriptors come back from the saved (JSON) encoder state
    again = TabularEncoder.from_state(json.loads(json.dumps(ds.meta["encoder"])))
    assert again.column_specs == specs and again.label_spec == lab
    rebuilt = TabularDataset(name="t", kind="tabular", x=ds.x, y=ds.y, classes=ds.classes,
                             meta=json.loads(json.dumps(ds.meta)))
    assert rebuilt.column_specs == specs


def test_plain_data_has_no_descriptors():
    ds = Dataset(name="plain", kind="tabular", x=np.zeros((4, 2)))
    assert ds.column_specs == () and ds.label_spec is None and ds.schema is None
    assert load_dataset("ring8").column_specs == ()


@pytest.mark.parametrize("value, index", [
    ("red", 2), ("RED", 2), (" red ", 2), ("Blue", 0), ("blue", 0),  # text, case-folded when unique
])
def test_one_rule_for_text_levels(table, value, index):
    color = table[1].column_specs[0]
    assert color.level_index(value) == index


def test_one_rule_for_numbers_booleans_and_missing(table):
    ds = table[1]
    by = {s.name: s for s in ds.column_specs}
    kids = ColumnSpec("kids", "categorical", levels=(0.0, 1.0, 2.0))
    assert kids.level_index(2.0) == 2 and kids.level_index(2) == 2 and kids.level_index("2") == 2
    assert kids.level_index("2.00") == 2 and kids.level(np.float64(1.0)) == 1.0
    flag = by["flag"]
    for v, k in (("yes", 1), ("No", 0), ("true", 1), ("F", 0), (True, 1), (False, 0), (1, 1), (0, 0),
                 (np.bool_(True), 1)):
        assert flag.level_index(v) == k, v
    assert flag.level("y") is True
    note = by["note"]
    for v in (None, math.nan, "<missing>", "NA", "none", ""):
        assert note.level_index(v) == 2 and note.level(v) is None, v
    with pytest.raises(ConfigError, match="no level 'purple'"):
        by["color"].level_index("purple")
    with pytest.raises(ConfigError, match="no missing values"):
        by["color"].level_index(None)
    with pytest.raises(ConfigError, match="no level 'maybe'"):
        flag.level_index("maybe")
    # same value and type wins over equal text: the level 1 (int) for 1, the level "1" for "1"
    mixed = ColumnSpec("m", "categorical", levels=(1, "1"))
    assert mixed.level_index(1) == 0 and mixed.level_index("1") == 1


def test_layout_and_conditions_read_the_same_descriptors(table):
    ds = table[1]
    lay = TabularLayout.from_dataset(ds)
    cond = condition_columns(ds)
    assert [c.spec for c in lay.discrete] == [*(s for s in ds.column_specs if s.is_discrete), ds.label_spec]
    assert list(cond.values()) == [c.spec for c in lay.discrete]
    for i, c in enumerate(lay.discrete):  # CTGAN's and the sampler's level matching agree by construction
        for v in c.spec.level_values():
            assert lay.level_index(i, v) == cond[str(c.name)].level_index(v)


def test_meta_saved_before_the_typed_fields_still_loads(table):
    _df, ds = table
    old = json.loads(json.dumps(ds.meta))
    old.update(warnings=["dropped 1 column(s) with no values at all: 'e'."], spans=ds.encoder.spans)
    again = TabularDataset(name="t", kind="tabular", x=ds.x, y=ds.y, classes=ds.classes, meta=old)
    assert again.warnings == old["warnings"] and "warnings" not in again.meta
    assert again.column_specs == ds.column_specs and again.label_spec == ds.label_spec
    view = Dataset(name="v", kind="tabular", x=np.zeros((3, 4)), meta={"view": "frequency", "discrete": [0, 2]})
    assert view.discrete == (0, 2) and view.meta == {"view": "frequency"}
