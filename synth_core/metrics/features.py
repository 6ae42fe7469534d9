"""The feature space every multivariate metric works in, and the judge-based class metrics.

* points / tabular: the raw features standardised with the *real* mean and std (so a feature in
  metres does not outweigh one in kilometres, and the synthetic data cannot move the yardstick);
* images: the 64-d embedding of the CNN judge (``judge.py``): trained on the real labels, or an
  autoencoder when there are none. Inception features are not available offline.

Judge-based metrics follow the "classifier score" family: Salimans et al. 2016 (Inception Score:
confident predictions and a diverse class histogram) made per-dataset, as in Santurkar et al. 2018,
"A Classification-Based Study of Covariate Shift in GAN Distributions".
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._common import as_2d, standardizer
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

    name: str               # "standardised" | "judge" | "autoencoder"
    description: str        # one line for the report: which features, why
    real: np.ndarray
    synth: np.ndarray
    feature_names: list[str]


def tabular_space(real: np.ndarray, synth: np.ndarray, feature_names: list[str] | None = None) -> FeatureSpace:
    """Standardise both sets with the real mean and std."""
    r, s = as_2d(real), as_2d(synth)
    mu, sd = standardizer(r)
    names = list(feature_names) if feature_names else [f"x{i}" for i in range(r.shape[1])]
    return FeatureSpace("standardised", f"the {r.shape[1]} raw features, standardised with the real mean and std",
                        (r - mu) / sd, (s - mu) / sd, names)


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
