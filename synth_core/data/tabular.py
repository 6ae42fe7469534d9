"""Tables: schema inference, a reversible encoder (DataFrame <-> float32 matrix) and ``TabularDataset``.

Generators see a float32 matrix; people see their own columns back. The encoder is the bridge:

* numeric (continuous, integer, datetime as seconds): a quantile normal-score transform (default)
  or CTGAN's mode-specific normalisation (Xu et al. 2019, "Modeling Tabular Data using
  Conditional GAN", sec. 4.2: a small Bayesian GMM per column, value -> (scalar, one-hot mode));
* categorical / boolean: one-hot, decoded by argmax;
* missing values are never dropped: numeric columns get a ``<name>.missing`` indicator (and the
  median imputed underneath), categorical columns get a ``<name>=<missing>`` level.

Decoding clips to the observed min/max, rounds integers (and continuous columns to the number of
decimals seen in the data), and restores dtypes, category levels and NaN/NaT. Every learned
number lives in :meth:`TabularEncoder.state_dict` as plain lists/numbers/strings, so it fits in
a ``weights_only`` checkpoint or JSON.
"""
from __future__ import annotations

import copy
import math
import re
import warnings
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Iterable

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from ..errors import ConfigError, DataError
from .base import Dataset

COLUMN_TYPES = ("continuous", "integer", "categorical", "boolean", "datetime")
NUMERIC_TYPES = ("continuous", "integer", "datetime")
ENCODINGS = ("quantile", "mode")  # numeric encodings; "mode" = CTGAN mode-specific normalisation
MISSING = "<missing>"  # display name of the missing level / encoded column suffix
STATE_FORMAT = "synthlab.tabular_encoder/1"

#: a text column with more distinct values than this *and* mostly unique values is an ID or free
#: text: one-hot would add a column per row, so inference leaves it out (the user can include it).
AUTO_MAX_LEVELS = 100
#: hard limit on the levels of one categorical column (each level is one model input).
MAX_LEVELS = 1000
#: a label needs few classes: each is a condition for conditional generators and a utility class.
MAX_LABEL_CLASSES = 100
#: quantile knots per column; with at most this many rows every value is a knot and decoding is exact.
N_QUANTILES = 1000
#: the normal scores of p in [0, 1] are squeezed into [EPS, 1 - EPS] (|z| <= 5.2), as scikit-learn does.
EPS = 1e-7
#: CTGAN details: at most this many modes, fitted on at most this many rows (keeps it cheap).
MAX_MODES = 10
MODE_FIT_ROWS = 5000
MODE_MIN_WEIGHT = 0.005

_DATE_RE = re.compile(
    r"^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$"
)
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


# ----------------------------------------------------------------------------------------------
# Schema
# ----------------------------------------------------------------------------------------------
def _py(v: Any) -> Any:
    """numpy/pandas scalar -> a plain JSON-able Python value (NaN -> None)."""
    if v is None:
        return None
    if isinstance(v, (np.generic,)):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, (pd.Timestamp,)):
        return v.isoformat()
    if isinstance(v, (str, int, float, bool)):
        return v
    return str(v)


@dataclass
class Column:
    """One column of a table: its type, whether it is used, and what inference saw.

    ``levels``/``min``/``max``/``n_unique``/``n_missing`` describe the data at inference time (for
    display); the encoder recomputes everything it needs when it is fitted.
    """

    name: str
    type: str
    include: bool = True
    encoding: str = "quantile"  # numeric columns only: "quantile" | "mode"
    dtype: str = ""  # the original pandas dtype, restored on decode
    levels: list[Any] | None = None
    min: float | str | None = None  # numbers; ISO strings for datetimes
    max: float | str | None = None
    has_missing: bool = False
    n_missing: int = 0
    n_unique: int = 0
    note: str = ""

    def __post_init__(self) -> None:
        if self.type not in COLUMN_TYPES:
            raise ConfigError(f"column {self.name!r}: type must be one of {', '.join(COLUMN_TYPES)}; got {self.type!r}")
        if self.encoding not in ENCODINGS:
            raise ConfigError(f"column {self.name!r}: encoding must be one of {', '.join(ENCODINGS)}; "
                              f"got {self.encoding!r}")


