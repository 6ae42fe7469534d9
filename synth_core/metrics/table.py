"""Column shapes and column pair trends on the *decoded* table: the columns the user sees.

This follows SDMetrics' QualityReport (https://docs.sdv.dev/sdmetrics/reports/quality-report):

* Column Shapes, one score per column: **KSComplement** (1 - the two-sample Kolmogorov-Smirnov
  statistic) for numeric and datetime columns; **TVComplement** (1 - total variation distance of the
  category frequencies) for categorical and boolean columns.
* Column Pair Trends, one score per pair of columns: **CorrelationSimilarity**
  (1 - |r_real - r_synth| / 2, with the *Pearson* r, as the QualityReport uses) when both columns are
  numeric or datetime; **ContingencySimilarity** (1 - the total variation distance between the
  normalised 2-D contingency tables) otherwise, numeric/datetime partners first cut into 10
  equal-width bins over the real column's range (outer bins open-ended), as SDMetrics does.

Missing values, as SDMetrics treats them:

* categorical / boolean columns: missing is one more category (it counts in TV and contingency);
* numeric / datetime columns: KS and correlations drop the missing values (the rows with a missing
  value in either column, for a pair); in a contingency table missing is one more bin.

Datetimes are compared as numbers (nanoseconds since the epoch). Scoring encoded features instead
(one-hot 0/1 columns, normal scores) hides wrong category frequencies: a table with ``region=east``
at 45% instead of 25% kept 93/100 that way.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..stats import ks_statistic

NUMERIC_KINDS = ("numerical", "datetime")
DISCRETE_KINDS = ("categorical", "boolean")
N_BINS = 10          # SDMetrics' num_discrete_bins for a numeric column in a contingency table
MAX_PAIRS = 400      # pair trends on a wide table: at most this many pairs (in column order)

INFO = {
    "column_shapes": (
        "Column shapes",
        "Per column of the decoded table: KS complement (1 - largest gap between the real and synthetic "
        "CDFs) for numbers and dates, TV complement (1 - total variation distance of the category "
        "frequencies, missing counted as a category) for categories and booleans; averaged over columns.",
        "SDMetrics QualityReport: KSComplement, TVComplement (Column Shapes)."),
    "worst_column_shape": (
        "Worst column shape",
        "The lowest per-column KS / TV complement of the decoded table (the column is named in the details): "
        "an average over many columns hides one badly reproduced column.",
        "SDMetrics QualityReport column-shape breakdown."),
    "column_pair_trends": (
        "Column pair trends",
        "Per pair of columns: correlation similarity 1 - |r_real - r_synth| / 2 (Pearson r) for two "
        "numeric/date columns; contingency similarity (1 - total variation distance of the 2-D frequency "
        "tables, numbers cut into 10 equal-width bins of the real range) for the other pairs; averaged.",
        "SDMetrics QualityReport: CorrelationSimilarity, ContingencySimilarity (Column Pair Trends)."),
}


@dataclass
class TableScores:
    """Per-column and per-pair scores of a decoded table (each a list of plain dicts)."""

    columns: list[dict[str, Any]]   # column, kind, metric, score, missing_real, missing_synth
    pairs: list[dict[str, Any]]     # a, b, metric, score (+ real / synth correlation for numeric pairs)

    @property
    def shape_score(self) -> float | None:
        vals = [c["score"] for c in self.columns if c["score"] is not None]
        return float(np.mean(vals)) if vals else None

    @property
    def pair_score(self) -> float | None:
        vals = [p["score"] for p in self.pairs if p["score"] is not None]
        return float(np.mean(vals)) if vals else None

    def column(self, name: Any) -> dict[str, Any]:
        for c in self.columns:
            if c["column"] == name:
                return c
        raise KeyError(name)


def kind_of_type(column_type: str) -> str:
    """A schema column type (continuous | integer | datetime | categorical | boolean) -> its kind here."""
    return {"continuous": "numerical", "integer": "numerical"}.get(column_type, column_type)


def column_kind(s: pd.Series, declared: str | None = None) -> str:
    """numerical | datetime | categorical | boolean: the schema's type when known, else the dtype's."""
    if declared is not None:
        return kind_of_type(declared)
    if pd.api.types.is_bool_dtype(s.dtype):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return "datetime"
    if pd.api.types.is_numeric_dtype(s.dtype):
        return "numerical"
    return "categorical"


def as_numbers(s: pd.Series) -> np.ndarray:
    """A numeric or datetime column as float64 (datetimes: ns since the epoch; missing -> NaN)."""
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        ns = s.astype("datetime64[ns]").to_numpy().astype("int64").astype(np.float64)
        return np.where(s.isna().to_numpy(), np.nan, ns)
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


#: the category every missing value of a categorical/boolean column becomes (one category, countable;
#: NaN would not compare equal to itself)
MISSING = "\x00(missing)"


def as_categories(s: pd.Series) -> pd.Series:
    """Category labels (object) with every missing value as the one :data:`MISSING` category."""
    out = s.astype(object)
    return out.where(~s.isna().to_numpy(), MISSING)


def ks_complement(real: pd.Series, synth: pd.Series) -> float:
    """1 - KS statistic of the non-missing values (both empty: 1; one empty: 0)."""
    r, s = as_numbers(real), as_numbers(synth)
    r, s = r[np.isfinite(r)], s[np.isfinite(s)]
    if not len(r) or not len(s):
        return float(len(r) == len(s))
    return 1.0 - ks_statistic(r, s)


def frequencies(real: pd.Series, synth: pd.Series) -> tuple[list[Any], np.ndarray, np.ndarray]:
    """(levels, real shares, synthetic shares) over the union of levels, missing as :data:`MISSING`."""
    r = as_categories(real).value_counts(dropna=False, normalize=True)
    s = as_categories(synth).value_counts(dropna=False, normalize=True)
    levels = list(r.index) + [v for v in s.index if v not in r.index]
    return levels, r.reindex(levels, fill_value=0.0).to_numpy(float), s.reindex(levels, fill_value=0.0).to_numpy(float)


def tv_complement(real: pd.Series, synth: pd.Series) -> float:
    """1 - total variation distance between the category frequencies (missing is a category)."""
    _, pr, ps = frequencies(real, synth)
    return 1.0 - 0.5 * float(np.abs(pr - ps).sum())


def pearson(a: np.ndarray, b: np.ndarray) -> float | None:
    """Pearson r of the rows where both are present; None when a column is constant or < 2 rows."""
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    if len(a) < 2 or a.std() <= 1e-12 * max(1.0, abs(a.mean())) or b.std() <= 1e-12 * max(1.0, abs(b.mean())):
        return None
    return float(np.clip(np.corrcoef(a, b)[0, 1], -1.0, 1.0))


def correlation_similarity(real_a: pd.Series, real_b: pd.Series, synth_a: pd.Series, synth_b: pd.Series
                           ) -> tuple[float | None, float | None, float | None]:
    """(1 - |r_real - r_synth| / 2, r_real, r_synth). Undefined (None) when the real pair has no
    correlation (a constant column); a constant synthetic column counts as r_synth = 0."""
    r_real = pearson(as_numbers(real_a), as_numbers(real_b))
    if r_real is None:
        return None, None, None
    r_syn = pearson(as_numbers(synth_a), as_numbers(synth_b))
    r_syn = 0.0 if r_syn is None else r_syn
    return 1.0 - abs(r_real - r_syn) / 2.0, r_real, r_syn


def discretize(real: pd.Series, synth: pd.Series, bins: int = N_BINS) -> tuple[np.ndarray, np.ndarray]:
    """Bin codes for a numeric/datetime column: ``bins`` equal-width bins over the real values'
    range, the outer ones open-ended (synthetic values outside the range land there); missing -> bin
    ``bins`` (its own category)."""
    r, s = as_numbers(real), as_numbers(synth)
    finite = r[np.isfinite(r)]
    edges = np.histogram_bin_edges(finite, bins=bins) if len(finite) else np.linspace(0, 1, bins + 1)
    inner = edges[1:-1]

    def codes(v: np.ndarray) -> np.ndarray:
        out = np.searchsorted(inner, v, side="right").astype(np.int64)
        out[~np.isfinite(v)] = bins
        return out

    return codes(r), codes(s)


def contingency_similarity(real: pd.DataFrame, synth: pd.DataFrame, continuous: Sequence[Any] = (),
                           bins: int = N_BINS) -> float:
    """1 - total variation distance between the normalised contingency tables of a column pair
    (``continuous`` columns are binned with :func:`discretize` first)."""
    a, b = real.columns[:2]
    cols_r, cols_s = [], []
    for c in (a, b):
        if c in continuous:
            cr, cs = discretize(real[c], synth[c], bins)
        else:
            cr, cs = as_categories(real[c]).to_numpy(), as_categories(synth[c]).to_numpy()
        cols_r.append(pd.Series(cr, dtype=object))
        cols_s.append(pd.Series(cs, dtype=object))
    tr = pd.DataFrame({"a": cols_r[0], "b": cols_r[1]}).value_counts(dropna=False, normalize=True)
    ts = pd.DataFrame({"a": cols_s[0], "b": cols_s[1]}).value_counts(dropna=False, normalize=True)
    idx = tr.index.union(ts.index, sort=False)
    return 1.0 - 0.5 * float(np.abs(tr.reindex(idx, fill_value=0.0) - ts.reindex(idx, fill_value=0.0)).sum())


def score_table(real: pd.DataFrame, synth: pd.DataFrame, kinds: dict[Any, str] | None = None, *,
                max_pairs: int = MAX_PAIRS) -> TableScores:
    """Column shapes and pair trends of ``synth`` against ``real`` (same columns). ``kinds`` maps a
    column to numerical | datetime | categorical | boolean (default: from the dtypes)."""
    missing = [c for c in real.columns if c not in synth.columns]
    if missing:
        raise ValueError(f"synthetic table lacks columns {missing}")
    kinds = {c: (kinds or {}).get(c) or column_kind(real[c]) for c in real.columns}
    cols = []
    for c in real.columns:
        numeric = kinds[c] in NUMERIC_KINDS
        score = ks_complement(real[c], synth[c]) if numeric else tv_complement(real[c], synth[c])
        cols.append({"column": c, "kind": kinds[c], "metric": "KSComplement" if numeric else "TVComplement",
                     "score": score, "missing_real": float(real[c].isna().mean()),
                     "missing_synth": float(synth[c].isna().mean())})
    names = list(real.columns)
    pairs = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if len(pairs) >= max_pairs:
                break
            if kinds[a] in NUMERIC_KINDS and kinds[b] in NUMERIC_KINDS:
                score, r_real, r_syn = correlation_similarity(real[a], real[b], synth[a], synth[b])
                pairs.append({"a": a, "b": b, "metric": "CorrelationSimilarity", "score": score,
                              "real": r_real, "synth": r_syn})
            else:
                cont = [c for c in (a, b) if kinds[c] in NUMERIC_KINDS]
                score = contingency_similarity(real[[a, b]], synth[[a, b]], cont)
                pairs.append({"a": a, "b": b, "metric": "ContingencySimilarity", "score": score})
    return TableScores(cols, pairs)


def marginal_plot(real: pd.Series, synth: pd.Series, kind: str, bins: int = 30, max_levels: int = 20) -> dict:
    """Plot data for one decoded column: category shares (top levels by real share, missing shown as
    "(missing)") or a histogram on shared edges (dates as ISO strings on the axis)."""
    if kind in DISCRETE_KINDS:
        levels, pr, ps = frequencies(real, synth)
        order = np.argsort(-pr, kind="stable")[:max_levels]
        return {"categorical": True, "levels": ["(missing)" if levels[i] == MISSING else str(levels[i]) for i in order],
                "real": pr[order].tolist(), "synth": ps[order].tolist()}
    r, s = as_numbers(real), as_numbers(synth)
    r, s = r[np.isfinite(r)], s[np.isfinite(s)]
    lo, hi = (np.percentile(r, [0.5, 99.5]) if len(r) else (0.0, 1.0))
    pad = 0.1 * (hi - lo) if hi > lo else 1.0
    edges = np.linspace(lo - pad, hi + pad, bins + 1)
    out = {"categorical": False, "edges": edges.tolist(),
           "real": (np.histogram(r, edges)[0] / max(len(r), 1)).tolist(),
           "synth": (np.histogram(s, edges)[0] / max(len(s), 1)).tolist()}
    if kind == "datetime":
        out["edge_labels"] = [str(pd.Timestamp(int(e)).date()) for e in edges]
    return out
