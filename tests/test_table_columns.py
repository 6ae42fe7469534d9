"""Tables: what goes in must come out (issue 13, part 2).

* every generator that supports tables reproduces each categorical column's level shares (a rare
  level included) and the label's class shares in its decoded samples (the adversarial ones that
  mode-collapse are listed in NOT_SHARE_FAITHFUL with what was measured);
* every export path - the download builders, ``synthlab sample -o x.csv`` and Compare - gives exactly
  the user's columns, in the user's order and dtypes, the label included;
* a column made boolean decodes to the file's own values (Yes/No), not 0.0/1.0;
* a table whose only other column is empty trains (the empty column is dropped with a warning).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synth_core.data.tabular import infer_schema, tabular_dataset
from synth_core.generators import get_generator, list_generators

TABULAR = [g.name for g in list_generators("tabular")]


def rare_level_frame(n: int = 800, seed: int = 0) -> pd.DataFrame:
    """Two numbers, a 4-level ``day`` with ``Fri`` at ~8%, a Yes/No ``smoker`` and a 2-class label ``time``."""
    rng = np.random.default_rng(seed)
    day = rng.choice(["Thur", "Fri", "Sat", "Sun"], n, p=[0.25, 0.08, 0.36, 0.31])
    time_ = np.where(day == "Thur", np.where(rng.random(n) < 0.9, "Lunch", "Dinner"),
                     np.where(rng.random(n) < 0.1, "Lunch", "Dinner"))
    bill = np.round(rng.gamma(4.0, 4.0, n) + 3, 2)
    return pd.DataFrame({"total_bill": bill, "tip": np.round(bill * rng.normal(0.16, 0.04, n).clip(0.02), 2),
                         "smoker": rng.choice(["No", "Yes"], n, p=[0.62, 0.38]), "day": day, "time": time_})


def rare_level_dataset(n: int = 800, seed: int = 0):
    df = rare_level_frame(n, seed)
    schema = infer_schema(df, label="time").set_type("smoker", "boolean")  # as in the schema editor
    return tabular_dataset(df, "rare", schema=schema), df


def shares(s: pd.Series) -> pd.Series:
    return s.astype("string").fillna("<missing>").value_counts(normalize=True)


# ----------------------------------------------------------------------------------------------
# 1. Level shares survive sampling, for every generator that supports tables
# ----------------------------------------------------------------------------------------------
#: (steps, tolerance on |real share - synthetic share| for every level of smoker, day and time).
#: 20,000 synthetic rows (DDPM 5,000), so sampling noise is <= 0.004 (0.007) per share; what is left
#: is how well the model learnt the 800 training rows. Worst gap measured over seeds 0-2 x torch threads 1 and 2
#: (identical across threads), and the margin tolerance / worst:
#: marginals 0.007 (2.9x), copula 0.005 (4.0x), gaussian 0.012 (2.5x), kde 0.007 (2.9x), gmm 0.014
#: (2.1x), mcmc 0.014 (2.1x), realnvp 0.028 (2.1x), ddpm 0.023 (2.1x), vae 0.062 (1.6x), cvae 0.028
#: (2.1x), tvae 0.022 (2.3x), ctgan 0.057 (1.8x). The VAE's decoder noise blurs each frequency-encoded
#: column (its share gaps shrink with steps: 0.074 at 200, 0.062 at 500).
SHARE_CASES: dict[str, tuple[int, float]] = {
    "marginals": (1, 0.02), "copula": (1, 0.02), "gaussian": (1, 0.03), "kde": (1, 0.02),
    "gmm": (200, 0.03), "mcmc": (200, 0.03), "realnvp": (300, 0.06), "ddpm": (400, 0.05),
    "vae": (500, 0.10), "cvae": (500, 0.06), "tvae": (400, 0.05), "ctgan": (400, 0.10),
}
#: Adversarial models without CTGAN's per-column heads mode-collapse on this table whatever the
#: encoding (one-hot before the frequency view: gaps 0.7-1.0; with it, measured on seed 0: gan 0.61 at
#: 1,000 steps and 0.42 at 3,000, cgan 0.34-0.64 over 1,500-3,000 steps, wgan_gp 0.24 at 500). A share
#: test for them would need a tolerance that proves nothing: they are listed, not hidden.
NOT_SHARE_FAITHFUL: dict[str, str] = {
    "gan": "mode collapse (the teaching baseline: shown next to WGAN-GP for exactly this)",
    "cgan": "mode collapse within each class",
    "wgan_gp": "needs thousands of 5-critic steps (~0.1 s each on CPU) to spread over the levels",
}


#: synthetic rows scored per model: DDPM's 1,000-step sampler makes 20,000 rows cost ~30 CPU s
SAMPLED = {"ddpm": 5_000}
#: the neural models take 5-30 CPU s each to train here (~2 min together): in the slow set
SLOW_SHARES = {"realnvp", "ddpm", "vae", "tvae", "ctgan"}


def _share_gap(name: str, steps: int, seed: int) -> tuple[float, str]:
    from synth_core.train.export import synthetic_frame

    from .conftest import stat_seed

    ds, df = rare_level_dataset()
    cls = get_generator(name)
    g = cls().setup(ds, seed=stat_seed(seed))
    for _ in range(1 if cls.closed_form else steps):
        g.train_step()
    syn = synthetic_frame(g, ds, SAMPLED.get(name, 20_000), seed=stat_seed(seed))
    assert list(syn.columns) == list(df.columns)
    worst, where = 0.0, ""
    for c in ("smoker", "day", "time"):
        r, s = shares(df[c]), shares(syn[c])
        for k in r.index.union(s.index):
            gap = abs(float(r.get(k, 0.0)) - float(s.get(k, 0.0)))
            if gap > worst:
                worst, where = gap, f"{c}={k}: real {float(r.get(k, 0.0)):.3f}, synthetic {float(s.get(k, 0.0)):.3f}"
    return worst, where


def test_share_cases_cover_every_tabular_generator():
    assert set(SHARE_CASES) | set(NOT_SHARE_FAITHFUL) == set(TABULAR)
    assert not set(SHARE_CASES) & set(NOT_SHARE_FAITHFUL)


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW_SHARES else n
                                  for n in sorted(SHARE_CASES)])
@pytest.mark.slow
def test_generator_reproduces_level_shares(name):
    """A rare level (day=Fri, 8%), a Yes/No boolean and the label keep their shares in decoded samples."""
    steps, tol = SHARE_CASES[name]
    gap, where = _share_gap(name, steps, seed=0)
    assert gap <= tol, f"{name}: {where} (gap {gap:.3f} > {tol})"


# ----------------------------------------------------------------------------------------------
# 2. Every export and view has exactly the user's columns, order and dtypes - the label included
# ----------------------------------------------------------------------------------------------
def _csv_bytes(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False).encode()


def _upload_rare(tmp_path):
    """The rare-level table as a CSV upload with the schema editor's edits (label time, smoker boolean)."""
    from synth_core.data import load_dataset
    from synth_core.data.user_data import preview_table, save_upload

    df = rare_level_frame(300)
    data = _csv_bytes(df)
    pv = preview_table("tips.csv", data)
    schema = pv.schema.set_type("smoker", "boolean").set_label("time")
    info = save_upload("tips.csv", data, {"schema": schema.to_dict(), "label": "time"})
    path = tmp_path / "tips.csv"
    path.write_bytes(data)
    return load_dataset(info.name), pd.read_csv(path), path, info.name


