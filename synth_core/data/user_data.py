"""A user's file -> a saved, named, re-loadable dataset.

``save_upload(filename, data, options)`` parses the bytes with :func:`~.uploads.load_upload`
(its :class:`DataError` propagates unchanged), then keeps the raw bytes and the options (an edited
schema as JSON) in ``$SYNTHLAB_DATA_DIR/uploads/<hash>/`` (default ``./data/uploads``) and
registers a dataset named ``upload-<slug>-<hash8>`` whose loader re-parses from disk. So anything
that loads datasets by name (a :class:`~synth_core.train.Run` worker, ``synthlab sample`` /
``evaluate`` on its run folder, a restarted server) gets the same data back.

The hash covers the file name, the bytes and the options: the same file uploaded twice is one
dataset; the same file with an edited schema is a new one. A folder is written under a temporary
name and renamed into place, so a crash never leaves a half-written upload that looks complete.

Folder layout::

    uploads/<sha256>/
        data.bin     the file's bytes, exactly as uploaded
        meta.json    {"format", "name", "filename", "options", "sha256", "bytes", "kind", ...}
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import shutil
from dataclasses import dataclass, fields, replace
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any, Mapping

import pandas as pd

from ..errors import ConfigError, DataError
from .base import (UPLOAD_PREFIX, Dataset, DatasetInfo, cache_dataset, dataset_info, is_upload, list_datasets,
                   register_loader, register_resolver, unregister_dataset)
from .table_infer import infer_schema
from .table_schema import MAX_LABEL_CLASSES, Schema
from .uploads import UploadOptions, as_options, dataset_name, load_upload, read_table, too_big
from .vocab import COLUMN_TYPES

log = logging.getLogger(__name__)

FORMAT = "synthlab.upload/1"
DATA_FILE = "data.bin"
META_FILE = "meta.json"
_HASH_RE = re.compile(r"^[0-9a-f]{64}$")
_NAME_RE = re.compile(r"^upload-[a-z0-9-]{1,48}-[0-9a-f]{8}$")


def uploads_root() -> Path:
    """``$SYNTHLAB_DATA_DIR/uploads``, else ``./data/uploads``."""
    base = os.environ.get("SYNTHLAB_DATA_DIR")
    return (Path(base) if base else Path("data")).resolve() / "uploads"


# ----------------------------------------------------------------------------------------------
# Options <-> JSON, hashing, names
# ----------------------------------------------------------------------------------------------
def options_to_dict(options: UploadOptions | Mapping[str, Any] | None) -> dict[str, Any]:
    """Upload options as plain JSON data (an edited schema becomes ``Schema.to_dict()``)."""
    opts = as_options(options)
    out = {f.name: getattr(opts, f.name) for f in fields(UploadOptions)}
    if isinstance(out["schema"], Schema):
        out["schema"] = out["schema"].to_dict()
    return out


def options_from_dict(d: Mapping[str, Any]) -> UploadOptions:
    """Inverse of :func:`options_to_dict` (unknown keys raise, so a damaged file is noticed)."""
    d = dict(d)
    if isinstance(d.get("schema"), dict):
        d["schema"] = Schema.from_dict(d["schema"])
    return as_options(d)


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str).encode()


def _basename(filename: str) -> str:
    """Only the file's own name: a browser or a CLI path never decides where anything is written."""
    base = PurePosixPath(str(filename).replace("\\", "/")).name
    return base or "data"


def content_hash(filename: str, data: bytes, options: UploadOptions | Mapping[str, Any] | None = None) -> str:
    """sha256 over the file name, its bytes and the options (so an edited schema is a new dataset)."""
    h = hashlib.sha256()
    h.update(_canonical({"format": FORMAT, "filename": _basename(filename), "options": options_to_dict(options)}))
    h.update(b"\0")
    h.update(bytes(data))
    return h.hexdigest()


