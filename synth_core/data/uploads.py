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
ZIP, one corrupt image among good ones) are fixed or skipped and listed in ``meta["warnings"]``:
the UI should show them.
"""
from __future__ import annotations

import csv
import io
import math
import posixpath
import re
import zipfile
from dataclasses import dataclass, fields
from pathlib import PurePosixPath
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..errors import ConfigError, DataError
from .base import Dataset
from .tabular import _DATE_RE, Schema, TabularDataset, _py, tabular_dataset

MB = 1024 * 1024
TABLE_EXT = (".csv", ".tsv", ".txt")
PARQUET_EXT = (".parquet", ".pq")
ARRAY_EXT = (".npz", ".npy")
ZIP_EXT = (".zip",)
IMAGE_EXT = (".png", ".jpg", ".jpeg")
SUPPORTED = TABLE_EXT + PARQUET_EXT + ARRAY_EXT + ZIP_EXT
_JUNK = re.compile(r"(^|/)(__MACOSX/|\._|\.DS_Store$|Thumbs\.db$|desktop\.ini$)")


@dataclass(frozen=True)
class UploadOptions:
    """How to read an upload, and the hard limits (defaults suit a laptop and a browser tab)."""

    # tables
    label: str | None = None  # label (class) column; None = no label
    schema: Schema | dict | None = None  # an edited schema from the UI (else inferred)
    delimiter: str | None = None  # CSV: None = sniff among , ; tab |
    encoding: str | None = None  # CSV: None = utf-8 (BOM aware), else Latin-1 with a warning
    # images (ZIP)
    image_side: int = 28  # square side the images are resized (centre-cropped) to
    color: str = "auto"  # "grayscale" | "rgb" | "auto" (RGB only if some image has colour)
    skip_bad_images: bool = True  # corrupt images: skip with a warning (False: fail naming the file)
    # limits
    max_bytes: int = 50 * MB
    max_rows: int = 200_000
    max_columns: int = 500
    max_cell_chars: int = 10_000
    min_rows: int = 2
    max_files: int = 20_000  # ZIP entries
    max_uncompressed: int = 500 * MB  # ZIP / NPZ content once unpacked
    max_ratio: float = 200.0  # uncompressed / compressed, per entry (zip bombs are ~1000x and up)
    max_image_pixels: int = 25_000_000  # per image, before decoding (PIL's own guard is 89M)
    max_elements: int = 100_000_000  # numbers in x (N x D, or N x C x H x W after resizing)
    max_classes: int = 1000

    def __post_init__(self) -> None:
        if self.color not in ("grayscale", "rgb", "auto"):
            raise ConfigError(f"color must be 'grayscale', 'rgb' or 'auto'; got {self.color!r}")
        if not 4 <= int(self.image_side) <= 256:
            raise ConfigError(f"image_side must be between 4 and 256 pixels; got {self.image_side}")
        if self.delimiter is not None and len(self.delimiter) != 1:
            raise ConfigError(f"delimiter must be one character; got {self.delimiter!r}")


def _options(options: UploadOptions | Mapping[str, Any] | None) -> UploadOptions:
    if options is None:
        return UploadOptions()
    if isinstance(options, UploadOptions):
        return options
    known = {f.name for f in fields(UploadOptions)}
    unknown = set(options) - known
    if unknown:
        raise ConfigError(f"unknown upload option(s): {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
    return UploadOptions(**dict(options))


def _mb(n: float) -> str:
    return f"{n / MB:,.1f} MB"


def _size(n: int) -> str:
    """Human-readable size: KB below a megabyte, so a small compressed entry is not '0.0 MB'."""
    return f"{n / 1024:,.1f} KB" if n < MB else _mb(n)


def dataset_name(filename: str) -> str:
    """'My data (v2).csv' -> 'upload-my-data-v2': safe for run ids and folder names."""
    stem = PurePosixPath(filename.replace("\\", "/")).name.rsplit(".", 1)[0]
    slug = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")[:40]
    return f"upload-{slug or 'data'}"


def load_upload(name: str, data: bytes, *, options: UploadOptions | Mapping[str, Any] | None = None) -> Dataset:
    """Parse an uploaded file (``name`` gives the extension) into a Dataset; see the module doc."""
    opts = _options(options)
    ext = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    if ext not in SUPPORTED:
        hint = " (export spreadsheets as CSV)" if ext in (".xls", ".xlsx", ".ods") else ""
        raise DataError(f"unsupported file type {ext or '(no extension)'!r} for {name!r}{hint}: upload a CSV, "
                        f"Parquet, NPZ/NPY or a ZIP of PNG/JPEG images.")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise DataError(f"expected the file's bytes, got {type(data).__name__}")
    data = bytes(data)
    _check_size(name, data, opts, "the rows (or smaller/fewer images)")
    if ext in TABLE_EXT + PARQUET_EXT:
        df, warnings = read_table(name, data, options=opts)
        return table_dataset(df, name, options=opts, warnings=warnings)
    if ext in ARRAY_EXT:
        return _load_arrays(name, data, ext, opts)
    return _load_image_zip(name, data, opts)


# ----------------------------------------------------------------------------------------------
# Tables
# ----------------------------------------------------------------------------------------------
def _check_size(name: str, data: bytes, opts: UploadOptions, sample_of: str) -> None:
    """Empty and over-the-limit files, with the same words wherever a file enters."""
    if len(data) == 0:
        raise DataError(f"{name!r} is empty (0 bytes): choose the file again, or check that it was saved.")
    if len(data) > opts.max_bytes:
        raise too_big(name, len(data), opts, sample_of)


def too_big(name: str, n_bytes: int, opts: UploadOptions, sample_of: str = "the rows (or smaller/fewer images)"
            ) -> DataError:
    """The error for a file over ``opts.max_bytes`` (also used before reading a file from disk)."""
    size, limit = _mb(n_bytes), _mb(opts.max_bytes)
    if size == limit:  # just over: rounding would print "50.0 MB; the limit is 50.0 MB"
        size, limit = f"{n_bytes:,} bytes", f"{opts.max_bytes:,} bytes ({limit})"
    return DataError(f"{name!r} is {size}; the upload limit is {limit}. Upload a random sample of {sample_of}.")


def read_table(name: str, data: bytes, *, options: UploadOptions | Mapping[str, Any] | None = None
               ) -> tuple[pd.DataFrame, list[str]]:
    """CSV/Parquet bytes -> (cleaned DataFrame, warnings). The UI can show the frame and an
    editable :func:`~synth_core.data.tabular.infer_schema` before calling :func:`table_dataset`."""
    opts = _options(options)
    _check_size(name, data, opts, "the rows")
    warnings: list[str] = []
    if name.lower().endswith(PARQUET_EXT):
        df = _read_parquet(name, data, opts)
    else:
        df = _read_csv(name, data, opts, warnings)
    return _clean_table(df, name, opts, warnings), warnings


def _decode_text(name: str, data: bytes, opts: UploadOptions, warnings: list[str]) -> str:
    if data[:4] in (b"PK\x03\x04",) or data[:8] == b"\x89PNG\r\n\x1a\n" or data[:4] == b"PAR1":
        raise DataError(f"{name!r} is a binary file (ZIP, PNG or Parquet), not CSV text: give it its real extension.")
    if opts.encoding:
        try:
            return data.decode(opts.encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise DataError(f"{name!r} could not be read as {opts.encoding}: {exc}. Choose another encoding, "
                            f"or leave it on automatic.") from None
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16")
    if b"\x00" in data[:8192]:
        raise DataError(f"{name!r} contains NUL bytes: it is a binary file or UTF-16 without a byte-order mark. "
                        f"Save it as CSV (UTF-8).")
    try:
        return data.decode("utf-8-sig")  # utf-8, ignoring a BOM (Excel writes one)
    except UnicodeDecodeError as exc:
        # Windows-1252 (Excel's Western default, has the euro sign) if it fits, else Latin-1,
        # which maps every byte and so never fails
        try:
            text, used = data.decode("cp1252"), "Windows-1252"
        except UnicodeDecodeError:
            text, used = data.decode("latin-1"), "Latin-1"
        warnings.append(f"{name!r} is not UTF-8 (first bad byte at position {exc.start}); read it as {used}. "
                        f"If accented characters look wrong, re-save the file as UTF-8.")
        return text


def _sniff(text: str, opts: UploadOptions) -> str:
    if opts.delimiter:
        return opts.delimiter
    sample = "\n".join(text[:65536].splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:  # one column, or too irregular to tell: the default is right or errors clearly
        return ","


def _read_csv(name: str, data: bytes, opts: UploadOptions, warnings: list[str]) -> pd.DataFrame:
    text = _decode_text(name, data, opts, warnings)
    if not text.strip():
        raise DataError(f"{name!r} has no content (only whitespace): it needs a header row and data rows.")
    delim = _sniff(text, opts)
    shown = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}.get(delim, repr(delim))
    # One pass with the csv module checks the shape (ragged rows, limits, duplicate names) and
    # reports line numbers; pandas then parses the values and types.
    limit = max(opts.max_cell_chars + 1, 1024)
    old_limit = csv.field_size_limit()
    header: list[str] | None = None
    n_rows = 0
    row: list[str] = []
    row_start = last_end = 0
    try:
        csv.field_size_limit(max(old_limit, limit))
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
        for row in reader:
            row_start, last_end = last_end + 1, reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line (pandas skips them too)
            if header is None:
                header = row
                if len(header) > opts.max_columns:
                    raise DataError(f"{name!r} has {len(header):,} columns; the limit is {opts.max_columns:,}. "
                                    f"Keep the columns you need (or check the delimiter: detected {shown}).")
                continue
            n_rows += 1
            if len(row) != len(header):
                raise DataError(f"{name!r}: line {reader.line_num} has {len(row)} fields but the header has "
                                f"{len(header)} (delimiter: {shown}). Fix that row, quote cells that contain "
                                f"the delimiter, or choose the delimiter yourself.")
            if n_rows > opts.max_rows:
                raise DataError(f"{name!r} has more than {opts.max_rows:,} data rows (the limit). Upload a random "
                                f"sample of the rows.")
            longest = max(map(len, row))
            if longest > opts.max_cell_chars:
                j = max(range(len(row)), key=lambda i: len(row[i]))
                raise DataError(f"{name!r}: line {reader.line_num}, column {header[j]!r} has a {longest:,}-character "
                                f"cell; the limit is {opts.max_cell_chars:,}. Shorten it or remove that column "
                                f"(free text cannot be modelled as a category anyway).")
    except csv.Error as exc:
        raise DataError(f"{name!r} is not a well-formed CSV ({exc}); check quotes and the delimiter "
                        f"(detected {shown}).") from None
    finally:
        csv.field_size_limit(old_limit)
    if row and any("\n" in cell for cell in row) and text.count('"') % 2 == 1:
        # the csv module reads an unclosed quote to the end of the file without complaint
        raise DataError(f"{name!r} has a quote (\") that is opened and never closed, near line {row_start}: the "
                        f"rest of the file was read as one cell. Close or remove that quote.")
    if header is None:
        raise DataError(f"{name!r} has no content: it needs a header row and data rows.")
    if n_rows == 0:
        raise DataError(f"{name!r} has a header ({len(header)} columns) but no data rows.")
    if n_rows < opts.min_rows:
        raise DataError(f"{name!r} has only {n_rows} data row{'s' if n_rows != 1 else ''}; at least {opts.min_rows} "
                        f"are needed (and hundreds "
                        f"to learn a distribution worth sampling).")
    names = [h.strip() for h in header]
    seen: dict[str, int] = {}
    dups = []
    for i, h in enumerate(names):
        if h and h in seen:
            dups.append(f"{h!r} (columns {seen[h] + 1} and {i + 1})")
        seen.setdefault(h, i)
    if dups:
        raise DataError(f"{name!r} has duplicate column names: {', '.join(dups)}. Rename them so every column "
                        f"is unique.")
    unnamed = [i for i, h in enumerate(names) if not h]
    for i in unnamed:
        names[i] = f"column_{i + 1}"
    if unnamed:
        warnings.append(f"{len(unnamed)} column(s) had no name and were called "
                        f"{', '.join(names[i] for i in unnamed[:5])}; a first unnamed column is often a saved "
                        f"row index: drop it in the schema if so.")
    # ';'-separated files come from locales that write decimal commas (1,5); a column that uses
    # points instead is left as text by pandas and converted back in _clean_table
    decimal = "," if delim == ";" else "."
    try:
        df = pd.read_csv(io.StringIO(text), sep=delim, header=0, names=names, skip_blank_lines=True,
                         skipinitialspace=True, decimal=decimal, low_memory=False, engine="c")
    except (pd.errors.ParserError, ValueError) as exc:
        raise DataError(f"{name!r} could not be parsed as CSV ({str(exc).splitlines()[0]}); check quotes and the "
                        f"delimiter (detected {shown}).") from None
    if len(names) == 1 and n_rows > 0 and delim == ",":
        warnings.append(f"{name!r} has a single column: if it should have more, choose the delimiter yourself.")
    return df


def _read_parquet(name: str, data: bytes, opts: UploadOptions) -> pd.DataFrame:
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


def _clean_table(df: pd.DataFrame, name: str, opts: UploadOptions, warnings: list[str]) -> pd.DataFrame:
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
            elif text.map(lambda v: bool(_DATE_RE.match(v))).all():
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
            warnings.append(f"column {c!r} has a single value ({_py(nonnull.iloc[0])!r}); it is kept but carries no "
                            f"information: consider dropping it.")
    if len(df) < 100:
        warnings.append(f"only {len(df)} rows: generators will learn little and metrics will be noisy.")
    return df


def table_dataset(df: pd.DataFrame, name: str, *, options: UploadOptions | Mapping[str, Any] | None = None,
                  warnings: list[str] | None = None) -> TabularDataset:
    """A cleaned table (from :func:`read_table`) -> :class:`TabularDataset`, using the options'
    schema and label."""
    opts = _options(options)
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


# ----------------------------------------------------------------------------------------------
# Arrays
# ----------------------------------------------------------------------------------------------
_X_NAMES = ("x", "X", "data", "images", "arr_0")
_Y_NAMES = ("y", "Y", "labels", "targets", "target")


def _check_zip_entries(name: str, zf: zipfile.ZipFile, opts: UploadOptions) -> list[zipfile.ZipInfo]:
    """Limits on a ZIP (or NPZ) before anything is inflated: count, total size, ratio, unsafe names."""
    infos = zf.infolist()
    for info in infos:
        fn = info.filename.replace("\\", "/")
        if fn.startswith("/") or re.match(r"^[A-Za-z]:", fn) or ".." in fn.split("/"):
            raise DataError(f"{name!r} contains an unsafe path {info.filename!r} (absolute or with '..'); the "
                            f"archive is refused. Re-create it from inside the folder of images.")
    files = [i for i in infos if not i.is_dir()]
    if len(files) > opts.max_files:
        raise DataError(f"{name!r} holds {len(files):,} files; the limit is {opts.max_files:,}. Upload fewer files.")
    total = sum(i.file_size for i in files)
    if total > opts.max_uncompressed:
        raise DataError(f"{name!r} unpacks to {_mb(total)}; the limit is {_mb(opts.max_uncompressed)}. Upload fewer "
                        f"or smaller files.")
    for i in files:
        ratio = i.file_size / max(i.compress_size, 1)
        if i.file_size > MB and ratio > opts.max_ratio:
            raise DataError(f"{name!r}: entry {i.filename!r} expands {ratio:,.0f}x ({_size(i.compress_size)} -> "
                            f"{_mb(i.file_size)}), which looks like a zip bomb; the archive is refused.")
    return files


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int, name: str) -> bytes:
    """Inflate one entry, never past its declared size or the remaining budget (headers can lie)."""
    cap = min(info.file_size, budget)
    with zf.open(info) as fh:
        blob = fh.read(cap + 1)
    if len(blob) > cap:
        raise DataError(f"{name!r}: entry {info.filename!r} unpacks to more than its header says (or past the "
                        f"size limit); the archive is refused.")
    return blob


def _npy_header(name: str, member: str, blob: bytes) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype from an .npy header, without reading the data."""
    fh = io.BytesIO(blob)
    try:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
    except (ValueError, OSError, EOFError) as exc:
        raise DataError(f"{name!r}: {member} is not a valid .npy array ({exc}).") from None
    return tuple(shape), np.dtype(dtype)