@pytest.mark.parametrize("name", TABULAR)
@pytest.mark.slow
def test_download_and_cli_sample_keep_the_users_columns(name, tmp_path, capsys):
    import json

    from synth_core.cli import main
    from synth_core.train import runs_root
    from synth_core.train.export import build_csv, generator_sampler, synthetic_frame

    ds, original, _path, ds_name = _upload_rare(tmp_path)
    real = ds.frame()
    g = get_generator(name)().setup(ds, seed=0)
    g.train_step()
    frame = synthetic_frame(g, ds, 50, seed=1)
    assert list(frame.columns) == list(original.columns) == ["total_bill", "tip", "smoker", "day", "time"]
    assert frame.dtypes.to_dict() == real.dtypes.to_dict()
    assert set(frame["smoker"]) <= {"Yes", "No"} and set(frame["time"]) <= {"Lunch", "Dinner"}
    # the download panel's CSV reads back like the user's own file
    dl = pd.read_csv(pd.io.common.BytesIO(build_csv(generator_sampler(g, ds, seed=2), 40, ds, chunk=15)))
    assert list(dl.columns) == list(original.columns) and len(dl) == 40
    assert dl.dtypes.to_dict() == original.dtypes.to_dict()
    # synthlab sample -o x.csv: the same columns, label included
    assert main(["train", "-d", ds_name, "-g", name, "--steps", "1", "--out", str(runs_root())]) == 0
    rid = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["run_id"]
    out = tmp_path / "x.csv"
    assert main(["sample", str(runs_root() / rid), "-n", "30", "-o", str(out)]) == 0
    cli = pd.read_csv(out)
    assert list(cli.columns) == list(original.columns) and len(cli) == 30
    assert cli.dtypes.to_dict() == original.dtypes.to_dict()
    assert set(cli["time"]) <= {"Lunch", "Dinner"} and set(cli["smoker"]) <= {"Yes", "No"}


