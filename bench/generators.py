"""Benchmark (not a test): every registered generator on ring8, grid25 and MNIST for a fixed
CPU-time budget each, side by side in one run.

Prints: modes covered and high-quality % (toy sets, Srivastava et al. 2017 measure), and for
MNIST the judge classifier's confidence share (max-prob >= 0.9) and normalised class entropy
(1.0 = all ten digits equally often), plus steps/s.

    .venv/bin/python bench/generators.py --budget 20            # seconds per (generator, dataset)
    .venv/bin/python bench/generators.py --only gmm,wgan-gp --datasets ring8
"""
from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np
import torch

from synth_core.data import load_dataset
from synth_core.errors import SynthLabError
from synth_core.generators import list_generators
from synth_core.metrics import mode_coverage


def judge_scores(judge, x: np.ndarray) -> tuple[float, float]:
    p = judge.predict_proba(x)
    conf = float((p.max(1) >= 0.9).mean())
    h = np.bincount(p.argmax(1), minlength=p.shape[1]) / len(p)
    ent = float(-(h[h > 0] * np.log(h[h > 0])).sum() / math.log(p.shape[1]))
    return conf, ent


def run_one(gen_cls, ds, budget: float, seed: int = 0) -> tuple[object, int, float]:
    g = gen_cls().setup(ds, device="cpu", seed=seed)
    t0, steps = time.process_time(), 0
    wall0 = time.time()
    # a CPU-time budget (process_time) is fairer than wall time on a noisy machine
    while time.process_time() - t0 < budget:
        g.train_step()
        steps += 1
        if gen_cls.closed_form:
            break
    return g, steps, steps / max(time.time() - wall0, 1e-9)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--budget", type=float, default=20.0, help="CPU seconds per generator and dataset")
    ap.add_argument("--datasets", default="ring8,grid25,mnist")
    ap.add_argument("--only", default="", help="comma-separated generator names")
    ap.add_argument("--n", type=int, default=2000, help="samples drawn for scoring")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0 = default)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    only = {s for s in args.only.split(",") if s}
    rows = []
    judge = None
    for dname in args.datasets.split(","):
        ds = load_dataset(dname)
        if ds.kind == "image" and judge is None:
            from synth_core.metrics.judge import get_judge
            judge = get_judge(ds.x, ds.y, name=ds.name, n_classes=len(ds.classes))
            print(f"judge: {judge.describe()}", file=sys.stderr)
        for gen_cls in list_generators(ds.kind):
            if only and gen_cls.name not in only:
                continue
            try:
                g, steps, rate = run_one(gen_cls, ds, args.budget)
                x = g.sample(args.n, seed=123)
            except (SynthLabError, RuntimeError, ValueError) as exc:
                rows.append({"dataset": dname, "generator": gen_cls.name, "note": f"skipped: {exc}"[:60]})
                continue
            row = {"dataset": dname, "generator": gen_cls.name, "steps": steps, "steps/s": f"{rate:.1f}"}
            if "modes" in ds.meta:
                mc = mode_coverage(x, ds.modes.centres, ds.modes.std)
                row["modes"] = f"{mc.modes_covered}/{mc.n_modes}"
                row["HQ %"] = f"{100 * mc.high_quality:.1f}"
            if ds.kind == "image" and judge is not None:
                conf, ent = judge_scores(judge, x)
                row["judge conf"] = f"{conf:.3f}"
                row["class entropy"] = f"{ent:.3f}"
            rows.append(row)
            print(row, file=sys.stderr, flush=True)
    if ds.kind == "image" and judge is not None:
        conf, ent = judge_scores(judge, ds.x[:args.n])
        rows.append({"dataset": "mnist", "generator": "(real data)", "judge conf": f"{conf:.3f}",
                     "class entropy": f"{ent:.3f}"})
    cols = ["dataset", "generator", "steps", "steps/s", "modes", "HQ %", "judge conf", "class entropy", "note"]
    cols = [c for c in cols if any(c in r for r in rows)]
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in cols}
    print(f"\nbudget {args.budget:.0f} CPU-s per cell, torch threads {torch.get_num_threads()}")
    print("| " + " | ".join(c.ljust(widths[c]) for c in cols) + " |")
    print("|" + "|".join("-" * (widths[c] + 2) for c in cols) + "|")
    for r in rows:
        print("| " + " | ".join(str(r.get(c, "")).ljust(widths[c]) for c in cols) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
