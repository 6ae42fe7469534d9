"""The ``ray`` executor (issue 15) on a real two-node Ray cluster started here, on 127.0.0.1 only: through
the run manager, the CLI, a restarted server, faults, and the app in a real browser (one module, one
cluster: two modules would start two clusters side by side under pytest-xdist).

The head node has no CPUs, so a run's actor (``num_cpus=1``) can only be placed on the second node: its
node id in status.json shows that Ray placed it. One cluster serves the module; its runs are small (ring8,
``gan``, width 16). The runs folder is a local folder, which every node of this one-machine cluster shares.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

# Ray turns 127.0.0.1 into this machine's outward address when a driver connects
# (ray._private.services.resolve_ip_for_localhost); with its multi-host switch off it keeps the loopback
# address. Set before ray is imported; the cluster's processes and the CLI's inherit it.
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
ray = pytest.importorskip("ray", reason="Ray is not installed: pip install synthlab[ray] (it is in the test extras)")

from synth_core.errors import ConfigError  # noqa: E402
from synth_core.train import RunConfig, RunStatus  # noqa: E402
from synth_core.train import ray_exec, remote  # noqa: E402
from synth_core.train.manager import JobManager, default_executor  # noqa: E402
from synth_core.train.ray_exec import RayRun  # noqa: E402
from synth_core.train import store  # noqa: E402

from .e2e_support import (browser_page, choose, fill_number, goto_page, screenshot_dir, serve_app, settle,  # noqa: E402
                          sync_playwright_or_skip)

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
LOCAL = "127.0.0.1"


@pytest.fixture(scope="module")
def cluster():
    """(cluster address, the second node's id)."""
    from ray._private import ray_constants
    from ray.cluster_utils import Cluster

    ray_constants.ENABLE_RAY_CLUSTER = False  # in case ray was imported before the variable was set
    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "node_ip_address": LOCAL,
                                                      "include_dashboard": False})
    try:
        node = c.add_node(num_cpus=1, node_ip_address=LOCAL, include_dashboard=False)
        c.wait_for_nodes()
        assert c.address.startswith(LOCAL + ":")
        yield c.address, node.node_id
    finally:
        ray.shutdown()
        c.shutdown()


def _cfg(run_id: str | None = None, steps: int = 100_000) -> RunConfig:
    return RunConfig(dataset="ring8", generator="gan", steps=steps, params={"width": 16}, checkpoint_every=50,
                     run_id=run_id)


def _wait(cond, timeout: float = 120.0, what: str = "", run=None) -> None:
    deadline = time.time() + timeout
    while not cond():
        assert time.time() < deadline, f"timed out waiting for {what}" + (
            f" (the run is {run.status}: {run.error})" if run is not None else "")
        time.sleep(0.1)


def _actors() -> set[str]:
    return {e["name"] for e in ray.util.list_named_actors(all_namespaces=True) if e["namespace"] == "synthlab"}


def _status(root: Path, run_id: str) -> dict:
    try:
        return json.loads((root / run_id / "status.json").read_text())
    except (OSError, ValueError):
        return {}


def _assert_stopped_with_checkpoint(root: Path, run_id: str) -> None:
    disk = _status(root, run_id)
    assert disk["status"] == RunStatus.STOPPED.value, disk
    ckpt = root / run_id / "checkpoint.pt"
    assert ckpt.exists(), sorted(p.name for p in (root / run_id).iterdir())


