"""Faults stay inside the run (issue 15): on the ``local`` executor each run trains in a worker process,
so an exception, ``os.abort()``, a SIGKILL (what an out-of-memory kill is), a tensor too big or a step
that never returns ends only that run. The run says what happened, keeps its last checkpoint and can be
continued; the manager (the server) goes on serving and another run keeps training."""
from __future__ import annotations

import importlib
import os
import subprocess
import sys
import time

import pytest

from synth_core.train import RunConfig, RunStatus
from synth_core.train import remote, store
from synth_core.train.manager import JobManager
from synth_core.train.run import Run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def faulty():
    """The faulty generators, registered here and (via SYNTHLAB_PLUGINS) in every worker process."""
    with importlib.import_module("tests.fault_generators").plugged_in() as module:
        yield module


@pytest.fixture
def mgr(tmp_path, faulty):
    m = JobManager(tmp_path / "runs", max_concurrent=2, executor="local")
    yield m
    m.stop_all(timeout=30)


def _cfg(gen: str, faulty, steps: int = 100_000) -> RunConfig:
    return RunConfig(dataset="ring8", generator=gen, steps=steps, params={"width": 16},
                     checkpoint_every=faulty.CHECKPOINT_EVERY)


def _wait(cond, timeout: float = 120.0, what: str = "") -> None:
    deadline = time.time() + timeout
    while not cond():
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _still_serving(mgr: JobManager, healthy) -> None:
    """The other run kept training after the fault, and the manager still lists and reads runs."""
    before = healthy.step
    _wait(lambda: healthy.step > before + 5, what="the healthy run to keep training")
    assert healthy.status == RunStatus.RUNNING
    assert {r.run_id for r in mgr.records()} >= {healthy.id}


@pytest.mark.parametrize("gen, status, says", [
    ("fault_raise", RunStatus.FAILED, "ValueError: a bug in this generator's train step"),
    ("fault_oom", RunStatus.FAILED, "RuntimeError"),
    ("fault_abort", RunStatus.INTERRUPTED, "SIGABRT"),
    ("fault_kill", RunStatus.INTERRUPTED, "SIGKILL"),
])
def test_a_crashing_worker_ends_only_its_run(mgr, faulty, gen, status, says):
    healthy = mgr.submit(_cfg("gan", faulty))
    _wait(lambda: healthy.step > 0, what="the healthy run to start")
    bad = mgr.submit(_cfg(gen, faulty))
    _wait(lambda: bad.status.final, what=f"{gen} to end")
    assert bad.status == status, bad.error
    assert says in bad.error
    disk = bad.folder.read_status()
    assert disk["status"] == status.value and says in disk["error"]
    # it keeps its last checkpoint (the step before the fault's) and can be continued from it
    assert bad.folder.load_checkpoint()["step"] == faulty.CHECKPOINT_EVERY
    config, _ = Run.continue_plan(bad.id, mgr.root, steps=500)
    assert config.steps == 500
    _still_serving(mgr, healthy)


def test_stop_terminates_a_worker_stuck_in_a_long_call(mgr, faulty, monkeypatch):
    monkeypatch.setattr(remote, "STOP_GRACE_S", 3.0)
    stuck = mgr.submit(_cfg("fault_hang", faulty))
    healthy = mgr.submit(_cfg("gan", faulty))
    # the step counter stops one short of the fault: the run is inside its never-ending step
    _wait(lambda: stuck.step == faulty.FAULT_AT - 1 and healthy.step > 0, what="both runs to train")
    time.sleep(0.5)
    t0 = time.time()
    stuck.stop()
    _wait(lambda: stuck.status.final, timeout=60, what="the stuck run to be terminated")
    assert time.time() - t0 < 30
    assert stuck.status == RunStatus.STOPPED and "did not stop within 3 s" in stuck.error
    assert "SIGTERM" in stuck.folder.read_status()["exit"]
    assert stuck.folder.load_checkpoint()["step"] == faulty.CHECKPOINT_EVERY
    _still_serving(mgr, healthy)


def test_a_local_run_finishes_and_says_where_it_trained(mgr, faulty):
    run = mgr.submit(_cfg("gan", faulty, steps=10))
    _wait(lambda: run.status.final, what="the run to end")
    assert run.status == RunStatus.FINISHED and run.step == 10
    disk = run.folder.read_status()
    assert disk["executor"] == "local" and disk["host"] and disk["pid"] != os.getpid()


SERVER = """
import sys, time
from synth_core.train import RunConfig
from synth_core.train.manager import JobManager
mgr = JobManager(sys.argv[1], executor="local")
run = mgr.submit(RunConfig(dataset="ring8", generator="gan", steps=1_000_000, params={"width": 16}, checkpoint_every=100_000))
while run.step < 50:
    time.sleep(0.05)
print(run.id, flush=True)
time.sleep(600)
"""


def test_a_killed_server_leaves_its_runs_stopped_with_a_final_checkpoint(tmp_path):
    """The local executor's restart rule: a worker whose server is gone (restart, crash, SIGKILL) stops
    its run cleanly with a final checkpoint at its last step; the restarted server offers to continue it."""
    root = tmp_path / "runs"
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(root)], stdout=subprocess.PIPE, text=True)
    try:
        run_id = server.stdout.readline().strip()
        assert run_id, "the server never reported its run"
        server.kill()  # no atexit, no cleanup: the worker notices the closed pipe
        server.wait(30)
        folder = store.RunFolder.of(root, run_id)
        _wait(lambda: (folder.read_status() or {}).get("status") == "stopped", timeout=60, what="the worker to stop")
        disk = folder.read_status()
        assert disk["step"] >= 50 and folder.load_checkpoint()["step"] == disk["step"]  # nothing trained is lost
        assert not folder.is_locked()
        restarted = JobManager(root, executor="local")
        assert RunStatus.parse(restarted.records()[0].state).continuable
    finally:
        server.kill()
