"""Continuing a run from its checkpoint, step-by-step mode and the speed limit."""
import json

import numpy as np
import pytest

from synth_core.errors import ConfigError, RunNotFoundError, TrainingError
from synth_core.train import JobManager, Run, RunConfig, load_generator
from synth_core.train.store import atomic_write_json

from .test_run import wait_for


def _gan(run_id, steps, **kw):
    return RunConfig("ring8", "gan", {"batch_size": 32, "width": 16}, steps=steps, seed=3, run_id=run_id,
                     checkpoint_every=5, **kw)


@pytest.mark.slow
def test_continued_run_equals_uninterrupted_run(tmp_path):
    straight = Run(_gan("straight", 30), tmp_path).run_sync()
    first = Run(_gan("cut", 15), tmp_path).run_sync()
    assert first.status == "finished" and first.step == 15
    cont = Run.continue_from("cut", tmp_path, steps=30)
    assert cont.id == "cut" and cont.step == 15 and cont.resumed_from == 15
    cont.run_sync()
    assert cont.status == "finished" and cont.step == 30
    g1, _, _ = load_generator(straight.path)
    g2, cfg, _ = load_generator(cont.path)
    np.testing.assert_array_equal(g1.sample(200, seed=1), g2.sample(200, seed=1))
    assert cfg.steps == 30 and json.loads((cont.path / "config.json").read_text())["steps"] == 30
    steps = [json.loads(line)["step"] for line in (cont.path / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 31))
    times = [json.loads(line)["t"] for line in (cont.path / "metrics.jsonl").read_text().splitlines()]
    assert times == sorted(times)  # the clock continues, it does not restart at 0


def test_interrupted_run_drops_metrics_after_its_checkpoint(tmp_path):
    run = Run(_gan("crash", 12), tmp_path).run_sync()  # checkpoint at 10, then 12 (final)
    # simulate a server killed mid-run: the last checkpoint is at step 10, metrics went on to 12
    ckpt = run.path / "checkpoint.pt"
    import torch
    state = torch.load(ckpt, weights_only=True)
    first = Run(_gan("early", 10), tmp_path).run_sync()
    torch.save(torch.load(first.path / "checkpoint.pt", weights_only=True) | {"config": state["config"]}, ckpt)
    atomic_write_json(run.path / "status.json", {"status": "running", "step": 12, "elapsed_s": 1.5})
    mgr = JobManager(tmp_path)
    assert {r.run_id: r.state for r in mgr.records()}["crash"] == "interrupted"
    cont = mgr.continue_run("crash")  # default: on to the original total
    assert cont.resumed_from == 10
    cont.join(60)
    assert cont.status == "finished" and cont.step == 12
    steps = [json.loads(line)["step"] for line in (cont.path / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 13))
    assert cont.snapshot().elapsed_s >= 1.5


def test_continue_errors(tmp_path):
    with pytest.raises(RunNotFoundError):
        Run.continue_from("nope", tmp_path)
    with pytest.raises(RunNotFoundError):
        Run.continue_from("../escape", tmp_path)
    done = Run(_gan("done", 5), tmp_path).run_sync()
    with pytest.raises(ConfigError, match="already at step 5"):
        Run.continue_from(done.id, tmp_path, steps=5)
    # a finished run continues to twice its length by default
    assert Run.continue_from(done.id, tmp_path).config.steps == 10
    (done.path / "checkpoint.pt").unlink()
    with pytest.raises(TrainingError, match="no checkpoint"):
        Run.continue_from(done.id, tmp_path)


def test_cannot_continue_a_live_run(tmp_path):
    mgr = JobManager(tmp_path)
    run = mgr.submit(_gan("live", 100_000))
    wait_for(lambda: run.step > 0)
    with pytest.raises(ConfigError, match="stop it"):
        mgr.continue_run("live")
    run.stop()
    run.join(30)
    cont = mgr.continue_run("live", steps=run.step + 3)
    cont.join(60)
    assert cont.status == "finished" and mgr.get("live") is cont


def test_step_by_step_mode(tmp_path):
    mgr = JobManager(tmp_path)
    run = mgr.submit(_gan("steps", 100_000))
    wait_for(lambda: run.step >= 2)
    run.step_once("update")  # pauses the run first
    wait_for(lambda: run.status == "paused" and run.last_update is not None)
    s0 = run.step
    run.step_once("step", n=3)
    wait_for(lambda: run.step == s0 + 3)
    snap = run.snapshot()
    assert snap.status == "paused" and snap.last_update is not None and snap.preview_points is not None
    # single updates: after whole steps the next is D's (the step counter stays), then G's completes the step
    before = run.step
    for what, step in (("discriminator", before), ("generator", before + 1)):
        prev = run.last_update
        run.step_once("update", n=1)
        wait_for(lambda: run.last_update is not prev)
        assert run.last_update[0] == what and run.step == step, (run.last_update, run.step, step)
        assert run.generator.step_progress()[0] == (1 if what == "discriminator" else 0)
    run.stop()
    run.join(30)
    assert run.status == "stopped"


@pytest.mark.slow
def test_stop_after_a_lone_d_update_continues_exactly(tmp_path):
    """Step D then Stop: the half-done step is completed before the final checkpoint, so continuing
    the stopped run gives the same model as a run never stopped."""
    straight = Run(_gan("straight", 12), tmp_path).run_sync()
    mgr = JobManager(tmp_path)
    run = mgr.submit(_gan("cut", 12))
    run.pause()
    wait_for(lambda: run.status == "paused" and run.generator is not None)
    run.step_once("step", n=4)
    wait_for(lambda: run.step == 4)
    run.step_once("update")  # the D update of step 5
    wait_for(lambda: run.last_update is not None and run.last_update[0] == "discriminator")
    assert run.generator.step_progress()[0] == 1 and run.step == 4
    run.stop()
    assert run.join(30) and run.status == "stopped"
    assert run.step == 5  # the step was completed, its G update included
    cont = mgr.continue_run("cut", steps=12)
    assert cont.join(60) and cont.status == "finished"
    g1, _, _ = load_generator(straight.path)
    g2, _, _ = load_generator(cont.path)
    np.testing.assert_array_equal(g1.sample(200, seed=1), g2.sample(200, seed=1))


@pytest.mark.slow
def test_speed_limit(tmp_path):
    run = Run(_gan("slow", 100_000), tmp_path)
    run.set_speed(20)
    run.start()
    wait_for(lambda: run.step >= 1)
    s0 = run.step
    import time
    time.sleep(1.0)
    assert run.step - s0 <= 25  # bounded by the limit, whatever the machine's speed
    with pytest.raises(ConfigError):
        run.set_speed(0)
    run.stop()
    run.join(30)