def test_ray_is_chosen_by_its_address_and_explained_when_missing(monkeypatch):
    monkeypatch.delenv("SYNTHLAB_EXECUTOR", raising=False)
    monkeypatch.setenv("SYNTHLAB_RAY_ADDRESS", f"{LOCAL}:6379")
    assert default_executor() == "ray"
    monkeypatch.setenv("SYNTHLAB_EXECUTOR", "local")
    assert default_executor() == "local"
    # what an actor asks Ray for: a GPU for a cuda run, CPUs from SYNTHLAB_RAY_CPUS (default 1)
    monkeypatch.delenv("SYNTHLAB_RAY_CPUS", raising=False)
    assert ray_exec._resources(RunConfig("ring8", "gan", device="auto")) == (1.0, 0)
    assert ray_exec._resources(RunConfig("ring8", "gan", device="cuda")) == (1.0, 1)
    monkeypatch.setenv("SYNTHLAB_RAY_CPUS", "4")
    assert ray_exec._resources(RunConfig("ring8", "gan", device="cuda:0")) == (4.0, 1)
    monkeypatch.setenv("SYNTHLAB_RAY_CPUS", "lots")
    with pytest.raises(ConfigError, match="SYNTHLAB_RAY_CPUS"):
        ray_exec._resources(RunConfig("ring8", "gan"))
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` does where it is not installed
    with pytest.raises(ConfigError, match=r"pip install synthlab\[ray\]"):
        ray_exec.RayConnection.get(f"{LOCAL}:6379")


def test_a_run_is_placed_on_the_second_node_trains_and_stops_with_a_checkpoint(cluster, tmp_path):
    address, node_id = cluster
    root = tmp_path / "runs"
    mgr = JobManager(root, executor="ray", ray_address=address)
    run = mgr.submit(_cfg())
    assert isinstance(run, RayRun)
    _wait(lambda: run.step > 0, what="the run to start on the cluster", run=run)
    disk = _status(root, run.id)
    assert disk["executor"] == "ray" and disk["ray_node_id"] == node_id, disk
    assert disk["ray_actor"] == f"synthlab-run:{run.id}" in _actors()
    # the proxy's snapshot advances, and the model answers where it lives
    before = run.snapshot()
    _wait(lambda: run.snapshot().step > before.step + 10, what="the snapshot to advance", run=run)
    assert run.status == RunStatus.RUNNING and len(run.snapshot().history["step"]) > 0
    assert run.sample(32, seed=0).shape == (32, 2)
    run.stop()
    assert run.join(90)
    assert run.status == RunStatus.STOPPED, run.error
    _assert_stopped_with_checkpoint(root, run.id)
    _wait(lambda: f"synthlab-run:{run.id}" not in _actors(), 30, "the finished run's actor to go")
    assert mgr.reattached.wait(30) and mgr.reattach_error is None
    # continued from its checkpoint, on the cluster again, to the end
    stopped_at = run.step
    again = mgr.continue_run(run.id, steps=stopped_at + 100)
    assert isinstance(again, RayRun) and again.resumed_from == stopped_at
    assert again.join(120)
    assert again.status == RunStatus.FINISHED and again.step == stopped_at + 100, again.error
    assert _status(root, run.id)["ray_node_id"] == node_id


def test_an_actor_that_does_not_see_the_runs_folder_fails_the_run_and_says_why(cluster, tmp_path):
    address, _ = cluster
    run = RayRun.new(_cfg(), tmp_path / "runs", address=address)
    run.root = tmp_path / "not-shared"  # what the actor is told: a folder its node does not have
    run.start()
    assert run.join(120)
    assert run.status == RunStatus.FAILED
    assert "SYNTHLAB_RUNS_DIR" in run.error and "shared storage" in run.error
    assert _status(tmp_path / "runs", run.id)["status"] == RunStatus.FAILED.value


def _cli(root: Path, address: str, run_id: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "synth_core.cli", "train", "-d", "ring8", "-g", "gan", "--width", "16",
         "--steps", "100000", "--checkpoint-every", "50", "--run-id", run_id, "--out", str(root),
         "--ray-address", address],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_the_cli_trains_on_the_cluster_and_ctrl_c_stops_it_with_a_checkpoint(cluster, tmp_path):
    address, node_id = cluster
    root = tmp_path / "runs"
    proc = _cli(root, address, "cli-ray")
    try:
        _wait(lambda: _status(root, "cli-ray").get("step", 0) > 20 or proc.poll() is not None, 180,
              "the CLI's run to train")
        assert proc.poll() is None, proc.communicate()
        disk = _status(root, "cli-ray")
        assert disk["executor"] == "ray" and disk["ray_node_id"] == node_id, disk
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    outcome = json.loads(out.strip().splitlines()[-1])
    assert outcome["run_id"] == "cli-ray" and outcome["status"] == "stopped" and outcome["step"] > 20
    assert "stopping (writing a final checkpoint)" in err
    _assert_stopped_with_checkpoint(root, "cli-ray")


def test_a_restarted_server_reattaches_to_a_live_actor_by_name_and_stops_it(cluster, tmp_path):
    address, node_id = cluster
    root = tmp_path / "runs"
    _wait(lambda: not _actors(), 60, "the cluster's CPU to be free")
    proc = _cli(root, address, "survivor")  # the first "server"
    try:
        _wait(lambda: _status(root, "survivor").get("step", 0) > 5 or proc.poll() is not None, 180,
              "the first server's run to train")
        assert proc.poll() is None, proc.communicate()
    finally:
        proc.kill()  # the server dies; its detached actor trains on
        proc.wait(30)
    step = _status(root, "survivor")["step"]
    _wait(lambda: _status(root, "survivor").get("step", 0) > step + 10, 60, "the run to train on without a server")
    assert "synthlab-run:survivor" in _actors()

    mgr = JobManager(root, executor="ray", ray_address=address)  # the restarted server
    assert mgr.reattached.wait(60) and mgr.reattach_error is None
    run = mgr.get("survivor")
    assert isinstance(run, RayRun)
    _wait(lambda: run.status == RunStatus.RUNNING and run.step > step, 60, "the re-attached run's snapshot", run)
    assert mgr.latest() is run and [r.run_id for r in mgr.records()] == ["survivor"]
    assert mgr.records()[0].status["status"] == RunStatus.RUNNING
    assert _status(root, "survivor")["ray_node_id"] == node_id
    run.stop()
    assert run.join(90)
    assert run.status == RunStatus.STOPPED, run.error
    _assert_stopped_with_checkpoint(root, "survivor")
    _wait(lambda: "synthlab-run:survivor" not in _actors(), 30, "the stopped run's actor to go")


@pytest.fixture
def faulty():
    """The faulty generators of the local fault tests, here and (SYNTHLAB_PLUGINS, forwarded) in the actor."""
    import importlib

    with importlib.import_module("tests.fault_generators").plugged_in() as module:
        yield module


def _faulty_cfg(gen: str, faulty) -> RunConfig:
    return RunConfig(dataset="ring8", generator=gen, steps=100_000, params={"width": 16},
                     checkpoint_every=faulty.CHECKPOINT_EVERY)


def test_stop_kills_an_actor_stuck_in_a_long_call(cluster, tmp_path, faulty, monkeypatch):
    address, _ = cluster
    monkeypatch.setattr(remote, "STOP_GRACE_S", 3.0)
    _wait(lambda: not _actors(), 60, "the cluster's CPU to be free")
    mgr = JobManager(tmp_path / "runs", executor="ray", ray_address=address, reattach=False)
    stuck = mgr.submit(_faulty_cfg("fault_hang", faulty))
    _wait(lambda: stuck.step == faulty.FAULT_AT - 1, what="the run to be inside its never-ending step", run=stuck)
    time.sleep(0.5)
    stuck.stop()
    _wait(lambda: stuck.status.final, 60, "the stuck run to be ended", stuck)
    assert stuck.status == RunStatus.STOPPED and "did not stop within 3 s" in stuck.error
    disk = stuck.folder.read_status()
    assert disk["status"] == RunStatus.STOPPED.value and disk["exit"] == "killed (ray.kill)"
    assert stuck.folder.load_checkpoint()["step"] == faulty.CHECKPOINT_EVERY
    _wait(lambda: f"synthlab-run:{stuck.id}" not in _actors(), 30, "the killed actor to go")


def test_an_actor_killed_by_a_signal_interrupts_only_its_run(cluster, tmp_path, faulty):
    address, _ = cluster
    _wait(lambda: not _actors(), 60, "the cluster's CPU to be free")
    mgr = JobManager(tmp_path / "runs", executor="ray", ray_address=address, reattach=False)
    bad = mgr.submit(_faulty_cfg("fault_kill", faulty))
    _wait(lambda: bad.status.final, what="the killed run to end", run=bad)
    assert bad.status == RunStatus.INTERRUPTED, bad.error
    assert "The training process died" in bad.error and "continue it" in bad.error
    disk = bad.folder.read_status()
    assert disk["status"] == RunStatus.INTERRUPTED.value and "worker process has died" in disk["exit"]
    assert bad.folder.load_checkpoint()["step"] == faulty.CHECKPOINT_EVERY


POINTS_JS = """() => {
    const gd = document.querySelector('.st-key-loss_chart .js-plotly-plot');
    if (!gd || !gd._fullData || !gd._fullData.length) return -1;
    const xs = gd._fullData[0].x; return xs && xs.length ? Number(xs[xs.length - 1]) : -1;
}"""


@pytest.mark.e2e
def test_app_trains_on_the_second_node_live_and_stop_leaves_a_checkpoint(cluster, tmp_path):
    """The app, pointed at the cluster (SYNTHLAB_RAY_ADDRESS), in Chromium: Ray places its run on the second
    node, status.json says so, the live loss chart and the samples follow it, Stop leaves a checkpoint."""
    sync_playwright = sync_playwright_or_skip(module_level=False)
    address, node_id = cluster
    runs = tmp_path / "runs"
    runs.mkdir()
    shots = screenshot_dir(tmp_path)
    with serve_app(runs, SYNTHLAB_EXECUTOR="ray", SYNTHLAB_RAY_ADDRESS=address) as (url, _proc), \
            sync_playwright() as pw, browser_page(pw, height=1300, timeout=120_000) as page:
        page.goto(url + "/")
        settle(page)
        choose(page, "data_select", "8 Gaussians")
        goto_page(page, "Train")
        choose(page, "train_gen_select", "GAN (MLP)")
        fill_number(page, "Steps", "100000")
        fill_number(page, "Width", "16")
        page.locator(".st-key-start button").click()
        settle(page)
        page.wait_for_function("() => /steps\\/s · ETA/.test(document.body.innerText)", timeout=180_000)
        run_id = re.search(r"run=([^&]+)", page.url).group(1)
        status = json.loads((runs / run_id / "status.json").read_text())
        assert status["executor"] == "ray" and status["ray_node_id"] == node_id, status
        assert "Trains on the Ray cluster" in page.locator("[data-testid=stMain]").inner_text()
        # the live chart follows the run on the cluster
        first = page.evaluate(POINTS_JS)
        page.wait_for_function(f"() => ({POINTS_JS})() > {max(first, 0) + 20}", timeout=60_000)
        page.wait_for_selector(".st-key-sample_scatter:not([data-stale=true]) .js-plotly-plot", timeout=60_000)
        page.wait_for_function("() => /Trains on the Ray cluster, node/.test(document.body.innerText)", timeout=30_000)
        settle(page)
        page.screenshot(path=str(shots / "train_on_ray.png"))
        page.locator(".st-key-stop").get_by_role("button").click()
        page.wait_for_function("() => document.body.innerText.includes('stopped')", timeout=90_000)
    deadline = time.time() + 30
    while json.loads((runs / run_id / "status.json").read_text())["status"] != "stopped":
        assert time.time() < deadline
        time.sleep(0.2)
    status = json.loads((runs / run_id / "status.json").read_text())
    assert store.RunFolder.of(runs, run_id).load_checkpoint()["step"] == status["step"] > 20
