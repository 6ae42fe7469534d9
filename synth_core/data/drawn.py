"""Draw your own 2-D distribution: Gaussian blobs and hand-picked points -> a points ``Dataset``.

A drawing is a list of components ``(x, y, spread, weight)``: the rows of a blob table, plus one
small blob per point a user selected on a grid. ``make_drawn_dataset`` samples ``n`` points from
that mixture with a seed; ``save_drawing`` keeps the samples as ``.npy`` under
``$SYNTHLAB_DATA_DIR/drawn/`` (default ``./data/drawn``) and registers the dataset as
``drawn-<hash8>`` (a hash of the components, ``n`` and the seed: the same drawing is one dataset).
``register_saved_drawings`` registers every saved drawing again after a restart.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from ..errors import ConfigError, DataError
from .base import DRAWN_PREFIX, Dataset, dataset_info, list_datasets, register_loader, register_resolver

PREFIX = DRAWN_PREFIX
NAME_RE = re.compile(r"^drawn-[0-9a-f]{8}$")
MAX_COMPONENTS = 500
MIN_SAMPLES, MAX_SAMPLES = 100, 100_000
MAX_COORD = 1_000.0
POINT_SPREAD = 0.05   # a clicked/selected point becomes a blob this wide
CANVAS = (-3.0, 3.0, -3.0, 3.0)  # the candidate grid users select points on


@dataclass(frozen=True)
class Blob:
    """One mixture component: an isotropic Gaussian at (x, y) with std ``spread`` and a relative weight."""

    x: float
    y: float
    spread: float
    weight: float = 1.0


def drawn_root() -> Path:
    """``$SYNTHLAB_DATA_DIR/drawn``, else ``./data/drawn``."""
    base = os.environ.get("SYNTHLAB_DATA_DIR")
    return (Path(base) if base else Path("data")).resolve() / "drawn"


def candidate_grid(n: int = 31, bounds: tuple[float, float, float, float] = CANVAS) -> np.ndarray:
    """An ``n`` x ``n`` grid of candidate points (n² x 2) a user lasso/box-selects to place mass."""
    xs, ys = np.linspace(bounds[0], bounds[1], n), np.linspace(bounds[2], bounds[3], n)
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], 1)


def _num(v: Any, what: str) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise ConfigError(f"{what} must be a number; got {v!r}") from None
    if not np.isfinite(f):
        raise ConfigError(f"{what} must be a finite number; got {v!r}")
    return f


def parse_blobs(rows: Iterable[Mapping[str, Any]]) -> list[Blob]:
    """Rows of an edited table (``x``, ``y``, ``spread``, ``weight``) -> validated blobs.

    Rows left entirely empty (a new table row not filled in yet) are skipped."""
    out = []
    for i, row in enumerate(rows, 1):
        vals = [row.get(k) for k in ("x", "y", "spread", "weight")]
        if all(v is None or (isinstance(v, float) and np.isnan(v)) for v in vals):
            continue
        x, y = _num(row.get("x"), f"blob {i}: x"), _num(row.get("y"), f"blob {i}: y")
        spread = _num(row.get("spread"), f"blob {i}: spread")
        w = row.get("weight")
        weight = 1.0 if w is None or (isinstance(w, float) and np.isnan(w)) else _num(w, f"blob {i}: weight")
        if abs(x) > MAX_COORD or abs(y) > MAX_COORD:
            raise ConfigError(f"blob {i}: x and y must lie within ±{MAX_COORD:g}")
        if not 0 < spread <= MAX_COORD:
            raise ConfigError(f"blob {i}: spread must be positive (a standard deviation); got {spread:g}")
        if weight < 0:
            raise ConfigError(f"blob {i}: weight must be zero or positive; got {weight:g}")
        out.append(Blob(x, y, spread, weight))
    return out


def components(blobs: Sequence[Blob], points: np.ndarray | Sequence[Sequence[float]] | None = None,
               point_spread: float = POINT_SPREAD) -> list[Blob]:
    """Blobs plus one small blob (weight 1) per selected point, validated as a whole."""
    comps = list(blobs)
    if points is not None and len(points):
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        if not np.isfinite(pts).all() or np.abs(pts).max() > MAX_COORD:
            raise ConfigError(f"selected points must be finite and within ±{MAX_COORD:g}")
        comps += [Blob(float(px), float(py), float(point_spread), 1.0) for px, py in pts]
    if not comps:
        raise ConfigError("The drawing is empty: add at least one blob to the table or select some points.")
    if len(comps) > MAX_COMPONENTS:
        raise ConfigError(f"At most {MAX_COMPONENTS} blobs and points; got {len(comps)}. Select a smaller region.")
    if sum(c.weight for c in comps) <= 0:
        raise ConfigError("All weights are zero: give at least one blob a positive weight.")
    return comps


def sample_components(comps: Sequence[Blob], n: int, seed: int = 0) -> np.ndarray:
    """``n`` float32 points from the mixture: a component by weight, then a Gaussian around it."""
    if not isinstance(n, (int, np.integer)) or not MIN_SAMPLES <= n <= MAX_SAMPLES:
        raise ConfigError(f"samples must be a whole number between {MIN_SAMPLES:,} and {MAX_SAMPLES:,}; got {n!r}")
    comps = components(comps)
    rng = np.random.default_rng(seed)
    w = np.array([c.weight for c in comps], dtype=np.float64)
    idx = rng.choice(len(comps), size=int(n), p=w / w.sum())
    centres = np.array([[c.x, c.y] for c in comps])[idx]
    spread = np.array([c.spread for c in comps])[idx, None]
    return (centres + spread * rng.standard_normal((int(n), 2))).astype(np.float32)


def drawing_name(comps: Sequence[Blob], n: int, seed: int) -> str:
    """``drawn-<hash8>``: a hash of the components (rounded to 1e-6), the sample count and the seed."""
    payload = {"components": [[round(c.x, 6), round(c.y, 6), round(c.spread, 6), round(c.weight, 6)] for c in comps],
               "n": int(n), "seed": int(seed)}
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    return PREFIX + digest[:8]


def _dataset(name: str, x: np.ndarray, n_components: int | None = None) -> Dataset:
    desc = "A 2-D distribution drawn by hand" + (f" ({n_components} blobs/points)" if n_components else "")
    return Dataset(name=name, kind="points", x=x, description=desc + ".", source="drawn on the Train page",
                   feature_names=["x", "y"])


def make_drawn_dataset(comps: Sequence[Blob], n: int = 5000, seed: int = 0) -> Dataset:
    """A points ``Dataset`` of ``n`` samples from a drawing, named ``drawn-<hash8>`` (not registered yet)."""
    comps = components(comps)
    x = sample_components(comps, n, seed)
    return _dataset(drawing_name(comps, n, seed), x, len(comps))


def _is_registered(name: str) -> bool:
    return any(d.name == name for d in list_datasets())


def _load_saved(path: Path, name: str) -> Dataset:
    """Read a saved drawing back, checking it is what we wrote (N x 2 finite float32)."""
    try:
        x = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DataError(f"The saved drawing {name} could not be read ({exc}); draw it again.") from None
    if x.ndim != 2 or x.shape[1] != 2 or not MIN_SAMPLES <= len(x) <= MAX_SAMPLES or not np.isfinite(x).all():
        raise DataError(f"The saved drawing {name} is damaged (shape {x.shape}); draw it again.")
    return _dataset(name, x.astype(np.float32))


def _register(name: str, path: Path) -> None:
    if _is_registered(name):
        info = dataset_info(name)
        if info.kind != "points":
            raise ConfigError(f"A dataset named {name} of kind {info.kind} already exists.")
        return
    register_loader(name, lambda: _load_saved(path, name), kind="points", label=f"Drawn ({name[len(PREFIX):]})",
                    description="A 2-D distribution drawn by hand on the Train page.")


def save_drawing(ds: Dataset, root: Path | None = None) -> str:
    """Persist a drawn dataset as ``<root>/<name>.npy`` and register it (a no-op if it already is)."""
    if not NAME_RE.match(ds.name) or ds.kind != "points" or ds.x.shape[1:] != (2,):
        raise ConfigError("only drawn 2-D point sets (named drawn-<hash8>) can be saved here")
    root = root or drawn_root()
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"{ds.name}.npy"
    if not path.is_file():
        tmp = root / f".{ds.name}.tmp.npy"
        np.save(tmp, np.ascontiguousarray(ds.x, dtype=np.float32), allow_pickle=False)
        tmp.replace(path)  # atomic: a crash never leaves a half-written drawing under its real name
    _register(ds.name, path)
    return ds.name


def register_saved_drawings(root: Path | None = None) -> list[str]:
    """Register every drawing saved under ``root`` (after a restart); returns their names."""
    root = root or drawn_root()
    names = []
    if root.is_dir():
        for path in sorted(root.glob("drawn-*.npy")):
            name = path.stem
            if NAME_RE.match(name):
                _register(name, path)
                names.append(name)
    return names


register_resolver(PREFIX, lambda _name: register_saved_drawings())  # a drawing saved before a restart
