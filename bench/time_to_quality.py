"""Benchmark (not a test): how good the default DCGAN's MNIST digits are after N seconds of
wall-clock CPU training, as scored by the judge classifier (synth_core.metrics.judge).

    .venv/bin/python bench/time_to_quality.py --marks 30,60,120,300 --grid assets/dcgan_mnist_5min.png

For each mark it prints steps, steps/s, the judge's confidence share (samples with max-prob >= 0.9)
and the normalised entropy of its predicted-class histogram (1.0 = all ten digits equally often),
beside the same numbers for real MNIST and (``--reference``, on by default) for a plain reference
loop with the classic tutorial DCGAN (bench/reference_dcgan.py) given the same training time in the
same process. Sample grids use the run's fixed noise. Target (issue 8): confidence share >= 0.8 and
class entropy >= 0.9 within 60 s, ahead of the reference.
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.reference_dcgan import ReferenceDCGAN  # noqa: E402
from synth_core.data import load_dataset
from synth_core.generators import get_generator
from synth_core.metrics.judge import get_judge
from synth_core.viz.grid import image_grid


def scores(judge, x: np.ndarray) -> tuple[float, float]:
    p = judge.predict_proba(x)
    h = np.bincount(p.argmax(1), minlength=p.shape[1]) / len(p)
    return float((p.max(1) >= 0.9).mean()), float(-(h[h > 0] * np.log(h[h > 0])).sum() / math.log(p.shape[1]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--generator", default="dcgan")
    ap.add_argument("--marks", default="30,60,120,300", help="seconds of training at which to score")
    ap.add_argument("--param", action="append", default=[], help="name=value overrides of the generator params")
    ap.add_argument("--grid", type=Path, default=None, help="write the last mark's fixed-noise grid here")
    ap.add_argument("--grid-dir", type=Path, default=None, help="write every mark's grid into this folder")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-reference", dest="reference", action="store_false",
                    help="skip the plain reference loop (bench/reference_dcgan.py)")
    args = ap.parse_args(argv)
    ds = load_dataset("mnist")
    judge = get_judge(ds.x, ds.y, name=ds.name, n_classes=10)
    real_conf, real_ent = scores(judge, ds.x[:2000])
    params = dict(kv.split("=", 1) for kv in args.param)
    marks = sorted(float(m) for m in args.marks.split(","))
    models = [(args.generator, get_generator(args.generator)(**params).setup(ds, device="cpu", seed=args.seed))]
    if args.reference:
        models.append(("reference", ReferenceDCGAN(ds.x, seed=args.seed)))
    rows = []
    grid = None
    for label, gen in models:  # one after the other in this process: same machine state, same marks
        pending, steps, train_s = list(marks), 0, 0.0
        while pending:
            t = time.time()
            gen.train_step()
            train_s += time.time() - t
            steps += 1
            if train_s >= pending[0]:
                x = gen.sample(2000, seed=1)
                conf, ent = scores(judge, x)
                rows.append((label, pending[0], steps, steps / train_s, conf, ent))
                print(f"{label} t={pending[0]:.0f}s steps={steps} conf={conf:.3f} entropy={ent:.3f}",
                      file=sys.stderr, flush=True)
                if label != "reference":
                    grid = image_grid(ds.decode(gen.preview()), nrow=8)
                    if args.grid_dir:
                        args.grid_dir.mkdir(parents=True, exist_ok=True)
                        grid.save(args.grid_dir / f"{args.generator}_{int(pending[0])}s.png")
                pending.pop(0)
    if args.grid and grid is not None:
        args.grid.parent.mkdir(parents=True, exist_ok=True)
        grid.save(args.grid)
    print(f"\n{args.generator} on MNIST-5k, {torch.get_num_threads()} torch threads, params {params or 'default'}")
    print("| model | training time | steps | steps/s | judge confidence share | class entropy / log 10 |")
    print("|---|---|---|---|---|---|")
    for label, m, s, r, c, e in rows:
        print(f"| {label} | {m:.0f} s | {s} | {r:.1f} | {c:.3f} | {e:.3f} |")
    print(f"| real MNIST | | | | {real_conf:.3f} | {real_ent:.3f} |")
    print("target: confidence share >= 0.8 and class entropy >= 0.9 at 60 s, ahead of the reference")
    return 0


if __name__ == "__main__":
    sys.exit(main())
