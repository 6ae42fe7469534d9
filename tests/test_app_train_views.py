"""AppTest: the Train page's teaching views (view selector), step-by-step controls, speed slider and
the "draw your own data" panel, on 2-D points datasets."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from synth_core.data import load_dataset
from synth_core.train import views

from .conftest import live_run
from .test_app_pages import _no_errors, plotly_array, wait_for


def _start(at, dataset: str, generator: str, **params):
    at.run()
    at.selectbox(key="data_select").set_value(dataset).run()
    at.switch_page("pages/train.py").run()
    at.selectbox(key="train_gen_select").set_value(generator).run()
    at.number_input(key=f"w/run/{generator}/steps").set_value(100_000).run()
    for k, v in params.items():
        at.number_input(key=f"w/{generator}/{k}").set_value(v).run()
    at.button(key="start").click().run()
    _no_errors(at)
    run = live_run(at)
    wait_for(lambda: run.step >= 1 and run.generator is not None)
    return run


def _view_traces(at) -> list[dict]:
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    view = [s for s in specs if any(t.get("name") in ("real", "generated") for t in s["data"])]
    assert view, "no view chart on the page"
    return view[-1]["data"]


def _captions(at) -> str:
    return " | ".join(c.value for c in at.caption)


@pytest.mark.slow
def test_gan_views_step_by_step_and_speed(app):
    at = app
    run = _start(at, "ring8", "gan", width=16)
    at.run()
    assert at.get("button_group")  # the view selector (a segmented control)
    ctrl = at.segmented_control(key="train_view")
    assert ctrl.options == [views.SAMPLES, views.SURFACE, views.ARROWS] and ctrl.value == views.SAMPLES
    assert [t["name"] for t in _view_traces(at)] == ["real", "generated"]
    assert {"step_d", "step_g", "step_10"} <= {b.key for b in at.button}
    assert "step_one" not in {b.key for b in at.button}

    # Step D pauses the run and does exactly one discriminator update
    at.button(key="step_d").click().run()
    _no_errors(at)
    assert run.status == "paused" and run.last_update[0] == "discriminator"
    step = run.step
    at.run()
    assert "last: discriminator update" in _captions(at) and "next: generator update" in _captions(at)
    assert at.button(key="step_d").disabled and not at.button(key="step_g").disabled
    # Step G completes the step
    at.button(key="step_g").click().run()
    assert run.last_update[0] == "generator" and run.step == step + 1
    at.run()
    assert "generator update (step complete)" in _captions(at)
    # Step x10: ten whole steps
    at.button(key="step_10").click().run()
    # the page waits up to 5 s for the ten steps to redraw; a loaded CI machine may need longer
    deadline = time.time() + 60
    while run.step < step + 11 and time.time() < deadline:
        time.sleep(0.05)
    assert run.step == step + 11 and run.status == "paused"

    # the decision surface: a heatmap of D(x) in [0, 1] under the points, on a 60x60 grid
    at.segmented_control(key="train_view").set_value(views.SURFACE).run()
    _no_errors(at)
    data = _view_traces(at)
    heat = [t for t in data if t["type"] == "heatmap"]
    assert len(heat) == 1 and heat[0]["name"] == "D surface"
    z = plotly_array(heat[0]["z"])
    z = [v for row in z for v in row] if isinstance(z, list) else z
    assert len(z) == views.GRID ** 2 and 0 <= min(z) and max(z) <= 1
    # gradient arrows on the generated points
    at.segmented_control(key="train_view").set_value(views.ARROWS).run()
    _no_errors(at)
    names = [t["name"] for t in _view_traces(at)]
    assert "G gradient" in names and "D surface" in names
    arrows = next(t for t in _view_traces(at) if t["name"] == "G gradient")
    assert len(plotly_array(arrows["x"])) == 3 * views.MAX_ARROWS  # start, tip, gap per arrow

    # the speed slider limits the run; "max" lifts the limit
    at.select_slider(key="train_speed").set_value(5).run()
    assert run.max_steps_per_s == 5.0
    at.select_slider(key="train_speed").set_value("max").run()
    assert run.max_steps_per_s is None
    at.button(key="resume").click().run()
    wait_for(lambda: run.status == "running")
    at.button(key="stop").click().run()
    assert run.join(30) and run.status == "stopped"


@pytest.mark.slow
def test_density_views_and_single_step(app):
    at = app
    run = _start(at, "ring8", "realnvp")
    at.run()
    ctrl = at.segmented_control(key="train_view")
    assert ctrl.options == [views.SAMPLES, views.DENSITY]
    assert not [b for b in at.button if b.key in ("step_d", "step_g")]
    at.button(key="step_one").click().run()
    assert run.status == "paused" and run.last_update[0] == "step"
    ctrl.set_value(views.DENSITY).run()
    _no_errors(at)
    contour = [t for t in _view_traces(at) if t["type"] == "contour"]
    assert len(contour) == 1 and contour[0]["name"] == "log density"
    at.button(key="stop").click().run()
    assert run.join(30) and run.status == "stopped"


@pytest.mark.slow
def test_mcmc_trace_view(app):
    at = app
    run = _start(at, "ring8", "mcmc", n_chains=16)
    at.run()
    assert at.segmented_control(key="train_view").options == [views.SAMPLES, views.DENSITY, views.TRACE]
    at.segmented_control(key="train_view").set_value(views.TRACE).run()
    _no_errors(at)
    names = [t["name"] for t in _view_traces(at)]
    assert {"chain", "accepted", "rejected"} <= set(names)
    at.button(key="stop").click().run()
    assert run.join(30) and run.status == "stopped"


def test_view_selector_only_for_points(app):
    at = app.run()
    at.selectbox(key="data_select").set_value("digits").run()
    at.switch_page("pages/train.py").run()
    _no_errors(at)
    assert not at.get("expander") or all("Draw" not in e.label for e in at.expander)
    assert not [c for c in at.get("button_group")]


@pytest.mark.slow
def test_draw_your_own_data(app):
    at = app.run()
    at.selectbox(key="data_select").set_value("ring8").run()
    at.switch_page("pages/train.py").run()
    _no_errors(at)
    assert any("Draw your own data" in e.label for e in at.expander)
    at.session_state["draw_points"] = [0, 1, 2]  # as if lasso-selected on the canvas
    at.run()
    assert any("Clear 3 selected points" in b.label for b in at.button)
    at.button(key="draw_use").click().run()
    _no_errors(at)
    name = at.session_state["dataset"]
    assert name.startswith("drawn-") and len(name) == len("drawn-") + 8
    assert (Path(os.environ["SYNTHLAB_DATA_DIR"]) / "drawn" / f"{name}.npy").is_file()
    ds = load_dataset(name)
    assert ds.kind == "points" and ds.x.shape == (5000, 2)
    assert any(f"Drawn ({name[6:]})" in m.value for m in at.markdown)  # the page now trains on it
    at.switch_page("pages/data.py").run()  # and this session's dataset picker offers it
    _no_errors(at)
    assert any(f"Drawn ({name[6:]})" in o for o in at.selectbox(key="data_select").options)


def test_a_drawing_is_private_to_the_session_that_drew_it(app):
    from streamlit.testing.v1 import AppTest

    from synth_core.data import drawn
    from synth_core.data.base import list_datasets
    from synth_core.data.user_data import builtin_datasets

    from .e2e_support import ROOT

    comps = drawn.components(drawn.parse_blobs([{"x": 1.0, "y": -1.0, "spread": 0.3, "weight": 1.0}]))
    name = drawn.save_drawing(drawn.make_drawn_dataset(comps, 500, seed=11))  # drawn by someone else
    assert name not in [d.name for d in builtin_datasets()]
    assert name in [d.name for d in list_datasets()]  # still a registered, loadable dataset
    other = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not any(name[6:] in o for o in other.selectbox(key="data_select").options)
    other.switch_page("pages/train.py").run()
    _no_errors(other)
