"""The feature space every multivariate metric works in, and the judge-based class metrics.

* tables and points: the decoded columns in :class:`MixedEncoder`'s encoding - numbers and dates
  standardised with the *real* mean and std (so a column in metres does not outweigh one in
  kilometres, and the synthetic data cannot move the yardstick), categories and booleans one-hot,
  the label included (points: their coordinates, standardised);
* images: the 64-d embedding of the CNN judge (``judge.py``): trained on the real labels, or an
  autoencoder when there are none. Inception features are not available offline.

Judge-based metrics follow the "classifier score" family: Salimans et al. 2016 (Inception Score:
confident predictions and a diverse class histogram) made per-dataset, as in Santurkar et al. 2018,
"A Classification-Based Study of Covariate Shift in GAN Distributions".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .judge import Judge

INFO = {
    "confidence": (
        "Judge confidence",
        "Share of synthetic samples the real-trained judge classifies with probability >= 0.9, relative "
        "to the same share for real samples; score = min(synthetic / real, 1).",
        "Classifier-based quality, after Salimans et al. 2016 (Inception Score)."),
    "class_coverage": (
        "Class coverage (judge entropy)",
        "Entropy of the judge's predicted-class histogram of the synthetic samples divided by log K "
        "(1 = all K classes equally often); score = min(synthetic / real, 1). Low values mean dropped modes.",
        "Santurkar et al. 2018, A Classification-Based Study of Covariate Shift in GAN Distributions."),
}


@dataclass
class FeatureSpace:
    """Real and synthetic samples mapped into one feature space (float64, N x d)."""

    name: str               # "mixed" | "standardised" | "judge" | "autoencoder"
    description: str        # one line for the report: which features, why
    real: np.ndarray
    synth: np.ndarray
    feature_names: list[str]


class MixedEncoder:
    """The documented mixed-type encoding of a decoded table, for the multivariate metrics (PRDC,
    Fréchet/MMD, C2ST, DCR, TSTR):

    * numeric and datetime columns: standardised with the *real* mean and std (missing -> the real
      mean, i.e. 0) plus a 0/1 ``<col>.missing`` column when the real data has missing values;
    * categorical and boolean columns: one-hot over the real levels, missing as one more level; a
      synthetic level the real data lacks is all zeros.

    Every column the user has counts, the label included. On this scale two rows that differ in one
    category are sqrt(2) apart, like two numbers 1.4 standard deviations apart.
    """

    def __init__(self, kinds: dict[Any, str]) -> None:
        self.kinds = dict(kinds)

    def fit(self, real: "pd.DataFrame") -> "MixedEncoder":
        from .table import NUMERIC_KINDS, as_categories, as_numbers

        self.blocks_: list[tuple[Any, str, Any]] = []
        names: list[str] = []
        for c in real.columns:
            if self.kinds.get(c, "numerical") in NUMERIC_KINDS:
                v = as_numbers(real[c])
                ok = np.isfinite(v)
                mu = float(v[ok].mean()) if ok.any() else 0.0
                sd = float(v[ok].std()) if ok.any() else 1.0
                has_missing = bool((~ok).any())
                self.blocks_.append((c, "numeric", (mu, sd if sd > 1e-12 else 1.0, has_missing)))
                names += [str(c)] + ([f"{c}.missing"] if has_missing else [])
            else:
                levels = list(pd.unique(as_categories(real[c])))
                self.blocks_.append((c, "onehot", levels))
                names += [f"{c}={'(missing)' if str(v).startswith(chr(0)) else v}" for v in levels]
        self.feature_names_ = names
        return self

    def transform(self, df: "pd.DataFrame") -> np.ndarray:
        from .table import as_categories, as_numbers

        out = []
        for c, how, spec in self.blocks_:
            if how == "numeric":
                mu, sd, has_missing = spec
                v = as_numbers(df[c])
                miss = ~np.isfinite(v)
                out.append(((np.where(miss, mu, v) - mu) / sd)[:, None])
                if has_missing:
                    out.append(miss.astype(np.float64)[:, None])
            else:
                idx = pd.Index(spec, dtype=object).get_indexer(pd.Index(as_categories(df[c]), dtype=object))
                block = np.zeros((len(df), len(spec)))
                ok = idx >= 0
                block[np.flatnonzero(ok), idx[ok]] = 1.0
                out.append(block)
        return np.concatenate(out, axis=1) if out else np.zeros((len(df), 0))


def mixed_space(real: "pd.DataFrame", synth: "pd.DataFrame", kinds: dict[Any, str], *,
                fit_on: "pd.DataFrame | None" = None) -> tuple[FeatureSpace, MixedEncoder]:
    """Both decoded tables in the :class:`MixedEncoder` encoding, fitted on ``fit_on`` (default: the
    real table; the report passes every training row)."""
    enc = MixedEncoder(kinds).fit(real if fit_on is None else fit_on)
    n_num = sum(how == "numeric" for _, how, _ in enc.blocks_)
    desc = (f"the {len(real.columns)} table columns: {n_num} numeric/date standardised with the real mean and std, "
            f"{len(real.columns) - n_num} categorical/boolean one-hot ({len(enc.feature_names_)} features)")
    return FeatureSpace("mixed", desc, enc.transform(real), enc.transform(synth), enc.feature_names_), enc


def judge_space(real: np.ndarray, synth: np.ndarray, judge: Judge) -> FeatureSpace:
    """Embed images with the judge."""
    return FeatureSpace(judge.kind if judge.kind == "autoencoder" else "judge", judge.describe(),
                        judge.embed(real), judge.embed(synth), [f"judge feature {i}" for i in range(64)])


def confidence_share(proba: np.ndarray, threshold: float = 0.9) -> float:
    """Share of rows whose top class probability is at least ``threshold``."""
    return float((proba.max(1) >= threshold).mean()) if len(proba) else 0.0


def class_entropy(proba: np.ndarray, n_classes: int) -> tuple[float, np.ndarray]:
    """(entropy of the argmax histogram / log K, the histogram of counts)."""
    counts = np.bincount(proba.argmax(1), minlength=n_classes) if len(proba) else np.zeros(n_classes, int)
    p = counts / max(counts.sum(), 1)
    nz = p[p > 0]
    h = float(-(nz * np.log(nz)).sum() / np.log(n_classes)) if n_classes > 1 else 1.0
    return h, counts


def judge_metrics(proba_real: np.ndarray, proba_synth: np.ndarray) -> dict:
    """Confidence share and class-coverage entropy for synthetic samples, each relative to real."""
    k = proba_real.shape[1]
    conf_r, conf_s = confidence_share(proba_real), confidence_share(proba_synth)
    h_r, counts_r = class_entropy(proba_real, k)
    h_s, counts_s = class_entropy(proba_synth, k)
    return {
        "confidence_real": conf_r, "confidence_synth": conf_s,
        "confidence_score": min(1.0, conf_s / conf_r) if conf_r > 0 else float(conf_s > 0),
        "entropy_real": h_r, "entropy_synth": h_s,
        "entropy_score": min(1.0, h_s / h_r) if h_r > 0 else 1.0,
        "counts_real": counts_r, "counts_synth": counts_s,
    }
