"""Benchmark (not a test): how the app feels to a third person while two runs train.

A browser session switches pages (Data -> Train -> Runs -> Compare -> ...) and times each switch
until the page has settled (connected, no script running). Measured with no run training, then while
two other sessions each train a DCGAN on MNIST (``SYNTHLAB_MAX_RUNS=2``, so both really train), for
the ``local`` executor (worker processes) and ``inline`` (threads of the server), in one run.
Target for local: median switch time with two runs <= 1.3x the time with none.

    .venv/bin/python bench/page_switch.py --switches 12
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._app import ARGS, CHROMIUM, serve, settle  # noqa: E402
from tests.e2e_support import fill_number, goto_page  # noqa: E402

PAGES = ("Data", "Train", "Runs", "Compare", "Learn")


def _switches(page, n: int) -> list[float]:
    out = []
    for i in range(n):
        t = time.perf_counter()
        goto_page(page, PAGES[i % len(PAGES)])
        out.append(time.perf_counter() - t)
    return out


def _start_run(page, url: str) -> None:
    page.goto(url + "/train")
    settle(page)
    fill_number(page, "Steps", "100000")
    page.locator(".st-key-start button").click()
    settle(page)
    page.wait_for_function("() => /steps\\/s · ETA/.test(document.body.innerText)", timeout=300_000)


def measure(executor: str, n: int) -> tuple[float, float]:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, serve(Path(tmp), SYNTHLAB_EXECUTOR=executor, SYNTHLAB_MAX_RUNS="2") \
            as (url, _proc), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        a, b, c = (browser.new_context(viewport={"width": 1400, "height": 1100}).new_page() for _ in range(3))
        c.goto(url + "/")
        settle(c)
        _switches(c, len(PAGES))  # warm every page once
        idle = statistics.median(_switches(c, n))
        _start_run(a, url)
        _start_run(b, url)
        busy = statistics.median(_switches(c, n))
        for p in (a, b):
            p.locator(".st-key-stop button").click()
        browser.close()
    return idle, busy


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--switches", type=int, default=12)
    args = ap.parse_args(argv)
    rows = {ex: measure(ex, args.switches) for ex in ("local", "inline")}
    print(f"\nMedian page switch in a third session, {args.switches} switches over {', '.join(PAGES)}\n")
    print("| executor | no run training | two DCGAN runs training | ratio | target |")
    print("|---|---|---|---|---|")
    for ex, (idle, busy) in rows.items():
        print(f"| {ex} | {idle:.2f} s | {busy:.2f} s | {busy / idle:.2f} | {'<= 1.3' if ex == 'local' else ''} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
