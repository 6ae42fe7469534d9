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
    full_env = dict(os.environ, SYNTHLAB_RUNS_DIR=str(runs_dir), SYNTHLAB_OFFLINE="1", **env)
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