def _load_npy_blob(name: str, member: str, blob: bytes, opts: UploadOptions) -> np.ndarray:
    shape, dtype = _npy_header(name, member, blob)
    if dtype.hasobject:
        raise DataError(f"{name!r}: {member} holds Python objects (dtype=object), which SynthLab never unpickles "
                        f"(it could run code). Save a numeric array, e.g. np.save(f, x.astype('float32')).")
    if dtype.kind not in "biuf" and not (member.startswith("y") and dtype.kind in "US"):
        raise DataError(f"{name!r}: {member} has dtype {dtype} ({_KIND_NAMES.get(dtype.kind, dtype.kind)}); x must "
                        f"be numeric (bool, int, uint or float) and y integers or strings.")
    n = int(np.prod(shape)) if shape else 1
    if n > opts.max_elements:
        raise DataError(f"{name!r}: {member} has shape {shape} = {n:,} numbers; the limit is {opts.max_elements:,}. "
                        f"Upload fewer rows or smaller images.")
    try:
        return np.load(io.BytesIO(blob), allow_pickle=False)
    except ValueError as exc:
        # np.load's own refusal of object arrays ends up here too
        raise DataError(f"{name!r}: {member} could not be loaded safely ({exc}).") from None


_KIND_NAMES = {"O": "Python objects", "U": "text", "S": "bytes", "c": "complex numbers", "M": "datetimes",
               "m": "time deltas", "V": "structured records"}


