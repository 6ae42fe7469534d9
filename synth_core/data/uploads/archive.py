"""ZIP containers (NPZ files and ZIPs of images): limits checked before anything is inflated."""
from __future__ import annotations

import re
import zipfile

from ...errors import DataError
from .options import MB, UploadOptions, fmt_mb, fmt_size


def check_zip_entries(name: str, zf: zipfile.ZipFile, opts: UploadOptions) -> list[zipfile.ZipInfo]:
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
        raise DataError(f"{name!r} unpacks to {fmt_mb(total)}; the limit is {fmt_mb(opts.max_uncompressed)}. Upload fewer "
                        f"or smaller files.")
    for i in files:
        ratio = i.file_size / max(i.compress_size, 1)
        if i.file_size > MB and ratio > opts.max_ratio:
            raise DataError(f"{name!r}: entry {i.filename!r} expands {ratio:,.0f}x ({fmt_size(i.compress_size)} -> "
                            f"{fmt_mb(i.file_size)}), which looks like a zip bomb; the archive is refused.")
    return files


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int, name: str) -> bytes:
    """Inflate one entry, never past its declared size or the remaining budget (headers can lie)."""
    cap = min(info.file_size, budget)
    with zf.open(info) as fh:
        blob = fh.read(cap + 1)
    if len(blob) > cap:
        raise DataError(f"{name!r}: entry {info.filename!r} unpacks to more than its header says (or past the "
                        f"size limit); the archive is refused.")
    return blob
