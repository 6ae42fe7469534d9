"""What CSV and Parquet uploads share: the cleaned table and its :class:`TabularDataset`."""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from ...errors import DataError
from ..table_infer import DATE_RE
from ..table_schema import Schema, plain_value
from ..tabular import TabularDataset, tabular_dataset
from .csv_file import read_csv
from .options import PARQUET_EXT, UploadOptions, as_options, check_size, dataset_name
from .parquet_file import read_parquet


def read_table(name: str, data: bytes, *, options: UploadOptions | Mapping[str, Any] | None = None
               ) -> tuple[pd.DataFrame, list[str]]:
    """CSV/Parquet bytes -> (cleaned DataFrame, warnings). The UI can show the frame and an
    editable :func:`~synth_core.data.tabular.infer_schema` before calling :func:`table_dataset`."""
    opts = as_options(options)
    check_size(name, data, opts, "the rows")
    warnings: list[str] = []
    if name.lower().endswith(PARQUET_EXT):
        df = read_parquet(name, data, opts)
    else:
        df = read_csv(name, data, opts, warnings)
    return clean_table(df, name, opts, warnings), warnings


def clean_table(df: pd.DataFrame, name: str, opts: UploadOptions, warnings: list[str]) -> pd.DataFrame:
    """Make the parsed table model-ready, saying what changed: drop all-empty columns, turn inf
    into missing, coerce mostly-numeric text columns, parse ISO date text, flag constants."""
    df = df.copy()
    empty = [c for c in df.columns if df[c].isna().all()]
    if empty:
        df = df.drop(columns=empty)
        warnings.append(f"dropped {len(empty)} column(s) with no values at all: {', '.join(map(repr, empty[:10]))}.")
    if df.shape[1] == 0:
        raise DataError(f"{name!r}: every column is empty; there is nothing to model.")
    for c in df.columns:
        s = df[c]
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            nonnull = s.dropna()
            if nonnull.empty or not all(isinstance(v, str) for v in nonnull.head(1000)):
                continue
            text = nonnull.astype(str).str.strip()
            num = pd.to_numeric(text, errors="coerce")
            ok = num.notna()
            if ok.all():  # numbers pandas left as text (e.g. '1.5' in a decimal-comma file)
                df[c] = pd.Series(np.nan, index=s.index, dtype=np.float64).fillna(num.astype(np.float64))
            elif ok.mean() >= 0.9:
                # mostly numbers with a few stray words ("?", "unknown"): those cells become missing
                bad = text[~ok]
                examples = ", ".join(repr(v) for v in bad.unique()[:3])
                df[c] = pd.Series(np.nan, index=s.index, dtype=np.float64).fillna(num.astype(np.float64))
                warnings.append(f"column {c!r} is numeric but {len(bad)} cell(s) are not numbers ({examples}); "
                                f"they are treated as missing. Fix them in the file if they mean something.")
            elif text.map(lambda v: bool(DATE_RE.match(v))).all():
                try:
                    df[c] = pd.to_datetime(s, format="ISO8601")
                except (ValueError, TypeError, OverflowError):
                    pass  # not parseable after all: stays text (categorical)
            elif ok.any() and not ok.all():
                warnings.append(f"column {c!r} mixes numbers and text ({int(ok.sum())} numeric of {len(ok)}); it "
                                f"is treated as categorical. Set its type in the schema if that is wrong.")
    for c in df.columns:
        if pd.api.types.is_float_dtype(df[c].dtype):
            inf = np.isinf(df[c].to_numpy(dtype=np.float64, na_value=np.nan))
            if inf.any():
                df[c] = df[c].mask(inf)
                warnings.append(f"column {c!r}: {int(inf.sum())} infinite value(s) treated as missing.")
    for c in df.columns:
        nonnull = df[c].dropna()
        if len(nonnull) and nonnull.nunique() == 1:
            warnings.append(f"column {c!r} has a single value ({plain_value(nonnull.iloc[0])!r}); it is kept but carries no "
                            f"information: consider dropping it.")
    if len(df) < 100:
        warnings.append(f"only {len(df)} rows: generators will learn little and metrics will be noisy.")
    return df


def table_dataset(df: pd.DataFrame, name: str, *, options: UploadOptions | Mapping[str, Any] | None = None,
                  warnings: list[str] | None = None) -> TabularDataset:
    """A cleaned table (from :func:`read_table`) -> :class:`TabularDataset`, using the options'
    schema and label."""
    opts = as_options(options)
    schema = opts.schema
    if isinstance(schema, dict):
        schema = Schema.from_dict(schema)
    if opts.label is not None and opts.label not in df.columns:
        raise DataError(f"label column {opts.label!r} is not in {name!r}; columns: "
                        f"{', '.join(map(repr, list(df.columns)[:20]))}.")
    ds = tabular_dataset(df, dataset_name(name), schema=schema, label=opts.label, source=f"upload: {name}",
                         warnings=warnings)
    if ds.x.shape[1] > 4 * opts.max_columns:
        raise DataError(f"{name!r} encodes to {ds.x.shape[1]:,} model columns (one per category level); the limit is "
                        f"{4 * opts.max_columns:,}. Drop high-cardinality categorical columns in the schema.")
    ds.meta["upload"] = {"filename": name, "format": "parquet" if name.lower().endswith(PARQUET_EXT) else "csv",
                         "rows": int(len(df)), "columns": int(df.shape[1])}
    return ds
