"""NPZ / NPY uploads: ``np.load(allow_pickle=False)`` -> points, a plain table or images."""
from __future__ import annotations

import io
import math
import zipfile

import numpy as np

from ...errors import DataError
from ..base import Dataset
from ..table_schema import plain_value
from .archive import check_zip_entries, read_member
from .options import UploadOptions, dataset_name

_X_NAMES = ("x", "X", "data", "images", "arr_0")
_Y_NAMES = ("y", "Y", "labels", "targets", "target")

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


def load_arrays(name: str, data: bytes, ext: str, opts: UploadOptions) -> Dataset:
    """NPZ/NPY bytes -> a points, tabular or image :class:`Dataset`."""
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
            infos = check_zip_entries(name, zf, opts)
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
            blob = read_member(zf, arrays[xname], budget, name)
            x = _load_npy_blob(name, f"x ({xname!r})" if xname != "x" else "x", blob, opts)
            y = None
            if yname is not None:
                yblob = read_member(zf, arrays[yname], budget - len(blob), name)
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
        warnings.append(f"y has a single class ({plain_value(values[0])!r}); the labels are ignored (a label needs at least 2 "
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
                       warnings=warnings,
                       meta={"upload": {"filename": name, "format": "npz", "shape": list(x.shape)}})
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
                   warnings=warnings,
                   meta={"upload": {"filename": name, "format": "npz", "shape": list(x.shape)}})
