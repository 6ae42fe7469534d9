"""Benchmark (not a test): does each tabular generator reproduce the level frequencies of every
categorical / boolean column (and the label) in the decoded synthetic table?

Tables: the bundled ``patients`` table (label ``risk``) and a restaurant-tips-like table built here
(``day`` with a rare ``Fri`` level, ``time`` as the label, ``smoker`` Yes/No typed boolean). For
each generator it trains ``--steps`` steps (closed-form models: their one step), draws ``-n`` rows
through the one export path (:func:`synth_core.train.export.synthetic_frame`, label included) and
prints real vs synthetic shares per level, and the largest absolute gap per table.

    .venv/bin/python bench/categories.py
    .venv/bin/python bench/categories.py --generators copula,marginals --tables tips -n 5000
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import torch

from synth_core.data import load_dataset
from synth_core.data.tabular import infer_schema, tabular_dataset
from synth_core.generators import get_generator

GENERATORS = ("copula", "marginals", "gaussian", "gmm", "kde", "ctgan", "tvae")


def tips_frame(n: int = 1000, seed: int = 0) -> pd.DataFrame:
    """A restaurant-tips-like table: bill and tip (numbers), sex, smoker (Yes/No), day (Thur/Fri/Sat/Sun,
    Fri ~8%), time (Lunch/Dinner, mostly Thur lunches), size (party size)."""
    rng = np.random.default_rng(seed)
    day = rng.choice(["Thur", "Fri", "Sat", "Sun"], n, p=[0.254, 0.078, 0.357, 0.311])
    time_ = np.where(day == "Thur", np.where(rng.random(n) < 0.95, "Lunch", "Dinner"),
                     np.where((day == "Fri") & (rng.random(n) < 0.4), "Lunch", "Dinner"))
    size = np.clip(rng.poisson(1.6, n) + 1, 1, 6)
    bill = np.round(np.clip(rng.gamma(4.0, 2.2 * size ** 0.7, n), 3, 60), 2)
    tip = np.round(np.clip(bill * rng.normal(0.16, 0.05, n), 1, 12), 2)
    return pd.DataFrame({"total_bill": bill, "tip": tip, "sex": rng.choice(["Female", "Male"], n, p=[0.36, 0.64]),
                         "smoker": rng.choice(["No", "Yes"], n, p=[0.62, 0.38]), "day": day, "time": time_,
                         "size": size})


def tips_dataset(n: int = 1000, seed: int = 0):
    df = tips_frame(n, seed)
    schema = infer_schema(df, label="time").set_type("smoker", "boolean")
    return tabular_dataset(df, "tips", schema=schema), df


def shares(s: pd.Series) -> pd.Series:
    return s.astype("string").fillna("<missing>").value_counts(normalize=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--generators", default=",".join(GENERATORS))
    p.add_argument("--tables", default="patients,tips")
    p.add_argument("--steps", type=int, default=300, help="steps for iterative generators")
    p.add_argument("-n", type=int, default=4000, help="synthetic rows")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    from synth_core.train.export import synthetic_frame

    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    for table in args.tables.split(","):
        if table == "tips":
            ds, real = tips_dataset()
        else:
            ds = load_dataset(table)
            real = ds.frame()
        cat_cols = [c for c in real.columns if not pd.api.types.is_numeric_dtype(real[c])
                    or pd.api.types.is_bool_dtype(real[c])]
        cat_cols = [c for c in cat_cols if not pd.api.types.is_datetime64_any_dtype(real[c])]
        print(f"\n=== {table}: {len(real)} rows; categorical columns {cat_cols}")
        for name in args.generators.split(","):
            cls = get_generator(name)
            gen = cls().setup(ds, seed=args.seed)
            steps = 1 if cls.closed_form else args.steps
            t0 = time.time()
            for _ in range(steps):
                gen.train_step()
            fit_s = time.time() - t0
            synth = synthetic_frame(gen, ds, args.n, seed=args.seed)
            assert list(synth.columns) == list(real.columns), (list(synth.columns), list(real.columns))
            worst, lines = 0.0, []
            for c in cat_cols:
                r, s = shares(real[c]), shares(synth[c])
                gaps = {str(k): (float(r.get(k, 0.0)), float(s.get(k, 0.0))) for k in r.index.union(s.index)}
                worst = max(worst, max(abs(a - b) for a, b in gaps.values()))
                lines.append(f"    {c}: " + ", ".join(f"{k} {a:.3f}/{b:.3f}" for k, (a, b) in gaps.items()))
            print(f"  {name:10s} ({steps} steps, {fit_s:.1f}s)  max |real - synth| share = {worst:.3f}")
            print("\n".join(lines))


if __name__ == "__main__":
    main()
