"""Real browser: serve the app, drive headless Debian Chromium with Playwright, train a DCGAN on
MNIST and check the loss chart and the sample grid appear and keep updating."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("SYNTHLAB_CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.e2e

if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
    pytest.skip(f"no Chromium at {CHROMIUM}: install Debian's `chromium` (apt) to run browser tests",
                allow_module_level=True)
sync_playwright = pytest.importorskip("playwright.sync_api", reason="Python playwright is not installed").sync_playwright

ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--no-first-run", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = _free_port()
    runs = tmp_path_factory.mktemp("e2e_runs")
    env = dict(os.environ, SYNTHLAB_RUNS_DIR=str(runs), SYNTHLAB_OFFLINE="1")
    log = open(runs / "server.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.address", "127.0.0.1",
         "--server.port", str(port), "--server.headless", "true", "--server.fileWatcherType", "none",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("streamlit did not become healthy:\n" + (runs / "server.log").read_text()[-3000:])
    yield url, runs
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()


def _settle(page, timeout=90_000):
    page.wait_for_selector("[data-testid=stApp][data-test-connection-state=CONNECTED]", timeout=timeout)
    page.wait_for_selector("[data-test-script-state=notRunning]", timeout=timeout)


def _chart_points(page) -> int:
    return page.evaluate("""() => {
        const plots = document.querySelectorAll('.st-key-loss_chart .js-plotly-plot, [class*="loss_chart"] .js-plotly-plot');
        const gd = plots.length ? plots[0] : document.querySelector('.js-plotly-plot');
        if (!gd || !gd._fullData || !gd._fullData.length) return 0;
        return gd._fullData[0]._length || 0;  // points plotted in the first trace
    }""")


def _grid_src(page) -> str | None:
    img = page.locator("[data-testid=stImage] img")
    return img.first.get_attribute("src") if img.count() else None


def test_train_dcgan_on_mnist_live(server, tmp_path):
    url, runs = server
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2000})
            page.goto(url + "/")
            _settle(page)
            assert "MNIST" in page.locator("[data-testid=stMain]").inner_text()
            page.get_by_role("link", name="Train").first.click()
            _settle(page)
            page.get_by_role("spinbutton", name="Width", exact=True).fill("16")
            page.get_by_role("spinbutton", name="Width", exact=True).press("Enter")
            _settle(page)
            page.locator(".st-key-start button").click()
            # the loss chart and the sample grid appear...
            page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length > 0", timeout=90_000)
            page.wait_for_selector("[data-testid=stImage] img", timeout=90_000)
            first_points, first_src = _chart_points(page), _grid_src(page)
            # ...and update while training runs in the background, without any click
            deadline = time.time() + 90
            while time.time() < deadline:
                if _chart_points(page) > first_points + 5 and _grid_src(page) != first_src:
                    break
                time.sleep(0.5)
            else:
                pytest.fail(f"live view did not update: {first_points} -> {_chart_points(page)} points")
            page.screenshot(path=str(tmp_path / "train.png"))
            # a browser refresh re-attaches to the same run, which kept training
            page.reload()
            _settle(page)
            page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length > 0", timeout=60_000)
            assert page.locator(".st-key-stop button").is_enabled()
            page.locator(".st-key-stop button").click()
            page.wait_for_function(
                "() => document.body.innerText.includes('stopped')", timeout=60_000)
        finally:
            browser.close()
    [run_dir] = [p for p in runs.iterdir() if p.is_dir()]
    assert (run_dir / "checkpoint.pt").is_file()
    assert len(list((run_dir / "samples").glob("step_*.png"))) >= 2
