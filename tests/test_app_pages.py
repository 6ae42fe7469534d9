"""Streamlit AppTest: every page renders without exceptions and its controls do what they say."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from synth_core.train import get_manager

from .conftest import live_run

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def _no_errors(at):
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def plotly_array(v):
    """Plotly 7 serialises numeric arrays as {"dtype", "bdata"} (base64); older ones as lists."""
    if isinstance(v, dict) and "bdata" in v:
        import base64

        import numpy as np
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
    return v


def wait_for(pred, timeout=60.0):
    t = time.time()
    while time.time() - t < timeout:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_data_page_defaults_to_mnist(app):
    at = app.run()
    _no_errors(at)
    assert at.selectbox(key="data_select").value == "mnist"
    assert len(at.get("image")) == 1  # the 64-sample grid
    assert [m.value for m in at.metric][:2] == ["5,000", "1x28x28"]


def test_data_page_switch_to_points_and_unavailable_set(app):
    at = app.run()
    at.selectbox(key="data_select").set_value("ring8").run()
    _no_errors(at)
    assert at.session_state["dataset"] == "ring8"
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["data"][0]["type"] == "scattergl" and len(plotly_array(spec["data"][0]["x"])) == 3000
    # a set that needs files we do not have: clear message, previous dataset kept
    at.selectbox(key="data_select").set_value("fashion-mnist").run()
    assert any("bundled 'mnist'" in e.value for e in at.error)
    assert at.session_state["dataset"] == "ring8"


def test_train_page_renders_param_widgets(app):
    at = app.run()
    at.switch_page("pages/train.py").run()
    _no_errors(at)
    assert at.selectbox(key="train_gen_select").value == "dcgan"
    labels = {n.label for n in at.number_input}
    assert {"Steps", "Seed", "Batch size", "Latent size", "Generator LR", "Discriminator LR"} <= labels


@pytest.mark.slow
def test_train_page_start_pause_stop_and_reattach(app):
    at = app.run()
    at.selectbox(key="data_select").set_value("digits").run()
    at.switch_page("pages/train.py").run()
    at.number_input(key="w/run/dcgan/steps").set_value(100_000).run()
    at.number_input(key="w/dcgan/width").set_value(8).run()
    at.button(key="start").click().run()
    _no_errors(at)
    run = live_run(at)
    assert run.config.params["width"] == 8 and run.config.steps == 100_000
    wait_for(lambda: run.step >= 2)
    at.run()
    assert at.get("progress") and at.get("plotly_chart")
    at.button(key="pause").click().run()
    wait_for(lambda: run.status == "paused")
    at.run()
    assert at.button(key="resume")
    at.button(key="resume").click().run()
    wait_for(lambda: run.status == "running")
    # a second browser session (new tab / refresh) re-attaches to the same run
    other = AppTest.from_file(APP, default_timeout=120).run()
    other.switch_page("pages/train.py").run()
    assert other.session_state["run_id"] == run.id
    at.run()
    at.button(key="stop").click().run()
    assert run.join(30) and run.status == "stopped"


@pytest.mark.slow
def test_train_page_points_generator(app):
    at = app.run()
    at.selectbox(key="data_select").set_value("ring8").run()
    at.switch_page("pages/train.py").run()
    at.selectbox(key="train_gen_select").set_value("gaussian").run()
    at.button(key="start").click().run()
    run = live_run(at)
    assert run.join(30) and run.status == "finished"
    at.run()
    _no_errors(at)
    assert any("finished" in s.value for s in at.success)
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert any(len(s["data"]) == 2 for s in specs)  # real + synthetic scatter


@pytest.mark.slow
def test_compare_page_real_vs_synthetic(app):
    at = app.run()
    at.switch_page("pages/compare.py").run()
    _no_errors(at)
    assert any("No trained runs yet" in i.value for i in at.info)
    at.switch_page("pages/data.py").run()
    at.selectbox(key="data_select").set_value("digits").run()
    at.switch_page("pages/train.py").run()
    at.number_input(key="w/run/dcgan/steps").set_value(5).run()
    at.button(key="start").click().run()
    run = live_run(at)
    assert run.join(60) and run.status == "finished"
    at.switch_page("pages/compare.py").run()
    _no_errors(at)
    assert len(at.get("image")) == 2  # real grid | synthetic grid


def test_runs_page_lists_runs_and_offers_downloads(app, tmp_path):
    at = app.run()
    at.switch_page("pages/runs.py").run()
    _no_errors(at)
    assert any("No runs yet" in i.value for i in at.info)
    from synth_core.train import RunConfig
    run = get_manager().submit(RunConfig("ring8", "gaussian"))
    assert run.join(30) and run.status == "finished", run.error
    at.run()
    _no_errors(at)
    assert at.get("dataframe")
    labels = [b.proto.label for b in at.get("download_button")]
    assert {"Run config (JSON)", "Model checkpoint", "Losses (CSV)"} <= set(labels)


@pytest.mark.slow
def test_compare_page_quality_report_points(app):
    from synth_core.train import RunConfig
    run = get_manager().submit(RunConfig("ring8", "gmm", steps=20))
    assert run.join(60) and run.status == "finished"
    at = app.run()
    at.switch_page("pages/compare.py").run()
    _no_errors(at)
    at.button(key="compute_report").click().run()
    _no_errors(at)
    overall = [m for m in at.metric if m.label == "Overall quality"]
    assert overall and float(overall[0].value.split("/")[0]) > 60  # a GMM on the ring is good
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Report (JSON)" in labels and "Report (HTML)" in labels
    assert len(at.tabs) == 4


@pytest.mark.slow
def test_tabular_dataset_through_every_page(app):
    at = app.run()
    at.selectbox(key="data_select").set_value("patients").run()
    _no_errors(at)
    assert len(at.dataframe) >= 2  # the table and its schema
    at.switch_page("pages/train.py").run()
    _no_errors(at)
    assert at.selectbox(key="train_gen_select").value == "copula"
    at.button(key="start").click().run()
    run = live_run(at)
    assert run.join(60) and run.status == "finished", run.error
    at.switch_page("pages/compare.py").run()
    _no_errors(at)
    at.button(key="compute_report").click().run()
    _no_errors(at)
    assert [m for m in at.metric if m.label == "Overall quality"]


def test_streamlit_config_skips_the_full_gc_after_every_rerun():
    """The live view reruns every second; Streamlit's default full ``gc.collect()`` after each run held
    the GIL for a quarter of every second and starved the training thread (bench/overhead.py)."""
    import tomllib

    from .e2e_support import ROOT

    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert cfg["runner"]["postScriptGC"] is False
