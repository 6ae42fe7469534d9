import json
import math
import time

import numpy as np
import pytest

from synth_core.errors import ConfigError, RunNotFoundError
from synth_core.generators.gaussian import GaussianGenerator
from synth_core.train import JobManager, LossHistory, Run, RunConfig, load_generator, read_run
from synth_core.train.store import load_checkpoint, validate_run_id


def wait_for(pred, timeout=60.0, interval=0.02):
    t = time.time()
    while time.time() - t < timeout:
        if pred():
            return True
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def tiny_dcgan(steps=10_000, **kw):
    return RunConfig(dataset="digits", generator="dcgan", params={"batch_size": 16, "width": 8, "z_dim": 8},
                     steps=steps, seed=0, sample_every=5, **kw)


def test_run_folder_contents(tmp_path):
    run = Run(RunConfig("digits", "dcgan", {"batch_size": 16, "width": 8}, steps=12, sample_every=5,
                        checkpoint_every=10), tmp_path).run_sync()
    assert run.status == "finished" and run.step == 12
    files = {p.name for p in run.path.iterdir()}
    assert {"config.json", "status.json", "metrics.jsonl", "samples", "checkpoint.pt"} <= files
    cfg = json.loads((run.path / "config.json").read_text())
    assert cfg["generator"] == "dcgan" and cfg["params"]["batch_size"] == 16 and cfg["params"]["lr_g"] == 1e-3
    rows = [json.loads(line) for line in (run.path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == list(range(1, 13))
    assert all(math.isfinite(r["loss_d"]) for r in rows)
    samples = sorted(p.name for p in (run.path / "samples").iterdir())
    assert samples == ["step_000001.png", "step_000005.png", "step_000010.png", "step_000012.png"]
    from PIL import Image
    img = Image.open(run.path / "samples" / "step_000012.png")
    assert img.width >= 300  # upscaled so 8x8 digits are visible
    status = json.loads((run.path / "status.json").read_text())
    assert status["status"] == "finished" and status["step"] == 12
    ckpt = load_checkpoint(run.path / "checkpoint.pt")
    assert ckpt["step"] == 12 and ckpt["config"]["run_id"] == run.id


def test_checkpoint_reload_reproduces_samples(tmp_path):
    run = Run(RunConfig("digits", "dcgan", {"batch_size": 16, "width": 8}, steps=6, seed=3), tmp_path).run_sync()
    gen, config, ds = load_generator(run.path)
    assert config.seed == 3 and gen.step_ == 6
    np.testing.assert_array_equal(gen.sample(16, seed=11), run.generator.sample(16, seed=11))


def test_same_config_same_result(tmp_path):
    a = Run(RunConfig("ring8", "gaussian", seed=5), tmp_path).run_sync()
    b = Run(RunConfig("ring8", "gaussian", seed=5), tmp_path).run_sync()
    np.testing.assert_array_equal(a.sample(100, seed=1), b.sample(100, seed=1))


@pytest.mark.slow
def test_pause_resume_stop(tmp_path):
    run = JobManager(tmp_path, 1).submit(tiny_dcgan())
    wait_for(lambda: run.step >= 3)
    run.pause()
    wait_for(lambda: run.status == "paused")
    time.sleep(0.3)
    frozen = run.step
    time.sleep(0.5)
    assert run.step == frozen, "a paused run must not train"
    run.resume()
    wait_for(lambda: run.step > frozen + 2)
    assert run.status == "running"
    run.stop()
    assert run.join(30)
    assert run.status == "stopped" and run.step < 10_000
    rec = read_run(tmp_path, run.id)
    assert rec.state == "stopped" and rec.checkpoint.is_file()
    assert load_checkpoint(rec.checkpoint)["step"] == run.step


def test_queue_limits_concurrency(tmp_path):
    mgr = JobManager(tmp_path, max_concurrent=1)
    first = mgr.submit(tiny_dcgan())
    second = mgr.submit(tiny_dcgan())
    wait_for(lambda: first.status == "running")
    time.sleep(0.3)
    assert second.status == "queued" and second.step == 0
    assert second.snapshot().queue_position == 1
    first.stop()
    first.join(30)
    wait_for(lambda: second.step > 0)
    second.stop()
    assert second.join(30) and second.status == "stopped"


def test_stop_while_queued(tmp_path):
    mgr = JobManager(tmp_path, max_concurrent=1)
    first = mgr.submit(tiny_dcgan())
    queued = mgr.submit(tiny_dcgan())
    queued.stop()
    assert queued.join(10) and queued.status == "stopped" and queued.step == 0
    first.stop()
    first.join(30)


def test_divergence_stops_with_advice(tmp_path, monkeypatch):
    monkeypatch.setattr(GaussianGenerator, "_train_step", lambda self: {"nll_per_dim": float("nan")})
    run = Run(RunConfig("ring8", "gaussian"), tmp_path).run_sync()
    assert run.status == "failed" and "diverged" in run.error and "learning rate" in run.error
    assert read_run(tmp_path, run.id).state == "failed"


def test_generator_exception_marks_run_failed(tmp_path, monkeypatch):
    def boom(self):
        raise RuntimeError("kaboom")
    monkeypatch.setattr(GaussianGenerator, "_train_step", boom)
    mgr = JobManager(tmp_path, 1)
    run = mgr.submit(RunConfig("ring8", "gaussian"))
    assert run.join(30)
    assert run.status == "failed" and "kaboom" in run.error
    assert (run.path / "error.log").read_text().count("kaboom") >= 1
    # the manager keeps working after a failure
    ok = mgr.submit(RunConfig("ring8", "gaussian"))
    monkeypatch.undo()
    assert ok.join(30)
    assert ok.status == "finished" and ok.error is None and ok.step == ok.config.steps, (ok.status, ok.error)
    assert read_run(tmp_path, ok.id).state == "finished"


def test_bad_configs_fail_before_starting(tmp_path):
    with pytest.raises(ConfigError, match="Unknown dataset"):
        Run(RunConfig("nope", "gaussian"), tmp_path)
    with pytest.raises(ConfigError, match="does not support points"):
        Run(RunConfig("ring8", "dcgan"), tmp_path)
    with pytest.raises(ConfigError, match="lr_g must be"):
        Run(RunConfig("mnist", "dcgan", {"lr_g": 10}), tmp_path)
    with pytest.raises(ConfigError, match="steps"):
        Run(RunConfig("mnist", "dcgan", steps=0), tmp_path)
    assert not any(tmp_path.iterdir()), "no run folder for a config that never started"


@pytest.mark.parametrize("bad", ["../etc", "a/b", "..", "", ".hidden", "x" * 200, "a\\b"])
def test_run_ids_cannot_escape_the_runs_folder(bad, tmp_path):
    with pytest.raises(RunNotFoundError):
        validate_run_id(bad)
    with pytest.raises((RunNotFoundError, ConfigError)):
        read_run(tmp_path, bad)


def test_interrupted_runs_are_reported(tmp_path):
    run = Run(RunConfig("ring8", "gaussian"), tmp_path).run_sync()
    status = json.loads((run.path / "status.json").read_text())
    status["status"] = "running"  # as if the server died mid-run
    (run.path / "status.json").write_text(json.dumps(status))
    fresh = JobManager(tmp_path, 1)  # a restarted server
    [rec] = fresh.records()
    assert rec.state == "interrupted"


def test_loss_history_is_bounded():
    h = LossHistory(max_points=100)
    for s in range(1, 10_001):
        h.add(s, s * 0.01, {"loss": 1.0 / s})
    d = h.copy()
    assert 50 <= len(d["step"]) <= 100
    assert d["step"] == sorted(d["step"]) and d["step"][-1] >= 9_900


def test_exports(tmp_path):
    import csv
    import io

    from synth_core.train import LossHistory
    from synth_core.train.export import metrics_csv, samples_csv, samples_npz

    run = Run(RunConfig("digits", "dcgan", {"batch_size": 16, "width": 8}, steps=5), tmp_path).run_sync()
    rows = list(csv.DictReader(io.StringIO(metrics_csv(run.path).decode())))
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4, 5] and "loss_g" in rows[0]
    hist = LossHistory.from_metrics(run.path / "metrics.jsonl").copy()
    assert hist["step"] == [1, 2, 3, 4, 5] and set(hist["losses"]) == {"loss_d", "loss_g", "D(x)", "D(G(z))"}
    x = run.sample(7, seed=0)
    arr = np.load(io.BytesIO(samples_npz(x, run._dataset)))["x"]
    assert arr.shape == (7, 8, 8, 1) and arr.dtype == np.uint8
    pts = Run(RunConfig("ring8", "gaussian"), tmp_path).run_sync()
    text = samples_csv(pts.sample(3, seed=0), pts._dataset).decode().splitlines()
    assert text[0] == "x,y" and len(text) == 4


def test_tabular_exports_keep_original_columns(tmp_path):
    import io

    import pandas as pd

    from synth_core.train.export import build_csv, build_npz, generator_sampler

    run = Run(RunConfig("patients", "copula"), tmp_path).run_sync()
    assert run.status == "finished", run.error
    ds = run._dataset
    real = ds.frame()
    assert ds.y is not None and "risk" in real.columns  # a labelled table: the label is one of its columns
    # the download path (build_csv / build_npz over a run's sampler): exactly the user's columns, in order
    sampler = generator_sampler(run, ds, seed=0)
    df = pd.read_csv(io.BytesIO(build_csv(sampler, 50, ds)))
    assert list(df.columns) == list(real.columns) and len(df) == 50
    assert set(df["risk"]) <= set(real["risk"])
    arrays = np.load(io.BytesIO(build_npz(sampler, 50, ds)), allow_pickle=False)
    assert set(arrays.files) - {"y"} == set(real.columns)
