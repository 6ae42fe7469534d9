"""Issue 9, "training faults" and "no lost work": a diverging or crashing generator fails its run
(never the server) and keeps the last good checkpoint; stopping mid-step is clean; a refresh, a new
tab or a server restart (even SIGKILL mid-run) loses nothing, and an interrupted run resumes from
its last checkpoint. Writes are atomic. Sample snapshots stay bounded on disk."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from synth_core.errors import ConfigError
from synth_core.generators.gan import MLPGAN
from synth_core.train import JobManager, Run, RunConfig, get_manager, load_generator, read_run
from synth_core.train import store
from synth_core.train.reports import load_report, save_report

from .test_run import wait_for

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")


def _gan(run_id: str, steps: int, **kw) -> RunConfig:
    return RunConfig("ring8", "gan", {"batch_size": 32, "width": 16}, steps=steps, seed=2, run_id=run_id,
                     checkpoint_every=kw.pop("checkpoint_every", 5), **kw)


def _steps(run_path: Path) -> list[int]:
    return [r["step"] for r in store.read_metrics(run_path / "metrics.jsonl")]


def _no_temp_files(path: Path) -> bool:
    return not [p for p in path.rglob("*.tmp")]


# ---- training faults ---------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_divergence_fails_the_run_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch, bad):
    real_step = MLPGAN._train_step

    def diverge_at_8(self):
        losses = real_step(self)
        return {k: bad for k in losses} if self.step_ >= 7 else losses
    monkeypatch.setattr(MLPGAN, "_train_step", diverge_at_8)
    run = Run(_gan("div", 1000), tmp_path).run_sync()
    assert run.status == "failed" and run.step == 7
    assert "diverged at step 8" in run.error and "lower the learning rate" in run.error.lower()
    assert "last good checkpoint (step 5)" in run.error
    rec = read_run(tmp_path, "div")
    assert rec.state == "failed" and rec.status["error"] == run.error  # shown after a restart too
    assert _steps(run.path) == list(range(1, 8))  # the diverged step is not recorded
    monkeypatch.undo()
    gen, _, _ = load_generator(run.path)  # the checkpoint on disk is the good one, and it loads
    assert gen.step_ == 5 and np.isfinite(gen.sample(64, seed=0)).all()


def test_generator_crash_in_setup_fails_only_that_run_and_frees_the_slot(tmp_path, monkeypatch):
    real_setup = MLPGAN.setup

    def setup(self, dataset, **kw):
        if kw.get("seed") == 99:
            raise ValueError("broken layer sizes")
        return real_setup(self, dataset, **kw)
    monkeypatch.setattr(MLPGAN, "setup", setup)
    mgr = JobManager(tmp_path, max_concurrent=1)
    bad = mgr.submit(RunConfig("ring8", "gan", {"width": 16}, steps=5, seed=99, run_id="bad"))
    good = mgr.submit(_gan("good", 6))  # queued behind the one that crashes
    assert bad.join(60) and good.join(60)
    assert bad.status == "failed" and "ValueError: broken layer sizes" in bad.error
    assert "broken layer sizes" in (bad.path / "error.log").read_text()  # the traceback, for a bug report
    assert good.status == "finished" and good.step == 6
    states = {r.run_id: r.state for r in JobManager(tmp_path).records()}  # as a restarted server sees them
    assert states == {"bad": "failed", "good": "finished"}


def test_stop_during_a_step_finishes_that_step_cleanly(tmp_path, monkeypatch):
    inside, release = threading.Event(), threading.Event()
    real_step = MLPGAN._train_step

    def slow_step(self):
        if self.step_ == 3:
            inside.set()
            release.wait(30)
        return real_step(self)
    monkeypatch.setattr(MLPGAN, "_train_step", slow_step)
    run = JobManager(tmp_path, 1).submit(_gan("mid", 100_000))
    assert inside.wait(60)
    run.stop()  # arrives while step 4 is half done
    time.sleep(0.2)
    assert run.status == "running"  # the step is never torn in half
    release.set()
    assert run.join(30) and run.status == "stopped" and run.step == 4
    assert store.load_checkpoint(run.path / "checkpoint.pt")["step"] == 4
    assert _steps(run.path) == [1, 2, 3, 4]
    assert read_run(tmp_path, "mid").sample_files()[-1].name == "step_000004.png"
    assert _no_temp_files(run.path) and not store.is_locked(run.path)


# ---- refresh, closed tab, restart ---------------------------------------------------------------
@pytest.mark.slow
def test_a_new_browser_session_sees_finished_and_stopped_runs():
    st.cache_resource.clear()
    mgr = get_manager()
    try:
        done = mgr.submit(_gan("done", 8))
        halted = mgr.submit(_gan("halted", 1_000_000))
        wait_for(lambda: halted.step >= 3)
        halted.stop()
        assert done.join(60) and halted.join(60) and halted.status == "stopped"
        # a refreshed / reopened tab is a brand-new session: nothing in session_state
        at = AppTest.from_file(APP, default_timeout=120).run()
        at.switch_page("pages/runs.py").run()
        assert not at.exception, [e.message for e in at.exception]
        [listing] = [d.value for d in at.dataframe if "created" in d.value.columns]
        assert dict(zip(listing["run"], listing["status"])) == {"done": "finished", "halted": "stopped"}
        for rid in ("done", "halted"):
            at.selectbox(key="runs_select").set_value(rid).run()
            assert at.get("image"), f"{rid}: no samples shown"
            assert "Model checkpoint" in [b.proto.label for b in at.get("download_button")]
    finally:
        mgr.stop_all()


@pytest.mark.slow
def test_server_killed_mid_run_resumes_from_its_last_checkpoint(tmp_path):
    """A real trainer process killed with SIGKILL (no atexit, no final checkpoint)."""
    env = dict(os.environ, SYNTHLAB_RUNS_DIR=str(tmp_path), SYNTHLAB_OFFLINE="1", OMP_NUM_THREADS="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "synth_core.cli", "train", "-g", "gan", "-d", "ring8", "--steps", "1000000",
         "--checkpoint-every", "20", "--run-id", "killed", "--batch-size", "32", "--width", "16", "-q",
         "--out", str(tmp_path)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    path = tmp_path / "killed"
    try:
        wait_for(lambda: (path / "checkpoint.pt").is_file() and len(_steps(path)) >= 45, timeout=120)
        # while that process trains, another server neither calls it interrupted nor writes into it
        mgr = JobManager(tmp_path)
        assert {r.run_id: r.state for r in mgr.records()}["killed"] == "running"
        with pytest.raises(ConfigError, match="being trained"):
            mgr.continue_run("killed")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    ckpt_step = store.load_checkpoint(path / "checkpoint.pt")["step"]
    # metrics are flushed with every checkpoint (and about once a second): they reach it, and often
    # go past it (steps the crash lost, dropped again by continue_run)
    assert ckpt_step % 20 == 0 and ckpt_step >= 20 and len(_steps(path)) >= ckpt_step
    restarted = JobManager(tmp_path)
    [rec] = restarted.records()
    assert rec.state == "interrupted" and rec.checkpoint.is_file() and rec.sample_files()
    run = restarted.continue_run("killed", steps=ckpt_step + 10)
    assert run.resumed_from == ckpt_step
    assert run.join(60) and run.status == "finished", run.error
    assert _steps(path) == list(range(1, ckpt_step + 11))  # steps the crash lost are trained again
    assert read_run(tmp_path, "killed").state == "finished"


# ---- atomic writes -----------------------------------------------------------------------------
def test_a_crash_during_a_write_leaves_the_old_file_intact(tmp_path, monkeypatch):
    target = tmp_path / "status.json"
    store.atomic_write_json(target, {"status": "running", "step": 10})

    def crash(fd):
        raise OSError("disk pulled out")
    monkeypatch.setattr(store.os, "fsync", crash)  # after the bytes went to the temp file
    with pytest.raises(OSError):
        store.atomic_write_json(target, {"status": "finished", "step": 20})
    with pytest.raises(OSError):
        save_report(tmp_path, {"overall": 50.0})
    monkeypatch.undo()
    assert json.loads(target.read_text()) == {"status": "running", "step": 10}
    assert load_report(tmp_path) is None and _no_temp_files(tmp_path)


def test_a_crash_while_checkpointing_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    run = Run(_gan("ck", 10), tmp_path).run_sync()
    before = (run.path / "checkpoint.pt").read_bytes()

    def torn_save(obj, fh):
        fh.write(b"PK\x03\x04 half a zip")
        raise RuntimeError("killed mid-save")
    monkeypatch.setattr(store.torch, "save", torn_save)
    with pytest.raises(RuntimeError):
        store.atomic_torch_save(run.path / "checkpoint.pt", {"step": 99})
    monkeypatch.undo()
    assert (run.path / "checkpoint.pt").read_bytes() == before and _no_temp_files(run.path)
    assert store.load_checkpoint(run.path / "checkpoint.pt")["step"] == 10


def test_a_torn_metrics_line_is_dropped_when_continuing(tmp_path):
    run = Run(_gan("torn", 10), tmp_path).run_sync()
    with open(run.path / "metrics.jsonl", "a") as fh:
        fh.write('{"step": 11, "loss_d": 0.6')  # the process died mid-line
    cont = Run.continue_from("torn", tmp_path, steps=13).run_sync()
    assert cont.status == "finished" and _steps(cont.path) == list(range(1, 14))


# ---- bounded snapshots -------------------------------------------------------------------------
@pytest.mark.slow
def test_sample_snapshots_stay_bounded_and_spread(tmp_path, monkeypatch):
    monkeypatch.setattr("synth_core.train.run.MAX_SAMPLE_FILES", 6)
    run = Run(_gan("long", 40, sample_every=1, checkpoint_every=20), tmp_path).run_sync()
    kept = [store.sample_step(p) for p in read_run(tmp_path, "long").sample_files()]
    assert len(kept) <= 6 and kept[0] == 1 and kept[-1] == 40
    grid = run.config.sample_every * run._sample_stride
    assert grid >= 8 and all(s % grid == 0 for s in kept[1:-1])
    assert max(np.diff(kept)) <= grid  # evenly spread over the run, no hole
    # a continued run keeps the bound and the first snapshot
    cont = Run.continue_from("long", tmp_path, steps=80).run_sync()
    kept = [store.sample_step(p) for p in read_run(tmp_path, "long").sample_files()]
    assert len(kept) <= 6 and kept[0] == 1 and kept[-1] == 80 and cont.step == 80
    assert _steps(cont.path) == list(range(1, 81))