def _load_arrays(name: str, data: bytes, ext: str, opts: UploadOptions) -> Dataset:
    warnings: list[str] = []
    if ext == ".npy":
        x = _load_npy_blob(name, "the array", data, opts)
        y = None
    else:
        try:
            zf = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile:
            raise DataError(f"{name!r} is not a valid .npz file (not a ZIP archive); save it with np.savez.") from None
        with zf:
            infos = _check_zip_entries(name, zf, opts)
            arrays = {i.filename[:-4] if i.filename.endswith(".npy") else i.filename: i for i in infos}
            xname = next((k for k in _X_NAMES if k in arrays), None)
            if xname is None and len(arrays) == 1:
                xname = next(iter(arrays))
                warnings.append(f"using the only array, {xname!r}, as x.")
            if xname is None:
                raise DataError(f"{name!r} needs an array named 'x' (and optionally 'y'); it has: "
                                f"{', '.join(sorted(arrays)) or 'nothing'}. Save with np.savez(f, x=..., y=...).")
            yname = next((k for k in _Y_NAMES if k in arrays), None)
            if yname is None and xname == "arr_0" and "arr_1" in arrays:
                yname = "arr_1"
            budget = opts.max_uncompressed
            blob = _read_member(zf, arrays[xname], budget, name)
            x = _load_npy_blob(name, f"x ({xname!r})" if xname != "x" else "x", blob, opts)
            y = None
            if yname is not None:
                yblob = _read_member(zf, arrays[yname], budget - len(blob), name)
                y = _load_npy_blob(name, "y", yblob, opts)
    return _arrays_to_dataset(name, x, y, opts, warnings)


