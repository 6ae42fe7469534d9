"""Benchmark (not a test): wall time of the full quality report on 2 CPU cores.

    .venv/bin/python bench/metrics.py            # MNIST 1k/2.5k/5k and tabular 2.5k/5k/10k
    .venv/bin/python bench/metrics.py --quick    # smallest size of each

MNIST: n real digits vs n "synthetic" ones (a disjoint-ish resample with pixel noise, so every
metric has work to do); judge training is timed once, separately, and excluded (it is cached per
dataset). Tabular: a 16-column table (13 correlated numeric + 3 categorical) with labels, vs a
perturbed draw of the same process. Target: <= 10 s per full report at the largest size.
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "2")       # OpenMP (HistGradientBoosting) and BLAS
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
os.environ.setdefault("MKL_NUM_THREADS", "2")

import argparse  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(2)

from synth_core.data import load_dataset  # noqa: E402
from synth_core.metrics import report  # noqa: E402
from synth_core.metrics.judge import get_judge  # noqa: E402


def tabular(n: int, seed: int, shift: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    d = 13
    a = np.random.default_rng(0).standard_normal((d, d)) / np.sqrt(d)  # same covariance for every draw
    x = rng.standard_normal((n, d)) @ a + shift
    cats = np.c_[(x[:, 0] > 0).astype(float) + (x[:, 1] > 0.5), rng.integers(0, 4, n), (x[:, 2] > x[:, 3])]
    y = ((x[:, 4] + 0.5 * cats[:, 0]) > 0.3).astype(int)
    return np.c_[x, cats], y


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    cache = tempfile.mkdtemp(prefix="synthlab-bench-")
    rows = []

    ds = load_dataset("mnist")
    t = time.perf_counter()
    judge = get_judge(ds.x, ds.y, name="mnist", n_classes=10, cache_root=cache)
    print(f"judge training (excluded below): {time.perf_counter() - t:.1f} s, held-out accuracy "
          f"{100 * judge.accuracy:.1f}% on {len(ds.x) - judge.n_train} images")
    rng = np.random.default_rng(0)
    for n in ([1000] if args.quick else [1000, 2500, 5000]):
        real_idx = rng.choice(len(ds.x), n, replace=False)
        synth = np.clip(ds.x[rng.choice(len(ds.x), n, replace=False)]
                        + 0.2 * rng.standard_normal((n, 1, 28, 28)).astype(np.float32), -1, 1)
        t = time.perf_counter()
        rep = report(ds.x[real_idx], synth, "image", labels=ds.y[real_idx], judge=judge, dataset_name="mnist")
        rows.append(("mnist 28x28", n, time.perf_counter() - t, rep))

    for n in ([2500] if args.quick else [2500, 5000, 10000]):
        real, y = tabular(n, 1)
        synth, _ = tabular(n, 2, shift=0.1)
        for max_n in (5000, 10000):
            if max_n > n and max_n != 5000:
                continue
            t = time.perf_counter()
            rep = report(real, synth, "tabular", labels=y, max_n=max_n)
            rows.append((f"tabular 16 col (max_n {max_n})", n, time.perf_counter() - t, rep))

    print(f"\n{'data':<28} {'n real = n synth':>16} {'seconds':>8} {'overall':>8}  slowest stages")
    for name, n, sec, rep in rows:
        stages = sorted(((k, v) for k, v in rep.timings.items() if k != "total"), key=lambda kv: -kv[1])[:3]
        print(f"{name:<28} {n:>16,} {sec:>8.2f} {rep.overall:>8.1f}  "
              + ", ".join(f"{k} {v:.2f}s" for k, v in stages))


if __name__ == "__main__":
    main()
