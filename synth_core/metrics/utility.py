"""Machine-learning utility: Train on Synthetic, Test on Real (TSTR) vs Train on Real, Test on Real (TRTR).

References: Esteban, Hyland & Rätsch 2017, "Real-valued (Medical) Time Series Generation with
Recurrent Conditional GANs" (TSTR); SDMetrics ML efficacy; Jordon et al. 2022, "Synthetic Data -
what, why and how?".

Synthetic labels come from the generator when it is conditional (the label it was asked for);
otherwise each synthetic sample is labelled by a classifier trained on real data - the image judge
for images, the TRTR model itself for points/tabular. The report says which was used.
"""
from __future__ import annotations

from typing import Any

import numpy as np

INFO = {
    "tstr": (
        "Utility (TSTR / TRTR)",
        "Accuracy on held-out real data of a classifier trained on synthetic data (TSTR), relative to the "
        "same classifier trained on real data (TRTR); score = (TSTR - majority) / (TRTR - majority), clipped to [0, 1].",
        "Esteban et al. 2017 (TSTR); SDMetrics ML efficacy."),
}


def make_classifier(model: str, seed: int = 0) -> Any:
    """``hgb``: HistGradientBoosting (non-linear, the tabular default); ``logreg``: standardised
    logistic regression (used on PCA features of images, where it is fast and strong)."""
    if model == "hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(max_iter=60, max_leaf_nodes=15, learning_rate=0.15,
                                              early_stopping=False, random_state=seed)
    if model == "logreg":
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=300, C=0.5))
    raise ValueError("model must be 'hgb' or 'logreg'")


class _Constant:
    """What a classifier trained on one-class data can do: always answer that class."""

    def __init__(self, label: int) -> None:
        self.label = int(label)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.full(len(x), self.label, dtype=np.int64)


def fit(x: np.ndarray, y: np.ndarray, model: str, seed: int = 0) -> Any:
    y = np.asarray(y, dtype=np.int64)
    if len(np.unique(y)) < 2:  # a collapsed generator (all one class) still gets a fair score
        return _Constant(y[0] if len(y) else 0)
    return make_classifier(model, seed).fit(x, y)


def tstr(x_syn: np.ndarray, y_syn: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, *,
         trtr_accuracy: float, model: str = "hgb", seed: int = 0) -> dict[str, float]:
    """Train on synthetic, test on real; score relative to the TRTR accuracy and the majority baseline."""
    clf = fit(x_syn, y_syn, model, seed)
    acc = float((clf.predict(x_test) == y_test).mean())
    majority = float(np.bincount(y_test).max() / len(y_test))
    span = trtr_accuracy - majority
    score = (acc - majority) / span if span > 1e-9 else float(acc >= trtr_accuracy)
    return {"tstr_accuracy": acc, "trtr_accuracy": float(trtr_accuracy), "majority_accuracy": majority,
            "score": float(min(1.0, max(0.0, score)))}


def pca_features(train_pixels: np.ndarray, n_components: int = 50, seed: int = 0):
    """A PCA fitted on real training pixels: the input space of the image TSTR classifier (raw
    pixels, not judge features, so the judge's own training does not make TSTR look easy)."""
    from sklearn.decomposition import PCA

    x = np.asarray(train_pixels, dtype=np.float64).reshape(len(train_pixels), -1)
    return PCA(n_components=min(n_components, x.shape[1], len(x)), random_state=seed,
               svd_solver="randomized").fit(x)