def _labels(name: str, y: np.ndarray, n: int, opts: UploadOptions, warnings: list[str]
            ) -> tuple[np.ndarray | None, list[str] | None]:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise DataError(f"{name!r}: y has shape {y.shape}; it must be one label per row (shape ({n},)). "
                        f"For one-hot labels save y.argmax(1).")
    if len(y) != n:
        raise DataError(f"{name!r}: y has {len(y):,} labels but x has {n:,} rows; they must match.")
    if y.dtype.kind == "f":
        if not np.isfinite(y).all() or not np.all(y == np.round(y)):
            raise DataError(f"{name!r}: y holds non-integer numbers; labels must be class ids (integers) or "
                            f"names. A regression target belongs in x as a column.")
        y = y.astype(np.int64)
    values, codes = np.unique(y, return_inverse=True)
    if len(values) > opts.max_classes:
        raise DataError(f"{name!r}: y has {len(values):,} distinct labels; the limit is {opts.max_classes:,}. "
                        f"Are these ids rather than classes?")
    if len(values) < 2:
        warnings.append(f"y has a single class ({_py(values[0])!r}); the labels are ignored (a label needs at least 2 "
                        f"classes).")
        return None, None
    return codes.astype(np.int64), [str(v.item() if hasattr(v, "item") else v) for v in values]


