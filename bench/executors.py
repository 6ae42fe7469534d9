"""Benchmark (not a test): what the executors cost and give, measured side by side in one run.

1. Start-up: ``JobManager.submit`` (the Start click) until the run has recorded its first step, for
   the ``local`` executor (a worker process; the pool keeps one spare warm, so this is the warm
   number) and ``inline`` (a thread of this process), interleaved. Target for local: <= 2 s warm.
2. Two runs at once: the steps/s of each of two runs trained together (``max_concurrent=2``) as a
   share of one run alone, on the ``local`` executor. Target (at least 4 cores per run): >= 0.8. On
   fewer cores the default policy trains one run at a time on CPU and queues the rest
   (``SYNTHLAB_MAX_RUNS`` raises the cap); this measures what the cap protects against.

    .venv/bin/python bench/executors.py --reps 3 --steps 300
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from synth_core.train import RunConfig  # noqa: E402
from synth_core.train.manager import JobManager  # noqa: E402
from synth_core.train.pool import POOL  # noqa: E402

CFG = dict(dataset="mnist", generator="dcgan")


def _wait(cond, timeout: float = 600.0) -> None:
    deadline = time.time() + timeout
    while not cond():
        if time.time() > deadline:
            raise TimeoutError
        time.sleep(0.005)


def startup(executor: str, root: Path) -> float:
    mgr = JobManager(root, max_concurrent=1, executor=executor)
    if executor == "local":  # a spare warmed with the last run's dataset, as in an app after its first run
        _wait(lambda: len(POOL._spares) >= 1, timeout=120)
        time.sleep(15)
    t0 = time.perf_counter()
    run = mgr.submit(RunConfig(**CFG, steps=1000, seed=0))
    _wait(lambda: run.step >= 1)
    dt = time.perf_counter() - t0
    run.stop()
    run.join(120)
    return dt


def _rate(path: Path, skip: int = 20) -> float:
    rows = [json.loads(x) for x in (path / "metrics.jsonl").read_text().splitlines() if x.strip()]
    a, b = rows[skip], rows[-1]
    return (b["step"] - a["step"]) / (b["t"] - a["t"])


def together(n: int, steps: int, root: Path) -> list[float]:
    mgr = JobManager(root, max_concurrent=n, executor="local")
    runs = [mgr.submit(RunConfig(**CFG, steps=steps, seed=i)) for i in range(n)]
    for r in runs:
        r.join(3600)
    return [_rate(r.path) for r in runs]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--steps", type=int, default=300)
    args = ap.parse_args(argv)
    starts: dict[str, list[float]] = {"local": [], "inline": []}
    for rep in range(args.reps):
        for ex in starts:
            with tempfile.TemporaryDirectory() as tmp:
                starts[ex].append(startup(ex, Path(tmp)))
            print(f"rep {rep + 1} start-up {ex:6s} {starts[ex][-1]:.2f} s", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        alone = together(1, args.steps, Path(tmp) / "one")[0]
        pair = together(2, args.steps, Path(tmp) / "two")
    cores = os.cpu_count()
    print(f"\nDCGAN (default params) on MNIST; {cores} CPU cores; median of {args.reps} reps\n")
    print("| measure | local (worker process) | inline (thread) | target |")
    print("|---|---|---|---|")
    print(f"| Start click -> first step, warm | {statistics.median(starts['local']):.2f} s | "
          f"{statistics.median(starts['inline']):.2f} s | local <= 2 s |")
    print(f"\n| two runs at once (local) | steps/s | share of one run alone |")
    print("|---|---|---|")
    print(f"| one run alone | {alone:.2f} | 1.00 |")
    for i, r in enumerate(pair):
        print(f"| run {i + 1} of 2 | {r:.2f} | {r / alone:.2f} |")
    print(f"\n(target >= 0.8 each with at least 4 cores per run; this machine has {cores}: the default policy "
          f"trains one run at a time on CPU, SYNTHLAB_MAX_RUNS raises it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
