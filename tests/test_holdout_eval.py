"""Runs keep a holdout the generator never sees; TSTR is tested on it and DCR compares against it;
one evaluation path gives the same numbers on the Compare page, the Runs page and the CLI; and
``synth_core.metrics`` never imports ``synth_core.train``."""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from synth_core.cli import main
from synth_core.data import load_dataset
from synth_core.data.holdout import HOLDOUT, default_holdout, holdout_param, split_dataset, split_indices
from synth_core.generators import get_generator
from synth_core.metrics import report
from synth_core.train import Run, RunConfig, load_generator, store
from synth_core.train.evaluate import EVAL_MAX_SAMPLES, EVAL_MIN_SAMPLES, eval_sample_size, evaluate_run
from synth_core.train.reports import load_report

from .conftest import live_run

ROOT = Path(__file__).resolve().parents[1]


# ---- the split ----------------------------------------------------------------------------------------------
def test_split_is_seeded_disjoint_and_complete():
    tr, ho = split_indices(1000, 0.2, seed=0)
    assert len(ho) == 200 and len(tr) == 800 and not set(tr) & set(ho) and set(tr) | set(ho) == set(range(1000))
    tr2, ho2 = split_indices(1000, 0.2, seed=0)
    assert np.array_equal(ho, ho2) and not np.array_equal(ho, split_indices(1000, 0.2, seed=1)[1])
    assert len(split_indices(1000, 0.0)[1]) == 0


def test_one_declared_default_by_kind_and_size():
    assert HOLDOUT.default == 0.2
    assert default_holdout("tabular", 1000) == default_holdout("image", 5000) == HOLDOUT.default
    assert default_holdout("tabular", 150) == 0.0      # iris: too small to spare rows
    assert default_holdout("points", 10_000) == 0.0    # toy formulas, not records
    assert holdout_param("tabular", 499).default == 0.0 and holdout_param("image", 500).default == 0.2


def test_holdout_rows_never_reach_the_generator_and_are_recorded(tmp_path, monkeypatch):
    ds = load_dataset("patients")
    seen: list = []
    cls = get_generator("gaussian")
    orig = cls.setup

    def spy(self, dataset, **kw):
        seen.append(dataset)
        return orig(self, dataset, **kw)

    monkeypatch.setattr(cls, "setup", spy)
    run = Run(RunConfig("patients", "gaussian", seed=3), tmp_path).run_sync()
    cfg = json.loads((run.path / "config.json").read_text())
    assert cfg["holdout"] == 0.2 and cfg["holdout_seed"] == 0
    train, hold = split_dataset(ds, cfg["holdout"], cfg["holdout_seed"])
    load_generator(run.path)  # rebuilt on the same rows
    assert len(seen) == 2
    hold_rows = {r.tobytes() for r in hold.x}
    for d in seen:
        assert len(d) == len(train) == 800
        assert not {r.tobytes() for r in d.x} & hold_rows


def test_cli_holdout_flag_and_its_limits(tmp_path, capsys):
    assert main(["train", "-d", "patients", "-g", "gaussian", "--holdout", "0.3", "--out", str(tmp_path), "-q"]) == 0
    rid = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["run_id"]
    assert json.loads((tmp_path / rid / "config.json").read_text())["holdout"] == 0.3
    assert main(["train", "-d", "patients", "-g", "gaussian", "--holdout", "0.9", "--out", str(tmp_path), "-q"]) == 2
    assert "holdout" in capsys.readouterr().err.lower()
    assert main(["train", "-d", "iris", "-g", "gaussian", "--out", str(tmp_path), "-q"]) == 0
    rid = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["run_id"]
    assert json.loads((tmp_path / rid / "config.json").read_text())["holdout"] == 0.0  # 150 rows: none


@pytest.mark.slow
def test_a_run_from_before_holdouts_still_loads_and_says_so(tmp_path):
    run = Run(RunConfig("patients", "gaussian", seed=0), tmp_path).run_sync()
    # rewrite the run as an old one: no holdout keys in config.json or the checkpoint
    cfg = json.loads((run.path / "config.json").read_text())
    for k in ("holdout", "holdout_seed"):
        cfg.pop(k)
    (run.path / "config.json").write_text(json.dumps(cfg))
    ckpt = torch.load(run.path / "checkpoint.pt", weights_only=True)
    for k in ("holdout", "holdout_seed"):
        ckpt["config"].pop(k)
    store.atomic_torch_save(run.path / "checkpoint.pt", ckpt)
    gen, config, _ = load_generator(run.path)
    assert config.holdout == 0.0
    rep = evaluate_run(run.path, seed=0, save=False)
    assert rep.meta["n_holdout"] == 0 and rep.meta["n_train"] == 1000
    assert any(n.startswith("No holdout: scored on training data") for n in rep.notes)
    assert rep["tstr"].details["test_set"] == "training rows"
    assert rep["near_copies"].details["baseline"] == "leave-one-out"


