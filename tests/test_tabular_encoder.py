"""Schema inference, the reversible TabularEncoder, TabularDataset and the built-in tables."""
from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synth_core.data import Dataset, list_datasets, load_dataset
from synth_core.data.tabular import (Column, Schema, TabularDataset, TabularEncoder, infer_schema,
                                     tabular_dataset)
from synth_core.data.tabular_sets import patients_frame, sklearn_frame
from synth_core.errors import ConfigError, DataError, SynthLabError

TABLES = ["iris", "wine", "breast-cancer", "diabetes", "patients"]


def _source_frame(name: str) -> pd.DataFrame:
    """The DataFrame each built-in set was made from (rebuilt independently of the loader)."""
    if name == "patients":
        return patients_frame()
    if name == "diabetes":
        import sklearn.datasets
        return sklearn.datasets.load_diabetes(as_frame=True, scaled=False).frame.rename(
            columns={"target": "progression"})
    return sklearn_frame(name)


def _assert_respects(dec: pd.DataFrame, ref: pd.DataFrame, schema: Schema) -> None:
    """Decoded (e.g. synthetic) rows keep each column's dtype, levels, range and missingness rules."""
    for col in schema.included:
        if col.name not in dec.columns:
            continue
        d, r = dec[col.name], ref[col.name]
        assert d.dtype == r.dtype or col.type == "datetime", (col.name, d.dtype, r.dtype)
        if not r.isna().any():
            assert not d.isna().any(), col.name
        dn, rn = d.dropna(), r.dropna()
        if col.type in ("categorical", "boolean"):
            assert set(dn.tolist()) <= set(rn.tolist()), col.name
        elif len(dn):
            assert dn.min() >= rn.min() and dn.max() <= rn.max(), col.name
            if col.type == "integer":
                v = dn.to_numpy(dtype=np.float64)
                assert np.all(v == np.round(v)), col.name


# ------------------------------------------------------------------------------------------------
# built-in sets
# ------------------------------------------------------------------------------------------------
def test_tabular_sets_are_registered():
    names = {d.name for d in list_datasets("tabular")}
    assert set(TABLES) <= names


@pytest.mark.parametrize("name", TABLES)
def test_builtin_round_trip_is_exact(name):
    ds = load_dataset(name)
    assert isinstance(ds, TabularDataset) and ds.kind == "tabular" and ds.x.dtype == np.float32
    assert np.isfinite(ds.x).all() and ds.x.shape[1] == len(ds.feature_names)
    src = _source_frame(name)
    label = ds.schema.label
    pd.testing.assert_frame_equal(ds.frame(), src)  # decode(encode(df)) == df, label included
    if label is not None:
        assert ds.classes == sorted(src[label].unique().tolist())
        assert ds.decode(ds.x).columns.tolist() == [c for c in src.columns if c != label]
    else:
        assert ds.y is None
    json.dumps(ds.meta, allow_nan=False)  # schema + encoder state are plain JSON


def test_builtin_label_and_regression_conventions():
    iris = load_dataset("iris")
    assert iris.classes == ["setosa", "versicolor", "virginica"] and np.bincount(iris.y).tolist() == [50, 50, 50]
    assert "species" not in " ".join(iris.feature_names)  # the label is y, never a model input
    diabetes = load_dataset("diabetes")
    assert diabetes.y is None and diabetes.meta["task"] == "regression" and diabetes.meta["target"] == "progression"
    assert diabetes.schema["sex"].type == "categorical"


def test_patients_shows_every_feature():
    ds = load_dataset("patients")
    sch = ds.schema
    assert {c.name: c.type for c in sch.columns} == {
        "age": "integer", "sex": "categorical", "smoker": "boolean", "bmi": "continuous", "systolic_bp": "integer",
        "cholesterol": "continuous", "region": "categorical", "admitted": "datetime", "visits": "integer",
        "risk": "categorical"}
    assert sch.label == "risk" and sch["cholesterol"].encoding == "mode"
    names = ds.feature_names
    assert {"bmi.missing", "systolic_bp.missing", "region=<missing>", "cholesterol.norm", "smoker=True"} <= set(names)
    assert sum(n.startswith("cholesterol.mode") for n in names) >= 2  # bimodal: the GMM finds both modes
    assert set(ds.meta["categorical"]) >= {"bmi.missing", "region=<missing>", "sex=female"}
    frame = ds.frame()
    assert frame["bmi"].isna().sum() > 0 and frame["region"].isna().sum() > 0
    assert str(frame["admitted"].dtype).startswith("datetime64")


