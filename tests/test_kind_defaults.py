"""Per-data-kind defaults (``Generator.kind_defaults``): a generator can default differently on 2-D
points than on images. Only params the user did not set follow the data kind: in the generator
itself, in a run's resolved config, in the CLI and in the Train page's widgets."""
from __future__ import annotations

import json

import pytest

from synth_core.data import load_dataset
from synth_core.errors import ConfigError
from synth_core.generators import get_generator
from synth_core.generators.base import register_generator
from synth_core.params import Param
from synth_core.train import RunConfig

from .test_app_pages import _no_errors

WGAN = get_generator("wgan_gp")
POINTS = WGAN.kind_defaults["points"]


def test_params_for_replaces_only_that_kinds_defaults():
    by_name = {p.name: p for p in WGAN.params_for("points")}
    for name, value in POINTS.items():
        assert by_name[name].default == value
    tabular = {p.name: p.default for p in WGAN.params_for("tabular")}
    assert tabular == {p.name: p.default for p in WGAN.params}  # no tabular overrides: the class defaults
    image = {p.name: p.default for p in WGAN.params_for("image")}
    assert image["lr_g"] == tabular["lr_g"] == 1e-4 and POINTS["lr_g"] == 1e-3
    assert image["width"] == 32 and tabular["width"] == 128


def test_unset_params_follow_the_data_kind_set_ones_stay():
    g = WGAN(width=48).setup(load_dataset("ring8").subset(64), seed=0)
    assert g.hparams["width"] == 48                      # set by the user: kept
    assert g.hparams["lr_g"] == POINTS["lr_g"]           # unset: the points default
    img = WGAN().setup(load_dataset("digits").subset(64), seed=0)
    assert img.hparams["lr_g"] == 1e-4 and img.hparams["width"] == 32


def test_run_config_resolves_kind_defaults_and_replays_exactly():
    cfg = RunConfig(dataset="ring8", generator="wgan_gp", params={"batch_size": 32}).resolved()
    assert cfg.params["batch_size"] == 32 and cfg.params["lr_d"] == POINTS["lr_d"]
    again = RunConfig(**json.loads(json.dumps(cfg.__dict__))).resolved()  # config.json round trip
    assert again.params == cfg.params
    assert RunConfig(dataset="digits", generator="wgan_gp").resolved().params["lr_d"] == 1e-4


@pytest.mark.parametrize("over, error, match", [
    ({"image": {"lr_g": 1e-3}}, ValueError, "unsupported kind"),       # a programming error at import
    ({"points": {"no_such": 1}}, ValueError, r"unknown params \['no_such'\]"),
    ({"points": {"lr_g": 5.0}}, ConfigError, r"lr_g must be <= 0\.1; got 5\.0"),  # outside the Param's range
])
def test_register_rejects_bad_kind_defaults(over, error, match):
    from synth_core.generators.base import Generator

    class Bad(Generator):
        name = "bad_kind_defaults"
        supports = frozenset({"points"})
        params = (Param("lr_g", "float", 1e-4, low=1e-6, high=1e-1, log=True),)
        kind_defaults = over

        def _setup(self, dataset):  # pragma: no cover - never set up
            pass

        def _train_step(self):  # pragma: no cover
            return {}

        def _sample(self, n, condition, gen):  # pragma: no cover
            return None

    with pytest.raises(error, match=match) as raised:
        register_generator(Bad)
    assert type(raised.value) is error  # not some other failure that happens to mention the words
    with pytest.raises(ConfigError, match="Unknown generator"):
        get_generator("bad_kind_defaults")  # a refused generator is not registered


def test_cli_shows_kind_defaults(capsys):
    from synth_core.cli import main

    assert main(["generators", "--params"]) == 0
    assert "--lr-g 0.001" in next(line for line in capsys.readouterr().out.splitlines() if "defaults on points" in line)


@pytest.mark.slow
def test_train_page_widgets_follow_the_data_kind_unless_tuned(app):
    at = app.run()
    at.selectbox(key="data_select").set_value("digits").run()
    at.switch_page("pages/train.py").run()
    at.selectbox(key="train_gen_select").set_value("wgan_gp").run()
    _no_errors(at)
    assert at.number_input(key="w/wgan_gp/lr_g").value == pytest.approx(1e-4)
    at.number_input(key="w/wgan_gp/batch_size").set_value(100).run()  # tuned by the user
    at.switch_page("pages/data.py").run()
    at.selectbox(key="data_select").set_value("ring8").run()
    at.switch_page("pages/train.py").run()
    _no_errors(at)
    assert at.number_input(key="w/wgan_gp/lr_g").value == pytest.approx(POINTS["lr_g"])  # followed
    assert at.number_input(key="w/wgan_gp/width").value == POINTS["width"]
    assert at.number_input(key="w/wgan_gp/batch_size").value == 100                      # kept
    at.button(key="reset").click().run()
    assert at.number_input(key="w/wgan_gp/batch_size").value == WGAN.params_for("points")[0].default