def upload_name(filename: str, digest: str) -> str:
    """``upload-<slug of the file name>-<first 8 hex digits of the hash>``."""
    return f"{dataset_name(_basename(filename))}-{digest[:8]}"


# ----------------------------------------------------------------------------------------------
# Save / register / reload
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SavedUpload:
    """What ``meta.json`` says about one saved upload."""

    name: str
    filename: str
    kind: str
    description: str
    bytes: int
    created_at: str
    folder: Path


def _label(filename: str) -> str:
    return f"{filename} (uploaded)"


def _read_meta(folder: Path) -> dict[str, Any]:
    """A saved upload's meta.json, checked; raises DataError if the folder is damaged."""
    try:
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"saved upload {folder.name[:8]} is damaged ({META_FILE}: {exc}); upload the file again.") \
            from None
    ok = (isinstance(meta, dict) and meta.get("format") == FORMAT and isinstance(meta.get("name"), str)
          and _NAME_RE.match(meta["name"]) and meta["name"].endswith(folder.name[:8])
          and meta.get("kind") in ("image", "points", "tabular") and isinstance(meta.get("options"), dict)
          and isinstance(meta.get("filename"), str))
    if not ok:
        raise DataError(f"saved upload {folder.name[:8]} has an unreadable {META_FILE}; upload the file again.")
    return meta


def _load_from_folder(folder: Path, name: str) -> Dataset:
    """Re-parse a saved upload from its bytes (the loader registered for ``name``)."""
    meta = _read_meta(folder)
    try:
        data = (folder / DATA_FILE).read_bytes()
    except OSError as exc:
        raise DataError(f"uploaded dataset {name!r} is missing its file on disk ({exc.strerror}); upload it "
                        f"again.") from None
    if hashlib.sha256(data).hexdigest() != meta.get("sha256"):
        raise DataError(f"uploaded dataset {name!r} changed on disk since it was saved (checksum mismatch); "
                        f"upload the file again.")
    ds = load_upload(meta["filename"], data, options=options_from_dict(meta["options"]))
    ds.name = name
    return ds


#: where each registered upload's folder is (the data folder can change, e.g. between tests)
_FOLDERS: dict[str, Path] = {}


def _register(folder: Path, meta: Mapping[str, Any]) -> DatasetInfo:
    name = meta["name"]
    if name in _FOLDERS and _FOLDERS[name] != folder:
        unregister_dataset(name)  # same upload, another data folder: point at the new copy
    info = register_loader(name, lambda: _load_from_folder(folder, name), kind=meta["kind"],
                           label=_label(meta["filename"]), description=meta.get("description", ""),
                           exist_ok=True)
    _FOLDERS[name] = folder
    return info


def _write_folder(root: Path, digest: str, files: Mapping[str, bytes]) -> Path:
    """Write files into ``root/<digest>`` atomically: a temp folder renamed into place. If another
    writer won the race the existing folder is kept (same hash, same content)."""
    final = root / digest
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".tmp-{digest[:16]}-{secrets.token_hex(4)}"
    tmp.mkdir()
    try:
        for fname, blob in files.items():
            with open(tmp / fname, "wb") as fh:
                fh.write(blob)
                fh.flush()
                os.fsync(fh.fileno())
        try:
            os.rename(tmp, final)
        except OSError:
            if not (final / META_FILE).is_file():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final


