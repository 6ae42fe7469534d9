"""Conditional sampling: parse_where, sample_where (native and rejection), the CLI --where flag and the
Compare page's "Generate rows where ..." expander."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synth_core.cli import main
from synth_core.data import load_dataset
from synth_core.data.base import Dataset
from synth_core.errors import ConfigError
from synth_core.generators import get_generator
from synth_core.train.conditional import matches, parse_where, sample_where, sample_where_labelled

from .conftest import stat_seed
from .test_gen_ctgan import train

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture(scope="module")
def patients():
    return load_dataset("patients")


@pytest.fixture(scope="module")
def copula(patients):
    g = get_generator("copula")().setup(patients, seed=0)
    g.train_step()
    return g


# ---- parse_where ---------------------------------------------------------------------------------
def test_parse_where_types_values_per_column(patients):
    assert parse_where("sex=female", patients) == {"sex": "female"}
    assert parse_where(" sex = male ,  smoker=yes", patients) == {"sex": "male", "smoker": True}
    assert parse_where("smoker=false, region='west'", patients) == {"smoker": False, "region": "west"}
    assert parse_where("REGION=<missing>", patients) == {"region": None}  # the missing level
    assert parse_where("risk=High", patients) == {"risk": "high"}  # the label; case-insensitive level
    diabetes = load_dataset("diabetes")
    assert parse_where("sex=2", diabetes) == {"sex": 2.0}  # numbers match numeric levels


@pytest.mark.parametrize("text,pattern", [
    ("nope=1", r"no column 'nope'.*sex, smoker, region, risk"),
    ("age=40", r"'age' is integer.*sex, smoker, region, risk"),
    ("sex=F", r"no level 'F'; levels: female, male"),
    ("smoker=maybe", r"no level 'maybe'"),
    ("sex", r"column=value"),
    ("  ", r"column=value"),
    ("sex=female, sex=male", r"appears twice"),
])
def test_parse_where_errors_name_the_choices(patients, text, pattern):
    with pytest.raises(ConfigError, match=pattern):
        parse_where(text, patients)


def test_parse_where_needs_a_table_with_columns():
    ds = Dataset(name="plain", kind="tabular", x=np.zeros((20, 2)))
    with pytest.raises(ConfigError, match="named columns"):
        parse_where("a=1", ds)


# ---- sample_where ----------------------------------------------------------------------------------
@pytest.mark.slow
def test_rejection_sampling_on_copula_is_exact_and_seeded(patients, copula):
    where = parse_where("sex=female, region=west", patients)
    x = sample_where(copula, patients, 300, where, seed=1)
    assert x.shape == (300, patients.x.shape[1])
    df = patients.decode(x)
    assert (df.sex == "female").all() and (df.region == "west").all()
    assert matches(x, None, patients, where).all()
    np.testing.assert_array_equal(x, sample_where(copula, patients, 300, "sex=female, region=west", seed=1))
    # the other columns still vary like the model's samples do
    assert df.age.nunique() > 20


def test_rejection_on_the_missing_level(patients, copula):
    df = patients.decode(sample_where(copula, patients, 50, "region=<missing>", seed=0))
    assert df.region.isna().all()


def test_infeasible_condition_raises_a_clear_error(patients, copula):
    # region=west & smoker & male is ~1.5% of rows: 1,000 of them cannot come from 2,000 draws
    with pytest.raises(ConfigError, match=r"only [\d,]+ of 2,000 samples had .*1,000 were asked for"):
        sample_where(copula, patients, 1000, "region=west, smoker=yes, sex=male", max_tries=2000)


def test_label_conditions_filter_the_label_an_unconditional_model_generates(patients, copula):
    """The copula models the label jointly (frequency view), so rows can be filtered on it."""
    x, y = sample_where_labelled(copula, patients, 30, "risk=high", seed=0)
    assert (patients.decode(x, y).risk == "high").all()


def test_label_conditions_need_a_generator_that_produces_labels(patients, copula):
    """A checkpoint from before the frequency view has no label column to filter on: a clear error."""
    state = copula.state_dict()
    del state["tabular_view"]
    old = get_generator("copula")().setup(patients, seed=0)
    old.load_state_dict(state)
    assert old.view_ is None and not old.produces_labels
    with pytest.raises(ConfigError, match="does not generate the label column 'risk'"):
        sample_where(old, patients, 10, "risk=high")


def test_conditional_generator_uses_its_label(patients):
    g = get_generator("cgan")(batch_size=32, width=16).setup(patients, seed=0)
    train(g, 2)
    x, y = sample_where_labelled(g, patients, 40, "risk=low", seed=0)
    assert (y == patients.classes.index("low")).all()
    assert (patients.decode(x, y).risk == "low").all()


def short_run(name: str, patients: Dataset, seed: int):
    """CTGAN or TVAE after 20 steps on patients: the rejection tests need them to produce the asked-for
    values often enough (bench/margins.py conditional measures how often)."""
    params = dict(width=32, batch_size=100) if name == "ctgan" else dict(width=32, batch_size=100, z_dim=8)
    return train(get_generator(name)(**params).setup(patients, seed=seed), 20)


def test_ctgan_native_condition_plus_rejection(patients):
    g = short_run("ctgan", patients, stat_seed(0))
    x, y = sample_where_labelled(g, patients, 100, "risk=low, sex=female", seed=3)
    df = patients.decode(x, y)
    assert (df.risk == "low").all() and (df.sex == "female").all()


def test_tvae_filters_on_its_generated_labels(patients):
    g = short_run("tvae", patients, stat_seed(0))
    x, y = sample_where_labelled(g, patients, 50, "risk=medium", seed=0)
    assert (patients.decode(x, y).risk == "medium").all()


# ---- front ends ------------------------------------------------------------------------------------
def _train_copula_run(capsys) -> Path:
    from synth_core.train import runs_root

    assert main(["train", "-d", "patients", "-g", "copula", "--out", str(runs_root())]) == 0
    rid = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["run_id"]
    return runs_root() / rid


def test_cli_where_writes_only_matching_rows(tmp_path, capsys):
    run = _train_copula_run(capsys)
    out = tmp_path / "f.csv"
    assert main(["sample", str(run), "-n", "120", "--where", "sex=female, smoker=yes", "-o", str(out)]) == 0
    df = pd.read_csv(out)
    assert len(df) == 120 and set(df.sex) == {"female"} and set(df.smoker) == {True}
    assert main(["sample", str(run), "-n", "5", "--where", "sex=F", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: column 'sex' has no level 'F'") and "Traceback" not in err


@pytest.mark.slow
def test_compare_page_generates_rows_where(capsys):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from synth_core.train import get_manager

    _train_copula_run(capsys)
    st.cache_resource.clear()
    st.cache_data.clear()
    at = AppTest.from_file(APP, default_timeout=120)
    try:
        at.run()
        at.switch_page("pages/compare.py").run()
        assert not at.exception, [e.message for e in at.exception]
        at.text_input(key="compare_where").set_value("region=west")
        at.number_input(key="compare_where_n").set_value(40)
        at.button(key="compare_where_go").click().run()
        assert not at.exception and not at.error, [e.value for e in at.error]
        frames = [d.value for d in at.dataframe]
        assert any("region" in f.columns and len(f) == 40 and (f.region == "west").all() for f in frames)
        assert any(b.proto.label == "Download CSV" for b in at.get("download_button"))
        at.text_input(key="compare_where").set_value("age=40")
        at.button(key="compare_where_go").click().run()
        assert any("'age' is integer" in e.value for e in at.error)
    finally:
        get_manager().stop_all()