@dataclass
class Schema:
    """Columns in table order plus the optional label (target) column.

    Editing methods return a *new* Schema (the old one stays valid, which suits UI state).
    """

    columns: list[Column]
    label: str | None = None

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        dup = sorted({str(n) for n in names if names.count(n) > 1})
        if dup:
            raise DataError(f"duplicate column names: {', '.join(dup)}. Rename them so every column is unique.")
        if self.label is not None and self.label not in names:
            raise ConfigError(f"label column {self.label!r} is not in the table; columns: {_list(names)}")

    # -- reading ------------------------------------------------------------------------------
    @property
    def names(self) -> list[Any]:
        return [c.name for c in self.columns]

    @property
    def included(self) -> list[Column]:
        """Columns that go into the model matrix or the label."""
        return [c for c in self.columns if c.include]

    @property
    def features(self) -> list[Column]:
        """Included columns except the label: what the encoder turns into ``x``."""
        return [c for c in self.columns if c.include and c.name != self.label]

    def __getitem__(self, name: Any) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise ConfigError(f"no column {name!r}; columns: {_list(self.names)}")

    def __contains__(self, name: Any) -> bool:
        return any(c.name == name for c in self.columns)

    # -- editing (each returns a new Schema) ---------------------------------------------------
    def _edit(self, name: Any, **changes: Any) -> "Schema":
        new = self.copy()
        col = new[name]
        for k, v in changes.items():
            setattr(col, k, v)
        col.__post_init__()  # re-validate type/encoding
        return new

    def set_type(self, name: Any, type: str) -> "Schema":
        """Change a column's type; the encoder re-reads the data when fitted, so stale stats are harmless."""
        if type not in COLUMN_TYPES:
            raise ConfigError(f"column {name!r}: type must be one of {', '.join(COLUMN_TYPES)}; got {type!r}")
        old = self[name]
        if old.type == type:
            return self.copy()
        levels = old.levels if type == "categorical" else ([False, True] if type == "boolean" else None)
        new = self._edit(name, type=type, levels=levels, note=f"type set to {type} (inferred {old.type})")
        if new.label == name:
            _check_label_type(new[name])
        return new

    def set_encoding(self, name: Any, encoding: str) -> "Schema":
        """Numeric columns: "quantile" (normal scores) or "mode" (CTGAN mode-specific normalisation)."""
        if self[name].type not in NUMERIC_TYPES:
            raise ConfigError(f"column {name!r} is {self[name].type}: only numeric columns "
                              f"({', '.join(NUMERIC_TYPES)}) have an encoding choice")
        return self._edit(name, encoding=encoding)

    def drop(self, *names: Any) -> "Schema":
        """Leave columns out of the model (kept in the schema, so :meth:`keep` can bring them back)."""
        new = self.copy()
        for n in names:
            new[n].include = False
            if new.label == n:
                new.label = None
        return new

    def keep(self, *names: Any) -> "Schema":
        new = self.copy()
        for n in names:
            new[n].include = True
        return new

    def set_label(self, name: Any | None) -> "Schema":
        """Choose the label (target) column, or ``None`` for none. It must be discrete."""
        new = self.copy()
        if name is None:
            new.label = None
            return new
        col = new[name]
        _check_label_type(col)
        col.include = True
        new.label = name
        return new

    def copy(self) -> "Schema":
        return copy.deepcopy(self)

    # -- plain data ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"columns": [asdict(c) for c in self.columns], "label": self.label}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Schema":
        known = {f.name for f in fields(Column)}
        try:
            cols = [Column(**{k: v for k, v in c.items() if k in known}) for c in d["columns"]]
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"not a valid schema: {exc}") from None
        return cls(cols, d.get("label"))

    def table(self) -> pd.DataFrame:
        """One row per column, for display."""
        return pd.DataFrame([{**asdict(c), "label": c.name == self.label} for c in self.columns])


def _list(names: Iterable[Any], k: int = 12) -> str:
    names = [str(n) for n in names]
    return ", ".join(names[:k]) + (f", ... ({len(names)} in all)" if len(names) > k else "")


def _check_label_type(col: Column) -> None:
    if col.type in ("continuous", "datetime"):
        raise ConfigError(
            f"label column {col.name!r} is {col.type}: a label must be discrete (categorical, boolean or an "
            f"integer with at most {MAX_LABEL_CLASSES} values). Choose another column, set its type to "
            f"categorical, or use no label.")
    if col.type == "integer" and col.n_unique > MAX_LABEL_CLASSES:
        raise ConfigError(f"label column {col.name!r} has {col.n_unique} distinct values; a label can have at "
                          f"most {MAX_LABEL_CLASSES}. Choose another column or use no label.")


# ----------------------------------------------------------------------------------------------
# Inference
# ----------------------------------------------------------------------------------------------
def _looks_like_dates(values: pd.Series) -> bool:
    """Only ISO-like strings count (2021-03-04, 2021-03-04 10:00): '1', '12' must stay numbers/levels."""
    sample = values.astype(str).head(2000)
    if not sample.map(lambda s: bool(_DATE_RE.match(s.strip()))).all():
        return False
    try:
        pd.to_datetime(values.astype(str), format="ISO8601")
    except (ValueError, TypeError, OverflowError):
        return False
    return True


def _decimals(obs: np.ndarray, max_decimals: int = 6) -> int | None:
    """Fewest decimals (<= 6) that reproduce every observed value, else None (no rounding)."""
    if obs.size == 0:
        return None
    tol = 1e-9 * np.maximum(1.0, np.abs(obs))
    for d in range(max_decimals + 1):
        if np.all(np.abs(obs - np.round(obs, d)) <= tol):
            return d
    return None


def _is_bool_like(nonnull: pd.Series) -> bool:
    return len(nonnull) > 0 and nonnull.map(lambda v: isinstance(v, (bool, np.bool_))).all()


