"""Real browser: serve the app, drive headless Debian Chromium with Playwright, train a DCGAN on
MNIST and check the loss chart and the sample grid appear and keep updating."""
from __future__ import annotations

import time

import pytest

from .e2e_support import browser_page, fill_number, module_server, settle, sync_playwright_or_skip

pytestmark = pytest.mark.e2e

sync_playwright = sync_playwright_or_skip()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with module_server(tmp_path_factory, "e2e") as served:
        yield served


def _chart_points(page) -> int:
    """The last step plotted on the loss chart (the live chart thins long curves to a fixed number of
    points, so their count stops growing; the last step keeps moving)."""
    return page.evaluate("""() => {
        const plots = document.querySelectorAll('.st-key-loss_chart .js-plotly-plot, [class*="loss_chart"] .js-plotly-plot');
        const gd = plots.length ? plots[0] : document.querySelector('.js-plotly-plot');
        if (!gd || !gd._fullData || !gd._fullData.length) return 0;
        const xs = gd._fullData[0].x;
        return xs && xs.length ? Number(xs[xs.length - 1]) : 0;
    }""")


def _grid_src(page) -> str | None:
    img = page.locator("[data-testid=stImage] img")
    return img.first.get_attribute("src") if img.count() else None


def test_train_dcgan_on_mnist_live(server, tmp_path):
    url, runs = server
    with sync_playwright() as pw:
        with browser_page(pw) as page:
            page.goto(url + "/")
            settle(page)
            assert "MNIST" in page.locator("[data-testid=stMain]").inner_text()
            page.get_by_role("link", name="Train").first.click()
            settle(page)
            fill_number(page, "Width", "16")
            settle(page)
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
                pytest.fail(f"live view did not update: last step {first_points} -> {_chart_points(page)}")
            page.screenshot(path=str(tmp_path / "train.png"))
            # a browser refresh re-attaches to the same run, which kept training
            page.reload()
            settle(page)
            page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length > 0", timeout=60_000)
            assert page.locator(".st-key-stop button").is_enabled()
            page.locator(".st-key-stop button").click()
            page.wait_for_function(
                "() => document.body.innerText.includes('stopped')", timeout=60_000)
    [run_dir] = [p for p in runs.iterdir() if p.is_dir()]
    assert (run_dir / "checkpoint.pt").is_file()
    assert len(list((run_dir / "samples").glob("step_*.png"))) >= 2
