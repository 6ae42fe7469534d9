"""Real browser + a real two-node Ray cluster on 127.0.0.1 (issue 15): the app, pointed at the cluster
with ``SYNTHLAB_RAY_ADDRESS``, trains a run there. Ray places it on the second node (the head has no
CPUs), status.json says so, the live loss chart in Chromium keeps growing, and Stop leaves a checkpoint
at the run's last step."""
from __future__ import annotations

import json
import os
import re
import time

import pytest

os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # keep Ray on 127.0.0.1 (see test_ray_executor.py)
ray = pytest.importorskip("ray", reason="Ray is not installed: pip install synthlab[ray] (it is in the test extras)")

from .e2e_support import (browser_page, choose, fill_number, goto_page, screenshot_dir, serve_app, settle,  # noqa: E402
                          sync_playwright_or_skip)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
sync_playwright = sync_playwright_or_skip()
LOCAL = "127.0.0.1"

POINTS_JS = """() => {
    const gd = document.querySelector('.st-key-loss_chart .js-plotly-plot');
    if (!gd || !gd._fullData || !gd._fullData.length) return -1;
    const xs = gd._fullData[0].x; return xs && xs.length ? Number(xs[xs.length - 1]) : -1;
}"""


@pytest.fixture(scope="module")
def cluster():
    from ray._private import ray_constants
    from ray.cluster_utils import Cluster

    ray_constants.ENABLE_RAY_CLUSTER = False
    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "node_ip_address": LOCAL,
                                                      "include_dashboard": False})
    try:
        node = c.add_node(num_cpus=1, node_ip_address=LOCAL, include_dashboard=False)
        c.wait_for_nodes()
        yield c.address, node.node_id
    finally:
        c.shutdown()


def test_app_trains_on_the_second_node_live_and_stop_leaves_a_checkpoint(cluster, tmp_path):
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
    import torch
    ckpt = torch.load(runs / run_id / "checkpoint.pt", weights_only=False)
    assert ckpt["step"] == status["step"] > 20