def infer_column(s: pd.Series, *, max_levels: int = AUTO_MAX_LEVELS) -> Column:
    """Guess one column's type from its values (see :func:`infer_schema`)."""
    name = s.name
    dtype = str(s.dtype)
    missing = s.isna()
    nonnull = s[~missing]
    n_missing = int(missing.sum())
    base: dict[str, Any] = dict(name=name, dtype=dtype, has_missing=n_missing > 0, n_missing=n_missing)
    if len(nonnull) == 0:
        return Column(type="continuous", n_unique=0, note="every value is missing", **base)
    n_unique = int(nonnull.nunique())
    base["n_unique"] = n_unique
    note = "a single value (constant)" if n_unique == 1 else ""

    if pd.api.types.is_bool_dtype(s.dtype) or (s.dtype == object and _is_bool_like(nonnull)):
        return Column(type="boolean", levels=[False, True], note=note, **base)
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return Column(type="datetime", min=_py(nonnull.min()), max=_py(nonnull.max()), note=note, **base)
    if isinstance(s.dtype, pd.CategoricalDtype):
        return Column(type="categorical", levels=[_py(v) for v in s.cat.categories], note=note, **base)
    if pd.api.types.is_numeric_dtype(s.dtype):
        v = nonnull.to_numpy(dtype=np.float64)
        finite = v[np.isfinite(v)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (None, None)
        if pd.api.types.is_integer_dtype(s.dtype) and n_unique == 2 and set(np.unique(v)) == {0.0, 1.0}:
            # 0/1 integers are flags: one-hot them (decoded back to 0/1 in the original dtype).
            return Column(type="boolean", levels=[False, True], min=lo, max=hi, note="0/1 values: a flag", **base)
        whole = finite.size > 0 and np.all(finite == np.round(finite)) and np.all(np.abs(finite) < 2**53)
        if pd.api.types.is_integer_dtype(s.dtype) or whole:
            return Column(type="integer", min=lo, max=hi, note=note, **base)
        return Column(type="continuous", min=lo, max=hi, note=note, **base)
    # text / object
    if _looks_like_dates(nonnull):
        dt = pd.to_datetime(nonnull.astype(str), format="ISO8601")
        return Column(type="datetime", min=_py(dt.min()), max=_py(dt.max()), note=note or "dates written as text",
                      **base)
    levels = _sorted_levels(nonnull.unique())
    if n_unique > max_levels and n_unique > 0.5 * len(nonnull):
        return Column(type="categorical", include=False, levels=None,
                      note=f"{n_unique:,} distinct text values: looks like an ID or free text, so it is left out "
                           f"(include it to one-hot it)", **base)
    return Column(type="categorical", levels=[_py(v) for v in levels], note=note, **base)


def infer_schema(df: pd.DataFrame, *, label: Any | None = None, max_levels: int = AUTO_MAX_LEVELS) -> Schema:
    """Guess each column's type: bool -> boolean, datetime (or ISO date text) -> datetime, whole
    numbers -> integer, other numbers -> continuous, everything else -> categorical.

    Text columns with more than ``max_levels`` mostly-unique values are left out (include=False).
    """
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"expected a pandas DataFrame, got {type(df).__name__}")
    if df.shape[1] == 0:
        raise DataError("the table has no columns")
    if not df.columns.is_unique:
        dup = df.columns[df.columns.duplicated()].unique()
        raise DataError(f"duplicate column names: {_list(dup)}. Rename them so every column is unique.")
    schema = Schema([infer_column(df[c], max_levels=max_levels) for c in df.columns])
    return schema.set_label(label) if label is not None else schema


def _sorted_levels(values: Iterable[Any]) -> list[Any]:
    vals = list(values)
    try:
        return sorted(vals)
    except TypeError:  # mixed types (1 and "a"): sort by text, deterministic
        return sorted(vals, key=lambda v: (type(v).__name__, str(v)))


# ----------------------------------------------------------------------------------------------
# Numeric helpers
# ----------------------------------------------------------------------------------------------
def _to_numeric(s: pd.Series, col_type: str, name: Any) -> tuple[np.ndarray, np.ndarray]:
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
        example = _py(s[bad].iloc[0])
        raise DataError(f"column {name!r} is typed {col_type} but {int(bad.sum())} value(s) are not numbers "
                        f"(e.g. {example!r}); set its type to categorical or fix those cells.")
    vals = num.to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isinf(vals).any():
        raise DataError(f"column {name!r} has infinite values; replace them with numbers or leave them empty "
                        f"(missing).")
    return np.where(missing, 0.0, vals), missing


def _quantile_forward(v: np.ndarray, q: np.ndarray, refs: np.ndarray) -> np.ndarray:
    """Value -> normal score. Averaging the left and right interpolations puts tied values (flat
    stretches of the quantile function) in the middle of their stretch (scikit-learn's trick)."""
    p = 0.5 * (np.interp(v, q, refs) - np.interp(-v, -q[::-1], -refs[::-1]))
    return ndtri(EPS + (1 - 2 * EPS) * np.clip(p, 0, 1))


