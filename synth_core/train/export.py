"""Downloadable artefacts of a run: losses as CSV, synthetic samples as NPZ/CSV, history for charts."""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

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


def _plain_arrays(df: pd.DataFrame) -> dict[str, np.ndarray]:
    """DataFrame columns as NPZ-safe arrays: no object dtype (np.load refuses pickles)."""
    out = {}
    for c in df.columns:
        col = df[c]
        if pd.api.types.is_datetime64_any_dtype(col):
            out[str(c)] = col.to_numpy(dtype="datetime64[ns]")
        elif pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            out[str(c)] = col.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            out[str(c)] = col.astype("string").fillna("").to_numpy(dtype=str)
    return out


def samples_frame(x: np.ndarray, dataset: Dataset, y: np.ndarray | None = None) -> pd.DataFrame:
    """Synthetic rows in the user's space: original columns for tables, named features for points."""
    decoded = dataset.decode(x, y) if dataset.kind == "tabular" else dataset.decode(x)  # type: ignore[call-arg]
    if isinstance(decoded, pd.DataFrame):
        return decoded
    names = dataset.feature_names or [f"x{i}" for i in range(decoded.shape[1])]
    return pd.DataFrame(np.asarray(decoded, dtype=np.float64).round(6), columns=names)


def samples_npz(x: np.ndarray, dataset: Dataset, y: np.ndarray | None = None) -> bytes:
    """Synthetic samples in the user's space (pixels 0-255 for images, one array per column for
    tables), plus labels if any."""
    if dataset.kind == "tabular":
        arrays = _plain_arrays(samples_frame(x, dataset, y))
    else:
        arrays = {"x": dataset.decode(x)}
    if y is not None:
        arrays["y"] = np.asarray(y)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def samples_csv(x: np.ndarray, dataset: Dataset, y: np.ndarray | None = None) -> bytes:
    """Points / tabular samples as CSV: the original columns and types for tables."""
    return samples_frame(x, dataset, y).to_csv(index=False).encode()
