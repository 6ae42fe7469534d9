"""Renamed Params (issue 14: one name for the latent size, one for network width): a run saved under the
old names still loads, replays and continues; ``synthlab train --help`` lists each data kind's defaults."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from synth_core.cli import main
from synth_core.generators import get_generator
from synth_core.generators.base import Generator, register_generator
from synth_core.params import Param
from synth_core.train import Run, RunConfig, load_generator


def _as_saved_before_the_rename(run_dir, new: str, old: str) -> None:
    """Rewrite a run folder's config.json and its checkpoint's copy of the config under an old Param name."""
    cfg = json.loads((run_dir / "config.json").read_text())
    cfg["params"][old] = cfg["params"].pop(new)
    (run_dir / "config.json").write_text(json.dumps(cfg))
    ckpt = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    ckpt["config"]["params"][old] = ckpt["config"]["params"].pop(new)
    torch.save(ckpt, run_dir / "checkpoint.pt")


def test_a_vae_run_saved_with_latent_dim_loads_samples_replays_and_continues(tmp_path, capsys):
    assert main(["train", "-d", "ring8", "-g", "vae", "--steps", "3", "--z-dim", "3", "--width", "16", "--depth", "1",
                 "--batch-size", "32", "--checkpoint-every", "1", "--out", str(tmp_path), "--seed", "5"]) == 0
    rid = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["run_id"]
    run_dir = tmp_path / rid
    before = load_generator(run_dir)[0].sample(20, seed=1)
    _as_saved_before_the_rename(run_dir, "z_dim", "latent_dim")

    gen, config, _ = load_generator(run_dir)
    assert config.params["z_dim"] == 3 and "latent_dim" not in config.params and gen.latent_size() == 3
    np.testing.assert_array_equal(gen.sample(20, seed=1), before)
    assert main(["sample", str(run_dir), "-n", "10", "-o", str(tmp_path / "s.npz")]) == 0
    # replaying the old config trains the same model under the new name
    assert main(["train", "--config", str(run_dir / "config.json"), "--out", str(tmp_path)]) == 0
    replay = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["run_id"]
    assert json.loads((tmp_path / replay / "config.json").read_text())["params"]["z_dim"] == 3
    np.testing.assert_array_equal(load_generator(tmp_path / replay)[0].sample(20, seed=1), before)
    # the run list reads it under today's names, so the Runs page compares it with the replay like for like
    from synth_core.train.store import read_run
    from synth_core.viz.compare_runs import differing_params

    configs = [read_run(tmp_path, r).config for r in (rid, replay)]
    assert configs[0]["params"]["z_dim"] == 3 and "latent_dim" not in configs[0]["params"]
    assert "z_dim" not in differing_params(configs) and "latent_dim" not in differing_params(configs)
    # and the old run continues from its checkpoint
    run = Run.continue_from(rid, tmp_path, steps=4)
    run.run_sync()
    assert run.status == "finished" and run.step == 4


@pytest.mark.parametrize("name,kind_dataset,old,want", [
    ("vae", "ring8", {"latent_dim": 4}, {"z_dim": 4}),
    ("cvae", "digits", {"latent_dim": 4}, {"z_dim": 4}),
    ("tvae", "wine", {"latent_dim": 16}, {"z_dim": 16}),
    ("realnvp", "ring8", {"hidden": 32}, {"width": 32}),
    # DDPM had ``hidden`` (MLP denoiser: points/tabular) beside ``width`` (U-Net: images)
    ("ddpm", "ring8", {"hidden": 64, "width": 16}, {"width": 64}),
    ("ddpm", "wine", {"hidden": 64, "width": 16}, {"width": 64}),
    ("ddpm", "digits", {"hidden": 128, "width": 24}, {"width": 24}),
])
def test_old_param_names_read_as_todays(name, kind_dataset, old, want):
    cfg = RunConfig.from_dict({"dataset": kind_dataset, "generator": name, "params": old, "steps": 2})
    assert cfg.params == want
    resolved = cfg.resolved().params  # the names are ones the generator declares
    assert all(resolved[k] == v for k, v in want.items())
    assert not set(old) - set(want) & set(resolved)


def test_ddpm_width_defaults_follow_the_data_kind():
    ddpm = get_generator("ddpm")
    width = {p.name: p for p in ddpm.params_for("image")}["width"]
    assert width.default == 16 and {p.name: p for p in ddpm.params_for("points")}["width"].default == 128
    assert "hidden" not in {p.name for p in ddpm.params}


def test_renamed_params_must_name_declared_params():
    class Bad(Generator):
        name = "bad_renamed_params"
        supports = frozenset({"points"})
        params = (Param("z_dim", "int", 2, low=1, high=8),)
        renamed_params = {"latent_dim": "latent"}

        def _setup(self, dataset): ...
        def _train_step(self): return {}
        def _sample(self, n, condition, gen): return np.zeros((n, 2))
        def _state_dict(self): return {}
        def _load_state_dict(self, state): ...

    with pytest.raises(ValueError, match="renamed_params"):
        register_generator(Bad)


def test_train_help_lists_each_kinds_defaults(capsys):
    with pytest.raises(SystemExit) as done:
        main(["train", "-g", "wgan_gp", "--help"])
    assert done.value.code == 0
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    assert "(default: 256; on image data: 64; on points data: 512)" in out  # --batch-size
    assert "(default: 0.0001; on points data: 0.001)" in out  # --lr-g
    assert "Default 20% for tables" in out  # the holdout's help, % and all
