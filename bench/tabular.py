"""Benchmark (not a test): tabular generators on the scikit-learn tables, side by side.

For each dataset (iris, wine, breast-cancer, diabetes) and generator (copula, ctgan, tvae): the
fit time for a fixed step budget (copula: its one closed-form step) and the quality report's
"Column shapes" (KS / TV complements per column) and "Pair trends" (correlation and contingency
similarity) group scores, 0-100, from :func:`synth_core.metrics.report`.

CTGAN and TVAE train on the table re-encoded with CTGAN's mode-specific normalisation of every
numeric column (``--encoding mode``, as in the paper) or on the dataset's own quantile encoding
(``--encoding quantile``). Every synthetic table is decoded and re-encoded with the dataset's
standard encoder, so all generators are scored in the same space. If SDV is installed, its
GaussianCopulaSynthesizer and CTGANSynthesizer run on the same tables and are scored the same way
(SDV is an optional extra, never a dependency).

    .venv/bin/python bench/tabular.py --steps 300
    .venv/bin/python bench/tabular.py --steps 2000 --datasets wine --generators ctgan,tvae
"""
from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import numpy as np
import pandas as pd
import torch

from synth_core.data import load_dataset
from synth_core.data.tabular import NUMERIC_TYPES, TabularDataset, tabular_dataset
from synth_core.errors import SynthLabError
from synth_core.generators import get_generator
from synth_core.metrics import report

DATASETS = ("iris", "wine", "breast-cancer", "diabetes")
GENERATORS = ("copula", "ctgan", "tvae")


def mode_encoded(ds: TabularDataset) -> TabularDataset:
    """The same table with CTGAN's mode-specific normalisation on every numeric feature."""
    schema = ds.schema
    for c in schema.features:
        if c.type in NUMERIC_TYPES:
            schema = schema.set_encoding(c.name, "mode")
    return tabular_dataset(ds.frame(), f"{ds.name}-mode", schema=schema)


def scores(ds: TabularDataset, synth_df: pd.DataFrame, seed: int) -> dict[str, float]:
    """Column-shape and pair-trend group scores (0-100) of a synthetic table: the report scores the
    decoded table, label column included (a table without its label gets one from a real-trained
    classifier, and the report says so)."""
    x = ds.encoder.transform(synth_df)
    label = ds.schema.label
    y = ds.encoder.transform_labels(synth_df) if label is not None and label in synth_df else None
    rep = report(ds, x, synth_labels=y, seed=seed)
    return {"shapes": rep.groups["marginals"], "pairs": rep.groups["pairs"], "overall": rep.overall}


def run_ours(name: str, ds: TabularDataset, steps: int, n: int, encoding: str, seed: int) -> dict[str, Any]:
    gen_cls = get_generator(name)
    train_ds = mode_encoded(ds) if encoding == "mode" and name in ("ctgan", "tvae") else ds
    t0, c0 = time.perf_counter(), time.process_time()
    g = gen_cls().setup(train_ds, seed=seed)
    done = 0
    for _ in range(1 if gen_cls.closed_form else steps):
        g.train_step()
        done += 1
    fit, cpu = time.perf_counter() - t0, time.process_time() - c0
    x, y = g.sample_with_labels(n, seed=seed + 1)  # every generator declares it (labels or None)
    df = train_ds.decode(x, y)
    return {"generator": name, "steps": done, "fit_s": fit, "cpu_s": cpu, **scores(ds, df, seed)}


