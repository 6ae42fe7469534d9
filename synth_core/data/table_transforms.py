"""The encoder's per-column maths: numbers in and out of normal scores (quantile transform) or
CTGAN modes, booleans read and written in the file's own spelling, dtypes restored on decode.

Pure functions of arrays and plain-data column state; :class:`~.table_encoder.TabularEncoder`
strings them together.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from ..errors import DataError
from .table_schema import plain_value
from .vocab import FALSE_WORDS, TRUE_WORDS

#: quantile knots per column; with at most this many rows every value is a knot and decoding is exact.
N_QUANTILES = 1000
#: the normal scores of p in [0, 1] are squeezed into [EPS, 1 - EPS] (|z| <= 5.2), as scikit-learn does.
EPS = 1e-7
#: CTGAN details: at most this many modes, fitted on at most this many rows (keeps it cheap).
MAX_MODES = 10
MODE_FIT_ROWS = 5000
MODE_MIN_WEIGHT = 0.005


def count_decimals(obs: np.ndarray, max_decimals: int = 6) -> int | None:
    """Fewest decimals (<= 6) that reproduce every observed value, else None (no rounding)."""
    if obs.size == 0:
        return None
    tol = 1e-9 * np.maximum(1.0, np.abs(obs))
    for d in range(max_decimals + 1):
        if np.all(np.abs(obs - np.round(obs, d)) <= tol):
            return d
    return None



def numeric_values(s: pd.Series, col_type: str, name: Any) -> tuple[np.ndarray, np.ndarray]:
    """A column as float64 values (datetimes: seconds since 1970) and a missing mask."""
    missing = s.isna().to_numpy()
    if col_type == "datetime":
        try:
            dt = s if pd.api.types.is_datetime64_any_dtype(s.dtype) else pd.to_datetime(s, format="ISO8601")
        except (ValueError, TypeError, OverflowError) as exc:
            raise DataError(f"column {name!r} is typed datetime but has values that are not dates ({exc}); "
                            f"set its type to categorical or fix those cells.") from None
        if getattr(dt.dt, "tz", None) is not None:
            dt = dt.dt.tz_convert("UTC").dt.tz_localize(None)
        missing = dt.isna().to_numpy()
        secs = ((dt - pd.Timestamp(0)) / pd.Timedelta(seconds=1)).to_numpy(dtype=np.float64, na_value=np.nan)
        return np.where(missing, 0.0, secs), missing
    if pd.api.types.is_bool_dtype(s.dtype):
        s = s.astype(float)
    num = pd.to_numeric(s, errors="coerce")
    bad = num.isna().to_numpy() & ~missing
    if bad.any():
        example = plain_value(s[bad].iloc[0])
        raise DataError(f"column {name!r} is typed {col_type} but {int(bad.sum())} value(s) are not numbers "
                        f"(e.g. {example!r}); set its type to categorical or fix those cells.")
    vals = num.to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isinf(vals).any():
        raise DataError(f"column {name!r} has infinite values; replace them with numbers or leave them empty "
                        f"(missing).")
    return np.where(missing, 0.0, vals), missing


def quantile_forward(v: np.ndarray, q: np.ndarray, refs: np.ndarray) -> np.ndarray:
    """Value -> normal score. Averaging the left and right interpolations puts tied values (flat
    stretches of the quantile function) in the middle of their stretch (scikit-learn's trick)."""
    p = 0.5 * (np.interp(v, q, refs) - np.interp(-v, -q[::-1], -refs[::-1]))
    return ndtri(EPS + (1 - 2 * EPS) * np.clip(p, 0, 1))


def quantile_inverse(z: np.ndarray, q: np.ndarray, refs: np.ndarray) -> np.ndarray:
    """Normal score -> value: the inverse of :func:`quantile_forward`."""
    p = np.clip((ndtr(z) - EPS) / (1 - 2 * EPS), 0, 1)
    v = np.interp(p, refs, q)
    # float32 scores lose ~1e-7 of probability; snap back onto a knot when within 1e-3 of its
    # spacing, so observed values (all knots when rows <= N_QUANTILES) decode exactly.
    t = p * (len(refs) - 1)
    k = np.rint(t).astype(np.int64)
    near = np.abs(t - k) < 1e-3
    v[near] = q[k[near]]
    return v


def fit_modes(obs: np.ndarray, seed: int, max_modes: int) -> tuple[list[float], list[float], list[float]]:
    """CTGAN's variational GMM (Dirichlet-process prior, tiny concentration) on at most
    MODE_FIT_ROWS values; modes with weight < 0.005 are dropped, as in the paper."""
    uniq = np.unique(obs)
    span = float(obs.max() - obs.min()) if obs.size else 0.0
    if uniq.size <= 1:
        return [1.0], [float(uniq[0]) if uniq.size else 0.0], [1.0]
    from sklearn.mixture import BayesianGaussianMixture

    rng = np.random.default_rng(seed)
    fit = obs if obs.size <= MODE_FIT_ROWS else rng.choice(obs, MODE_FIT_ROWS, replace=False)
    k = int(min(max_modes, uniq.size))
    bgm = BayesianGaussianMixture(n_components=k, weight_concentration_prior_type="dirichlet_process",
                                  weight_concentration_prior=1e-3, max_iter=100, n_init=1, random_state=seed)
    with warnings.catch_warnings():  # a non-converged fit on tiny data is still a usable encoding
        warnings.simplefilter("ignore")
        bgm.fit(fit.reshape(-1, 1))
    keep = bgm.weights_ > MODE_MIN_WEIGHT
    if not keep.any():
        keep = bgm.weights_ == bgm.weights_.max()
    w = bgm.weights_[keep] / bgm.weights_[keep].sum()
    means = bgm.means_[keep, 0]
    stds = np.sqrt(bgm.covariances_[keep].reshape(-1))
    stds = np.maximum(stds, 1e-6 * max(span, 1.0))  # no zero-width modes (division below)
    return w.tolist(), means.tolist(), stds.tolist()


def mode_assign(v: np.ndarray, w: np.ndarray, mu: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Most probable mode per value (CTGAN samples it; argmax keeps the encoding deterministic)."""
    logp = np.log(w)[None] - np.log(sd)[None] - 0.5 * ((v[:, None] - mu[None]) / sd[None]) ** 2
    return logp.argmax(1)


def bool_values(s: pd.Series, name: Any) -> np.ndarray:
    """Non-missing values of a boolean column as a bool array (accepts bools, 0/1, true/false/yes/no)."""
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.to_numpy(dtype=bool)
    out = np.empty(len(s), dtype=bool)
    for i, v in enumerate(s.tolist()):
        if isinstance(v, (bool, np.bool_)):
            out[i] = bool(v)
        elif isinstance(v, (int, float, np.integer, np.floating)) and v in (0, 1):
            out[i] = bool(v)
        elif isinstance(v, str) and v.strip().lower() in TRUE_WORDS | FALSE_WORDS:
            out[i] = v.strip().lower() in TRUE_WORDS
        else:
            raise DataError(f"column {name!r} is typed boolean but has the value {v!r}; booleans must be "
                            f"true/false, yes/no or 0/1. Set its type to categorical instead.")
    return out


def bool_spelling(nonnull: pd.Series, name: Any) -> list[Any]:
    """How the column writes false and true: the most common original value of each ([None] where
    unseen), so a Yes/No column typed boolean decodes back to Yes/No."""
    as_bool = bool_values(nonnull, name)
    out: list[Any] = [None, None]
    for b in (False, True):
        seen = nonnull[as_bool == b]
        if len(seen):
            out[int(b)] = plain_value(seen.value_counts().index[0])
    return out


def is_numeric_dtype_name(dtype: str) -> bool:
    """True for the name of a numeric (not boolean) pandas dtype."""
    try:
        return bool(dtype) and dtype not in ("bool", "boolean") and pd.api.types.is_numeric_dtype(pd.api.types.pandas_dtype(dtype))
    except TypeError:
        return False


def decode_levels(codes: np.ndarray, col_state: dict[str, Any]) -> pd.Series:
    """Level codes (missing = len(levels)) -> the column in its original dtype and spelling."""
    levels = list(col_state["levels"])
    table = np.array(levels + [None], dtype=object)
    codes = np.asarray(codes, dtype=np.int64)
    if not col_state["missing"]:
        codes = np.minimum(codes, len(levels) - 1)
    vals = table[codes]
    missing = codes >= len(levels)
    if col_state["type"] == "boolean":
        if col_state["dtype"] == "bool" and not missing.any():
            return pd.Series(vals.astype(bool))
        if col_state["dtype"] == "boolean":
            return pd.Series(vals, dtype="boolean")
        raw = col_state.get("raw")
        if raw:  # the file's own spelling of false/true (Yes/No, y/n, 0/1), not Python's
            vals = np.array([None if m else raw[int(bool(v))] for v, m in zip(vals, missing)], dtype=object)
        s = pd.Series(vals, dtype=object)
        s[missing] = np.nan
        if is_numeric_dtype_name(col_state["dtype"]):  # 0/1 numbers
            return cast_back(s.astype(float), col_state["dtype"])
        return s if col_state["dtype"] in ("object", "bool") else cast_back(s, col_state["dtype"])
    s = pd.Series(vals, dtype=object)
    s[missing] = np.nan
    if col_state["dtype"] == "category":
        cats = col_state.get("categories", [v for v in levels])
        return pd.Series(pd.Categorical(s, categories=cats, ordered=col_state.get("ordered", False)))
    return cast_back(s, col_state["dtype"])


def cast_back(s: pd.Series, dtype: str) -> pd.Series:
    """Best-effort cast back to the original dtype (left as is when pandas refuses)."""
    if not dtype or dtype == str(s.dtype):
        return s
    try:
        if dtype.startswith(("int", "uint")) and s.isna().any():
            return s  # a plain int column cannot hold NaN; keep floats
        return s.astype(dtype)
    except (TypeError, ValueError):
        return s
