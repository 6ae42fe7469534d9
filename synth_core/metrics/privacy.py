"""Privacy: does the generator copy its training records?

References: Park et al. 2018, "Data Synthesis based on Generative Adversarial Networks" (distance
to closest record, DCR); Zhao et al. 2021, "CTAB-GAN" (DCR compared with a real baseline); Yale
et al. 2020 / synthcity "DCR" privacy metrics.

The question "is this synthetic sample suspiciously close to a training record?" needs a baseline
for how close an *independent* real sample gets. A run's holdout (real rows the generator never saw,
``data/holdout.py``) gives it: holdout -> training distances. A run without one (made before
holdouts, or on a small dataset) falls back to leave-one-out: each training record's distance to
its nearest *other* training record, which only approximates it; the report says which was used.
"""
from __future__ import annotations

import numpy as np

from ._common import distance_chunks, nearest

INFO = {
    "near_copies": (
        "Near-copies (memorisation)",
        "Share of synthetic samples closer to a training record than 95% of real samples are to their "
        "nearest training record (about 5% for an honest generator); score = 1 - excess share / 0.95.",
        "DCR baseline test, Zhao et al. 2021 (CTAB-GAN); Park et al. 2018."),
    "dcr_ratio": (
        "Distance to closest record",
        "Median distance from a synthetic sample to its closest training record, divided by the same "
        "median for real samples (about 1 is ideal, near 0 means copying); score = min(ratio, 1).",
        "Park et al. 2018, Data Synthesis based on GANs (DCR)."),
}


def dcr(train: np.ndarray, synth: np.ndarray, *, holdout: np.ndarray | None = None, quantile: float = 0.05,
        max_baseline: int = 2000, seed: int = 0) -> dict:
    """Distances to closest training record, and the near-copy test against a real baseline.

    Returns a dict with ``synth_dcr`` / ``synth_nn`` (per synthetic sample: distance and index of
    the closest training record), ``baseline_dcr``, ``threshold`` (the ``quantile`` of the baseline),
    ``near_copy_share``, ``expected_share``, ``exact_copy_share``, ``dcr_ratio`` and ``baseline``
    ("holdout" or "leave-one-out").
    """
    train = np.asarray(train)
    synth = np.asarray(synth)
    syn_d, syn_i = nearest(synth, train)
    rng = np.random.default_rng(seed)
    if holdout is not None and len(holdout):
        hold = np.asarray(holdout, dtype=train.dtype)
        hold = hold[rng.choice(len(hold), min(len(hold), max_baseline), replace=False)]
        base = nearest(hold, train)[0]
        kind = "holdout"
    else:
        # leave-one-out: a random subset of training records queried against all the others
        q = rng.choice(len(train), min(len(train), max_baseline), replace=False)
        base = _loo_nearest(train, q)
        kind = "leave-one-out"
    threshold = float(np.quantile(base, quantile))
    # "near" = strictly below the baseline quantile, so an all-duplicates baseline (threshold 0)
    # does not flag everything; exact copies are reported on their own.
    near = float((syn_d < threshold).mean()) if len(syn_d) else 0.0
    scale = float(np.median(base)) if len(base) else 1.0
    exact = float((syn_d <= 1e-6 * max(scale, 1e-12)).mean()) if len(syn_d) else 0.0
    ratio = float(np.median(syn_d) / scale) if scale > 0 and len(syn_d) else float("nan")
    return {"synth_dcr": syn_d, "synth_nn": syn_i, "baseline_dcr": base, "threshold": threshold,
            "near_copy_share": near, "expected_share": quantile, "exact_copy_share": exact,
            "dcr_ratio": ratio, "baseline": kind}


def _loo_nearest(train: np.ndarray, query_idx: np.ndarray) -> np.ndarray:
    """Distance from train[query_idx] to the nearest training record other than itself."""
    out = np.empty(len(query_idx))
    for s, d in distance_chunks(train[query_idx], train):
        rows = np.arange(len(d))
        d[rows, query_idx[s:s + len(d)]] = np.inf
        out[s:s + len(d)] = d.min(1)
    return out


def near_copy_score(near_share: float, expected: float) -> float:
    """1 at (or below) the expected share of an honest generator, 0 when every sample is a near-copy."""
    return float(min(1.0, max(0.0, 1.0 - (near_share - expected) / (1.0 - expected))))


__all__ = ["INFO", "dcr", "near_copy_score"]
