"""The one place that serves the real app and names the browser for end-to-end tests (and bench/):
Debian's chromium driven by Playwright, the app on a free local port with its own runs folder."""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("SYNTHLAB_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--no-first-run", "--disable-component-update", "--disable-sync"]


def chromium_missing() -> str | None:
    """Why browser tests cannot run here (None when they can)."""
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM}: install Debian's `chromium` (apt) to run browser tests"
    return None


def sync_playwright_or_skip(module_level: bool = True):
    """Playwright's ``sync_playwright``, or skip (the calling module, or the test) with the reason the
    browser tests cannot run here: no Chromium, or no Python Playwright."""
    import pytest

    if chromium_missing():
        pytest.skip(chromium_missing(), allow_module_level=module_level)
    return pytest.importorskip("playwright.sync_api", reason="Python playwright is not installed").sync_playwright


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve_app(runs_dir: Path, **env: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """Serve app.py on 127.0.0.1 (free port, offline) with runs in ``runs_dir`` and extra ``env``
    variables; yields (url, server process) once healthy, and stops the server afterwards."""
    runs_dir = Path(runs_dir)
    port = free_port()
    log_path = runs_dir / "server.log"
    # the app as users get it: a worker process per run (the local executor), unless a test says otherwise
    full_env = dict(os.environ, SYNTHLAB_RUNS_DIR=str(runs_dir), SYNTHLAB_OFFLINE="1",
                    **{"SYNTHLAB_EXECUTOR": "local", **env})
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.address", "127.0.0.1",
             "--server.port", str(port), "--server.headless", "true", "--server.fileWatcherType", "none",
             "--browser.gatherUsageStats", "false"], cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise RuntimeError("streamlit did not become healthy:\n" + log_path.read_text()[-3000:])
                time.sleep(0.3)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


def settle(page, timeout: int = 120_000) -> None:
    """Wait until the app is connected and no script run is in progress."""
    page.wait_for_selector("[data-testid=stApp][data-test-connection-state=CONNECTED]", timeout=timeout)
    page.wait_for_selector("[data-test-script-state=notRunning]", timeout=timeout)


@contextlib.contextmanager
def module_server(tmp_path_factory, name: str, *, own_data: bool = False, **env: str) -> Iterator[tuple[str, Path]]:
    """The app for one test module: yields (url, runs folder); ``own_data`` gives it a data folder of its
    own, so uploads and drawn data from other modules never show."""
    runs = tmp_path_factory.mktemp(f"{name}_runs")
    if own_data:
        env = {"SYNTHLAB_DATA_DIR": str(tmp_path_factory.mktemp(f"{name}_data")), **env}
    with serve_app(runs, **env) as (url, _proc):
        yield url, runs


def screenshot_dir(fallback: Path) -> Path:
    """Where screenshots go: ``$SYNTHLAB_SCREENSHOT_DIR`` (``assets/`` for the README's pictures) or ``fallback``."""
    out = Path(os.environ.get("SYNTHLAB_SCREENSHOT_DIR") or fallback)
    out.mkdir(parents=True, exist_ok=True)
    return out


@contextlib.contextmanager
def browser_page(pw, *, width: int = 1400, height: int = 2000, timeout: int | None = None):
    """A fresh headless Chromium page (closed with its browser afterwards)."""
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    try:
        page = browser.new_page(viewport={"width": width, "height": height})
        if timeout is not None:
            page.set_default_timeout(timeout)
        yield page
    finally:
        browser.close()


def choose(page, key: str, text: str) -> None:
    """Pick the option containing ``text`` in the selectbox with widget key ``key``."""
    import re

    page.locator(f".st-key-{key} [role=combobox]").click()
    page.get_by_role("option", name=re.compile(re.escape(text))).first.click()
    settle(page)


def goto_page(page, name: str) -> None:
    """Open the page ``name`` from the sidebar's navigation."""
    page.locator("[data-testid=stSidebarNav]").get_by_role("link", name=name, exact=True).click()
    settle(page)


def fill_number(page, label: str, value: str) -> None:
    """Type ``value`` into the number input labelled ``label`` and commit it."""
    box = page.get_by_role("spinbutton", name=label, exact=True)
    box.fill(value)
    box.press("Enter")
    settle(page)