def test_compare_page_synthetic_rows_have_the_users_columns(app, tmp_path, capsys):
    import json

    from synth_core.cli import main
    from synth_core.train import runs_root

    _ds, original, _path, ds_name = _upload_rare(tmp_path)
    assert main(["train", "-d", ds_name, "-g", "copula", "--out", str(runs_root())]) == 0
    capsys.readouterr()
    at = app.run()
    at.switch_page("pages/compare.py").run()
    assert not at.exception, [e.message for e in at.exception]
    frames = [d.value for d in at.dataframe]
    tables = [f for f in frames if "day" in f.columns]
    assert len(tables) >= 2  # real rows and synthetic rows
    for f in tables:
        assert list(f.columns) == list(original.columns)
        assert set(f["smoker"]) <= {"Yes", "No"} and set(f["time"]) <= {"Lunch", "Dinner"}


# ----------------------------------------------------------------------------------------------
# 3. A column made boolean decodes to the file's own values
# ----------------------------------------------------------------------------------------------
def test_boolean_column_round_trips_to_its_own_spelling():
    df = pd.DataFrame({"smoker": ["Yes", "No", "No", "yes", None, "Yes"], "n": [1.5, 2.0, 3.25, 4.0, 5.0, 6.5],
                       "flag": [0, 1, 1, 0, 1, 0], "ok": ["t", "f", "f", "t", "t", "f"]})
    schema = infer_schema(df).set_type("smoker", "boolean").set_type("ok", "boolean").set_label("ok")
    ds = tabular_dataset(df, "b", schema=schema)
    back = ds.frame()
    # the most common spelling of each value comes back ("yes" was written "Yes" more often)
    assert back["smoker"].tolist()[:4] == ["Yes", "No", "No", "Yes"] and pd.isna(back["smoker"][4])
    assert back["ok"].tolist() == df["ok"].tolist()  # the label too
    assert back["flag"].tolist() == [0, 1, 1, 0, 1, 0] and back["flag"].dtype == df["flag"].dtype
    assert back["smoker"].dtype == df["smoker"].dtype
    # synthetic rows: only the file's values, never 0.0/1.0 or True/False
    g = get_generator("copula")().setup(ds, seed=0)
    g.train_step()
    x, y = g.sample_with_labels(200, seed=0)
    syn = ds.decode(x, y)
    assert set(syn["smoker"].dropna()) <= {"Yes", "No"} and set(syn["ok"]) <= {"t", "f"}


