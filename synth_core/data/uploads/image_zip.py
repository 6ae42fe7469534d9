"""ZIP-of-images uploads: PNG/JPEG, optionally one sub-folder per class, resized to a square."""
from __future__ import annotations

import io
import posixpath
import re
import zipfile

import numpy as np

from ...errors import DataError
from ..base import Dataset
from .archive import check_zip_entries, read_member
from .options import IMAGE_EXT, UploadOptions, dataset_name

_JUNK = re.compile(r"(^|/)(__MACOSX/|\._|\.DS_Store$|Thumbs\.db$|desktop\.ini$)")


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


def load_image_zip(name: str, data: bytes, opts: UploadOptions) -> Dataset:
    """A ZIP of PNG/JPEG images -> an image :class:`Dataset` (labels from sub-folder names)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise DataError(f"{name!r} is not a valid ZIP archive (damaged, or another format renamed .zip).") from None
    warnings: list[str] = []
    with zf:
        infos = check_zip_entries(name, zf, opts)
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
            blob = read_member(zf, info, budget, name)
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
                   warnings=warnings,
                   meta={"upload": {"filename": name, "format": "zip", "images": len(x),
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
