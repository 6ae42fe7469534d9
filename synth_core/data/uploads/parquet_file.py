"""Parquet uploads, via pyarrow (row and column limits checked from the footer first)."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd

from ...errors import DataError
from .options import UploadOptions


def read_parquet(name: str, data: bytes, opts: UploadOptions) -> pd.DataFrame:
    """Parquet bytes -> a DataFrame (row and column limits read from the footer first)."""
    try:
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - pyarrow is a dependency here, but stay graceful
        raise DataError("Parquet needs the 'pyarrow' package, which is not installed: upload a CSV instead.") from None
    try:
        pf = pq.ParquetFile(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a bad file
        raise DataError(f"{name!r} is not a valid Parquet file ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0] if str(exc) else ''}).") from None
    meta = pf.metadata
    if meta.num_rows > opts.max_rows:
        raise DataError(f"{name!r} has {meta.num_rows:,} rows; the limit is {opts.max_rows:,}. Upload a random "
                        f"sample of the rows.")
    if meta.num_columns > opts.max_columns:
        raise DataError(f"{name!r} has {meta.num_columns:,} columns; the limit is {opts.max_columns:,}.")
    try:
        df = pf.read().to_pandas()
    except Exception as exc:  # noqa: BLE001
        raise DataError(f"{name!r} could not be read ({type(exc).__name__}: {exc}).") from None
    if len(df) == 0:
        raise DataError(f"{name!r} has columns but no data rows.")
    if len(df) < opts.min_rows:
        raise DataError(f"{name!r} has only {len(df)} data row{'s' if len(df) != 1 else ''}; at least "
                        f"{opts.min_rows} are needed.")
    if not df.columns.is_unique:
        dup = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
        raise DataError(f"{name!r} has duplicate column names: {', '.join(dup)}. Rename them.")
    df.columns = [str(c) for c in df.columns]
    for c in df.columns:
        if df[c].dtype == object:
            first = df[c].dropna().head(1).tolist()
            if first and isinstance(first[0], (list, dict, tuple, np.ndarray, bytes)):
                raise DataError(f"{name!r}: column {c!r} holds {type(first[0]).__name__} values (nested data); "
                                f"flatten it into plain columns first.")
    return df
