import json
import subprocess
import sys

import numpy as np
import pytest

from synth_core.cli import main


def test_train_writes_run_folder_and_runs_lists_it(tmp_path, capsys):
    rc = main(["train", "--dataset", "digits", "--generator", "dcgan", "--steps", "4", "--out", str(tmp_path),
               "--batch-size", "16", "--width", "8", "--seed", "2"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["status"] == "finished" and out["step"] == 4
    run_dir = tmp_path / out["run_id"]
    cfg = json.loads((run_dir / "config.json").read_text())
    assert cfg["params"]["batch_size"] == 16 and cfg["seed"] == 2
    assert (run_dir / "checkpoint.pt").is_file() and list((run_dir / "samples").glob("*.png"))
    assert main(["runs", "--out", str(tmp_path)]) == 0
    listing = capsys.readouterr().out
    assert out["run_id"] in listing and "finished" in listing and "4/4" in listing


def test_config_replay_gives_same_result(tmp_path, capsys):
    assert main(["train", "-d", "ring8", "-g", "gaussian", "--out", str(tmp_path), "--seed", "4"]) == 0
    first = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    cfg = tmp_path / first["run_id"] / "config.json"
    assert main(["train", "--config", str(cfg), "--out", str(tmp_path)]) == 0
    second = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for rid, out in ((first["run_id"], "a.npz"), (second["run_id"], "b.npz")):
        assert main(["sample", str(tmp_path / rid), "-n", "50", "--seed", "1", "-o", str(tmp_path / out)]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "a.npz")["x"], np.load(tmp_path / "b.npz")["x"])


def test_user_errors_exit_2_without_traceback(tmp_path, capsys):
    assert main(["train", "--dataset", "nope", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Unknown dataset 'nope'") and "Traceback" not in err
    assert main(["train", "-g", "dcgan", "--lr-g", "5", "--out", str(tmp_path)]) == 2
    assert "lr_g must be <= 0.1" in capsys.readouterr().err
    assert main(["train", "-d", "mnist-full", "-g", "dcgan", "--steps", "1", "--out", str(tmp_path)]) == 2
    assert "bundled 'mnist'" in capsys.readouterr().err
    assert main(["sample", str(tmp_path / "missing"), "-o", str(tmp_path / "x.npz")]) == 2
    assert main(["bogus"]) == 2


def test_generator_flags_come_from_params(capsys):
    assert main(["generators", "--params"]) == 0
    out = capsys.readouterr().out
    assert "--lr-g" in out and "--batch-size" in out and "gaussian" in out


@pytest.mark.slow
def test_console_script_entry_point(tmp_path):
    exe = [sys.executable, "-m", "synth_core.cli"]
    res = subprocess.run(exe + ["datasets"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and "mnist" in res.stdout and "ring8" in res.stdout


@pytest.mark.slow
def test_evaluate_prints_the_report(tmp_path, capsys):
    assert main(["train", "-d", "ring8", "-g", "gaussian", "--out", str(tmp_path)]) == 0
    rid = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["run_id"]
    out_json = tmp_path / "rep.json"
    # no -n: every front end scores the same sample size (train/evaluate.py's one rule)
    assert main(["evaluate", str(tmp_path / rid), "--json", str(out_json),
                 "--html", str(tmp_path / "rep.html")]) == 0
    text = capsys.readouterr().out
    assert "Overall" in text or "overall" in text
    rep = json.loads(out_json.read_text())
    # a single Gaussian on the 8-Gaussian ring covers few modes: the report must say so
    modes = [s for s in rep["scores"] if s["key"] == "modes_covered"]
    assert modes and modes[0]["score"] < 1.0
    assert rep["overall"] < 80
    assert (tmp_path / "rep.html").read_text().lstrip().lower().startswith("<!doctype html")