def run_sdv(kind: str, ds: TabularDataset, steps: int, n: int, seed: int) -> dict[str, Any]:
    import sdv.metadata  # type: ignore[import-not-found]
    from sdv.single_table import CTGANSynthesizer, GaussianCopulaSynthesizer  # type: ignore[import-not-found]

    real = ds.frame()
    v1 = hasattr(sdv.metadata, "SingleTableMetadata")
    if v1:  # SDV 1.x
        meta = sdv.metadata.SingleTableMetadata()
        meta.detect_from_dataframe(real)
    else:  # SDV 2.x: one Metadata class for single and multi-table data; fit takes {name: frame}
        meta = sdv.metadata.Metadata.detect_from_dataframes({"table": real})
    torch.manual_seed(seed)
    np.random.seed(seed)
    if kind == "ctgan":
        # SDV counts epochs; CTGAN does max(1, rows // batch_size) steps per epoch (batch 500)
        epochs = max(1, round(steps / max(1, len(real) // 500)))
        synth = CTGANSynthesizer(meta, epochs=epochs)
        label = f"sdv-ctgan ({epochs} epochs)"
    else:
        synth = GaussianCopulaSynthesizer(meta)
        label = "sdv-copula"
    t0, c0 = time.perf_counter(), time.process_time()
    synth.fit(real if v1 else {"table": real})
    fit, cpu = time.perf_counter() - t0, time.process_time() - c0
    df = synth.sample(num_rows=n)
    if isinstance(df, dict):
        [df] = df.values()
    return {"generator": label, "steps": steps if kind == "ctgan" else 1, "fit_s": fit, "cpu_s": cpu,
            **scores(ds, df, seed)}


def fmt(v: float | None, digits: int = 1) -> str:
    return "n/a" if v is None else f"{v:.{digits}f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=300, help="training steps for ctgan/tvae (copula: 1 closed-form step)")
    ap.add_argument("--datasets", default=",".join(DATASETS))
    ap.add_argument("--generators", default=",".join(GENERATORS))
    ap.add_argument("--encoding", choices=("mode", "quantile"), default="mode",
                    help="numeric encoding ctgan/tvae train on (mode = CTGAN's mode-specific normalisation)")
    ap.add_argument("--n", type=int, default=0, help="synthetic rows scored (0 = as many as the real table)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (small nets: 1 is fastest)")
    ap.add_argument("--no-sdv", action="store_true", help="skip SDV even if it is installed")
    args = ap.parse_args(argv)
    torch.set_num_threads(max(1, args.threads))
    try:
        import sdv  # noqa: F401  # type: ignore[import-not-found]
        have_sdv = not args.no_sdv
        print(f"sdv {sdv.__version__} found: its GaussianCopula and CTGAN run beside ours" if have_sdv
              else "sdv found but skipped (--no-sdv)")
    except ImportError:
        have_sdv = False
        print("sdv is not installed (an optional extra: pip install sdv): only SynthLab's generators are run")
    rows: list[dict[str, Any]] = []
    for dname in [d for d in args.datasets.split(",") if d]:
        ds = load_dataset(dname)
        n = args.n or len(ds)
        jobs = [("ours", g) for g in args.generators.split(",") if g]
        if have_sdv:
            jobs += [("sdv", "copula"), ("sdv", "ctgan")]
        for who, gname in jobs:
            try:
                row = (run_ours(gname, ds, args.steps, n, args.encoding, args.seed) if who == "ours"
                       else run_sdv(gname, ds, args.steps, n, args.seed))
            except SynthLabError as exc:
                print(f"{dname:14s} {gname:10s} error: {exc}", file=sys.stderr)
                continue
            row["dataset"] = dname
            rows.append(row)
            print(f"{dname:14s} {row['generator']:22s} steps {row['steps']:5d}  fit {row['fit_s']:7.2f} s "
                  f"(CPU {row['cpu_s']:6.2f} s)  "
                  f"shapes {fmt(row['shapes'])}  pairs {fmt(row['pairs'])}  overall {fmt(row['overall'])}",
                  flush=True)
    print()
    print(f"Fit time for a fixed budget ({args.steps} steps for ctgan/tvae, numeric encoding '{args.encoding}'); "
          f"scores 0-100 from synth_core.metrics.report (Column shapes, Pair trends, Overall), seed {args.seed}.")
    print()
    print("| dataset | generator | steps | fit wall (s) | fit CPU (s) | column shapes | column pairs | overall |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['dataset']} | {r['generator']} | {r['steps']} | {r['fit_s']:.2f} | {r['cpu_s']:.2f} | "
              f"{fmt(r['shapes'])} | "
              f"{fmt(r['pairs'])} | {fmt(r['overall'])} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
