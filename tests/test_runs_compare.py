"""Run comparison (TensorBoard-style overlay + quality table), saved reports, and continuing a run
from the Runs page and the CLI."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from synth_core.cli import main as cli
from synth_core.train import JobManager, LossHistory, Run, RunConfig, get_manager
from synth_core.train.reports import load_report, report_summary, save_report
from synth_core.viz.compare_runs import (comparison_table, differing_params, has_nonpositive, loss_keys,
                                         overlay_figure, run_labels, small_multiples_figure)
from synth_core.viz.figures import smooth

from .test_app_pages import plotly_array
from .test_run import wait_for

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def _hist(n=50, keys=("loss_d", "loss_g"), scale=1.0, dt=0.1):
    steps = list(range(1, n + 1))
    return {"step": steps, "time": [s * dt for s in steps],
            "losses": {k: [scale * (1 + i) / s for s in steps] for i, k in enumerate(keys)}}


# ---- figure builders ---------------------------------------------------------------------------
def test_overlay_one_smoothed_line_per_run_over_its_raw_curve():
    hs = {"a": _hist(), "b": _hist(scale=2.0)}
    fig = overlay_figure(hs, "loss_g", smoothing=0.6)
    shown = [t for t in fig.data if t.showlegend is not False]
    faint = [t for t in fig.data if t.showlegend is False]
    assert [t.name for t in shown] == ["a", "b"] and len(faint) == 2
    assert shown[0].line.color != shown[1].line.color
    raw = np.asarray(hs["b"]["losses"]["loss_g"])
    np.testing.assert_allclose(shown[1].y, smooth(raw, 0.6))
    np.testing.assert_allclose(faint[1].y, raw)
    assert fig.layout.xaxis.title.text == "step" and list(shown[0].x) == hs["a"]["step"]
    # no smoothing: only the raw lines
    assert len(overlay_figure(hs, "loss_g", smoothing=0.0).data) == 2


def test_overlay_wall_time_axis_and_log_scale():
    hs = {"fast": _hist(dt=0.01), "slow": _hist(dt=1.0)}
    fig = overlay_figure(hs, "loss_d", smoothing=0.0, x="time", log_y=True)
    assert fig.layout.yaxis.type == "log" and "wall time" in fig.layout.xaxis.title.text
    assert max(fig.data[0].x) == pytest.approx(0.5) and max(fig.data[1].x) == pytest.approx(50.0)
    # a log axis leaves gaps for non-positive values instead of inventing them
    neg = {"w": {"step": [1, 2, 3], "time": [0, 1, 2], "losses": {"critic": [1.0, -2.0, 3.0]}}}
    assert has_nonpositive(neg, ["critic"]) and not has_nonpositive(hs, ["loss_d"])
    y = overlay_figure(neg, "critic", smoothing=0.0, log_y=True).data[0].y
    assert y[0] == 1.0 and math.isnan(y[1]) and y[2] == 3.0
    with pytest.raises(ValueError):
        overlay_figure(hs, "loss_d", x="epoch")


def test_overlay_names_runs_without_the_loss_and_decimates():
    hs = {"gan": _hist(5000), "vae": _hist(keys=("elbo",))}
    fig = overlay_figure(hs, "loss_d", smoothing=0.5, max_points=300)
    assert "not logged by: vae" in fig.layout.title.text
    assert all(len(t.x) <= 300 for t in fig.data)
    assert loss_keys(hs) == ["loss_d", "loss_g", "elbo"]
    assert loss_keys({"a": _hist(keys=("x", "y")), "b": _hist(keys=("y",))}) == ["y", "x"]  # shared first


def test_small_multiples_one_panel_per_loss_and_one_legend():
    hs = {"a": _hist(keys=("l1", "l2", "l3")), "b": _hist(keys=("l1", "l3"))}
    fig = small_multiples_figure(hs, smoothing=0.0, log_y=True)
    titles = [a.text for a in fig.layout.annotations]
    assert titles == ["l1", "l3", "l2"]  # losses all runs share first
    assert len(fig.data) == 5  # a: 3 panels, b: 2
    assert sorted(t.name for t in fig.data if t.showlegend) == ["a", "b"]  # each run once in the legend
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis3.type == "log"
    colours = {t.name: t.line.color for t in fig.data}
    assert all(t.line.color == colours[t.name] for t in fig.data)  # same colour in every panel


def test_table_shows_differing_params_and_saved_scores():
    cfgs = [{"generator": "gan", "dataset": "ring8", "steps": 100, "seed": 0, "params": {"lr_g": 1e-3, "width": 64}},
            {"generator": "gan", "dataset": "ring8", "steps": 100, "seed": 0, "params": {"lr_g": 1e-4, "width": 64}}]
    assert differing_params(cfgs) == ["lr_g"]
    assert differing_params([{**cfgs[0], "seed": 1}, cfgs[0]]) == ["seed"]
    labels = run_labels({"20250101-000000-gan-ring8-ab12": cfgs[0], "20250101-000001-gan-ring8-cd34": cfgs[1]})
    assert labels == {"20250101-000000-gan-ring8-ab12": "gan lr_g=0.001 #ab12",
                      "20250101-000001-gan-ring8-cd34": "gan lr_g=0.0001 #cd34"}
    rep = {"overall": 71.5, "privacy": 40.0, "groups": {"fidelity": 80.0, "privacy": 40.0},
           "group_labels": {"fidelity": "Fidelity"}, "meta": {"step": 100}}
    df = comparison_table([
        {"run_id": "r1", "config": cfgs[0], "status": {"status": "finished", "step": 100},
         "report": report_summary(rep)},
        {"run_id": "r2", "config": cfgs[1], "status": {"status": "stopped", "step": 60}, "report": {}},
    ])
    assert list(df["run"]) == ["r1", "r2"] and list(df["lr_g"]) == [1e-3, 1e-4] and "width" not in df
    assert df.loc[0, "overall"] == 71.5 and df.loc[0, "Fidelity"] == 80.0 and np.isnan(df.loc[1, "overall"])
    assert list(df["status"]) == ["finished", "stopped"] and not df["report stale"].any()


# ---- saved reports -----------------------------------------------------------------------------
@pytest.mark.slow
def test_report_saved_with_the_run_round_trips(tmp_path):
    from synth_core.train.evaluate import evaluate_run

    run = Run(RunConfig("ring8", "gmm", steps=5, seed=0), tmp_path).run_sync()
    assert load_report(run.path) is None
    rep = evaluate_run(run.path, save=False)
    save_report(run.path, rep)
    d = load_report(run.path)
    assert d["overall"] == pytest.approx(rep.overall) and d["meta"]["run_id"] == run.id
    json.loads((run.path / "report.json").read_text())  # strict JSON (no NaN)
    s = report_summary(d)
    assert s["overall"] == pytest.approx(rep.overall) and s["report_step"] == rep.meta["step"]
    assert not [p for p in run.path.iterdir() if p.name.endswith(".tmp")]
    (run.path / "report.json").write_text("{not json")
    assert load_report(run.path) is None  # a damaged file reads as "no report", never an exception


def test_loss_history_from_metrics_is_bounded(tmp_path):
    p = tmp_path / "metrics.jsonl"
    with open(p, "w") as fh:
        for s in range(1, 20_001):
            fh.write(json.dumps({"step": s, "t": s / 100, "loss": 1 / s}) + "\n")
        fh.write('{"step": 20001, "t": 2')  # torn last line
    h = LossHistory.from_metrics(p, max_points=500).copy()
    assert 250 <= len(h["step"]) <= 500 and h["step"] == sorted(h["step"]) and h["step"][-1] >= 19_900
    assert h["losses"]["loss"][0] == pytest.approx(1 / h["step"][0])
    assert LossHistory.from_metrics(tmp_path / "none.jsonl").copy()["step"] == []


# ---- CLI ---------------------------------------------------------------------------------------
def test_cli_continue_by_id_and_by_folder(tmp_path, capsys):
    cfg = RunConfig("ring8", "gan", {"batch_size": 32, "width": 16}, steps=8, seed=1, run_id="cli-run",
                    checkpoint_every=4)
    Run(cfg, tmp_path).run_sync()
    assert cli(["continue", "cli-run", "--steps", "12", "--out", str(tmp_path), "-q"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["status"] == "finished" and out["resumed_from"] == 8 and out["step"] == 12
    assert cli(["continue", str(tmp_path / "cli-run"), "--steps", "14", "-q"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["step"] == 14
    steps = [json.loads(line)["step"] for line in (tmp_path / "cli-run" / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 15))
    assert cli(["continue", "cli-run", "--steps", "5", "--out", str(tmp_path)]) == 2
    assert "already at step 14" in capsys.readouterr().err


# ---- the Runs page -----------------------------------------------------------------------------
@pytest.fixture
def app():
    st.cache_resource.clear()
    st.cache_data.clear()
    yield AppTest.from_file(APP, default_timeout=120)
    get_manager().stop_all()


def _gan_runs(n=2):
    mgr = get_manager()
    runs = []
    for i, lr in enumerate((1e-3, 2e-4, 5e-4)[:n]):
        runs.append(mgr.submit(RunConfig("ring8", "gan", {"batch_size": 32, "width": 16, "lr_g": lr}, steps=30,
                                         seed=0, run_id=f"cmp-{i}", checkpoint_every=10)))
    for r in runs:
        assert r.join(60) and r.status == "finished", r.error
    return runs


def _table(at):
    [df] = [d.value for d in at.dataframe if "overall" in d.value.columns]
    return df.set_index("run")


def _chart(at):
    return json.loads(at.get("plotly_chart")[0].proto.spec)


@pytest.mark.slow
def test_runs_page_comparison_controls(app):
    _gan_runs(2)
    at = app.run()
    at.selectbox(key="data_select").set_value("ring8").run()
    at.switch_page("pages/runs.py").run()
    assert not at.exception, [e.message for e in at.exception]
    assert sorted(at.multiselect(key="cmp_runs").value) == ["cmp-0", "cmp-1"]  # same dataset, newest
    spec = _chart(at)
    named = [t for t in spec["data"] if t.get("showlegend") is not False]
    assert len(named) == 2 and all("lr_g=" in t["name"] for t in named)
    assert spec["layout"]["xaxis"]["title"]["text"] == "step"
    # smoothing 0 -> raw lines only; log scale; wall time on x
    at.slider(key="cmp_smooth").set_value(0.0).run()
    assert len(_chart(at)["data"]) == 2
    at.toggle(key="cmp_log").set_value(True).run()
    assert _chart(at)["layout"]["yaxis"]["type"] == "log"
    at.radio(key="cmp_x").set_value("Wall time").run()
    spec = _chart(at)
    assert "wall time" in spec["layout"]["xaxis"]["title"]["text"]
    xs = plotly_array(spec["data"][0]["x"])
    assert len(xs) == 30 and np.all(np.diff(xs) >= 0) and xs[-1] < 600
    # every loss as small multiples; one run only
    at.selectbox(key="cmp_key").set_value("All losses (small multiples)").run()
    spec = _chart(at)
    assert len(spec["layout"]["annotations"]) >= 2  # a panel title per loss
    at.multiselect(key="cmp_runs").set_value(["cmp-1"]).run()
    assert not at.exception
    assert {t["name"] for t in _chart(at)["data"]} == {"gan #cmp-1"}  # one run: no differing params to show


@pytest.mark.slow
def test_runs_page_computes_missing_reports(app):
    runs = _gan_runs(2)
    save_report(runs[0].path, {"overall": 42.0, "privacy": 50.0, "groups": {}, "meta": {"step": 30}})
    at = app.run()
    at.selectbox(key="data_select").set_value("ring8").run()
    at.switch_page("pages/runs.py").run()
    table = _table(at)
    assert table.loc["cmp-0", "overall"] == 42.0
    assert np.isnan(table.loc["cmp-1", "overall"])
    button = at.button(key="cmp_reports")
    assert button.proto.label == "Compute missing reports (1)"
    button.click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    table = _table(at)
    assert table.loc["cmp-0", "overall"] == 42.0  # kept, not recomputed
    assert 0 < table.loc["cmp-1", "overall"] <= 100
    assert load_report(runs[1].path)["meta"]["run_id"] == "cmp-1"  # saved with the run
    assert at.button(key="cmp_reports").proto.disabled


@pytest.mark.slow
def test_runs_page_continue_button_follows_the_run_on_train(app):
    [run] = _gan_runs(1)
    at = app.run()
    at.switch_page("pages/runs.py").run()
    at.selectbox(key="runs_select").set_value("cmp-0").run()
    at.number_input(key="continue_steps/cmp-0").set_value(45)  # in a form: sent with the submit click
    at.button(key="continue_go").click().run()
    assert not at.exception, [e.message for e in at.exception]
    live = get_manager().get("cmp-0")
    assert live is not run and live.resumed_from == 30 and live.config.steps == 45
    assert at.session_state["run_id"] == "cmp-0"
    assert at.button(key="stop")  # now on the Train page, following the continued run
    assert live.join(60) and live.status == "finished" and live.step == 45


@pytest.mark.slow
def test_runs_page_refuses_bad_run_id_in_url(app):
    _gan_runs(1)
    at = app
    at.query_params["run"] = "../../etc"
    at.run()  # the page the address opens says why it ignores the run
    assert not at.exception
    assert any("not a valid run id" in w.value for w in at.warning)
    assert at.query_params["run"] == "cmp-0"  # replaced by a real run, never used as a path
    at.switch_page("pages/runs.py").run()
    assert not at.exception
    assert at.selectbox(key="runs_select").value == "cmp-0"


def test_no_continue_for_a_failed_run_without_checkpoint(app, monkeypatch):
    from synth_core.generators.gaussian import GaussianGenerator

    monkeypatch.setattr(GaussianGenerator, "_train_step", lambda self: {"nll": float("inf")})
    run = JobManager(Path(get_manager().root), 1).submit(RunConfig("ring8", "gaussian", run_id="bad"))
    assert run.join(30) and run.status == "failed"
    at = app.run()
    at.switch_page("pages/runs.py").run()
    assert not at.exception
    assert any("diverged" in e.value for e in at.error)
    assert not [b for b in at.button if getattr(b, "key", None) == "continue_go"]
