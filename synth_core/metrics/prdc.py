"""Precision, recall, density and coverage with k-nearest-neighbour manifolds.

References: Kynkäänniemi et al. 2019, "Improved Precision and Recall Metric for Assessing Generative
Models"; Naeem et al. 2020, "Reliable Fidelity and Diversity Metrics for Generative Models"
(density and coverage; the reference implementation is clovaai/generative-evaluation-prdc).
"""
from __future__ import annotations

import numpy as np

from ._common import CHUNK, distance_chunks, knn_distances

INFO = {
    "precision": (
        "Precision",
        "Share of synthetic samples that fall inside the real data manifold (strictly within the k-NN radius of "
        "some real sample): fidelity, 1 is ideal.",
        "Kynkäänniemi et al. 2019, Improved Precision and Recall Metric for Assessing Generative Models."),
    "recall": (
        "Recall",
        "Share of real samples that fall inside the synthetic manifold (within the k-NN radius of some "
        "synthetic sample): diversity, 1 is ideal.",
        "Kynkäänniemi et al. 2019, Improved Precision and Recall Metric for Assessing Generative Models."),
    "density": (
        "Density",
        "How many real k-NN balls contain each synthetic sample, divided by k (about 1 for real vs real; "
        "above 1 means samples crowd dense regions); score = min(density, 1).",
        "Naeem et al. 2020, Reliable Fidelity and Diversity Metrics for Generative Models."),
    "coverage": (
        "Coverage",
        "Share of real samples whose k-NN ball contains at least one synthetic sample: diversity that is "
        "robust to outliers, 1 is ideal.",
        "Naeem et al. 2020, Reliable Fidelity and Diversity Metrics for Generative Models."),
}


def prdc(real: np.ndarray, synth: np.ndarray, k: int = 5, chunk: int = CHUNK,
         real_radii: np.ndarray | None = None) -> dict[str, float]:
    """Precision / recall / density / coverage of ``synth`` against ``real`` (N x D and M x D).

    One chunked pass over the M x N synthetic-to-real distance matrix accumulates all four, so
    memory stays at ``chunk`` x N floats. A sample's own distance is excluded from its k-NN radius,
    as in the reference implementation.
    """
    real = np.asarray(real, dtype=np.float64)
    synth = np.asarray(synth, dtype=np.float64)
    if real_radii is None:
        real_radii = knn_distances(real, k, chunk)[:, -1]
    synth_radii = knn_distances(synth, k, chunk)[:, -1]
    n, m = len(real), len(synth)
    in_real_ball = 0                       # synthetic samples inside >= 1 real ball (precision)
    ball_count = 0                         # sum over synthetic of #real balls containing it (density)
    real_covered = np.zeros(n, dtype=bool)  # real sample's ball holds a synthetic one (coverage)
    real_recalled = np.zeros(n, dtype=bool)  # real sample lies in a synthetic ball (recall)
    for s, d in distance_chunks(synth, real, chunk):   # d: rows synthetic, columns real
        inside = d < real_radii[None, :]
        in_real_ball += int(inside.any(1).sum())
        ball_count += int(inside.sum())
        real_covered |= inside.any(0)
        real_recalled |= (d < synth_radii[s:s + len(d), None]).any(0)
    return {
        "precision": in_real_ball / max(m, 1),
        "recall": float(real_recalled.mean()) if n else 0.0,
        "density": ball_count / max(k * m, 1),
        "coverage": float(real_covered.mean()) if n else 0.0,
    }