@pytest.mark.parametrize("name", ["patients", "wine"])
def test_decoding_random_matrices_respects_types_levels_and_ranges(name):
    ds = load_dataset(name)
    rng = np.random.default_rng(0)
    synth = rng.normal(0, 2, size=(500, ds.x.shape[1])).astype(np.float32)
    y = rng.integers(0, ds.n_classes, 500)
    dec = ds.decode(synth, y)
    assert len(dec) == 500 and list(dec.columns) == list(ds.frame().columns)
    _assert_respects(dec, ds.frame(), ds.schema)
    if name == "patients":
        assert dec["bmi"].isna().any()  # indicator > 0.5 -> NaN, as in the real data
        v = dec["bmi"].dropna().to_numpy()
        assert np.allclose(v, np.round(v, 1))  # continuous columns keep the data's decimals


def test_decode_survives_non_finite_model_output():
    ds = load_dataset("iris")
    x = np.full((3, ds.x.shape[1]), np.nan, dtype=np.float32)
    x[1] = np.inf
    dec = ds.decode(x)
    assert dec.notna().all().all()


def test_tabular_dataset_keeps_dataset_behaviour():
    ds = load_dataset("patients")
    sub = ds.subset(50, seed=1)
    assert isinstance(sub, TabularDataset) and len(sub) == 50 and sub.decode(sub.x).shape == (50, 9)
    s = ds.summary()
    assert s["samples"] == 1000 and s["classes"] == 3
    # rebuilt from plain meta alone (as after a JSON round trip)
    again = TabularDataset(name="p", kind="tabular", x=ds.x, y=ds.y, classes=ds.classes,
                           meta=json.loads(json.dumps(ds.meta)))
    pd.testing.assert_frame_equal(again.frame(), ds.frame())
    # points datasets decode exactly as before
    pts = load_dataset("ring8")
    assert type(pts) is Dataset and np.array_equal(pts.decode(pts.x[:5]), pts.x[:5])


# ------------------------------------------------------------------------------------------------
# schema
# ------------------------------------------------------------------------------------------------
def test_infer_schema_types_and_notes():
    df = pd.DataFrame({
        "f": [0.5, 1.25, np.nan, 2.0], "i": [1, 2, 3, 4], "wholefloat": [1.0, 2.0, np.nan, 4.0],
        "flag01": [0, 1, 1, 0], "b": [True, False, True, True], "txt": ["a", "b", "a", None],
        "when": ["2021-01-01", "2021-02-03", None, "2022-12-31"], "const": [7, 7, 7, 7],
    })
    sch = infer_schema(df)
    assert {c.name: c.type for c in sch.columns} == {
        "f": "continuous", "i": "integer", "wholefloat": "integer", "flag01": "boolean", "b": "boolean",
        "txt": "categorical", "when": "datetime", "const": "integer"}
    assert sch["f"].has_missing and sch["f"].n_missing == 1 and sch["txt"].levels == ["a", "b"]
    assert sch["const"].note.startswith("a single value")
    ids = pd.DataFrame({"id": [f"user{i}" for i in range(300)], "v": np.arange(300.0) / 7})
    sid = infer_schema(ids)
    assert not sid["id"].include and "ID or free text" in sid["id"].note
    assert [c.name for c in sid.features] == ["v"]


def test_schema_editing_and_serialisation():
    df = patients_frame(200)
    sch = infer_schema(df)
    edited = (sch.set_type("visits", "categorical").drop("admitted").set_label("risk")
              .set_encoding("bmi", "mode"))
    assert sch["visits"].type == "integer" and sch.label is None  # edits return a new schema
    assert edited["visits"].type == "categorical" and not edited["admitted"].include and edited.label == "risk"
    assert "admitted" not in [c.name for c in edited.features] and "risk" not in [c.name for c in edited.features]
    d = json.loads(json.dumps(edited.to_dict()))
    again = Schema.from_dict(d)
    assert again == edited
    assert edited.keep("admitted")["admitted"].include
    ds = tabular_dataset(df, "p", schema=again)
    dec = ds.frame()
    assert "admitted" not in dec.columns and dec["visits"].dtype == df["visits"].dtype
    pd.testing.assert_frame_equal(dec, df.drop(columns="admitted"), check_exact=False, rtol=1e-4)
    assert any(n.startswith("visits=") for n in ds.feature_names)
    assert edited.table().shape[0] == 10


def test_schema_errors_are_actionable():
    sch = infer_schema(patients_frame(100))
    with pytest.raises(ConfigError, match="label must be discrete"):
        sch.set_label("bmi")
    with pytest.raises(ConfigError, match="type must be one of"):
        sch.set_type("age", "text")
    with pytest.raises(ConfigError, match="no column 'nope'"):
        sch.drop("nope")
    with pytest.raises(ConfigError, match="only numeric columns"):
        sch.set_encoding("sex", "mode")
    with pytest.raises(DataError, match="duplicate column names: a"):
        Schema([Column("a", "integer"), Column("a", "integer")])
    with pytest.raises(ConfigError, match="not a valid schema"):
        Schema.from_dict({"nope": 1})


