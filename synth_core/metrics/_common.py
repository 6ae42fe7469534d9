"""Shared pieces for the metric modules: the ``Score`` record, progress callbacks and chunked
nearest-neighbour distances (the one expensive primitive that PRDC, privacy and the report share)."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterator

import numpy as np

#: ``progress(stage, fraction)``: a human-readable stage name and overall completion in [0, 1].
Progress = Callable[[str, float], None]

#: rows of the distance matrix computed at once: 2048 x 5000 float64 is 80 MB at most.
CHUNK = 2048


@dataclass
class Score:
    """One metric result. ``value`` is the raw number in its own units; ``score`` maps it to
    [0, 1] (1 = indistinguishable from real data) or is ``None`` where no such mapping applies."""

    key: str
    name: str
    group: str
    value: float
    score: float | None
    definition: str
    reference: str
    higher_is_better: bool = True
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["value"] = _json_float(self.value)
        d["score"] = None if self.score is None else _json_float(self.score)
        d["details"] = to_jsonable(self.details)
        return d


def _json_float(v: float) -> float | None:
    v = float(v)
    return v if math.isfinite(v) else None


def to_jsonable(obj: Any) -> Any:
    """numpy scalars/arrays and non-finite floats -> plain JSON types (NaN/inf become None)."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return _json_float(obj)
    return obj


def one_thread():
    """Context: OpenMP and BLAS limited to one thread for the small scikit-learn fits.

    Why: HistGradientBoosting's OpenMP threads spin-wait; on a shared or oversubscribed CPU (a
    Streamlit server next to a training run) that turned a 0.5 s C2ST into minutes in our
    benchmark. These fits are small, so one thread costs at most ~2x on an idle machine.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def clip01(v: float) -> float:
    return float(min(1.0, max(0.0, v))) if math.isfinite(v) else 0.0


def as_2d(x: np.ndarray) -> np.ndarray:
    """N x ... -> N x D float64 (images are flattened)."""
    x = np.asarray(x, dtype=np.float64)
    return x.reshape(len(x), -1)


def subsample(n: int, m: int | None, rng: np.random.Generator) -> np.ndarray:
    """Indices of at most ``m`` of ``n`` rows (all of them, in order, when ``m`` is None or >= n)."""
    if m is None or n <= m:
        return np.arange(n)
    return np.sort(rng.choice(n, size=m, replace=False))


def distance_chunks(a: np.ndarray, b: np.ndarray, chunk: int = CHUNK) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(start, D)`` with ``D[i, j] = ||a[start + i] - b[j]||`` (Euclidean), chunk by chunk.

    Uses ||a||^2 + ||b||^2 - 2 a.b (one matrix product per chunk) in the inputs' dtype; rounding
    can make a true 0 come out as ~1e-7, which is far below any distance the metrics compare.
    """
    b_sq = np.einsum("ij,ij->i", b, b)
    for s in range(0, len(a), chunk):
        a_c = a[s:s + chunk]
        d2 = np.einsum("ij,ij->i", a_c, a_c)[:, None] + b_sq[None, :] - 2.0 * (a_c @ b.T)
        np.maximum(d2, 0.0, out=d2)
        yield s, np.sqrt(d2, out=d2)


def knn_distances(x: np.ndarray, k: int, chunk: int = CHUNK) -> np.ndarray:
    """N x k: distances from each row of ``x`` to its 1st..k-th nearest *other* row (sorted)."""
    n = len(x)
    if n < 2:
        return np.full((n, k), np.inf)
    k_eff = min(k, n - 1)
    out = np.empty((n, k))
    out[:, k_eff:] = np.inf
    for s, d in distance_chunks(x, x, chunk):
        rows = np.arange(len(d))
        d[rows, s + rows] = np.inf  # a point is not its own neighbour
        part = np.partition(d, k_eff - 1, axis=1)[:, :k_eff]
        out[s:s + len(d), :k_eff] = np.sort(part, axis=1)
    return out


def nearest(a: np.ndarray, b: np.ndarray, chunk: int = CHUNK) -> tuple[np.ndarray, np.ndarray]:
    """For each row of ``a``: the distance to, and the index of, its nearest row of ``b``."""
    dist = np.empty(len(a))
    idx = np.empty(len(a), dtype=np.int64)
    for s, d in distance_chunks(a, b, chunk):
        j = d.argmin(1)
        idx[s:s + len(d)] = j
        # recompute the winner's distance directly in float64: the matrix-product shortcut can
        # leave ~1e-3 on an exact copy of a 784-pixel float32 image, and "exact copy" must mean 0
        diff = a[s:s + len(d)].astype(np.float64) - b[j].astype(np.float64)
        dist[s:s + len(d)] = np.sqrt(np.einsum("ij,ij->i", diff, diff))
    return dist, idx


def standardizer(ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of ``ref`` per column; constant columns get std 1 so they stay finite."""
    mu = ref.mean(0)
    sd = ref.std(0)
    sd[~(sd > 1e-12)] = 1.0
    return mu, sd
