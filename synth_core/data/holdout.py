"""The holdout: real rows a run's generator never sees, kept back to score it honestly.

A run splits its dataset once, with a seeded permutation, into *train* rows (the generator's data)
and *holdout* rows. The fraction and the seed are stored in the run's ``config.json``, so the same
split is rebuilt whenever the run is loaded. The report tests TSTR on the holdout and uses the
holdout's distances to the training rows as the privacy baseline (a fresh real record's distance
is what "not a copy" looks like).

One declared default (:data:`HOLDOUT`): 20% for tables and images with at least
:data:`HOLDOUT_MIN_ROWS` rows; none for smaller sets (every row is needed to learn from) and for the
2-D toy point sets (their "real data" is a formula, not records anyone could leak).
"""
from __future__ import annotations

import numpy as np

from ..errors import ConfigError
from ..params import Param
from .base import Dataset

#: the one declared default: the Train page's widget and the CLI's --holdout flag derive from it
HOLDOUT = Param("holdout", "float", 0.2, low=0.0, high=0.5, advanced=True, label="Holdout fraction",
                help="Share of the real rows kept out of training to score the model on (TSTR is tested on "
                     "them; privacy compares against them). 0 = train on everything (scores then use "
                     "training data). Default 20% for tables and images with at least 500 rows.")
#: below this many rows the default is no holdout
HOLDOUT_MIN_ROWS = 500
#: the split's seed (the same split for every run on a dataset, so their scores compare)
HOLDOUT_SEED = 0
#: fewest rows on either side of a split someone asks for
MIN_SIDE = 10
KINDS_WITH_HOLDOUT = ("tabular", "image")


def default_holdout(kind: str, n_rows: int) -> float:
    """The default fraction for a dataset of this kind and size (see the module docstring)."""
    return float(HOLDOUT.default) if kind in KINDS_WITH_HOLDOUT and n_rows >= HOLDOUT_MIN_ROWS else 0.0


def holdout_param(kind: str, n_rows: int) -> Param:
    """:data:`HOLDOUT` with its default for this dataset (what a widget or flag shows)."""
    from dataclasses import replace

    return replace(HOLDOUT, default=default_holdout(kind, n_rows))


def check_fraction(fraction: float, n_rows: int) -> float:
    """Validate a holdout fraction for ``n_rows`` rows (both sides need at least :data:`MIN_SIDE`)."""
    fraction = float(HOLDOUT.validate(fraction))
    n_hold = holdout_size(n_rows, fraction)
    if n_hold and (n_hold < MIN_SIDE or n_rows - n_hold < MIN_SIDE):
        raise ConfigError(f"a holdout of {fraction:.0%} of {n_rows:,} rows leaves {n_hold} holdout and "
                          f"{n_rows - n_hold} training rows; each side needs at least {MIN_SIDE}. Use a "
                          f"larger fraction or 0 (no holdout).")
    return fraction


def holdout_size(n_rows: int, fraction: float) -> int:
    return int(round(float(fraction) * n_rows))


def split_indices(n_rows: int, fraction: float, seed: int = HOLDOUT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, holdout indices), each sorted; a seeded permutation (no holdout at 0)."""
    n_hold = holdout_size(n_rows, fraction)
    if n_hold <= 0:
        return np.arange(n_rows), np.arange(0)
    perm = np.random.default_rng(seed).permutation(n_rows)
    return np.sort(perm[n_hold:]), np.sort(perm[:n_hold])


def split_dataset(ds: Dataset, fraction: float | None, seed: int = HOLDOUT_SEED) -> tuple[Dataset, Dataset | None]:
    """(train rows, holdout rows or None). ``fraction`` 0 or None: the whole dataset, no holdout."""
    if not fraction:
        return ds, None
    tr, ho = split_indices(len(ds), fraction, seed)
    return ds.take(tr), ds.take(ho)


__all__ = ["HOLDOUT", "HOLDOUT_MIN_ROWS", "HOLDOUT_SEED", "check_fraction", "default_holdout", "holdout_param",
           "holdout_size", "split_dataset", "split_indices"]