def _to_unit_images(name: str, x: np.ndarray) -> np.ndarray:
    """Pixel values -> [-1, 1]: detects 0..255, 0..1 and already -1..1 ranges."""
    xf = x.astype(np.float32)
    lo, hi = float(xf.min()), float(xf.max())
    if x.dtype == np.uint8 or (lo >= 0 and hi > 1 and hi <= 255):
        return xf / 127.5 - 1.0
    if lo >= 0 and hi <= 1:
        return xf * 2.0 - 1.0
    if lo >= -1 and hi <= 1:
        return xf
    raise DataError(f"{name!r}: image values span [{lo:g}, {hi:g}]; expected pixels in 0..255, 0..1 or -1..1. "
                    f"Rescale them before saving.")


def _arrays_to_dataset(name: str, x: np.ndarray, y: np.ndarray | None, opts: UploadOptions,
                       warnings: list[str]) -> Dataset:
    if x.ndim == 0 or x.size == 0:
        raise DataError(f"{name!r}: x is empty (shape {x.shape}).")
    if x.dtype.kind not in "biuf":
        raise DataError(f"{name!r}: x has dtype {x.dtype}; it must be numeric.")
    if x.ndim == 1:
        raise DataError(f"{name!r}: x is 1-D (shape {x.shape}); it must be rows x features (N x D) or images "
                        f"(N x H x W, N x H x W x C, N x C x H x W). For a single feature use x.reshape(-1, 1).")
    if x.ndim > 4:
        raise DataError(f"{name!r}: x has {x.ndim} dimensions {x.shape}; at most 4 (N x H x W x C) are understood.")
    n = x.shape[0]
    if n < opts.min_rows:
        raise DataError(f"{name!r}: x has {n} row(s); at least {opts.min_rows} are needed.")
    if n > opts.max_rows:
        raise DataError(f"{name!r}: x has {n:,} rows; the limit is {opts.max_rows:,}. Upload a random sample.")
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        bad = int((~np.isfinite(x)).sum())
        raise DataError(f"{name!r}: x has {bad:,} NaN/inf value(s); arrays have no missing-value handling. Fill or "
                        f"drop those rows (or upload a CSV, where missing cells are modelled).")
    labels, classes = (None, None) if y is None else _labels(name, y, n, opts, warnings)
    base = name.rsplit(".", 1)[0]
    if x.ndim == 2:
        d = x.shape[1]
        if d > opts.max_columns:
            side = int(math.isqrt(d))
            hint = (f" If these are flattened {side}x{side} images, save x.reshape(-1, {side}, {side})."
                    if side * side == d and side >= 8 else "")
            raise DataError(f"{name!r}: x has {d:,} features per row; the limit is {opts.max_columns:,}.{hint}")
        kind = "points" if d == 2 else "tabular"
        return Dataset(name=dataset_name(name), kind=kind, x=x.astype(np.float32), y=labels, classes=classes,
                       description=f"{n:,} uploaded rows of {d} numbers ({base}).", source=f"upload: {name}",
                       feature_names=["x", "y"] if d == 2 else None,
                       meta={"warnings": warnings,
                             "upload": {"filename": name, "format": "npz", "shape": list(x.shape)}})
    # images: N x H x W | N x H x W x C | N x C x H x W
    if x.ndim == 3:
        imgs = x[:, None]
    elif x.shape[-1] in (1, 3, 4) and x.shape[1] not in (1, 3, 4):
        imgs = np.moveaxis(x, -1, 1)
    elif x.shape[1] in (1, 3, 4):
        imgs = x
    elif x.shape[-1] in (1, 3, 4):
        imgs = np.moveaxis(x, -1, 1)
    else:
        raise DataError(f"{name!r}: cannot tell the channels of x with shape {x.shape}: images must be N x H x W, "
                        f"N x H x W x C or N x C x H x W with C = 1 (gray) or 3 (RGB).")
    if imgs.shape[1] == 4:
        imgs = imgs[:, :3]
        warnings.append("dropped the alpha channel (RGBA -> RGB).")
    h, w = imgs.shape[2], imgs.shape[3]
    if not (4 <= h <= 256 and 4 <= w <= 256):
        raise DataError(f"{name!r}: images are {h}x{w}; sides must be 4..256 pixels. Resize them before saving.")
    return Dataset(name=dataset_name(name), kind="image", x=_to_unit_images(name, imgs), y=labels, classes=classes,
                   description=(f"{n:,} uploaded {h}x{w} {'RGB' if imgs.shape[1] == 3 else 'grayscale'} "
                                f"images ({base})."),
                   source=f"upload: {name}",
                   meta={"warnings": warnings, "upload": {"filename": name, "format": "npz", "shape": list(x.shape)}})


