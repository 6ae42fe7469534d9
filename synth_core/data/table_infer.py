"""Schema inference: guess each column's type from its values (:func:`infer_schema`)."""
from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError
from .table_schema import Column, Schema, plain_value, short_list, sorted_levels

#: a text column with more distinct values than this *and* mostly unique values is an ID or free
#: text: one-hot would add a column per row, so inference leaves it out (the user can include it).
AUTO_MAX_LEVELS = 100

#: ISO-like date text (2021-03-04, 2021-03-04 10:00:00+02:00): what inference reads as a date
DATE_RE = re.compile(
    r"^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$"
)


def looks_like_dates(values: pd.Series) -> bool:
    """Only ISO-like strings count (2021-03-04, 2021-03-04 10:00): '1', '12' must stay numbers/levels."""
    sample = values.astype(str).head(2000)
    if not sample.map(lambda s: bool(DATE_RE.match(s.strip()))).all():
        return False
    try:
        pd.to_datetime(values.astype(str), format="ISO8601")
    except (ValueError, TypeError, OverflowError):
        return False
    return True



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
        return Column(type="datetime", min=plain_value(nonnull.min()), max=plain_value(nonnull.max()), note=note, **base)
    if isinstance(s.dtype, pd.CategoricalDtype):
        return Column(type="categorical", levels=[plain_value(v) for v in s.cat.categories], note=note, **base)
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
    if looks_like_dates(nonnull):
        dt = pd.to_datetime(nonnull.astype(str), format="ISO8601")
        return Column(type="datetime", min=plain_value(dt.min()), max=plain_value(dt.max()), note=note or "dates written as text",
                      **base)
    levels = sorted_levels(nonnull.unique())
    if n_unique > max_levels and n_unique > 0.5 * len(nonnull):
        return Column(type="categorical", include=False, levels=None,
                      note=f"{n_unique:,} distinct text values: looks like an ID or free text, so it is left out "
                           f"(include it to one-hot it)", **base)
    return Column(type="categorical", levels=[plain_value(v) for v in levels], note=note, **base)


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
        raise DataError(f"duplicate column names: {short_list(dup)}. Rename them so every column is unique.")
    schema = Schema([infer_column(df[c], max_levels=max_levels) for c in df.columns])
    return schema.set_label(label) if label is not None else schema
