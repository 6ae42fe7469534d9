"""Real browser: the teaching views. A GAN on the 8-Gaussian ring in step-by-step mode (Step D /
Step G), then the decision-surface heatmap and the gradient arrows must render (Plotly's
``_fullData`` in the DOM) and the step counter must advance; an MCMC run shows its density and chain
trace. Screenshots of each view go to ``$SYNTHLAB_SCREENSHOT_DIR`` (``assets/`` when making the
README's pictures), else to the test's temp folder."""
from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

import pytest

from .e2e_support import (browser_page, choose, fill_number, module_server, screenshot_dir, settle,
                          sync_playwright_or_skip)

pytestmark = pytest.mark.e2e

sync_playwright = sync_playwright_or_skip()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with module_server(tmp_path_factory, "e2e_teach", own_data=True) as served:
        yield served


@pytest.fixture
def shots(tmp_path) -> Path:
    return screenshot_dir(tmp_path)


def _click(page, key: str) -> None:
    """Click the button with widget key ``key`` once it is enabled, then wait for the app to settle.
    (A button with a help tooltip is in the DOM twice, one copy hidden: take the accessible one.)"""
    page.wait_for_function(f"() => Array.from(document.querySelectorAll('.st-key-{key} button'))"
                           f".some(b => b.offsetParent !== null && !b.disabled)", timeout=60_000)
    page.locator(f".st-key-{key}").get_by_role("button").click()
    settle(page)


@contextlib.contextmanager
def _run_stopped_after(page):
    """Stop the test's run however the test ends: a failed test must not leave a paused run holding the
    server's only CPU slot, or every later test's run waits in the queue."""
    try:
        yield
    finally:
        try:
            stop = page.locator(".st-key-stop button:not([disabled])")
            if stop.count():
                stop.first.click(timeout=10_000)
        except Exception:  # noqa: BLE001 - best effort: the test's own failure is the one to report
            pass


def _step_counter(page) -> int:
    text = page.locator("[data-testid=stProgress]").first.inner_text()
    m = re.search(r"step ([\d,]+) /", text)
    assert m, text
    return int(m.group(1).replace(",", ""))


VIEW_TRACES = """() => {
    const gd = document.querySelector(".st-key-sample_scatter:not([data-stale=true]) .js-plotly-plot");
    if (!gd || !gd._fullData) return [];
    return gd._fullData.map(t => [t.type, t.name, t._length || (t.z ? t.z.length : 0)]);
}"""


def _wait_traces(page, pred: str, timeout: float = 60_000) -> list:
    """Wait until the view chart's traces satisfy the JS predicate ``pred`` over ``traces``, and
    return those traces (read in the same JS call: a rerun can mark the chart stale right after)."""
    handle = page.wait_for_function(
        f"() => {{ const traces = ({VIEW_TRACES})(); return ({pred}) ? traces : null; }}", timeout=timeout)
    return handle.json_value()


def _view(page, name: str) -> None:
    page.locator(".st-key-train_view").get_by_text(name, exact=True).click()
    settle(page)


def _start(page, url: str, dataset: str, generator: str, **numbers: str) -> None:
    page.goto(url + "/")
    settle(page)
    choose(page, "data_select", dataset)
    page.get_by_role("link", name="Train").first.click()
    settle(page)
    choose(page, "train_gen_select", generator)
    fill_number(page, "Steps", "100000")
    for label, value in numbers.items():
        fill_number(page, label, value)
    page.locator(".st-key-start button").click()
    settle(page)


