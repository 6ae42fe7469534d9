"""Benchmark (not a test): what the dashboard costs a training run.

The same default DCGAN on MNIST for N steps, three ways, interleaved and repeated in one run:

  (a) bare   - ``gen.train_step()`` in a plain loop (no Run, no events, no files);
  (b) run    - through ``synth_core.train.Run`` with events, live previews, sample PNGs and
               checkpoints at the app's default cadence;
  (c) app    - started from the Train page of the real app (``streamlit run app.py``) while headless
               Chromium shows the live view (loss chart + sample grid polled every second), on the
               app's default ``local`` executor: the run trains in a worker process of its own;
  (d) thread - the same, with ``SYNTHLAB_EXECUTOR=inline``: the run trains in a thread of the server
               (how the app worked before issue 15), sharing the server's GIL with the page reruns.

Throughput is measured over steps 20..N from each run's own clock (setup excluded) and reported as
samples/s and as ratios to (a). Targets: (b)/(a) >= 0.95, (c)/(a) >= 0.85.

    .venv/bin/python bench/overhead.py --steps 600 --reps 2
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._app import ARGS, CHROMIUM, serve, set_number, settle  # noqa: E402
from synth_core.data import load_dataset  # noqa: E402
from synth_core.generators import get_generator  # noqa: E402
from synth_core.train import Run, RunConfig  # noqa: E402

WARMUP = 20


def bare(steps: int) -> float:
    ds = load_dataset("mnist")
    gen = get_generator("dcgan")().setup(ds, seed=0)
    for _ in range(WARMUP):
        gen.train_step()
    t = time.perf_counter()
    for _ in range(steps - WARMUP):
        gen.train_step()
    return (steps - WARMUP) / (time.perf_counter() - t)


def _rate_from_metrics(path: Path) -> float:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    a = next(r for r in rows if r["step"] == WARMUP)
    b = rows[-1]
    return (b["step"] - a["step"]) / (b["t"] - a["t"])


def through_run(steps: int, root: Path) -> float:
    run = Run(RunConfig("mnist", "dcgan", steps=steps, seed=0), root).run_sync()
    return _rate_from_metrics(run.path / "metrics.jsonl")


def through_app(steps: int, root: Path, executor: str = "local") -> float:
    from playwright.sync_api import sync_playwright

    with serve(root, SYNTHLAB_EXECUTOR=executor) as (url, _proc), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(url + "/train")
        settle(page)
        set_number(page, "Steps", steps)
        page.locator(".st-key-start button").click()
        page.wait_for_function("() => document.body.innerText.includes('Training finished')",
                               timeout=max(600_000, steps * 2_000))
        browser.close()
    [run_dir] = [p for p in root.iterdir() if p.is_dir()]
    return _rate_from_metrics(run_dir / "metrics.jsonl")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--no-app", action="store_true", help="skip (c): no browser, no server")
    args = ap.parse_args(argv)
    batch = get_generator("dcgan")().hparams["batch_size"]
    results: dict[str, list[float]] = {"bare": [], "run": [], "app": [], "thread": []}
    for rep in range(args.reps):
        for name in results:
            if name in ("app", "thread") and args.no_app:
                continue
            with tempfile.TemporaryDirectory() as tmp:
                rate = {"bare": lambda: bare(args.steps), "run": lambda: through_run(args.steps, Path(tmp)),
                        "app": lambda: through_app(args.steps, Path(tmp), "local"),
                        "thread": lambda: through_app(args.steps, Path(tmp), "inline")}[name]()
            results[name].append(rate)
            print(f"rep {rep + 1} {name:5s} {rate:6.2f} steps/s", file=sys.stderr, flush=True)
    base = statistics.median(results["bare"])
    print(f"\nDCGAN (default params) on MNIST, {args.steps} steps x {args.reps} reps, interleaved; "
          f"torch threads {torch.get_num_threads()}; median of reps")
    print("| path | steps/s | samples/s | ratio to bare | target |")
    print("|---|---|---|---|---|")
    for name, label in (("bare", "(a) bare loop"), ("run", "(b) Run (events, previews, PNGs, checkpoints)"),
                        ("app", "(c) app, live view in Chromium: a worker process (local executor)"),
                        ("thread", "(d) app, live view in Chromium: a thread of the server (inline)")):
        if not results[name]:
            continue
        r = statistics.median(results[name])
        target = {"run": ">= 0.95", "app": ">= 0.85"}.get(name, "")
        print(f"| {label} | {r:.2f} | {r * batch:.0f} | {r / base:.3f} | {target} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