# ---- TSTR on the holdout, DCR against the holdout ---------------------------------------------------------
def _blobs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    return rng.normal(0, 1, (n, 3)) + 2.5 * y[:, None], y


@pytest.mark.slow
def test_tstr_is_tested_on_the_holdout():
    x, y = _blobs(600, 0)
    xh, yh = _blobs(200, 1)
    syn, ys = _blobs(600, 2)
    rep = report(x, syn, "tabular", labels=y, synth_labels=ys, holdout=xh, holdout_labels=yh)
    d = rep["tstr"].details
    assert d["test_set"] == "holdout" and d["n_test"] == 200
    assert rep["tstr"].value > 0.9 and d["trtr"] > 0.9
    # the same report with the holdout's labels shuffled: accuracy falls to chance, so the holdout
    # (and nothing else) is what TSTR and TRTR were tested on
    shuffled = np.random.default_rng(3).permutation(yh)
    rep2 = report(x, syn, "tabular", labels=y, synth_labels=ys, holdout=xh, holdout_labels=shuffled)
    assert rep2["tstr"].value < 0.7 and rep2["tstr"].details["trtr"] < 0.7


@pytest.mark.slow
def test_dcr_compares_with_holdout_to_train_distances():
    from synth_core.metrics._common import nearest

    x, y = _blobs(600, 0)
    xh, yh = _blobs(300, 1)
    fresh = report(x, _blobs(600, 2)[0], "tabular", labels=y, holdout=xh, holdout_labels=yh)
    nc = fresh["near_copies"]
    assert nc.details["baseline"] == "holdout" and nc.value < 0.12  # ~5% expected for fresh real data
    assert fresh.figures["dcr"]["baseline_kind"] == "holdout"
    # the baseline quantile is the holdout->train nearest distance, in the report's encoding
    mu, sd = x.mean(0), x.std(0)
    base = nearest((xh - mu) / sd, (x - mu) / sd)[0]
    assert nc.details["threshold"] == pytest.approx(np.quantile(base, 0.05), rel=1e-6)
    copies = report(x, x[:400], "tabular", labels=y, holdout=xh, holdout_labels=yh)
    assert copies["near_copies"].value > 0.95 and copies.privacy < 10
    assert any("holdout rows" in n for n in copies.notes)


@pytest.mark.slow
def test_images_lead_with_judge_metrics_and_keep_pixels_out_of_the_overall(tmp_path):
    from synth_core.metrics.judge import get_judge

    ds = load_dataset("digits")
    perm = np.random.default_rng(0).permutation(len(ds))
    tr, ho = perm[:1000], perm[1000:1300]
    judge = get_judge(ds.x[tr], ds.y[tr], name="digits-lead", cache_root=tmp_path, epochs=15)
    blur = torch.nn.functional.avg_pool2d(torch.from_numpy(ds.x[perm[1300:1600]]), 3, 1, 1).numpy()
    rep = report(ds.x[tr], blur, "image", labels=ds.y[tr], holdout=ds.x[ho], holdout_labels=ds.y[ho],
                 judge=judge, class_names=ds.classes)
    assert rep.group_order[:3] == ["distance", "fidelity", "diversity"]
    assert "pixels" in rep.groups and "pixels" not in rep.weights
    assert {s.group for s in rep.scores if s.key in ("intensity_tv_complement", "mean_image")} == {"pixels"}
    assert rep.get("class_balance") is not None and rep.get("confidence") is not None
    assert "correlation" not in rep.figures and not any("judge feature" in str(v) for v in rep.figures)
    assert rep["tstr"].details["test_set"] == "holdout"
    # uniform noise: far from every real image; privacy says so instead of a bare 100/100
    noise = np.random.default_rng(1).uniform(-1, 1, (300, *ds.x.shape[1:])).astype(np.float32)
    bad = report(ds.x[tr], noise, "image", labels=ds.y[tr], holdout=ds.x[ho], holdout_labels=ds.y[ho], judge=judge)
    assert bad.privacy_caveat and ("unrealistic" in bad.privacy_caveat or "uninformative" in bad.privacy_caveat)
    real = report(ds.x[tr], ds.x[perm[1300:1600]], "image", labels=ds.y[tr], holdout=ds.x[ho],
                  holdout_labels=ds.y[ho], judge=judge)
    assert real.privacy_caveat is None and real.privacy > 80  # unseen real digits: the privacy score stands
    assert bad.overall < 30