def test_gan_step_by_step_surface_and_arrows(server, shots):
    url, _ = server
    with sync_playwright() as pw:
        with browser_page(pw) as page, contextlib.ExitStack() as stack:
            page.set_default_timeout(90_000)  # a loaded CI machine can be slow to redraw
            _start(page, url, "8 Gaussians", "GAN (MLP)", Width="32")
            stack.enter_context(_run_stopped_after(page))
            page.wait_for_selector(".st-key-step_d button:not([disabled])", timeout=90_000)
            _wait_traces(page, "traces.some(t => t[1] === 'generated' && t[2] > 0)")
            if os.environ.get("SYNTHLAB_SCREENSHOT_DIR"):  # pictures for the README: let it learn a little first
                page.wait_for_function("() => { const m = document.body.innerText.match(/step ([\\d,]+) \\//);"
                                       " return m && parseInt(m[1].replace(/,/g, '')) >= 300; }", timeout=500_000)
            # switch to step-by-step: the first Step D pauses the run
            _click(page, "step_d")
            page.wait_for_function("() => document.body.innerText.includes('last: discriminator update')",
                                   timeout=90_000)
            start = _step_counter(page)
            for i in range(3):
                _click(page, "step_g")
                page.wait_for_function(f"() => /step {start + i + 1} \\//.test(document.body.innerText)",
                                       timeout=90_000)
                _click(page, "step_d")
            assert _step_counter(page) == start + 3
            assert "paused" in page.locator("[data-testid=stMain]").inner_text()
            page.locator(".st-key-sample_scatter:not([data-stale=true])").first.screenshot(path=str(shots / "view_samples.png"))

            _view(page, "Decision surface")
            traces = _wait_traces(page, "traces.some(t => t[0] === 'heatmap' && t[2] > 0)")
            assert ["heatmap", "D surface"] == traces[0][:2]
            page.locator(".st-key-sample_scatter:not([data-stale=true])").first.screenshot(path=str(shots / "view_decision_surface.png"))

            _view(page, "Gradient arrows")
            traces = _wait_traces(page, "traces.some(t => t[1] === 'G gradient' && t[2] > 0)")
            names = [t[1] for t in traces]
            assert "G gradient" in names and "D surface" in names and "generated" in names
            page.locator(".st-key-sample_scatter:not([data-stale=true])").first.screenshot(path=str(shots / "view_gradient_arrows.png"))
            page.screenshot(path=str(shots / "view_step_by_step.png"), clip={"x": 0, "y": 0, "width": 1400, "height": 1000})

            # Step x10 moves the counter by ten whole steps
            before = _step_counter(page)
            _click(page, "step_10")
            page.wait_for_function(f"() => /step {before + 10} \\//.test(document.body.innerText)", timeout=90_000)
            _click(page, "stop")
            page.wait_for_function("() => document.body.innerText.includes('stopped')", timeout=60_000)


def test_mcmc_density_and_trace(server, shots):
    url, _ = server
    with sync_playwright() as pw:
        with browser_page(pw) as page, contextlib.ExitStack() as stack:
            page.set_default_timeout(90_000)  # a loaded CI machine can be slow to redraw
            _start(page, url, "Two moons", "MCMC")
            stack.enter_context(_run_stopped_after(page))
            page.wait_for_selector(".st-key-step_one button:not([disabled])", timeout=90_000)
            _click(page, "step_one")  # pause, so the pictures hold still
            _view(page, "Density")
            _wait_traces(page, "traces.some(t => t[0] === 'contour' && t[2] > 0)")
            page.locator(".st-key-sample_scatter:not([data-stale=true])").first.screenshot(path=str(shots / "view_density.png"))
            _view(page, "MCMC trace")
            traces = _wait_traces(page, "traces.some(t => t[1] === 'rejected')")
            assert {"chain", "accepted", "rejected"} <= {t[1] for t in traces}
            page.locator(".st-key-sample_scatter:not([data-stale=true])").first.screenshot(path=str(shots / "view_mcmc_trace.png"))
            _click(page, "stop")
            page.wait_for_function("() => document.body.innerText.includes('stopped')", timeout=60_000)
            # the draw-your-own panel
            page.get_by_text("Draw your own data").click()
            page.wait_for_selector(".st-key-draw_preview .js-plotly-plot", timeout=30_000)
            page.locator("[data-testid=stExpander]").filter(has_text="Draw your own data").screenshot(
                path=str(shots / "view_draw.png"))
