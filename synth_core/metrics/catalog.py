"""What a report can say: the metric groups' display names and every metric's definition.

A leaf of the metrics package (it imports only the metric modules' own ``INFO`` tables), so the
report (:mod:`.report`), its stages (:mod:`.stages`) and its renderings (:mod:`.render`) all read
one catalogue without importing each other.
"""
from __future__ import annotations

from . import detection, distance, features, fidelity, prdc as prdc_mod, privacy, table, utility

GROUPS: dict[str, str] = {
    "marginals": "Column shapes",
    "pairs": "Column pair trends",
    "distance": "Distribution distance",
    "fidelity": "Fidelity",
    "diversity": "Diversity",
    "detection": "Detection",
    "utility": "Utility",
    "pixels": "Pixel statistics (not in overall)",
    "privacy": "Privacy (not in overall)",
}

INFO: dict[str, tuple[str, str, str]] = {
    **table.INFO, **fidelity.INFO, **distance.INFO, **prdc_mod.INFO, **detection.INFO,
    **utility.INFO, **privacy.INFO, **features.INFO,
    "mean_image": (
        "Mean image",
        "1 - mean absolute difference between the real and synthetic average images / 2 (pixels in [-1, 1]).",
        "A pixel-space sanity check (not in the overall score)."),
    "class_balance": (
        "Class balance",
        "1 - total variation distance between the real class shares and the synthetic samples' class shares "
        "as labelled by the judge; 1 means every class appears as often as in the real data.",
        "SDMetrics TVComplement applied to judge-predicted classes."),
    "modes_covered": (
        "Modes covered",
        "Share of the mixture's modes that receive at least a quarter of their fair share of the synthetic "
        "samples lying within 3 standard deviations of a mode (toy mixtures with known modes only).",
        "Srivastava et al. 2017 (VEEGAN); Metz et al. 2017 (Unrolled GANs)."),
    "high_quality": (
        "High-quality samples",
        "Share of synthetic samples within 3 standard deviations of their nearest mode, relative to the "
        "same share for real samples (toy mixtures with known modes only).",
        "Srivastava et al. 2017 (VEEGAN); Metz et al. 2017 (Unrolled GANs)."),
}

__all__ = ["GROUPS", "INFO"]
