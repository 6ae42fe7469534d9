"""The reversible table encoder: DataFrame <-> float32 matrix (:class:`TabularEncoder`).

It also describes its output: :attr:`TabularEncoder.column_specs` (one typed
:class:`~.table_columns.ColumnSpec` per feature column, with its span in the matrix) and
:attr:`TabularEncoder.label_spec`. Its state is plain data (:meth:`TabularEncoder.state_dict`).
"""
from __future__ import annotations

import copy
import re
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError, DataError
from .table_columns import ColumnSpec
from .table_schema import MAX_LABEL_CLASSES, Column, Schema, check_label_type, plain_value, short_list, sorted_levels
from .table_transforms import (MAX_MODES, N_QUANTILES, bool_spelling, bool_values, cast_back, count_decimals,
                               decode_levels, fit_modes, mode_assign, numeric_values, quantile_forward,
                               quantile_inverse)
from .vocab import MISSING, NUMERIC_TYPES

STATE_FORMAT = "synthlab.tabular_encoder/1"
#: hard limit on the levels of one categorical column (each level is one model input).
MAX_LEVELS = 1000


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
            raise DataError(f"the table lacks column(s) {short_list(absent)} named in the schema; "
                            f"columns present: {short_list(df.columns)}")
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
        col_state: dict[str, Any] = {"name": plain_value(col.name) if not isinstance(col.name, str) else col.name,
                              "type": col.type, "dtype": str(s.dtype)}
        if isinstance(s.dtype, pd.CategoricalDtype):
            col_state["categories"] = [plain_value(v) for v in s.cat.categories]
            col_state["ordered"] = bool(s.cat.ordered)
        if col.type in NUMERIC_TYPES:
            vals, missing = numeric_values(s, col.type, col.name)
            obs = vals[~missing]
            col_state.update(encoding=col.encoding, missing=bool(missing.any()))
            if obs.size == 0:  # every value missing: decode gives all-missing, nothing else to learn
                col_state.update(min=None, max=None, impute=0.0, decimals=None, step=None,
                          quantiles=[0.0, 0.0], modes={"w": [1.0], "mu": [0.0], "sd": [1.0]})
                return col_state
            col_state.update(min=float(obs.min()), max=float(obs.max()), impute=float(np.median(obs)))
            if col.type == "integer":
                col_state["impute"] = float(np.round(col_state["impute"]))
            col_state["decimals"] = count_decimals(obs) if col.type == "continuous" else None
            if col.type == "datetime":
                # round decoded times to whole days / seconds when the data has that resolution
                col_state["step"] = 86400.0 if np.all(obs % 86400 == 0) else (1.0 if np.all(obs % 1 == 0) else None)
                tz = getattr(s.dt, "tz", None) if pd.api.types.is_datetime64_any_dtype(s.dtype) else None
                col_state["tz"] = None if tz is None else str(tz)
            if col.encoding == "quantile":
                if obs.size <= self.n_quantiles:  # every value is a knot: decoding real rows is exact
                    knots = np.sort(obs) if obs.size > 1 else np.repeat(obs, 2)
                else:
                    knots = np.quantile(obs, np.linspace(0, 1, self.n_quantiles))
                col_state["quantiles"] = knots.tolist()
            else:
                w, mu, sd = fit_modes(obs, self.seed, self.max_modes)
                col_state["modes"] = {"w": w, "mu": mu, "sd": sd}
            return col_state
        # categorical / boolean
        missing = s.isna()
        if col.type == "boolean":
            # only the values seen: a column that is always False must never decode to True
            levels: list[Any] = sorted(set(bool_values(s[~missing], col.name).tolist()))
        else:
            levels = sorted_levels(s[~missing].unique())
            if len(levels) > MAX_LEVELS:
                raise DataError(f"column {col.name!r} has {len(levels):,} distinct values; one-hot encoding allows "
                                f"at most {MAX_LEVELS:,}. Drop the column (an ID or free text?) or treat it as "
                                f"numeric.")
        col_state.update(levels=[plain_value(v) for v in levels], missing=bool(missing.any()))
        if col.type == "boolean":
            col_state["raw"] = bool_spelling(s[~missing], col.name)
        self._codes(s, col_state)  # validate now (booleans that are not booleans) rather than at transform
        return col_state

    def _fit_label(self, s: pd.Series, col: Column) -> dict[str, Any]:
        check_label_type(col)
        missing = s.isna()
        if col.type == "boolean":
            observed = set(bool_values(s[~missing], col.name).tolist())
            levels: list[Any] = sorted(observed)
        else:
            levels = sorted_levels(s[~missing].unique())
            observed = set(levels)
        if len(levels) > MAX_LABEL_CLASSES:
            raise DataError(f"label column {col.name!r} has {len(levels)} classes; at most {MAX_LABEL_CLASSES} "
                            f"are allowed. Choose another label or none.")
        n_classes = len(observed) + int(missing.any())
        if n_classes < 2:
            only = MISSING if not observed else plain_value(next(iter(observed)))
            raise DataError(f"label column {col.name!r} has a single class ({only!r}): a label needs at least 2 "
                            f"classes. Choose another label column, or no label.")
        col_state = {"name": col.name, "type": "boolean" if col.type == "boolean" else "categorical",
              "dtype": str(s.dtype), "levels": [plain_value(v) for v in levels], "missing": bool(missing.any())}
        if col.type == "boolean":
            col_state["raw"] = bool_spelling(s[~missing], col.name)
        if isinstance(s.dtype, pd.CategoricalDtype):
            col_state["categories"] = [plain_value(v) for v in s.cat.categories]
            col_state["ordered"] = bool(s.cat.ordered)
        return col_state

    def _layout(self) -> None:
        """Output column names and spans (which slice of x belongs to which table column)."""
        names: list[str] = []
        binary: list[str] = []  # encoded columns that only take 0/1
        spans: list[dict[str, Any]] = []
        for col_state in self.columns_:
            start = len(names)
            n = str(col_state["name"])
            if col_state["type"] in NUMERIC_TYPES:
                if col_state["encoding"] == "quantile":
                    names.append(n)
                else:
                    names.append(f"{n}.norm")
                    modes = [f"{n}.mode{k}" for k in range(len(col_state["modes"]["w"]))]
                    names += modes
                    binary += modes
                if col_state["missing"]:
                    names.append(f"{n}.missing")
                    binary.append(names[-1])
            else:
                onehot = [f"{n}={v}" for v in col_state["levels"]] + ([f"{n}={MISSING}"] if col_state["missing"] else [])
                names += onehot
                binary += onehot
            spans.append({"column": col_state["name"], "type": col_state["type"], "start": start, "stop": len(names),
                          "encoding": col_state.get("encoding", "onehot")})
        self.feature_names_ = names
        self.binary_ = binary
        self.spans_ = spans
        self.column_specs_ = tuple(ColumnSpec.from_state(col_state, sp["start"], sp["stop"])
                                   for col_state, sp in zip(self.columns_, spans))
        self.label_spec_ = None if self.label_ is None else ColumnSpec.from_state(self.label_)

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
    def column_specs(self) -> tuple[ColumnSpec, ...]:
        """One typed descriptor per feature column, in matrix order (kind, levels, span, missingness,
        the user's name and dtype)."""
        self._check_fitted()
        return self.column_specs_

    @property
    def label_spec(self) -> ColumnSpec | None:
        """The label column's descriptor (no span: its values are the class codes ``y``), or None."""
        self._check_fitted()
        return self.label_spec_

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
    def _codes(self, s: pd.Series, col_state: dict[str, Any]) -> np.ndarray:
        """Level index per row; missing -> len(levels)."""
        missing = s.isna().to_numpy()
        levels = col_state["levels"]
        if col_state["type"] == "boolean":
            vals = bool_values(s[~missing], col_state["name"])
            pos = {bool(v): i for i, v in enumerate(levels)}
            idx_obs = np.where(vals, pos.get(True, -1), pos.get(False, -1)).astype(np.int64)
            if (idx_obs < 0).any():
                raise DataError(f"column {col_state['name']!r} has the value {bool(vals[idx_obs < 0][0])}, which was not "
                                f"seen when the encoder was fitted (known: {short_list(levels)}).")
        else:
            obs = s[~missing]
            if pd.api.types.is_datetime64_any_dtype(obs.dtype):
                obs = obs.map(plain_value)  # levels of a datetime column made categorical are ISO strings
            # hash lookup in C (pandas), not a Python loop: 200k rows x many columns must stay fast
            idx_obs = pd.Index(levels, dtype=object).get_indexer(pd.Index(obs.astype(object), dtype=object))
            idx_obs = np.asarray(idx_obs, dtype=np.int64)
            if (idx_obs < 0).any():
                bad = plain_value(obs.iloc[int(np.flatnonzero(idx_obs < 0)[0])])
                raise DataError(f"column {col_state['name']!r} has the value {bad!r}, which was not seen when the encoder "
                                f"was fitted (known: {short_list(levels, 8)}).")
        codes = np.full(len(s), len(levels), dtype=np.int64)
        codes[~missing] = idx_obs
        if missing.any() and not col_state["missing"]:
            raise DataError(f"column {col_state['name']!r} has missing values, but the encoder was fitted on data without "
                            f"any; refit on a table that includes them.")
        return codes

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        """Encode the feature columns: N x ``n_features`` float32."""
        self._check_fitted()
        absent = [col_state["name"] for col_state in self.columns_ if col_state["name"] not in df.columns]
        if absent:
            raise DataError(f"the table lacks column(s) {short_list(absent)}; columns present: {short_list(df.columns)}")
        blocks: list[np.ndarray] = []
        for col_state in self.columns_:
            s = df[col_state["name"]]
            if col_state["type"] in NUMERIC_TYPES:
                vals, missing = numeric_values(s, col_state["type"], col_state["name"])
                if missing.any() and not col_state["missing"]:
                    raise DataError(f"column {col_state['name']!r} has missing values, but the encoder was fitted on data "
                                    f"without any; refit on a table that includes them.")
                vals = np.where(missing, col_state["impute"], vals)
                if col_state["encoding"] == "quantile":
                    q = np.asarray(col_state["quantiles"], dtype=np.float64)
                    blocks.append(quantile_forward(vals, q, np.linspace(0, 1, len(q)))[:, None])
                else:
                    m = col_state["modes"]
                    w, mu, sd = (np.asarray(m[k], dtype=np.float64) for k in ("w", "mu", "sd"))
                    k = mode_assign(vals, w, mu, sd)
                    # CTGAN's alpha = (v - mu_k) / (4 sigma_k); not clipped here so decoding is exact
                    alpha = (vals - mu[k]) / (4 * sd[k])
                    blocks += [alpha[:, None], np.eye(len(w))[k]]
                if col_state["missing"]:
                    blocks.append(missing.astype(np.float64)[:, None])
            else:
                codes = self._codes(s, col_state)
                width = len(col_state["levels"]) + int(col_state["missing"])
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
        for col_state, sp in zip(self.columns_, self.spans_):
            block = x[:, sp["start"]:sp["stop"]]
            if col_state["type"] in NUMERIC_TYPES:
                out[col_state["name"]] = self._decode_numeric(block, col_state)
            else:
                out[col_state["name"]] = decode_levels(block.argmax(1) if block.shape[1] else
                                                 np.zeros(len(x), dtype=np.int64), col_state)
        if y is not None and self.label_ is not None:
            y = np.asarray(y, dtype=np.int64).reshape(-1)
            if len(y) != len(x):
                raise DataError(f"y has {len(y)} labels but x has {len(x)} rows")
            n = len(self.label_["levels"]) + int(self.label_["missing"])
            if len(y) and (y.min() < 0 or y.max() >= n):
                raise DataError(f"label codes must be in 0..{n - 1}")
            out[self.label_["name"]] = decode_levels(y, self.label_)
        cols = [c for c in self.order_ if c in out]
        return pd.DataFrame({c: out[c].reset_index(drop=True) for c in cols})

    def _decode_numeric(self, block: np.ndarray, col_state: dict[str, Any]) -> pd.Series:
        n = len(block)
        if col_state["min"] is None:  # column was entirely missing
            vals = np.full(n, np.nan)
        else:
            if col_state["encoding"] == "quantile":
                q = np.asarray(col_state["quantiles"], dtype=np.float64)
                vals = quantile_inverse(block[:, 0], q, np.linspace(0, 1, len(q)))
            else:
                m = col_state["modes"]
                mu, sd = np.asarray(m["mu"]), np.asarray(m["sd"])
                k = block[:, 1:1 + len(mu)].argmax(1)
                vals = block[:, 0] * 4 * sd[k] + mu[k]
            vals = np.clip(vals, col_state["min"], col_state["max"])
            if col_state["type"] == "integer":
                vals = np.round(vals)
            elif col_state["type"] == "continuous" and col_state["decimals"] is not None:
                vals = np.round(vals, col_state["decimals"])
            elif col_state["type"] == "datetime" and col_state["step"]:
                vals = np.round(vals / col_state["step"]) * col_state["step"]
            vals = np.clip(vals, col_state["min"], col_state["max"])  # rounding must not leave the observed range
            if col_state["missing"]:
                vals = np.where(block[:, -1] > 0.5, np.nan, vals)
        if col_state["type"] == "datetime":
            nan = np.isnan(vals)
            vals = np.where(nan, 0.0, vals)
            # seconds -> integer ns without going through a float64 of ~1e18 (which is only good to
            # ~128 ns): whole seconds plus the fraction rounded to the column's own unit (s/ms/us/ns)
            m = re.search(r"\[(s|ms|us|ns)", col_state["dtype"])
            unit_ns = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}[m.group(1) if m else "ns"]
            whole = np.floor(vals)
            frac = np.round((vals - whole) * 1e9 / unit_ns).astype(np.int64) * unit_ns
            ns = whole.astype(np.int64) * 10**9 + frac
            dt = pd.Series(pd.to_datetime(ns, unit="ns")).where(~nan, pd.NaT)
            if col_state.get("tz"):
                dt = dt.dt.tz_localize("UTC").dt.tz_convert(col_state["tz"])
            dtype = col_state["dtype"] if "datetime64" in col_state["dtype"] else "datetime64[ns]"
            return cast_back(dt, dtype)
        s = pd.Series(vals)
        return cast_back(s, col_state["dtype"])

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