# ------------------------------------------------------------------------------------------------
# encoder
# ------------------------------------------------------------------------------------------------
def test_encoder_state_is_plain_data_and_reloads(tmp_path):
    import torch

    df = patients_frame(300)
    enc = TabularEncoder(infer_schema(df, label="risk").set_encoding("cholesterol", "mode")).fit(df)
    state = enc.state_dict()
    json.dumps(state, allow_nan=False)
    torch.save({"encoder": state}, tmp_path / "ckpt.pt")
    loaded = torch.load(tmp_path / "ckpt.pt", weights_only=True)["encoder"]
    enc2 = TabularEncoder.from_state(loaded)
    x = enc.transform(df)
    assert enc2.feature_names == enc.feature_names
    np.testing.assert_array_equal(enc2.transform(df), x)
    pd.testing.assert_frame_equal(enc2.inverse_transform(x, enc2.transform_labels(df)), df)
    assert {s["column"] for s in enc.spans} == set(df.columns) - {"risk"}
    with pytest.raises(ConfigError, match="not a tabular encoder state"):
        TabularEncoder.from_state({"format": "other"})


def test_mode_specific_normalisation_finds_modes_and_inverts():
    rng = np.random.default_rng(0)
    v = np.concatenate([rng.normal(-5, 0.3, 300), rng.normal(4, 1.0, 300)])
    df = pd.DataFrame({"v": v, "k": rng.integers(0, 1000, 600)})
    sch = infer_schema(df).set_encoding("v", "mode").set_encoding("k", "mode")
    enc = TabularEncoder(sch).fit(df)
    st_v = enc.state_dict()["columns"][0]
    mus = sorted(st_v["modes"]["mu"])
    assert len(mus) >= 2 and mus[0] == pytest.approx(-5, abs=0.3) and mus[-1] == pytest.approx(4, abs=0.5)
    x = enc.transform(df)
    assert enc.feature_names[0] == "v.norm" and x[:, 1:1 + len(mus)].sum(1).tolist() == [1.0] * 600
    back = enc.inverse_transform(x)
    np.testing.assert_allclose(back["v"], v, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(back["k"], df["k"])


def test_encoder_errors_are_specific():
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0], "c": ["x", "y", "x"], "lab": ["u", "u", "u"]})
    with pytest.raises(DataError, match=r"typed continuous but 3 value\(s\) are not numbers \(e.g. 'x'\)"):
        TabularEncoder(infer_schema(df).set_type("c", "continuous")).fit(df)
    with pytest.raises(DataError, match="typed boolean but has the value 'x'"):
        TabularEncoder(infer_schema(df).set_type("c", "boolean")).fit(df)
    with pytest.raises(DataError, match=r"single class \('u'\)"):
        tabular_dataset(df, "t", label="lab")
    enc = TabularEncoder(infer_schema(df)).fit(df)
    with pytest.raises(DataError, match="value 'z', which was not seen"):
        enc.transform(pd.DataFrame({"a": [1.0], "c": ["z"], "lab": ["u"]}))
    with pytest.raises(DataError, match="has missing values, but the encoder was fitted"):
        enc.transform(pd.DataFrame({"a": [np.nan], "c": ["x"], "lab": ["u"]}))
    with pytest.raises(DataError, match="lacks column"):
        enc.transform(df[["a"]])
    with pytest.raises(DataError, match="expected rows of"):
        enc.inverse_transform(np.zeros((2, 99)))
    many = pd.DataFrame({"c": [f"v{i}" for i in range(1500)]})
    with pytest.raises(DataError, match="one-hot encoding allows at most 1,000"):
        TabularEncoder(infer_schema(many).keep("c")).fit(many)
    with pytest.raises(DataError, match="infinite values"):
        TabularEncoder(infer_schema(df)).fit(df.assign(a=[1.0, np.inf, 2.0]))
    assert issubclass(DataError, SynthLabError)


def test_boolean_and_category_dtypes_round_trip():
    df = pd.DataFrame({
        "nb": pd.array([True, None, False, True], dtype="boolean"),
        "ob": pd.Series([True, np.nan, False, False], dtype=object),
        "cat": pd.Categorical(["lo", "hi", None, "lo"], categories=["lo", "mid", "hi"], ordered=True),
        "ni": pd.array([1, None, 3, 40], dtype="Int64"),
        "tz": pd.to_datetime(["2021-01-01 10:00", None, "2021-06-01 12:30", "2022-01-01"],
                             format="ISO8601").tz_localize("Europe/Paris"),
    })
    ds = tabular_dataset(df, "t")
    pd.testing.assert_frame_equal(ds.frame(), df)


