"""Benchmark (not a test): the dashboard as a user feels it, measured in headless Chromium.

1. Page load to interactive: from ``page.goto`` until the app is connected and its script has
   finished (Data page with MNIST, Train page), median of several loads.
2. Step-to-chart latency: while a DCGAN trains from the Train page, how long after a step is
   recorded by the run does its point appear on the loss chart in the browser (the chart polls once
   a second, so ~0.5 s is the floor set by the poll interval).
3. Server memory (RSS of the streamlit process) over a long training run with the live view open:
   must stay flat within 10% (first minute vs last minute).

    .venv/bin/python bench/ui.py --minutes 10
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._app import ARGS, CHROMIUM, serve, set_number, settle  # noqa: E402

LAST_STEP_JS = """() => {
    const gd = document.querySelector('.st-key-loss_chart .js-plotly-plot') || document.querySelector('.js-plotly-plot');
    if (!gd || !gd._fullData || !gd._fullData.length) return -1;
    const xs = gd._fullData[0].x; if (!xs || !xs.length) return -1;
    return Number(xs[xs.length - 1]);
}"""


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def load_times(page, url: str, reps: int) -> dict[str, float]:
    out = {}
    for name, path in (("Data page", "/"), ("Train page", "/train")):
        times = []
        for _ in range(reps):
            t = time.perf_counter()
            page.goto(url + path)
            settle(page)
            page.wait_for_selector("[data-testid=stMain] h1", timeout=60_000)
            times.append(time.perf_counter() - t)
        out[name] = statistics.median(times)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10.0, help="length of the memory run")
    ap.add_argument("--reps", type=int, default=5, help="page loads per page")
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, serve(Path(tmp)) as (url, proc), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(url + "/")
        settle(page)  # first load compiles and imports: not counted
        loads = load_times(page, url, args.reps)
        page.goto(url + "/train")
        settle(page)
        set_number(page, "Steps", 1_000_000)
        page.locator(".st-key-start button").click()
        page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length > 0", timeout=120_000)
        [run_dir] = [p for p in Path(tmp).iterdir() if p.is_dir()]
        t0_epoch = None
        # latency: browser-side time each new last step shows, vs the run's own clock for that step
        seen: list[tuple[float, int]] = []
        mem: list[tuple[float, float]] = []
        start = time.time()
        last = -1
        next_mem = start
        while time.time() - start < args.minutes * 60:
            step = page.evaluate(LAST_STEP_JS)
            now = time.time()
            if step > last:
                seen.append((now, step))
                last = step
            if now >= next_mem:
                mem.append((now - start, rss_mb(proc.pid)))
                next_mem += 10
            time.sleep(0.05)
        page.locator(".st-key-stop button").click()
        page.wait_for_function("() => document.body.innerText.includes('stopped')", timeout=120_000)
        status = json.loads((run_dir / "status.json").read_text())
        t0_epoch = status.get("t0_epoch")
        rows = {int(r["step"]): float(r["t"]) for r in map(json.loads, (run_dir / "metrics.jsonl").read_text().splitlines())}
        browser.close()
    lat = [now - (t0_epoch + rows[s]) for now, s in seen if t0_epoch is not None and s in rows]
    first = [m for t, m in mem if t <= 60]
    last_min = [m for t, m in mem if t >= mem[-1][0] - 60]
    print(f"\nSynthLab UI, served locally, headless Chromium; DCGAN on MNIST trained {args.minutes:g} min")
    print("| measure | value | target |")
    print("|---|---|---|")
    for name, v in loads.items():
        print(f"| {name}: load to interactive (median of {args.reps}) | {v:.2f} s | |")
    if lat:
        print(f"| step-to-chart latency, median / p90 ({len(lat)} updates) | {statistics.median(lat):.2f} s / "
              f"{sorted(lat)[int(0.9 * (len(lat) - 1))]:.2f} s | |")
    else:
        print("| step-to-chart latency | not measured (status.json has no t0_epoch) | |")
    if first and last_min:
        a, b = statistics.mean(first), statistics.mean(last_min)
        print(f"| server RSS first minute -> last minute | {a:.0f} MB -> {b:.0f} MB ({(b - a) / a:+.1%}) | within 10% |")
    print(f"| server RSS samples (every 10 s) | {', '.join(f'{m:.0f}' for _, m in mem)} | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