# ----------------------------------------------------------------------------------------------
# 4. An all-empty column: dropped with a warning, and the run trains on what is left
# ----------------------------------------------------------------------------------------------
def test_all_empty_column_is_dropped_with_a_warning_and_the_run_trains(tmp_path, capsys):
    from synth_core.cli import main
    from synth_core.data import load_dataset
    from synth_core.data.user_data import save_upload
    from synth_core.train import Run, RunConfig, runs_root

    df = pd.DataFrame({"v": np.random.default_rng(0).normal(size=100).round(3), "empty": np.nan})
    info = save_upload("one.csv", _csv_bytes(df))
    ds = load_dataset(info.name)
    assert ds.warnings == ["dropped 1 column(s) with no values at all: 'empty'."]
    run = Run(RunConfig(dataset=info.name, generator="gaussian", steps=1), runs_root()).run_sync()
    assert run.status == "finished", run.error
    # the CLI says so before training
    path = tmp_path / "one.csv"
    path.write_bytes(_csv_bytes(df))
    assert main(["train", "--data", str(path), "-g", "gaussian", "--steps", "1", "--out", str(runs_root())]) == 0
    assert "dropped 1 column(s) with no values at all: 'empty'" in capsys.readouterr().err


# ----------------------------------------------------------------------------------------------
# 5. The Train and Runs pages show a table's columns; closed-form fits have nothing to continue
# ----------------------------------------------------------------------------------------------
def test_column_marginals_figure_names_every_column():
    from synth_core.viz.marginals import column_marginals_figure

    ds, df = rare_level_dataset(200)
    g = get_generator("copula")().setup(ds, seed=0)
    g.train_step()
    x, y = g.sample_with_labels(300, seed=0)
    fig = column_marginals_figure(df, ds.decode(x, y))
    assert [a.text for a in fig.layout.annotations] == list(df.columns)
    assert len(fig.data) == 2 * len(df.columns)  # real and synthetic per column
    day = [t for t in fig.data if set(t.x) == {"Thur", "Fri", "Sat", "Sun"}]
    real_share = shares(df["day"])
    assert len(day) == 2 and list(day[0].x) == list(real_share.index)  # most common level first
    np.testing.assert_allclose(day[0].y, real_share.to_numpy())  # the real shares, as fractions


@pytest.mark.slow
def test_train_page_shows_a_tables_columns_and_a_closed_form_fit(app, capsys):
    import json

    from synth_core.cli import main

    from .conftest import live_run

    at = app.run()
    at.selectbox(key="data_select").set_value("patients").run()
    at.switch_page("pages/train.py").run()
    at.selectbox(key="train_gen_select").set_value("copula").run()
    at.button(key="start").click().run()
    run = live_run(at)
    assert run.join(60) and run.status == "finished", run.error
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    titles = [[a["text"] for a in s["layout"].get("annotations", [])] for s in specs]
    assert ["age", "sex", "smoker", "bmi", "systolic_bp", "cholesterol", "region", "admitted", "visits",
            "risk"] in titles  # every column of the table (the label too), named
    assert not any(c.proto.id and "loss_chart" in c.proto.id for c in at.get("plotly_chart"))
    assert len(specs) == 1  # no empty loss chart, no scatter of encoded features
    assert any("Fitted in one closed-form step" in c.value and "copula_nll" in c.value for c in at.caption)
    # Runs: nothing to continue for a closed-form fit, and the CLI refuses too
    at.switch_page("pages/runs.py").run()
    assert not at.exception, [e.message for e in at.exception]
    assert not [b for b in at.get("form_submit_button") if "Continue" in str(b.proto.label)]
    assert any("nothing to continue" in c.value for c in at.caption)
    assert main(["continue", str(run.path)]) == 2
    err = capsys.readouterr().err
    assert "fitted in closed form in one step: there is nothing to continue" in err and "Traceback" not in err
