"""AppTest: widgets show the run's real state, a refresh (a new session with the same address) restores
the form and the person's own uploads, Learn's VAE demo. (AppTest drops the sidebar after a page switch,
so the sidebar's "Run:" line is checked in a real browser: test_e2e_live_truth.py.)"""
from __future__ import annotations

import io

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from synth_core.data import dataset_info, owners
from synth_core.data.user_data import save_upload
from synth_core.data.uploads import UploadOptions
from synth_core.data.user_data import preview_table
from synth_core.train import RunConfig, get_manager
from synth_core.train import views

from .e2e_support import ROOT
from .test_app_pages import _no_errors, wait_for


def _fresh(query: dict[str, str] | None = None) -> AppTest:
    """A new browser session of the same server (same process: same job manager), e.g. after a refresh."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return at


@pytest.mark.slow
def test_speed_slider_shows_the_runs_limit_after_a_page_switch(app):
    at = app
    run = get_manager().submit(RunConfig("ring8", "gan", {"width": 16, "batch_size": 32}, steps=100_000))
    wait_for(lambda: run.status == "running")
    at.run()
    at.switch_page("pages/train.py").run()
    _no_errors(at)
    assert at.select_slider(key="train_speed").value == "max"  # full speed: the slider says so
    at.select_slider(key="train_speed").set_value(5).run()
    assert run.max_steps_per_s == 5.0
    # away and back: the slider shows the run's limit, not its first option
    at.switch_page("pages/data.py").run()
    at.switch_page("pages/train.py").run()
    assert at.select_slider(key="train_speed").value == 5
    # the limit changed elsewhere (another tab, the API): the slider follows the run
    run.set_speed(None)
    at.switch_page("pages/data.py").run()
    at.switch_page("pages/train.py").run()
    assert at.select_slider(key="train_speed").value == "max"
    run.set_speed(20)
    at.run()
    assert at.select_slider(key="train_speed").value == 20
    run.stop()
    run.join(30)


@pytest.mark.slow
def test_refresh_restores_the_form_from_the_followed_run(app):
    run = get_manager().submit(RunConfig("ring8", "wgan_gp", {"lr_g": 3e-4, "batch_size": 128}, steps=1234, seed=7))
    at = app
    at.run()
    at.switch_page("pages/train.py").run()
    tok = at.session_state["owner"]
    assert at.query_params["owner"] in (tok, [tok])
    run.stop()
    run.join(30)
    # "refresh": a new session with the same address
    at2 = _fresh({"run": run.id, "owner": tok})
    at2.run()
    at2.switch_page("pages/train.py").run()
    _no_errors(at2)
    assert at2.session_state["dataset"] == "ring8"
    assert at2.selectbox(key="train_gen_select").value == "wgan_gp"
    assert at2.number_input(key="w/run/wgan_gp/steps").value == 1234
    assert at2.number_input(key="w/run/wgan_gp/seed").value == 7
    assert at2.number_input(key="w/wgan_gp/lr_g").value == 3e-4
    assert at2.number_input(key="w/wgan_gp/batch_size").value == 128
    # a bad or unknown run id restores nothing and breaks nothing
    for bad in ("../../etc", "20990101-000000-gan-ring8-ffff"):
        at3 = _fresh({"run": bad})
        at3.run()
        at3.switch_page("pages/train.py").run()
        _no_errors(at3)
        assert at3.session_state["dataset"] == "mnist"


def _table_bytes() -> bytes:
    df = pd.DataFrame({"age": [20 + i % 50 for i in range(120)], "code": [i % 7 for i in range(120)],
                       "group": ["a", "b", "c"] * 40})
    buf = io.StringIO()
    df.to_csv(buf, index=False)
    return buf.getvalue().encode()


def _listed(at, info) -> bool:
    """Does this session's dataset picker offer ``info`` (its options are the formatted labels)?"""
    return any(o.startswith(info.label) for o in at.selectbox(key="data_select").options)


@pytest.mark.slow
def test_own_uploads_and_schema_edits_survive_a_refresh_and_stay_private(app):
    at = app
    at.run()
    tok = at.session_state["owner"]
    data = _table_bytes()
    # an edited schema: "code" is categorical, not an integer
    schema = preview_table("people.csv", data).schema.set_type("code", "categorical")
    from synth_core.ui import session  # noqa: F401  (the same helper the Data page uses)
    info = save_upload("people.csv", data, UploadOptions(schema=schema))
    owners.add(tok, info.name)  # what session.use_upload records for this browser
    # the same browser after a refresh: listed, with its edited schema
    at2 = _fresh({"owner": tok})
    at2.run()
    _no_errors(at2)
    assert _listed(at2, info)
    at2.selectbox(key="data_select").set_value(info.name).run()
    _no_errors(at2)
    from synth_core.data import load_dataset
    assert load_dataset(info.name).schema["code"].type == "categorical"
    # another browser (no token, or another token) does not see it
    for q in ({}, {"owner": owners.new_token()}):
        other = _fresh(q)
        other.run()
        assert not _listed(other, info)
    # a forged token is replaced, never trusted as a path
    forged = _fresh({"owner": "../../etc/passwd"})
    forged.run()
    _no_errors(forged)
    assert owners.valid_token(forged.session_state["owner"])


@pytest.mark.slow
def test_upload_through_the_data_page_survives_a_refresh(app):
    at = app
    at.run()
    tok = at.session_state["owner"]
    at.get("file_uploader")[0].set_value(("people.csv", _table_bytes(), "text/csv")).run()
    _no_errors(at)
    at.button(key="upload_use").click().run()
    _no_errors(at)
    name = at.session_state["dataset"]
    assert name.startswith("upload-") and name in owners.owned(tok)
    at2 = _fresh({"owner": tok})
    at2.run()
    assert _listed(at2, dataset_info(name))


def test_learn_try_it_vae_starts_with_a_2d_latent(app):
    at = app
    at.run()
    at.switch_page("pages/learn.py").run()
    at.button(key="try_vae").click().run()
    _no_errors(at)
    assert at.session_state["train_gen"] == "vae"
    at.switch_page("pages/train.py").run()
    assert at.number_input(key="w/vae/z_dim").value == 2
    assert views  # (imported for the speed options)


@pytest.mark.slow
def test_train_page_says_when_training_slowed_down(app):
    """Below half of the run's own early rate (here: an early rate we pretend it had), the Train page
    shows a notice with the cause when known; a speed limit the user set is no slowdown."""
    run = get_manager().submit(RunConfig("ring8", "gan", {"width": 16, "batch_size": 32}, steps=100_000))
    wait_for(lambda: run.status == "running" and run.snapshot().rate_unthrottled and run.steps_per_s() > 0,
             timeout=120)
    run.early_steps_per_s = 1000 * run.steps_per_s()  # as if it had trained 1000x faster at first
    at = app
    at.run()
    at.switch_page("pages/train.py").run()
    _no_errors(at)
    notes = " | ".join(w.value for w in at.warning)
    assert "Training slowed down" in notes and "under half of its early" in notes
    run.set_speed(1)
    at.run()
    assert "Training slowed down" not in " | ".join(w.value for w in at.warning)
    run.stop()
    run.join(30)
