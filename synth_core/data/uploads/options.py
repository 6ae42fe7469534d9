"""Upload options and limits, the size checks and the dataset name every file format shares."""
from __future__ import annotations

import re
from dataclasses import dataclass, fields
from pathlib import PurePosixPath
from typing import Any, Mapping

from ...errors import ConfigError, DataError
from ..table_schema import Schema

MB = 1024 * 1024
TABLE_EXT = (".csv", ".tsv", ".txt")
PARQUET_EXT = (".parquet", ".pq")
ARRAY_EXT = (".npz", ".npy")
ZIP_EXT = (".zip",)
IMAGE_EXT = (".png", ".jpg", ".jpeg")
SUPPORTED = TABLE_EXT + PARQUET_EXT + ARRAY_EXT + ZIP_EXT


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


def as_options(options: UploadOptions | Mapping[str, Any] | None) -> UploadOptions:
    """Options as given (None, a dict from JSON or the UI, or UploadOptions) -> UploadOptions."""
    if options is None:
        return UploadOptions()
    if isinstance(options, UploadOptions):
        return options
    known = {f.name for f in fields(UploadOptions)}
    unknown = set(options) - known
    if unknown:
        raise ConfigError(f"unknown upload option(s): {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
    return UploadOptions(**dict(options))


def fmt_mb(n: float) -> str:
    """Bytes as megabytes, for messages."""
    return f"{n / MB:,.1f} MB"


def fmt_size(n: int) -> str:
    """Human-readable size: KB below a megabyte, so a small compressed entry is not '0.0 MB'."""
    return f"{n / 1024:,.1f} KB" if n < MB else fmt_mb(n)


def dataset_name(filename: str) -> str:
    """'My data (v2).csv' -> 'upload-my-data-v2': safe for run ids and folder names."""
    stem = PurePosixPath(filename.replace("\\", "/")).name.rsplit(".", 1)[0]
    slug = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")[:40]
    return f"upload-{slug or 'data'}"


def check_size(name: str, data: bytes, opts: UploadOptions, sample_of: str) -> None:
    """Empty and over-the-limit files, with the same words wherever a file enters."""
    if len(data) == 0:
        raise DataError(f"{name!r} is empty (0 bytes): choose the file again, or check that it was saved.")
    if len(data) > opts.max_bytes:
        raise too_big(name, len(data), opts, sample_of)


def too_big(name: str, n_bytes: int, opts: UploadOptions, sample_of: str = "the rows (or smaller/fewer images)"
            ) -> DataError:
    """The error for a file over ``opts.max_bytes`` (also used before reading a file from disk)."""
    size, limit = fmt_mb(n_bytes), fmt_mb(opts.max_bytes)
    if size == limit:  # just over: rounding would print "50.0 MB; the limit is 50.0 MB"
        size, limit = f"{n_bytes:,} bytes", f"{opts.max_bytes:,} bytes ({limit})"
    return DataError(f"{name!r} is {size}; the upload limit is {limit}. Upload a random sample of {sample_of}.")
