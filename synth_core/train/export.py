"""Downloadable artefacts of a run: losses as CSV, synthetic samples as NPZ/CSV, history for charts."""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

import numpy as np

from ..data.base import Dataset
from . import store


def history_from_metrics(rows: list[dict[str, Any]], max_points: int = 4000) -> dict[str, Any]:
    """metrics.jsonl rows -> the ``LossHistory.copy()`` layout the loss figure takes (decimated)."""
    if len(rows) > max_points:
        idx = np.unique(np.linspace(0, len(rows) - 1, max_points).round().astype(int))
        rows = [rows[i] for i in idx]
    keys: list[str] = []
    for r in rows:
        keys += [k for k in r if k not in ("step", "t") and k not in keys]
    return {"step": [r.get("step", i + 1) for i, r in enumerate(rows)],
            "time": [r.get("t", math.nan) for r in rows],
            "losses": {k: [r.get(k, math.nan) for r in rows] for k in keys}}


def metrics_csv(run_path: Path) -> bytes:
    rows = store.read_metrics(Path(run_path) / "metrics.jsonl")
    keys: list[str] = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=keys or ["step"])
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode()


def samples_npz(x: np.ndarray, dataset: Dataset, y: np.ndarray | None = None) -> bytes:
    """Synthetic samples in the user's space (pixels 0-255 for images), plus labels if any."""
    arrays = {"x": dataset.decode(x)}
    if y is not None:
        arrays["y"] = np.asarray(y)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def samples_csv(x: np.ndarray, dataset: Dataset) -> bytes:
    """Points / tabular samples as CSV with the dataset's feature names."""
    names = dataset.feature_names or [f"x{i}" for i in range(x.shape[1])]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(names)
    w.writerows(np.asarray(x, dtype=np.float64).round(6).tolist())
    return buf.getvalue().encode()