def save_upload(filename: str, data: bytes, options: UploadOptions | Mapping[str, Any] | None = None
                ) -> DatasetInfo:
    """Parse, store and register an uploaded file; returns the new (or existing) dataset's info.

    Parsing errors (:class:`DataError`, :class:`ConfigError`) propagate unchanged and nothing is
    written. Saving the same file with the same options again returns the same dataset.
    """
    filename = _basename(filename)
    opts = as_options(options)
    ds = load_upload(filename, data, options=opts)  # checks the type and the limits first
    data = bytes(data)
    digest = content_hash(filename, data, opts)
    name = upload_name(filename, digest)
    ds.name = name
    root = uploads_root()
    folder = root / digest
    meta: dict[str, Any] | None = None
    if (folder / META_FILE).is_file():
        try:
            meta = _read_meta(folder)
        except DataError:
            log.warning("replacing damaged saved upload %s", folder)
            shutil.rmtree(folder, ignore_errors=True)
    if meta is None:
        meta = {
            "format": FORMAT, "name": name, "filename": filename, "options": options_to_dict(opts),
            "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), "kind": ds.kind,
            "description": ds.description, "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        meta_bytes = json.dumps(meta, indent=1, default=str).encode()
        folder = _write_folder(root, digest, {DATA_FILE: data, META_FILE: meta_bytes})
        meta = _read_meta(folder)
    info = _register(folder, meta)
    cache_dataset(name, ds)
    return info


def save_upload_file(path: Path | str, options: UploadOptions | Mapping[str, Any] | None = None) -> DatasetInfo:
    """:func:`save_upload` for a file on disk (the CLI): checks it exists and its size before reading."""
    path = Path(path)
    opts = as_options(options)
    if not path.exists():
        raise DataError(f"{str(path)!r} does not exist: check the path.")
    if not path.is_file():
        raise DataError(f"{str(path)!r} is not a file (a folder of images must be zipped first).")
    size = path.stat().st_size
    if size > opts.max_bytes:
        raise too_big(path.name, size, opts)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {str(path)!r}: {exc.strerror}.") from None
    return save_upload(path.name, data, opts)


def _folders(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and _HASH_RE.match(p.name))


def register_saved_uploads(root: Path | str | None = None) -> list[str]:
    """Register every upload saved on disk (at startup; idempotent). Damaged folders are skipped and
    logged. Returns the registered names."""
    names = []
    for folder in _folders(Path(root) if root else uploads_root()):
        try:
            meta = _read_meta(folder)
            if not (folder / DATA_FILE).is_file():
                raise DataError(f"{DATA_FILE} is missing")
            _register(folder, meta)
            names.append(meta["name"])
        except (DataError, ValueError) as exc:
            log.warning("skipping saved upload %s: %s", folder, exc)
    return names


def register_saved_upload(name: str) -> bool:
    """Register one saved upload by name (``dataset_info`` calls this for an unknown ``upload-`` name)."""
    if not is_upload(name) or not _NAME_RE.match(name):
        return False
    short = name.rsplit("-", 1)[-1]
    for folder in _folders(uploads_root()):
        if not folder.name.startswith(short):
            continue
        try:
            meta = _read_meta(folder)
        except DataError as exc:
            log.warning("skipping saved upload %s: %s", folder, exc)
            continue
        if meta["name"] == name and (folder / DATA_FILE).is_file():
            _register(folder, meta)
            return True
    return False


register_resolver(UPLOAD_PREFIX, register_saved_upload)  # an upload saved before a restart, by name


def saved_uploads(root: Path | str | None = None) -> list[SavedUpload]:
    """Every readable saved upload, oldest first (for ``synthlab datasets``)."""
    out = []
    for folder in _folders(Path(root) if root else uploads_root()):
        try:
            m = _read_meta(folder)
        except DataError:
            continue
        out.append(SavedUpload(m["name"], m["filename"], m["kind"], m.get("description", ""), int(m.get("bytes", 0)),
                               str(m.get("created_at", "")), folder))
    return sorted(out, key=lambda u: (u.created_at, u.name))


def builtin_datasets() -> list[DatasetInfo]:
    """Datasets every session sees (uploads are per session in the UI)."""
    return list_datasets(uploads=False)


def upload_info(name: str) -> DatasetInfo:
    """Registry entry of an uploaded dataset (re-registered from disk if needed)."""
    if not is_upload(name):
        raise ConfigError(f"{name!r} is not an uploaded dataset")
    return dataset_info(name)


# ----------------------------------------------------------------------------------------------
# Table preview and the schema editor (UI-free: the Data page draws it)
# ----------------------------------------------------------------------------------------------
@dataclass
class TablePreview:
    """A parsed table before it becomes a dataset: the frame, an inferred schema, parse warnings."""

    frame: pd.DataFrame
    schema: Schema
    warnings: list[str]


def preview_table(filename: str, data: bytes, options: UploadOptions | Mapping[str, Any] | None = None
                  ) -> TablePreview:
    """Read a CSV/Parquet upload and infer its schema, for the editor; raises DataError like save_upload."""
    opts = as_options(options)
    df, warnings = read_table(_basename(filename), bytes(data), options=replace(opts, schema=None))
    schema = infer_schema(df)
    if opts.label is not None:
        if opts.label not in schema:
            raise DataError(f"label column {opts.label!r} is not in {filename!r}; columns: "
                            f"{', '.join(map(repr, list(df.columns)[:20]))}.")
        schema = schema.set_label(opts.label)
    return TablePreview(df, schema, warnings)


EDITOR_COLUMNS = ("column", "type", "include", "missing", "distinct", "note")


def schema_editor_frame(schema: Schema) -> pd.DataFrame:
    """One row per column for an editable table: type and include are editable; ``missing`` counts
    empty cells (kept and modelled: a missing indicator for numbers, a '<missing>' level otherwise)."""
    rows = [{"column": str(c.name), "type": c.type, "include": bool(c.include), "missing": int(c.n_missing),
             "distinct": int(c.n_unique), "note": c.note} for c in schema.columns]
    return pd.DataFrame(rows, columns=list(EDITOR_COLUMNS))


def schema_from_editor(schema: Schema, edited: pd.DataFrame, label: Any | None = None) -> Schema:
    """Apply the editor's rows (type, include) and the chosen label to ``schema``; raises ConfigError
    for an impossible choice (e.g. a continuous label) with the reason."""
    if list(edited["column"].astype(str)) != [str(c.name) for c in schema.columns]:
        raise ConfigError("the schema table no longer matches the file's columns; upload the file again.")
    new = schema.set_label(None)
    for col, row in zip(schema.columns, edited.to_dict("records")):
        t = row.get("type")
        if t not in COLUMN_TYPES:
            raise ConfigError(f"column {col.name!r}: choose a type among {', '.join(COLUMN_TYPES)}.")
        if t != new[col.name].type:
            new = new.set_type(col.name, t)
        include = bool(row.get("include")) if row.get("include") is not None else False
        new = new.keep(col.name) if include else new.drop(col.name)
    new = new.set_label(label) if label is not None else new.set_label(None)
    if not new.features:
        raise ConfigError("every column is dropped: include at least one column besides the label.")
    return new


def label_candidates(schema: Schema) -> list[Any]:
    """Columns that can be the label: categorical, boolean, or integer with few values."""
    return [c.name for c in schema.columns
            if c.type in ("categorical", "boolean") or (c.type == "integer" and c.n_unique <= MAX_LABEL_CLASSES)]


def upload_kind(filename: str) -> str:
    """'table', 'arrays' or 'images' from the extension (which options the UI shows)."""
    low = str(filename).lower()
    if low.endswith((".csv", ".tsv", ".txt", ".parquet", ".pq")):
        return "table"
    if low.endswith((".npz", ".npy")):
        return "arrays"
    return "images"


__all__ = ["save_upload", "save_upload_file", "register_saved_uploads", "register_saved_upload", "saved_uploads",
           "uploads_root", "content_hash", "upload_name", "options_to_dict", "options_from_dict", "SavedUpload",
           "TablePreview", "preview_table", "schema_editor_frame", "schema_from_editor", "label_candidates",
           "builtin_datasets", "upload_kind", "upload_info"]
