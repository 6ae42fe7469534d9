"""Mode coverage on mixture toy sets (8-Gaussian ring, 25-Gaussian grid).

The standard measure from Srivastava et al. 2017 (VEEGAN) and Metz et al. 2017 (Unrolled GANs):
a sample is *high quality* when it lies within 3 standard deviations of its nearest mode. Our
rule for *covered* is stricter than "at least one sample": a mode counts as covered when it
holds at least a quarter of its fair share of the high-quality samples (0.25 * n_hq / K), so a
generator that puts 2 samples near a mode does not get credit for it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data.base import KnownModes


@dataclass
class ModeCoverage:
    modes_covered: int
    n_modes: int
    high_quality: float          # share of samples within 3 sigma of a mode
    per_mode: list[int]          # high-quality samples per mode
    kl_to_uniform: float         # KL(mode histogram of HQ samples || uniform), 0 is ideal


def mode_coverage(samples: np.ndarray, modes: np.ndarray, std: float, n_sigma: float = 3.0,
                  min_share: float = 0.25) -> ModeCoverage:
    samples = np.asarray(samples, dtype=np.float64).reshape(len(samples), -1)[:, :2]
    modes = np.asarray(modes, dtype=np.float64)
    finite = np.isfinite(samples).all(1)
    d = np.linalg.norm(samples[finite, None, :] - modes[None, :, :], axis=2)
    nearest = d.argmin(1)
    hq = d[np.arange(len(d)), nearest] <= n_sigma * std
    k = len(modes)
    counts = np.bincount(nearest[hq], minlength=k)
    n_hq = int(hq.sum())
    covered = int((counts >= max(1.0, min_share * n_hq / k)).sum()) if n_hq else 0
    p = counts / max(n_hq, 1)
    kl = float(np.sum(p[p > 0] * np.log(p[p > 0] * k))) if n_hq else float("inf")
    return ModeCoverage(covered, k, float(hq.sum() / max(len(samples), 1)), counts.tolist(), kl)


#: share of samples that must sit near some mode before "fewer modes covered" reads as mode collapse (an
#: untrained generator whose samples are still spread everywhere covers few modes too, but has not collapsed)
COLLAPSE_MIN_HIGH_QUALITY = 0.1


#: steps before which few covered modes is the starting point, not a collapse (a fresh generator's samples
#: all sit near the origin: on the 25-Gaussian grid that is "1 of 25 modes", 100% near a mode, at step 5)
COLLAPSE_MIN_STEP = 200


def coverage_note(samples: np.ndarray, modes: KnownModes | None, step: int | None = None) -> tuple[str, bool] | None:
    """For data with known modes (``Dataset.modes``: the toy mixtures), a line for
    the live view and whether it is mode collapse: "mode collapse: 3 of 8 modes covered (...)". None for
    data without known modes. ``step``: the training step of ``samples`` (no collapse is called before
    ``COLLAPSE_MIN_STEP``)."""
    if modes is None or samples is None or len(samples) == 0:
        return None
    mc = mode_coverage(samples, modes.centres, modes.std)
    near = f"{mc.high_quality:.0%} of samples within 3 std of a mode"
    early = step is not None and step < COLLAPSE_MIN_STEP
    if mc.modes_covered < mc.n_modes and mc.high_quality >= COLLAPSE_MIN_HIGH_QUALITY and not early:
        return f"mode collapse: {mc.modes_covered} of {mc.n_modes} modes covered ({near})", True
    return f"{mc.modes_covered} of {mc.n_modes} modes covered ({near})", False
