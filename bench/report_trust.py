"""Benchmark (not a test): does the quality report score what the user sees?

    .venv/bin/python bench/report_trust.py              # tables and images
    .venv/bin/python bench/report_trust.py --tables     # tables only (seconds)

Tables (the bundled ``patients``, split 80/20 with a fixed seed; the report compares against the
80% "train" rows):
  * correct      - the 200 holdout rows (real data the "generator" never saw), and 1,000 fresh rows of
                   the process that made the table (a perfect generator);
  * region wrong - the same rows with ``region`` re-drawn at wrong frequencies (east 45% instead of
                   ~25%: what the copula's argmax decoding produced, issue 13);
  * sex wrong    - the fresh rows with ``sex`` re-drawn as 77% female instead of 52% (``marginals``);
  * copula       - 1,000 rows from the copula generator trained on the train rows (whatever the
                   generator does today).
Images (MNIST, 4,000 reference digits the DCGAN trains on, a 500-digit holdout): 1,000 DCGAN samples
after 280 training steps (blobs) vs 500 other real digits.

Prints overall, each group, the column-shape score of the distorted column and privacy.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from synth_core.data import Dataset, load_dataset  # noqa: E402
from synth_core.data.tabular_sets import patients_frame  # noqa: E402
from synth_core.generators import get_generator  # noqa: E402
from synth_core.metrics import report  # noqa: E402

torch.set_num_threads(2)


def _take(ds: Dataset, idx: np.ndarray) -> Dataset:
    """Rows ``idx`` of ``ds`` (a tabular dataset keeps its encoder)."""
    from dataclasses import fields

    from synth_core.data.tabular import TabularDataset

    kw = {f.name: getattr(ds, f.name) for f in fields(Dataset)}
    kw.update(x=ds.x[idx], y=None if ds.y is None else ds.y[idx], meta=dict(ds.meta))
    return TabularDataset(**kw, encoder=ds.encoder) if hasattr(ds, "encoder") else Dataset(**kw)


def _distort(ds: Dataset, x: np.ndarray, y: np.ndarray, column: str, probs: dict, seed: int) -> np.ndarray:
    """Encoded rows ``x`` with ``column`` re-drawn from ``probs`` (other columns untouched)."""
    df = ds.decode(x, y)
    rng = np.random.default_rng(seed)
    levels, p = list(probs), np.asarray(list(probs.values()), dtype=float)
    df[column] = rng.choice(np.asarray(levels, dtype=object), len(df), p=p / p.sum())
    return ds.encoder.transform(df)


def _column_score(rep, column: str) -> float | None:
    """The per-column shape score of ``column`` (decoded reports), else the worst encoded column of it."""
    per = rep.figures.get("per_feature") or rep.figures.get("columns") or []
    vals = [f.get("shape_score", f.get("score")) for f in per
            if str(f.get("feature", f.get("column"))) == column
            or str(f.get("feature", "")).startswith(f"{column}=")]
    vals = [v for v in vals if v is not None]
    return min(vals) if vals else None


def _row(name: str, rep, column: str | None = None) -> str:
    g = rep.groups
    col = _column_score(rep, column) if column else None
    groups = " ".join(f"{k}={v:.1f}" for k, v in g.items() if v is not None and k != "privacy")
    return (f"{name:<28} overall {rep.overall:5.1f}  privacy {('n/a' if rep.privacy is None else f'{rep.privacy:5.1f}')}"
            + (f"  {column} shape {100 * col:5.1f}" if col is not None else "") + f"\n{'':<28} {groups}")


def tables(seed: int) -> None:
    ds = load_dataset("patients")
    perm = np.random.default_rng(seed).permutation(len(ds))
    n_hold = len(ds) // 5
    hold, train = perm[:n_hold], perm[n_hold:]
    train_ds = _take(ds, train)
    xh, yh = ds.x[hold], ds.y[hold]
    real_df = ds.decode(ds.x, ds.y)
    print(f"patients: {len(train)} train rows, {len(hold)} holdout rows; real region frequencies "
          + ", ".join(f"{k} {v:.3f}" for k, v in real_df["region"].value_counts(normalize=True).items()))
    # a perfect generator: 1,000 fresh rows of the process that made the table
    fresh = patients_frame(1000, seed=seed + 7)
    xf, yf = ds.encoder.transform(fresh), ds.encoder.transform_labels(fresh)
    wrong_region = {"north": .15, "south": .15, "east": .45, "west": .2, None: .05}
    cases = [("correct (holdout rows)", xh, yh, None),
             ("region wrong (holdout rows)", _distort(ds, xh, yh, "region", wrong_region, 1), yh, "region"),
             ("correct (1,000 fresh rows)", xf, yf, None),
             ("region wrong (fresh rows)", _distort(ds, xf, yf, "region", wrong_region, 1), yf, "region"),
             ("sex wrong (77% female)", _distort(ds, xf, yf, "sex", {"female": .77, "male": .23}, 2), yf, "sex")]
    gen = get_generator("copula")().setup(train_ds, seed=seed)
    gen.train_step()
    xc = gen.sample(n_hold, seed=seed + 1)
    syn_df = ds.decode(xc)
    print("copula region frequencies: "
          + ", ".join(f"{k} {v:.3f}" for k, v in syn_df["region"].value_counts(normalize=True).items()))
    cases.append(("copula (today's generator)", xc, None, "region"))
    for name, x, labels, col in cases:
        t = time.perf_counter()
        rep = report(train_ds, x, synth_labels=labels, seed=0)
        print(_row(name, rep, col or "region") + f"  ({time.perf_counter() - t:.1f} s)")


def images(seed: int, steps: int) -> None:
    ds = load_dataset("mnist")
    perm = np.random.default_rng(seed).permutation(len(ds))
    ref = _take(ds, perm[:4000])
    other = ds.x[perm[4000:4500]]
    hold = _take(ds, perm[4500:5000])  # the privacy baseline and TSTR test set, as a run's holdout
    cache = tempfile.mkdtemp(prefix="synthlab-trust-")
    gen = get_generator("dcgan")().setup(ref, seed=seed)
    t = time.perf_counter()
    for _ in range(steps):
        gen.train_step()
    print(f"DCGAN: {steps} steps in {time.perf_counter() - t:.1f} s")
    torch.manual_seed(seed)
    blobs = gen.sample(1000, seed=seed + 1)
    for name, x in (("real digits (500 unseen)", other), (f"DCGAN at step {steps}", blobs)):
        try:
            rep = report(ref, x, seed=0, cache_dir=cache, holdout=hold)
        except TypeError:  # the report before holdouts
            rep = report(ref, x, seed=0, cache_dir=cache)
        print(_row(name, rep))
        if getattr(rep, "privacy_caveat", None):
            print(f"{'':<28} privacy caveat: {rep.privacy_caveat}")
        px = {s.key: round(100 * s.score, 1) for s in rep.scores if s.score is not None}
        print(f"{'':<28} " + " ".join(f"{k}={v}" for k, v in px.items()))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tables", action="store_true", help="tables only")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=280, help="DCGAN steps for the blob images")
    args = ap.parse_args()
    tables(args.seed)
    if not args.tables:
        images(args.seed, args.steps)


if __name__ == "__main__":
    main()