# ----------------------------------------------------------------------------------------------
# ZIP of images
# ----------------------------------------------------------------------------------------------
def _decode_image(blob: bytes, member: str, side: int, opts: UploadOptions) -> tuple[np.ndarray, tuple[int, int]]:
    """One PNG/JPEG -> (side x side x 3 uint8, centre-cropped to a square then resized; its original
    width x height)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(blob)) as img:
            w, h = img.size  # header only: nothing decoded yet
            limit = min(opts.max_image_pixels, Image.MAX_IMAGE_PIXELS or opts.max_image_pixels)
            if w * h > limit:
                raise DataError(f"image {member!r} is {w}x{h} = {w * h:,} pixels; the limit is {limit:,} "
                                f"(decompression-bomb guard). Shrink it first.")
            img.load()
            rgb = ImageOps.exif_transpose(img).convert("RGB")  # phone photos store rotation in EXIF
            size = rgb.size
            rgb = ImageOps.fit(rgb, (side, side), Image.Resampling.LANCZOS)
            return np.asarray(rgb, dtype=np.uint8), size
    except DataError:
        raise
    except Image.DecompressionBombError:  # PIL refuses at open() past 2x its own limit: say so, do not skip
        limit = min(opts.max_image_pixels, Image.MAX_IMAGE_PIXELS or opts.max_image_pixels)
        raise DataError(f"image {member!r} declares more than {2 * (Image.MAX_IMAGE_PIXELS or limit):,} pixels; the "
                        f"limit is {limit:,} (decompression-bomb guard). Shrink it first.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        why = ("not a PNG/JPEG that can be decoded: damaged, or another format" if isinstance(exc, UnidentifiedImageError)
               else f"{type(exc).__name__}: {exc}")  # PIL's own text names an internal buffer: not useful
        raise _CorruptImage(f"{member!r} is not a readable image ({why})") from None


class _CorruptImage(Exception):
    pass


def _load_image_zip(name: str, data: bytes, opts: UploadOptions) -> Dataset:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise DataError(f"{name!r} is not a valid ZIP archive (damaged, or another format renamed .zip).") from None
    warnings: list[str] = []
    with zf:
        infos = _check_zip_entries(name, zf, opts)
        images, nested, other = [], [], []
        for info in sorted(infos, key=lambda i: i.filename):
            fn = info.filename.replace("\\", "/")
            if _JUNK.search(fn):
                continue  # macOS / Windows metadata: not the user's data, not worth a warning
            low = fn.lower()
            if low.endswith(".zip"):
                nested.append(fn)
            elif low.endswith(IMAGE_EXT):
                images.append((fn, info))
            else:
                other.append(fn)
        if nested:
            warnings.append(f"ignored {len(nested)} nested ZIP file(s) ({', '.join(nested[:3])}): unpack them into "
                            f"the main archive if they hold images.")
        if other:
            warnings.append(f"skipped {len(other)} file(s) that are not PNG/JPEG: {', '.join(other[:5])}"
                            + (", ..." if len(other) > 5 else "") + ".")
        if not images:
            raise DataError(f"{name!r} contains no PNG or JPEG images"
                            + (f" (found: {', '.join((nested + other)[:5])})" if nested or other else "")
                            + ". Zip a folder of .png/.jpg files, optionally one sub-folder per class.")
        side = int(opts.image_side)
        if len(images) * 3 * side * side > opts.max_elements:
            raise DataError(f"{len(images):,} images at {side}x{side} exceed the memory limit; use a smaller side "
                            f"or fewer images.")
        budget = opts.max_uncompressed
        pixels, kept, bad, sizes = [], [], [], {}
        for fn, info in images:
            blob = _read_member(zf, info, budget, name)
            budget -= len(blob)
            try:
                img, size = _decode_image(blob, fn, side, opts)
                pixels.append(img)
                kept.append(fn)
                sizes[size] = sizes.get(size, 0) + 1
            except _CorruptImage as exc:
                if not opts.skip_bad_images:
                    raise DataError(f"{name!r}: {exc}. Remove or re-save that file.") from None
                bad.append(str(exc))
    if bad and not pixels:
        raise DataError(f"{name!r}: none of the {len(images)} images could be read; e.g. {bad[0]}.")
    if bad:
        warnings.append(f"skipped {len(bad)} unreadable image(s): " + "; ".join(bad[:3])
                        + (" ..." if len(bad) > 3 else ""))
    if len(pixels) < opts.min_rows:
        raise DataError(f"{name!r} has {len(pixels)} readable image(s); at least {opts.min_rows} are needed.")
    if len(sizes) > 1:
        common = sorted(sizes.items(), key=lambda kv: -kv[1])[:3]
        warnings.append(f"the images have {len(sizes)} different sizes (e.g. "
                        + ", ".join(f"{w}x{h} ({k})" for (w, h), k in common)
                        + f"); each was centre-cropped to a square and resized to {side}x{side}.")
    arr = np.stack(pixels)  # N x side x side x 3
    gray = bool(np.all(arr[..., 0] == arr[..., 1]) and np.all(arr[..., 1] == arr[..., 2]))
    rgb = opts.color == "rgb" or (opts.color == "auto" and not gray)
    if rgb:
        chw = arr.transpose(0, 3, 1, 2)
    else:
        # ITU-R 601 luma, as PIL's convert("L") does
        luma = arr.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        chw = np.clip(np.round(luma), 0, 255).astype(np.uint8)[:, None]
    y, classes = _folder_labels(kept, warnings)
    x = chw.astype(np.float32) / 127.5 - 1.0
    desc = (f"{len(x):,} uploaded images, {side}x{side} {'RGB' if rgb else 'grayscale'}"
            + (f", {len(classes)} classes from folder names" if classes else "") + ".")
    return Dataset(name=dataset_name(name), kind="image", x=x, y=y, classes=classes, description=desc,
                   source=f"upload: {name}",
                   meta={"warnings": warnings, "upload": {"filename": name, "format": "zip", "images": len(x),
                                                          "skipped": len(bad), "side": side}})


def _folder_labels(paths: list[str], warnings: list[str]) -> tuple[np.ndarray | None, list[str] | None]:
    """Class = first folder below the archive's common root, when there are at least 2 such folders
    and every image is in one of them."""
    dirs = [posixpath.dirname(p).split("/") if posixpath.dirname(p) else [] for p in paths]
    common = 0
    while dirs and all(len(d) > common for d in dirs) and len({d[common] for d in dirs}) == 1:
        common += 1
    rel = [d[common:] for d in dirs]
    if not any(rel):
        return None, None
    if not all(rel):
        warnings.append("some images are in sub-folders and some are not, so folder names are not used as labels.")
        return None, None
    names = [r[0] for r in rel]
    classes = sorted(set(names))
    if len(classes) < 2:
        return None, None
    index = {c: i for i, c in enumerate(classes)}
    return np.array([index[n] for n in names], dtype=np.int64), classes


__all__ = ["UploadOptions", "load_upload", "read_table", "table_dataset", "dataset_name", "SUPPORTED"]