# ------------------------------------------------------------------------------------------------
# property-based round trip
# ------------------------------------------------------------------------------------------------
_TYPES = ["continuous", "integer", "categorical", "boolean", "datetime"]


@st.composite
def frames(draw) -> tuple[pd.DataFrame, dict[str, str]]:
    n = draw(st.integers(2, 40))
    k = draw(st.integers(1, 5))
    cols: dict[str, pd.Series] = {}
    modes: dict[str, str] = {}
    for j in range(k):
        kind = draw(st.sampled_from(_TYPES))
        missing = draw(st.booleans())
        name = f"{kind[:3]}{j}"

        def values(elem):
            return draw(st.lists(elem | st.none() if missing else elem, min_size=n, max_size=n))

        if kind == "continuous":
            vals = values(st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False))
            cols[name] = pd.Series([np.nan if v is None else v for v in vals], dtype=np.float64)
            if draw(st.booleans()):
                modes[name] = "mode"
        elif kind == "integer":
            vals = values(st.integers(-10**6, 10**6))
            cols[name] = (pd.Series([np.nan if v is None else v for v in vals], dtype=np.float64) if missing
                          else pd.Series(vals, dtype=np.int64))
        elif kind == "categorical":
            vals = values(st.sampled_from(["a", "b", "Zürich", "", "x y", "1"]))
            cols[name] = pd.Series(vals, dtype="str")
        elif kind == "boolean":
            vals = values(st.booleans())
            # an object column of True/False/NaN is what pandas reads from a CSV with gaps
            cols[name] = (pd.Series([np.nan if v is None else v for v in vals], dtype=object) if missing
                          else pd.Series(vals, dtype=bool))
        else:
            vals = values(st.datetimes(min_value=pd.Timestamp("1990-01-01").to_pydatetime(),
                                       max_value=pd.Timestamp("2030-01-01").to_pydatetime()))
            cols[name] = pd.Series(pd.to_datetime(vals))
    return pd.DataFrame(cols), modes


# database=None: no .hypothesis/ example folder written into the repository
@settings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames(), st.integers(0, 2**16))
@pytest.mark.slow
def test_property_round_trip_and_synthetic_decode(case, seed):
    df, modes = case
    sch = infer_schema(df)
    for name, enc in modes.items():
        if sch[name].type in ("continuous", "integer"):
            sch = sch.set_encoding(name, enc)
    ds = tabular_dataset(df, "h", schema=sch)
    assert ds.x.dtype == np.float32 and np.isfinite(ds.x).all()
    dec = ds.frame()
    # NaN positions, dtypes and levels are exact; quantile-encoded values too (every value is a knot)
    mode_cols = [c.name for c in sch.features if c.encoding == "mode" and c.type in ("continuous", "integer")]
    pd.testing.assert_frame_equal(dec.drop(columns=mode_cols), df.drop(columns=mode_cols),
                                  check_exact=False, rtol=1e-9)
    for c in df.columns:
        np.testing.assert_array_equal(dec[c].isna().to_numpy(), df[c].isna().to_numpy())
    # mode-specific values go through a float32 (v - mu) / (4 sigma): exact up to ~1e-7 of the mode's
    # width, which decimal/integer rounding can turn into one rounding step
    states = {s["name"]: s for s in ds.meta["encoder"]["columns"]}
    for c in mode_cols:
        stc = states[c]
        if stc["min"] is None:  # all missing: nothing but NaN to compare (checked above)
            continue
        a, b = dec[c].dropna().to_numpy(float), df[c].dropna().to_numpy(float)
        step = 1.0 if stc["type"] == "integer" else (10.0 ** -stc["decimals"] if stc["decimals"] is not None else 0)
        assert dec[c].dtype == df[c].dtype
        assert np.all(np.abs(a - b) <= 1e-6 * (stc["max"] - stc["min"]) + step + 1e-9), c
    # random model output decodes into the same types, levels and ranges
    rng = np.random.default_rng(seed)
    synth = ds.decode(rng.normal(0, 3, size=(64, ds.x.shape[1])).astype(np.float32))
    _assert_respects(synth, df, sch)
    # and the state survives JSON
    again = TabularEncoder.from_state(json.loads(json.dumps(ds.meta["encoder"])))
    pd.testing.assert_frame_equal(again.inverse_transform(ds.x), dec)


def test_csv_text_round_trip_of_decoded_frame():
    """A decoded table writes to CSV like the original (what the export button will do)."""
    ds = load_dataset("patients")
    a = io.StringIO()
    ds.frame().to_csv(a, index=False)
    b = io.StringIO()
    patients_frame().to_csv(b, index=False)
    assert a.getvalue() == b.getvalue()
