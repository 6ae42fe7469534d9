"""Issue 9, "isolation and load": four browser sessions on one server at once. Two start training,
two browse Data and Runs. The job queue keeps at most ``max_concurrent`` runs training (the other
waits, "queued"), each training session follows its own run, and every page keeps responding."""
from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from .e2e_support import ARGS, CHROMIUM, fill_number, module_server, settle, sync_playwright_or_skip

MAX_CONCURRENT = 1
pytestmark = [pytest.mark.e2e, pytest.mark.slow]

sync_playwright = sync_playwright_or_skip()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with module_server(tmp_path_factory, "e2e_sessions", SYNTHLAB_MAX_RUNS=str(MAX_CONCURRENT)) as served:
        yield served


def _disk_states(runs: Path) -> dict[str, str]:
    out = {}
    for p in runs.iterdir():
        try:
            out[p.name] = json.loads((p / "status.json").read_text())["status"]
        except (OSError, ValueError, KeyError):
            continue
    return out


def _main_text(page) -> str:
    return page.locator("[data-testid=stMain]").inner_text()


def _wait_text(page, text: str, timeout: float = 60_000) -> None:
    page.wait_for_function("t => document.querySelector('[data-testid=stMain]')?.innerText.includes(t)",
                           arg=text, timeout=timeout)


def _open(page, url: str, link: str | None = None) -> float:
    """Open the app (and a page through the sidebar); seconds until the script finished."""
    t = time.time()
    page.goto(url + "/")
    settle(page)
    if link:
        page.get_by_role("link", name=link).first.click()
        settle(page)
    return time.time() - t


def _start_training(page, url: str) -> str:
    _open(page, url, "Train")
    for label, value in (("Steps", "1000000"), ("Width", "8")):
        fill_number(page, label, value)
    # a new session already follows the server's newest active run (?run= names it): wait for the
    # address to name the run this click started
    before = parse_qs(urlparse(page.url).query).get("run", [None])[0]
    page.locator(".st-key-start button").click()
    page.wait_for_function("b => { const r = new URL(location.href).searchParams.get('run'); return r && r !== b; }",
                           arg=before, timeout=60_000)
    return parse_qs(urlparse(page.url).query)["run"][0]


def test_four_sessions_train_and_browse_at_once(server):
    url, runs = server
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            contexts = [browser.new_context(viewport={"width": 1400, "height": 2000}) for _ in range(4)]
            a, b, c, d = (ctx.new_page() for ctx in contexts)
            # C and D browse while nothing trains yet, then A and B each start a run
            _open(c, url)
            _open(d, url, "Runs")
            run_a = _start_training(a, url)
            run_b = _start_training(b, url)
            assert run_a != run_b, "each session starts and follows its own run"
            _wait_text(a, "running")
            _wait_text(b, "Waiting for a free training slot")  # queued behind A
            states = _disk_states(runs)
            assert states == {run_a: "running", run_b: "queued"}, states
            assert list(states.values()).count("running") <= MAX_CONCURRENT
            # the browsing sessions keep working while a run trains
            for page, link, expect in ((c, "Runs", "Compare runs"), (d, "Data", "MNIST"), (c, "Data", "MNIST"),
                                       (d, "Runs", run_a)):
                page.get_by_role("link", name=link).first.click()
                _wait_text(page, expect)  # times out (fails) if the page never renders
                settle(page)
            # each training session still shows its own run
            assert run_a in _main_text(a) and run_b not in _main_text(a)
            assert run_b in _main_text(b) and run_a not in _main_text(b)
            # stopping A frees the slot: B starts, still at most MAX_CONCURRENT running
            a.locator(".st-key-stop button").click()
            _wait_text(a, "stopped")
            _wait_text(b, "running", timeout=90_000)
            states = _disk_states(runs)
            assert states[run_a] == "stopped" and states[run_b] == "running"
            assert list(states.values()).count("running") <= MAX_CONCURRENT
            b.locator(".st-key-stop button").click()
            _wait_text(b, "stopped")
        finally:
            browser.close()
    states = _disk_states(runs)
    assert states == {run_a: "stopped", run_b: "stopped"}
    for rid in (run_a, run_b):
        assert (runs / rid / "checkpoint.pt").is_file()