def _quantile_inverse(z: np.ndarray, q: np.ndarray, refs: np.ndarray) -> np.ndarray:
    p = np.clip((ndtr(z) - EPS) / (1 - 2 * EPS), 0, 1)
    v = np.interp(p, refs, q)
    # float32 scores lose ~1e-7 of probability; snap back onto a knot when within 1e-3 of its
    # spacing, so observed values (all knots when rows <= N_QUANTILES) decode exactly.
    t = p * (len(refs) - 1)
    k = np.rint(t).astype(np.int64)
    near = np.abs(t - k) < 1e-3
    v[near] = q[k[near]]
    return v


def _fit_modes(obs: np.ndarray, seed: int, max_modes: int) -> tuple[list[float], list[float], list[float]]:
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


def _mode_assign(v: np.ndarray, w: np.ndarray, mu: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Most probable mode per value (CTGAN samples it; argmax keeps the encoding deterministic)."""
    logp = np.log(w)[None] - np.log(sd)[None] - 0.5 * ((v[:, None] - mu[None]) / sd[None]) ** 2
    return logp.argmax(1)


# ----------------------------------------------------------------------------------------------
# Encoder
# ----------------------------------------------------------------------------------------------
class TabularEncoder:
    """DataFrame <-> float32 matrix, reversible. ``fit`` learns per-column state from a table.

    ``transform(df)`` encodes the schema's feature columns (included, not the label);
    ``transform_labels(df)`` gives the label's class codes; ``inverse_transform(x, y)`` returns a
    DataFrame with the original columns in their original order (the label column only when
    ``y`` is given).
    """

    def __init__(self, schema: Schema, *, n_quantiles: int = N_QUANTILES, max_modes: int = MAX_MODES,
                 seed: int = 0) -> None:
        self.schema = schema.copy()
        self.n_quantiles = int(n_quantiles)
        self.max_modes = int(max_modes)
        self.seed = int(seed)

    # -- fitting ------------------------------------------------------------------------------
    def fit(self, df: pd.DataFrame) -> "TabularEncoder":
        """Learn levels, ranges, quantiles/modes from ``df`` (every included schema column must be there)."""
        absent = [c.name for c in self.schema.included if c.name not in df.columns]
        if absent:
            raise DataError(f"the table lacks column(s) {_list(absent)} named in the schema; "
                            f"columns present: {_list(df.columns)}")
        if len(df) == 0:
            raise DataError("the table has no rows to fit the encoder on")
        self.columns_: list[dict[str, Any]] = [self._fit_column(df[c.name], c) for c in self.schema.features]
        self.label_: dict[str, Any] | None = None
        if self.schema.label is not None:
            self.label_ = self._fit_label(df[self.schema.label], self.schema[self.schema.label])
        self.order_ = [c.name for c in self.schema.included]
        self._layout()
        return self

    def _fit_column(self, s: pd.Series, col: Column) -> dict[str, Any]:
        st: dict[str, Any] = {"name": _py(col.name) if not isinstance(col.name, str) else col.name,
                              "type": col.type, "dtype": str(s.dtype)}
        if isinstance(s.dtype, pd.CategoricalDtype):
            st["categories"] = [_py(v) for v in s.cat.categories]
            st["ordered"] = bool(s.cat.ordered)
        if col.type in NUMERIC_TYPES:
            vals, missing = _to_numeric(s, col.type, col.name)
            obs = vals[~missing]
            st.update(encoding=col.encoding, missing=bool(missing.any()))
            if obs.size == 0:  # every value missing: decode gives all-missing, nothing else to learn
                st.update(min=None, max=None, impute=0.0, decimals=None, step=None,
                          quantiles=[0.0, 0.0], modes={"w": [1.0], "mu": [0.0], "sd": [1.0]})
                return st
            st.update(min=float(obs.min()), max=float(obs.max()), impute=float(np.median(obs)))
            if col.type == "integer":
                st["impute"] = float(np.round(st["impute"]))
            st["decimals"] = _decimals(obs) if col.type == "continuous" else None
            if col.type == "datetime":
                # round decoded times to whole days / seconds when the data has that resolution
                st["step"] = 86400.0 if np.all(obs % 86400 == 0) else (1.0 if np.all(obs % 1 == 0) else None)
                tz = getattr(s.dt, "tz", None) if pd.api.types.is_datetime64_any_dtype(s.dtype) else None
                st["tz"] = None if tz is None else str(tz)
            if col.encoding == "quantile":
                if obs.size <= self.n_quantiles:  # every value is a knot: decoding real rows is exact
                    knots = np.sort(obs) if obs.size > 1 else np.repeat(obs, 2)
                else:
                    knots = np.quantile(obs, np.linspace(0, 1, self.n_quantiles))
                st["quantiles"] = knots.tolist()
            else:
                w, mu, sd = _fit_modes(obs, self.seed, self.max_modes)
                st["modes"] = {"w": w, "mu": mu, "sd": sd}
            return st
        # categorical / boolean
        missing = s.isna()
        if col.type == "boolean":
            # only the values seen: a column that is always False must never decode to True
            levels: list[Any] = sorted(set(_bool_values(s[~missing], col.name).tolist()))
        else:
            levels = _sorted_levels(s[~missing].unique())
            if len(levels) > MAX_LEVELS:
                raise DataError(f"column {col.name!r} has {len(levels):,} distinct values; one-hot encoding allows "
                                f"at most {MAX_LEVELS:,}. Drop the column (an ID or free text?) or treat it as "
                                f"numeric.")
        st.update(levels=[_py(v) for v in levels], missing=bool(missing.any()))
        if col.type == "boolean":
            st["raw"] = _bool_spelling(s[~missing], col.name)
        self._codes(s, st)  # validate now (booleans that are not booleans) rather than at transform
        return st

    def _fit_label(self, s: pd.Series, col: Column) -> dict[str, Any]:
        _check_label_type(col)
        missing = s.isna()
        if col.type == "boolean":
            observed = set(_bool_values(s[~missing], col.name).tolist())
            levels: list[Any] = sorted(observed)
        else:
            levels = _sorted_levels(s[~missing].unique())
            observed = set(levels)
        if len(levels) > MAX_LABEL_CLASSES:
            raise DataError(f"label column {col.name!r} has {len(levels)} classes; at most {MAX_LABEL_CLASSES} "
                            f"are allowed. Choose another label or none.")
        n_classes = len(observed) + int(missing.any())
        if n_classes < 2:
            only = MISSING if not observed else _py(next(iter(observed)))
            raise DataError(f"label column {col.name!r} has a single class ({only!r}): a label needs at least 2 "
                            f"classes. Choose another label column, or no label.")
        st = {"name": col.name, "type": "boolean" if col.type == "boolean" else "categorical",
              "dtype": str(s.dtype), "levels": [_py(v) for v in levels], "missing": bool(missing.any())}
        if col.type == "boolean":
            st["raw"] = _bool_spelling(s[~missing], col.name)
        if isinstance(s.dtype, pd.CategoricalDtype):
            st["categories"] = [_py(v) for v in s.cat.categories]
            st["ordered"] = bool(s.cat.ordered)
        return st

    def _layout(self) -> None:
        """Output column names and spans (which slice of x belongs to which table column)."""
        names: list[str] = []
        binary: list[str] = []  # encoded columns that only take 0/1
        spans: list[dict[str, Any]] = []
        for st in self.columns_:
            start = len(names)
            n = str(st["name"])
            if st["type"] in NUMERIC_TYPES:
                if st["encoding"] == "quantile":
                    names.append(n)
                else:
                    names.append(f"{n}.norm")
                    modes = [f"{n}.mode{k}" for k in range(len(st["modes"]["w"]))]
                    names += modes
                    binary += modes
                if st["missing"]:
                    names.append(f"{n}.missing")
                    binary.append(names[-1])
            else:
                onehot = [f"{n}={v}" for v in st["levels"]] + ([f"{n}={MISSING}"] if st["missing"] else [])
                names += onehot
                binary += onehot
            spans.append({"column": st["name"], "type": st["type"], "start": start, "stop": len(names),
                          "encoding": st.get("encoding", "onehot")})
        self.feature_names_ = names
        self.binary_ = binary
        self.spans_ = spans

    def _check_fitted(self) -> None:
        if not hasattr(self, "columns_"):
            raise RuntimeError("TabularEncoder is not fitted: call fit(df) or from_state(state) first")

    @property
    def feature_names(self) -> list[str]:
        self._check_fitted()
        return list(self.feature_names_)

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    @property
    def spans(self) -> list[dict[str, Any]]:
        """Per table column: its [start, stop) slice of x, type and encoding (for generators that
        want softmax over one-hot blocks, as CTGAN does)."""
        self._check_fitted()
        return [dict(s) for s in self.spans_]

    @property
    def categorical_features(self) -> list[str]:
        """Encoded columns that are 0/1 (one-hot levels, CTGAN mode indicators, missing indicators)."""
        self._check_fitted()
        return list(self.binary_)

    @property
    def classes(self) -> list[str] | None:
        """Label class names (strings), or None without a label."""
        self._check_fitted()
        if self.label_ is None:
            return None
        return [str(v) for v in self.label_["levels"]] + ([MISSING] if self.label_["missing"] else [])

    # -- encoding -----------------------------------------------------------------------------
    def _codes(self, s: pd.Series, st: dict[str, Any]) -> np.ndarray:
        """Level index per row; missing -> len(levels)."""
        missing = s.isna().to_numpy()
        levels = st["levels"]
        if st["type"] == "boolean":
            vals = _bool_values(s[~missing], st["name"])
            pos = {bool(v): i for i, v in enumerate(levels)}
            idx_obs = np.where(vals, pos.get(True, -1), pos.get(False, -1)).astype(np.int64)
            if (idx_obs < 0).any():
                raise DataError(f"column {st['name']!r} has the value {bool(vals[idx_obs < 0][0])}, which was not "
                                f"seen when the encoder was fitted (known: {_list(levels)}).")
        else:
            obs = s[~missing]
            if pd.api.types.is_datetime64_any_dtype(obs.dtype):
                obs = obs.map(_py)  # levels of a datetime column made categorical are ISO strings
            # hash lookup in C (pandas), not a Python loop: 200k rows x many columns must stay fast
            idx_obs = pd.Index(levels, dtype=object).get_indexer(pd.Index(obs.astype(object), dtype=object))
            idx_obs = np.asarray(idx_obs, dtype=np.int64)
            if (idx_obs < 0).any():
                bad = _py(obs.iloc[int(np.flatnonzero(idx_obs < 0)[0])])
                raise DataError(f"column {st['name']!r} has the value {bad!r}, which was not seen when the encoder "
                                f"was fitted (known: {_list(levels, 8)}).")
        codes = np.full(len(s), len(levels), dtype=np.int64)
        codes[~missing] = idx_obs
        if missing.any() and not st["missing"]:
            raise DataError(f"column {st['name']!r} has missing values, but the encoder was fitted on data without "
                            f"any; refit on a table that includes them.")
        return codes

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        """Encode the feature columns: N x ``n_features`` float32."""
        self._check_fitted()
        absent = [st["name"] for st in self.columns_ if st["name"] not in df.columns]
        if absent:
            raise DataError(f"the table lacks column(s) {_list(absent)}; columns present: {_list(df.columns)}")
        blocks: list[np.ndarray] = []
        for st in self.columns_:
            s = df[st["name"]]
            if st["type"] in NUMERIC_TYPES:
                vals, missing = _to_numeric(s, st["type"], st["name"])
                if missing.any() and not st["missing"]:
                    raise DataError(f"column {st['name']!r} has missing values, but the encoder was fitted on data "
                                    f"without any; refit on a table that includes them.")
                vals = np.where(missing, st["impute"], vals)
                if st["encoding"] == "quantile":
                    q = np.asarray(st["quantiles"], dtype=np.float64)
                    blocks.append(_quantile_forward(vals, q, np.linspace(0, 1, len(q)))[:, None])
                else:
                    m = st["modes"]
                    w, mu, sd = (np.asarray(m[k], dtype=np.float64) for k in ("w", "mu", "sd"))
                    k = _mode_assign(vals, w, mu, sd)
                    # CTGAN's alpha = (v - mu_k) / (4 sigma_k); not clipped here so decoding is exact
                    alpha = (vals - mu[k]) / (4 * sd[k])
                    blocks += [alpha[:, None], np.eye(len(w))[k]]
                if st["missing"]:
                    blocks.append(missing.astype(np.float64)[:, None])
            else:
                codes = self._codes(s, st)
                width = len(st["levels"]) + int(st["missing"])
                blocks.append(np.eye(width)[codes])
        if not blocks:
            return np.zeros((len(df), 0), dtype=np.float32)
        return np.concatenate(blocks, axis=1).astype(np.float32)

    def transform_labels(self, df: pd.DataFrame) -> np.ndarray | None:
        """The label column as class codes 0..len(classes)-1 (missing is the last class), or None."""
        self._check_fitted()
        if self.label_ is None:
            return None
        return self._codes(df[self.label_["name"]], self.label_)

    def fit_transform(self, df: pd.DataFrame) -> np.ndarray:
        return self.fit(df).transform(df)

    # -- decoding -----------------------------------------------------------------------------
    def inverse_transform(self, x: np.ndarray, y: np.ndarray | None = None) -> pd.DataFrame:
        """Matrix (real or synthetic) -> DataFrame in the original columns, dtypes and ranges."""
        self._check_fitted()
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != len(self.feature_names_):
            raise DataError(f"expected rows of {len(self.feature_names_)} encoded features; got shape {x.shape}")
        # a diverged generator can emit NaN/inf: map them into range rather than crash the decode
        x = np.nan_to_num(x, nan=0.0, posinf=1e6, neginf=-1e6)
        out: dict[Any, pd.Series] = {}
        for st, sp in zip(self.columns_, self.spans_):
            block = x[:, sp["start"]:sp["stop"]]
            if st["type"] in NUMERIC_TYPES:
                out[st["name"]] = self._decode_numeric(block, st)
            else:
                out[st["name"]] = _decode_levels(block.argmax(1) if block.shape[1] else
                                                 np.zeros(len(x), dtype=np.int64), st)
        if y is not None and self.label_ is not None:
            y = np.asarray(y, dtype=np.int64).reshape(-1)
            if len(y) != len(x):
                raise DataError(f"y has {len(y)} labels but x has {len(x)} rows")
            n = len(self.label_["levels"]) + int(self.label_["missing"])
            if len(y) and (y.min() < 0 or y.max() >= n):
                raise DataError(f"label codes must be in 0..{n - 1}")
            out[self.label_["name"]] = _decode_levels(y, self.label_)
        cols = [c for c in self.order_ if c in out]
        return pd.DataFrame({c: out[c].reset_index(drop=True) for c in cols})

    def _decode_numeric(self, block: np.ndarray, st: dict[str, Any]) -> pd.Series:
        n = len(block)
        if st["min"] is None:  # column was entirely missing
            vals = np.full(n, np.nan)
        else:
            if st["encoding"] == "quantile":
                q = np.asarray(st["quantiles"], dtype=np.float64)
                vals = _quantile_inverse(block[:, 0], q, np.linspace(0, 1, len(q)))
            else:
                m = st["modes"]
                mu, sd = np.asarray(m["mu"]), np.asarray(m["sd"])
                k = block[:, 1:1 + len(mu)].argmax(1)
                vals = block[:, 0] * 4 * sd[k] + mu[k]
            vals = np.clip(vals, st["min"], st["max"])
            if st["type"] == "integer":
                vals = np.round(vals)
            elif st["type"] == "continuous" and st["decimals"] is not None:
                vals = np.round(vals, st["decimals"])
            elif st["type"] == "datetime" and st["step"]:
                vals = np.round(vals / st["step"]) * st["step"]
            vals = np.clip(vals, st["min"], st["max"])  # rounding must not leave the observed range
            if st["missing"]:
                vals = np.where(block[:, -1] > 0.5, np.nan, vals)
        if st["type"] == "datetime":
            nan = np.isnan(vals)
            vals = np.where(nan, 0.0, vals)
            # seconds -> integer ns without going through a float64 of ~1e18 (which is only good to
            # ~128 ns): whole seconds plus the fraction rounded to the column's own unit (s/ms/us/ns)
            m = re.search(r"\[(s|ms|us|ns)", st["dtype"])
            unit_ns = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}[m.group(1) if m else "ns"]
            whole = np.floor(vals)
            frac = np.round((vals - whole) * 1e9 / unit_ns).astype(np.int64) * unit_ns
            ns = whole.astype(np.int64) * 10**9 + frac
            dt = pd.Series(pd.to_datetime(ns, unit="ns")).where(~nan, pd.NaT)
            if st.get("tz"):
                dt = dt.dt.tz_localize("UTC").dt.tz_convert(st["tz"])
            dtype = st["dtype"] if "datetime64" in st["dtype"] else "datetime64[ns]"
            return _astype(dt, dtype)
        s = pd.Series(vals)
        return _astype(s, st["dtype"])

    # -- plain-data state ---------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to decode, as plain lists/numbers/strings (JSON / weights_only safe)."""
        self._check_fitted()
        return copy.deepcopy({
            "format": STATE_FORMAT,
            "params": {"n_quantiles": self.n_quantiles, "max_modes": self.max_modes, "seed": self.seed},
            "schema": self.schema.to_dict(),
            "columns": self.columns_, "label": self.label_, "order": self.order_,
        })

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> "TabularEncoder":
        if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
            raise ConfigError(f"not a tabular encoder state (expected format {STATE_FORMAT!r})")
        enc = cls(Schema.from_dict(state["schema"]), **state["params"])
        enc.columns_ = copy.deepcopy(state["columns"])
        enc.label_ = copy.deepcopy(state["label"])
        enc.order_ = list(state["order"])
        enc._layout()
        return enc


def _bool_values(s: pd.Series, name: Any) -> np.ndarray:
    """Non-missing values of a boolean column as a bool array (accepts bools, 0/1, true/false/yes/no)."""
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.to_numpy(dtype=bool)
    out = np.empty(len(s), dtype=bool)
    for i, v in enumerate(s.tolist()):
        if isinstance(v, (bool, np.bool_)):
            out[i] = bool(v)
        elif isinstance(v, (int, float, np.integer, np.floating)) and v in (0, 1):
            out[i] = bool(v)
        elif isinstance(v, str) and v.strip().lower() in _TRUE | _FALSE:
            out[i] = v.strip().lower() in _TRUE
        else:
            raise DataError(f"column {name!r} is typed boolean but has the value {v!r}; booleans must be "
                            f"true/false, yes/no or 0/1. Set its type to categorical instead.")
    return out


def _bool_spelling(nonnull: pd.Series, name: Any) -> list[Any]:
    """How the column writes false and true: the most common original value of each ([None] where
    unseen), so a Yes/No column typed boolean decodes back to Yes/No."""
    as_bool = _bool_values(nonnull, name)
    out: list[Any] = [None, None]
    for b in (False, True):
        seen = nonnull[as_bool == b]
        if len(seen):
            out[int(b)] = _py(seen.value_counts().index[0])
    return out


def _numeric_dtype(dtype: str) -> bool:
    try:
        return bool(dtype) and dtype not in ("bool", "boolean") and pd.api.types.is_numeric_dtype(pd.api.types.pandas_dtype(dtype))
    except TypeError:
        return False


def _decode_levels(codes: np.ndarray, st: dict[str, Any]) -> pd.Series:
    levels = list(st["levels"])
    table = np.array(levels + [None], dtype=object)
    codes = np.asarray(codes, dtype=np.int64)
    if not st["missing"]:
        codes = np.minimum(codes, len(levels) - 1)
    vals = table[codes]
    missing = codes >= len(levels)
    if st["type"] == "boolean":
        if st["dtype"] == "bool" and not missing.any():
            return pd.Series(vals.astype(bool))
        if st["dtype"] == "boolean":
            return pd.Series(vals, dtype="boolean")
        raw = st.get("raw")
        if raw:  # the file's own spelling of false/true (Yes/No, y/n, 0/1), not Python's
            vals = np.array([None if m else raw[int(bool(v))] for v, m in zip(vals, missing)], dtype=object)
        s = pd.Series(vals, dtype=object)
        s[missing] = np.nan
        if _numeric_dtype(st["dtype"]):  # 0/1 numbers
            return _astype(s.astype(float), st["dtype"])
        return s if st["dtype"] in ("object", "bool") else _astype(s, st["dtype"])
    s = pd.Series(vals, dtype=object)
    s[missing] = np.nan
    if st["dtype"] == "category":
        cats = st.get("categories", [v for v in levels])
        return pd.Series(pd.Categorical(s, categories=cats, ordered=st.get("ordered", False)))
    return _astype(s, st["dtype"])


def _astype(s: pd.Series, dtype: str) -> pd.Series:
    """Best-effort cast back to the original dtype (left as is when pandas refuses)."""
    if not dtype or dtype == str(s.dtype):
        return s
    try:
        if dtype.startswith(("int", "uint")) and s.isna().any():
            return s  # a plain int column cannot hold NaN; keep floats
        return s.astype(dtype)
    except (TypeError, ValueError):
        return s


# ----------------------------------------------------------------------------------------------
# Dataset
# ----------------------------------------------------------------------------------------------
@dataclass
class TabularDataset(Dataset):
    """A :class:`Dataset` whose rows came from a DataFrame: ``decode`` gives the DataFrame back.

    ``meta["encoder"]`` holds the encoder state (plain data) and ``meta["schema"]`` the schema;
    the live encoder is rebuilt from the state when not passed in.
    """

    encoder: TabularEncoder | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.kind != "tabular":
            raise ValueError("TabularDataset must have kind 'tabular'")
        if self.encoder is None:
            if "encoder" not in self.meta:
                raise ValueError("TabularDataset needs an encoder or meta['encoder']")
            self.encoder = TabularEncoder.from_state(self.meta["encoder"])

    @property
    def schema(self) -> Schema:
        return Schema.from_dict(self.meta["schema"])

    def decode(self, x: np.ndarray, y: np.ndarray | None = None) -> pd.DataFrame:  # type: ignore[override]
        """Model space -> the user's table (original columns, dtypes, levels; the label only with ``y``)."""
        assert self.encoder is not None
        return self.encoder.inverse_transform(np.asarray(x, dtype=np.float32), y)

    def frame(self) -> pd.DataFrame:
        """The real data as a table (what was encoded)."""
        return self.decode(self.x, self.y)

    def subset(self, n: int, seed: int = 0) -> "TabularDataset":
        base = super().subset(n, seed)
        return TabularDataset(**{f.name: getattr(base, f.name) for f in fields(Dataset)}, encoder=self.encoder)


def tabular_dataset(df: pd.DataFrame, name: str, schema: Schema | dict | None = None, label: Any | None = None, *,
                    description: str = "", source: str = "", warnings: list[str] | None = None,
                    seed: int = 0) -> TabularDataset:
    """Encode a DataFrame into a :class:`TabularDataset` (kind "tabular").

    ``schema`` defaults to :func:`infer_schema`; ``label`` (a column name) overrides the schema's
    label: its values become ``y`` (class codes, ``classes`` their names) and are left out of ``x``.
    """
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"expected a pandas DataFrame, got {type(df).__name__}")
    if isinstance(schema, dict):
        schema = Schema.from_dict(schema)
    schema = schema if schema is not None else infer_schema(df)
    if label is not None:
        schema = schema.set_label(label)
    if not schema.features:
        raise DataError("no columns left to model: include at least one column besides the label.")
    enc = TabularEncoder(schema, seed=seed).fit(df)
    x = enc.transform(df)
    y = enc.transform_labels(df)
    meta: dict[str, Any] = {
        "schema": schema.to_dict(),
        "encoder": enc.state_dict(),
        "columns": [_py(c) if not isinstance(c, str) else c for c in enc.order_],
        "categorical": enc.categorical_features,
        "spans": enc.spans,
        "warnings": list(warnings or []),
    }
    n_num = sum(c.type in NUMERIC_TYPES for c in schema.features)
    desc = description or (f"{len(df):,} rows, {len(schema.features)} columns ({n_num} numeric, "
                           f"{len(schema.features) - n_num} categorical/boolean)"
                           + (f", label {schema.label!r}" if schema.label is not None else "") + ".")
    return TabularDataset(name=name, kind="tabular", x=x, y=y, classes=enc.classes, description=desc,
                          source=source, feature_names=enc.feature_names, meta=meta, encoder=enc)
