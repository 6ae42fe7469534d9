"""Real browser: nothing loads from outside this machine and the console stays clean on every page; the
sidebar follows a new run at once; a refresh keeps the form of the run it follows (dataset, generator)
and the person's own data (?run= and ?owner= in the address, kept across page switches).
Screenshots go to ``$SYNTHLAB_SCREENSHOT_DIR`` when set, else to the test's temp folder."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from .e2e_support import (browser_page, choose, fill_number, goto_page, module_server, screenshot_dir, settle,
                          sync_playwright_or_skip)

pytestmark = pytest.mark.e2e

sync_playwright = sync_playwright_or_skip()

PAGES = ["Data", "Train", "Compare", "Runs", "Latent space", "Learn"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with module_server(tmp_path_factory, "e2e_truth", own_data=True) as served:
        yield served


@pytest.fixture
def shots(tmp_path) -> Path:
    return screenshot_dir(tmp_path)


def _sidebar(page) -> str:
    return page.locator("[data-testid=stSidebar]").inner_text()


def _selected(page, key: str) -> str:
    """The shown value of the selectbox with widget key ``key``.

    Waits (up to 20 s) until the box shows something: right after a reload the live view's 1 s
    fragment can re-render the page between ``settle`` and this read, and the box is briefly empty.
    """
    js = f"""() => {{ const b = document.querySelector('.st-key-{key}'); if (!b) return '';
        const i = b.querySelector('input'); return ((i && i.value ? i.value + ' ' : '') + b.textContent).trim(); }}"""
    page.wait_for_function(js, timeout=20_000)
    return page.evaluate(js)


def _query(page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def test_no_external_requests_and_no_console_errors(server):
    url, _ = server
    host = urlparse(url).hostname
    outside: list[str] = []
    errors: list[str] = []
    with sync_playwright() as pw:
        with browser_page(pw, timeout=90_000) as page:
            page.on("request", lambda r: outside.append(r.url)
                    if urlparse(r.url).scheme in ("http", "https", "ws", "wss") and urlparse(r.url).hostname != host
                    else None)
            page.on("console", lambda m: errors.append(f"{m.type}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
            page.on("response", lambda r: errors.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
            page.goto(url + "/")
            settle(page)
            choose(page, "data_select", "8 Gaussians")
            for name in PAGES[1:] + PAGES[:1]:
                goto_page(page, name)
                assert "Traceback" not in page.locator("[data-testid=stMain]").inner_text()
            # a run on the way (live charts, the sidebar's progress), then every page again
            goto_page(page, "Train")
            choose(page, "train_gen_select", "Gaussian mixture")
            page.locator(".st-key-start button").click()
            settle(page)
            page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length > 0", timeout=90_000)
            for name in PAGES[1:] + PAGES[:1]:
                goto_page(page, name)
            # a refresh of the default page (on another page's address Streamlit's frontend first probes
            # <page>/_stcore/health, a 404 it then recovers from: its own base-path discovery)
            page.reload()
            settle(page)
            icon = page.evaluate("() => Array.from(document.querySelectorAll('link[rel*=icon]')).map(l => l.href)")
    assert icon and all(urlparse(h).hostname in (host, None) or h.startswith("data:") for h in icon), icon
    assert not outside, f"requests to other hosts: {sorted(set(outside))[:10]}"
    assert not errors, errors[:10]


def test_refresh_restores_the_form_and_the_sidebar_follows_the_new_run(server, shots):
    url, _ = server
    with sync_playwright() as pw:
        with browser_page(pw, height=1300, timeout=90_000) as page:
            page.goto(url + "/")
            settle(page)
            owner = _query(page).get("owner")
            assert owner, page.url
            choose(page, "data_select", "8 Gaussians")
            goto_page(page, "Train")
            assert _query(page).get("owner") == owner  # kept across a page switch
            # a first, quick run...
            choose(page, "train_gen_select", "Gaussian mixture")
            page.locator(".st-key-start button").click()
            settle(page)
            page.wait_for_function("() => document.querySelector('[data-testid=stSidebar]').innerText"
                                   ".includes('gmm')", timeout=30_000)
            # ...then the WGAN-GP: the sidebar's "Run:" line follows it at once
            choose(page, "train_gen_select", "WGAN-GP")
            fill_number(page, "Steps", "100000")
            page.locator(".st-key-start button").click()
            settle(page)
            page.wait_for_function("() => /wgan_gp.*ring8/.test(document.querySelector('[data-testid=stSidebar]')"
                                   ".innerText)", timeout=10_000)
            assert "gmm" not in _sidebar(page)
            rid = _query(page).get("run")
            assert rid and "wgan_gp" in rid
            page.wait_for_function("() => /steps\\/s · ETA/.test(document.body.innerText)", timeout=90_000)
            # a refresh: the same dataset and generator next to the same live run
            page.reload()
            settle(page)
            if "Train" not in page.locator("[data-testid=stMain] h1").first.inner_text():
                goto_page(page, "Train")
            main = page.locator("[data-testid=stMain]").inner_text()
            assert "8 Gaussians" in main and "MNIST" not in main.split("Hyperparameters")[0]
            assert "WGAN-GP" in _selected(page, "train_gen_select")
            assert _query(page).get("run") == rid and _query(page).get("owner") == owner
            assert re.search(r"wgan_gp.*ring8", _sidebar(page))
            page.wait_for_function("() => /steps\\/s · ETA/.test(document.body.innerText)", timeout=90_000)
            page.screenshot(path=str(shots / "train_after_refresh.png"))
            page.locator(".st-key-stop").get_by_role("button").click()
            page.wait_for_function("() => document.body.innerText.includes('stopped')", timeout=60_000)
