"""A user's file -> a :class:`Dataset`. Parsed, never executed or unpickled, with hard limits.

``load_upload(name, data, options=...)`` dispatches on the file extension:

* ``.csv .tsv .txt`` - text table (encoding utf-8 / utf-8-sig / utf-16 BOM, else Latin-1 with a
  warning; delimiter sniffed among , ; tab |) -> :class:`TabularDataset`.
* ``.parquet .pq`` - Parquet via pyarrow -> :class:`TabularDataset`.
* ``.npz .npy`` - ``np.load(allow_pickle=False)``; ``x`` is N x D (points when D == 2, else
  tabular) or images N x H x W, N x H x W x C, N x C x H x W; optional ``y`` labels.
* ``.zip`` - PNG/JPEG images, optionally in one sub-folder per class (the folder names are
  the labels), resized to a square side, grayscale or RGB -> image :class:`Dataset`.

Every problem a user can cause raises :class:`DataError` with what was wrong and what to do.
Recoverable oddities (an all-empty column, inf cells, a constant column, a non-image file in a
ZIP, one corrupt image among good ones) are fixed or skipped and listed in ``Dataset.warnings``:
the UI should show them.
"""
from __future__ import annotations

from typing import Any, Mapping

from ...errors import DataError
from ..base import Dataset
from .arrays import load_arrays
from .image_zip import load_image_zip
from .options import (ARRAY_EXT, IMAGE_EXT, MB, PARQUET_EXT, SUPPORTED, TABLE_EXT, ZIP_EXT, UploadOptions, as_options,
                      check_size, dataset_name, too_big)
from .table import read_table, table_dataset


def load_upload(name: str, data: bytes, *, options: UploadOptions | Mapping[str, Any] | None = None) -> Dataset:
    """Parse an uploaded file (``name`` gives the extension) into a Dataset; see the module doc."""
    opts = as_options(options)
    ext = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    if ext not in SUPPORTED:
        hint = " (export spreadsheets as CSV)" if ext in (".xls", ".xlsx", ".ods") else ""
        raise DataError(f"unsupported file type {ext or '(no extension)'!r} for {name!r}{hint}: upload a CSV, "
                        f"Parquet, NPZ/NPY or a ZIP of PNG/JPEG images.")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise DataError(f"expected the file's bytes, got {type(data).__name__}")
    data = bytes(data)
    check_size(name, data, opts, "the rows (or smaller/fewer images)")
    if ext in TABLE_EXT + PARQUET_EXT:
        df, warnings = read_table(name, data, options=opts)
        return table_dataset(df, name, options=opts, warnings=warnings)
    if ext in ARRAY_EXT:
        return load_arrays(name, data, ext, opts)
    return load_image_zip(name, data, opts)


__all__ = ["UploadOptions", "load_upload", "read_table", "table_dataset", "dataset_name", "too_big", "as_options",
           "SUPPORTED", "TABLE_EXT", "PARQUET_EXT", "ARRAY_EXT", "ZIP_EXT", "IMAGE_EXT", "MB"]