# ---- one evaluation path ------------------------------------------------------------------------------------
def test_sample_size_rule():
    assert eval_sample_size(120) == EVAL_MIN_SAMPLES and eval_sample_size(800) == 800
    assert eval_sample_size(10**6) == EVAL_MAX_SAMPLES


def _scores(d: dict) -> dict:
    return {"overall": d["overall"], "privacy": d["privacy"], "n": d["n_synth"],
            **{s["key"]: s["value"] for s in d["scores"]}}


@pytest.mark.slow
def test_compare_runs_and_cli_give_the_same_numbers(tmp_path, capsys, monkeypatch):
    """The CLI, the Runs page's "Compute missing reports" and the Compare page's button score one run
    with one seed: identical numbers (one function, one sample-size rule)."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from synth_core.train import get_manager

    runs = tmp_path / "runs"
    monkeypatch.setenv("SYNTHLAB_RUNS_DIR", str(runs))
    run = Run(RunConfig("patients", "gaussian", seed=0, run_id="one-path"), runs).run_sync()
    out = tmp_path / "cli.json"
    assert main(["evaluate", str(run.path), "--json", str(out)]) == 0
    cli = json.loads(out.read_text())
    assert cli["meta"]["n_sampled"] == 800 and "800" in capsys.readouterr().out.replace(",", "")
    (run.path / "report.json").unlink()

    st.cache_resource.clear()
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    try:
        at.switch_page("pages/runs.py").run()
        at.multiselect(key="cmp_runs").set_value(["one-path"]).run()
        at.button(key="cmp_reports").click().run()
        assert not at.exception and not at.error, [e.value for e in at.error]
        runs_page = load_report(run.path)
        at.switch_page("pages/compare.py").run()
        at.button(key="compute_report").click().run()
        assert not at.exception and not at.error, [e.value for e in at.error]
        [entry] = at.session_state["reports"].values()
        compare_page = entry["dict"]
        # definitions are wrapped text, not a wide table column that scrolls sideways
        assert all("definition" not in d.value.columns for d in at.dataframe)
        assert any("Column shapes" in m.value and "KS complement" in m.value for m in at.markdown)
    finally:
        get_manager().stop_all()
    assert _scores(cli) == _scores(runs_page) == _scores(compare_page)
    assert cli["meta"]["sample_rule"] == compare_page["meta"]["sample_rule"]


@pytest.mark.slow
def test_metrics_never_imports_train():
    """metrics is the library; train/evaluate.py calls it, never the other way round."""
    for path in (ROOT / "synth_core" / "metrics").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                mod = "." * node.level + (node.module or "")
                assert not (mod.startswith("..train") or mod.startswith("synth_core.train")), (path.name, mod)
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("synth_core.train") for a in node.names), path.name
    code = ("import sys, synth_core.metrics, synth_core.metrics.report, synth_core.metrics.stages; "
            "print([m for m in sys.modules if m.startswith('synth_core.train')])")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert res.returncode == 0 and res.stdout.strip() == "[]", res.stdout + res.stderr


@pytest.mark.slow
def test_train_page_holdout_widget_follows_the_dataset_and_reaches_the_run(monkeypatch, tmp_path):
    """The Train page's Advanced section shows the holdout from the one declared default (20% on the
    1,000-row patients table, 0 on 150-row iris) and the run records what the person set."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from synth_core.train import get_manager

    st.cache_resource.clear()
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    try:
        def holdout_widget(dataset: str):
            at.switch_page("pages/data.py").run()
            at.selectbox(key="data_select").set_value(dataset).run()
            at.switch_page("pages/train.py").run()
            return at.number_input(key=f"w/run/{at.selectbox(key='train_gen_select').value}/holdout")

        assert holdout_widget("patients").value == pytest.approx(0.2)
        assert holdout_widget("iris").value == 0.0  # an untouched value follows the dataset's default
        holdout_widget("patients").set_value(0.25).run()
        at.button(key="start").click().run()
        run = live_run(at)
        assert run.join(120) and run.status == "finished", run.error
        assert json.loads((run.path / "config.json").read_text())["holdout"] == 0.25
    finally:
        get_manager().stop_all()
