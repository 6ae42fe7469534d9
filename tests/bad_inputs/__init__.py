"""The bad-input corpus (issue 9): files a user might upload, generated in code (no committed binaries).

Each :class:`Case` says what should happen: ``"error"`` (a :class:`~synth_core.errors.DataError`,
or the named subclass, whose message contains ``message``) or ``"warning"`` (the file loads and one
of ``Dataset.warnings`` contains ``message``). ``options`` holds only what the UI and the CLI can
both set (``label``, ``image_side``, ``color``), so every case runs through both front ends.

``corpus()`` gives ``[(case_id, filename, bytes, expected_message_substring)]``; ``cases()`` the
richer records (outcome, options, error type) with lazily built bytes.
"""
from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

MB = 1024 * 1024


@dataclass(frozen=True)
class Case:
    case_id: str
    filename: str
    make: Callable[[], bytes] = field(repr=False)
    outcome: str  # "error" | "warning"
    message: str  # substring of the error message, or of one warning
    options: dict[str, Any] = field(default_factory=dict)
    error: str = "DataError"  # the exception class name expected for "error" cases
    note: str = ""

    def data(self) -> bytes:
        return self.make()

    def cli_flags(self) -> list[str]:
        """The same options as ``synthlab train`` flags."""
        flags: list[str] = []
        if "label" in self.options:
            flags += ["--label", str(self.options["label"])]
        if "image_side" in self.options:
            flags += ["--image-side", str(self.options["image_side"])]
        if "color" in self.options:
            flags += ["--color", self.options["color"]]
        return flags


# ----------------------------------------------------------------------------------------------
# Builders
# ----------------------------------------------------------------------------------------------
def _csv(header: list[str], rows: list[list[Any]], sep: str = ",") -> bytes:
    lines = [sep.join(header)] + [sep.join("" if v is None else str(v) for v in r) for r in rows]
    return ("\n".join(lines) + "\n").encode()


def _numeric_rows(n: int = 150, seed: int = 0) -> list[list[Any]]:
    rng = np.random.default_rng(seed)
    return [[round(float(a), 3), round(float(b), 3)] for a, b in rng.normal(size=(n, 2))]


def _png(side: tuple[int, int] = (8, 8), value: int = 128, rgb: bool = False) -> bytes:
    from PIL import Image

    w, h = side
    arr = (np.arange(w * h).reshape(h, w) * 7 + value) % 256
    img = Image.fromarray(np.stack([arr] * 3, -1).astype(np.uint8) if rgb else arr.astype(np.uint8))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height (a decompression bomb's header), data truncated."""
    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))


def _zip(entries: list[tuple[str, bytes]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, blob in entries:
            zf.writestr(zipfile.ZipInfo(name) if name.startswith("/") else name, blob,
                        compress_type=compression, compresslevel=9 if compression == zipfile.ZIP_DEFLATED else None)
    return buf.getvalue()


def _good_pngs(k: int = 4, prefix: str = "") -> list[tuple[str, bytes]]:
    return [(f"{prefix}img{i}.png", _png(value=30 * i)) for i in range(k)]


def _npy(arr: np.ndarray, allow_pickle: bool = False) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=allow_pickle)
    return buf.getvalue()


def _npz(**arrays: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _parquet(table_dict: dict[str, Any], empty: bool = False) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(table_dict)
    if empty:
        table = table.slice(0, 0)
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def _rng_rows(n: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, 3)).astype(np.float32)


# ----------------------------------------------------------------------------------------------
# The corpus
# ----------------------------------------------------------------------------------------------
def cases() -> list[Case]:
    """Every case, in a stable order (ids are unique)."""
    rows = _numeric_rows()
    out = [
        # --- text tables ------------------------------------------------------------------------
        Case("empty_file", "empty.csv", lambda: b"", "error", "is empty (0 bytes)"),
        Case("whitespace_only", "blank.csv", lambda: b"  \n\n\t\n", "error", "has no content"),
        Case("header_only", "header.csv", lambda: b"a,b,c\n", "error", "no data rows"),
        Case("one_row", "one.csv", lambda: b"a,b\n1,2\n", "error", "only 1 data row"),
        Case("ragged_rows", "ragged.csv", lambda: b"a,b\n1,2\n3,4,5\n6,7\n", "error",
             "line 3 has 3 fields but the header has 2"),
        Case("non_utf8_latin1", "latin1.csv",
             lambda: ("name,score\n" + "".join(f"caf\u00e9 {i % 5},{i}\n" for i in range(150))).encode("latin-1"),
             "warning", "is not UTF-8"),
        Case("utf16_without_bom", "utf16.csv", lambda: "a,b\n1,2\n3,4\n".encode("utf-16-le"), "error", "NUL bytes"),
        Case("png_renamed_csv", "photo.csv", lambda: _png(), "error", "is a binary file"),
        Case("columns_10000", "wide.csv",
             lambda: _csv([f"c{i}" for i in range(10_000)], [[1] * 10_000, [2] * 10_000]),
             "error", "10,000 columns; the limit is 500"),
        Case("all_nan_column", "nan_col.csv", lambda: _csv(["a", "b", "empty"], [r + [None] for r in rows]),
             "warning", "with no values at all: 'empty'"),
        Case("every_column_empty", "all_empty.csv", lambda: _csv(["a", "b"], [[None, None]] * 5),
             "error", "every column is empty"),
        Case("inf_values", "inf.csv", lambda: _csv(["a", "b"], rows[:-2] + [["inf", 1.0], ["-inf", 2.0]]),
             "warning", "2 infinite value(s) treated as missing"),
        Case("constant_column", "const.csv", lambda: _csv(["a", "b", "k"], [r + [7] for r in rows]),
             "warning", "column 'k' has a single value (7)"),
        Case("single_class_label", "one_class.csv", lambda: _csv(["a", "b", "y"], [r + ["yes"] for r in rows]),
             "error", "has a single class", options={"label": "y"}),
        Case("label_not_a_column", "label.csv", lambda: _csv(["a", "b"], rows), "error",
             "label column 'target' is not in", options={"label": "target"}),
        Case("label_continuous", "label_cont.csv", lambda: _csv(["a", "b"], rows), "error",
             "a label must be discrete", options={"label": "a"}, error="ConfigError"),
        Case("extremely_long_string", "long.csv",
             lambda: _csv(["a", "text"], [[1, "x" * 20_000], [2, "short"], [3, "y"]]),
             "error", "20,000-character cell; the limit is 10,000"),
        Case("mixed_types_column", "mixed.csv",
             lambda: _csv(["a", "m"], [[r[0], (i if i % 2 else f"w{i % 7}")] for i, r in enumerate(rows)]),
             "warning", "column 'm' mixes numbers and text"),
        Case("numeric_with_junk", "junk.csv",
             lambda: _csv(["a", "n"], [[r[0], ("?" if i % 25 == 0 else r[1])] for i, r in enumerate(rows)]),
             "warning", "cell(s) are not numbers ('?')"),
        Case("duplicate_column_names", "dups.csv", lambda: _csv(["a", "b", "a"], [r + [1] for r in rows]),
             "error", "duplicate column names: 'a' (columns 1 and 3)"),
        Case("unnamed_index_column", "index.csv",
             lambda: _csv(["", "a", "b"], [[i] + r for i, r in enumerate(rows)]),
             "warning", "had no name and were called column_1"),
        Case("only_an_id_column", "ids.csv", lambda: _csv(["id"], [[f"user-{i:05d}"] for i in range(300)]),
             "error", "no columns left to model"),
        Case("rows_over_limit", "tall.csv", lambda: b"a,b\n" + b"1,2\n" * 200_001, "error",
             "more than 200,000 data rows"),
        Case("unclosed_quote", "quote.csv", lambda: b'a,b\n1,"2\n3,4\n5,6\n', "error", "opened and never closed, near line 2"),
        Case("spreadsheet_xlsx", "book.xlsx", lambda: b"PK\x03\x04 not really", "error", "export spreadsheets as CSV"),
        Case("no_extension", "README", lambda: b"a,b\n1,2\n", "error", "(no extension)"),
        Case("over_size_limit", "huge.csv", lambda: b"a\n" + b"1\n" * (25 * MB), "error",
             "is 52,428,802 bytes; the upload limit is 52,428,800 bytes (50.0 MB)", note="50 MB + 2 bytes, generated on demand"),
        # --- Parquet ----------------------------------------------------------------------------
        Case("parquet_corrupt", "bad.parquet", lambda: b"PAR1" + b"\x00garbage" * 20 + b"PAR1", "error",
             "not a valid Parquet file"),
        Case("parquet_zero_rows", "empty.parquet", lambda: _parquet({"a": [1.0, 2.0]}, empty=True), "error",
             "has columns but no data rows"),
        Case("parquet_nested_lists", "nested.parquet",
             lambda: _parquet({"a": [1.0, 2.0, 3.0], "l": [[1, 2], [3], []]}), "error", "nested data"),
        # --- arrays -----------------------------------------------------------------------------
        Case("npy_object_pickle", "pickle.npy", lambda: _npy(np.array([{"a": 1}, [2]], dtype=object), True),
             "error", "never unpickles"),
        Case("npy_1d", "flat.npy", lambda: _npy(np.arange(10.0)), "error", "x is 1-D"),
        Case("npy_5d", "five.npy", lambda: _npy(np.zeros((2, 3, 4, 5, 6), np.float32)), "error",
             "at most 4 (N x H x W x C)"),
        Case("npy_ambiguous_channels", "chan.npy", lambda: _npy(np.zeros((10, 5, 7, 9), np.float32)), "error",
             "cannot tell the channels"),
        Case("npy_nan", "nan.npy", lambda: _npy(np.array([[1.0, np.nan], [2.0, 3.0], [4.0, 5.0]])), "error",
             "NaN/inf value(s)"),
        Case("npy_complex", "complex.npy", lambda: _npy(np.ones((4, 3), np.complex64)), "error", "complex numbers"),
        Case("npy_garbage", "garbage.npy", lambda: b"this is not numpy" * 4, "error", "is not a valid .npy array"),
        Case("npy_truncated", "cut.npy", lambda: _npy(np.ones((100, 3)))[:-50], "error", "could not be loaded"),
        Case("npy_tiny_images", "tiny.npy", lambda: _npy(np.zeros((10, 2, 2), np.uint8)), "error",
             "sides must be 4..256"),
        Case("npy_single_row", "row.npy", lambda: _npy(np.ones((1, 3), np.float32)), "error",
             "at least 2 are needed"),
        Case("npy_flattened_images", "flat_imgs.npy", lambda: _npy(np.zeros((10, 1024), np.uint8)), "error",
             "save x.reshape(-1, 32, 32)"),
        Case("npz_no_x", "noxy.npz", lambda: _npz(a=_rng_rows(5), b=_rng_rows(5)), "error",
             "needs an array named 'x'"),
        Case("npz_y_length_mismatch", "ylen.npz", lambda: _npz(x=_rng_rows(10), y=np.arange(5)), "error",
             "y has 5 labels but x has 10 rows"),
        Case("npz_float_labels", "yfloat.npz", lambda: _npz(x=_rng_rows(10), y=np.linspace(0, 1, 10)), "error",
             "non-integer numbers"),
        Case("npz_single_class", "y1.npz", lambda: _npz(x=_rng_rows(10), y=np.zeros(10, np.int64)), "warning",
             "y has a single class"),
        Case("npz_not_a_zip", "fake.npz", lambda: b"not a zip file at all", "error", "not a valid .npz file"),
        # --- image ZIPs -------------------------------------------------------------------------
        Case("images_mixed_sizes", "sizes.zip",
             lambda: _zip([("a.png", _png((8, 8))), ("b.png", _png((20, 12))), ("c.png", _png((30, 30)))]),
             "warning", "3 different sizes"),
        Case("image_corrupt_png", "corrupt.zip",
             lambda: _zip(_good_pngs(3) + [("broken.png", _png()[:40])]), "warning", "skipped 1 unreadable image"),
        Case("images_all_corrupt", "allbad.zip",
             lambda: _zip([(f"b{i}.png", b"\x89PNG\r\n\x1a\nnope") for i in range(3)]), "error",
             "none of the 3 images could be read"),
        Case("zip_non_image_file", "notes.zip", lambda: _zip(_good_pngs(3) + [("notes.txt", b"hello")]),
             "warning", "not PNG/JPEG: notes.txt"),
        Case("zip_only_text", "text.zip", lambda: _zip([("a.txt", b"x"), ("b.csv", b"a,b\n1,2\n")]), "error",
             "contains no PNG or JPEG images"),
        Case("zip_path_traversal", "evil.zip", lambda: _zip(_good_pngs(2) + [("../../evil.png", _png())]),
             "error", "unsafe path '../../evil.png'"),
        Case("zip_absolute_path", "abs.zip", lambda: _zip(_good_pngs(2) + [("/etc/evil.png", _png())]),
             "error", "unsafe path"),
        Case("zip_bomb_ratio", "bomb.zip", lambda: _zip([("a.png", b"\x00" * (10 * MB)), ("b.png", _png())]),
             "error", "looks like a zip bomb"),
        Case("zip_nested_only", "nested.zip", lambda: _zip([("inner.zip", _zip(_good_pngs(2)))]), "error",
             "found: inner.zip"),
        Case("zip_nested_plus_images", "nested2.zip",
             lambda: _zip(_good_pngs(3) + [("more/inner.zip", _zip(_good_pngs(2)))]), "warning",
             "ignored 1 nested ZIP"),
        Case("zip_not_a_zip", "fake.zip", lambda: b"this is text, not a zip", "error", "not a valid ZIP archive"),
        Case("zip_empty_archive", "none.zip", lambda: _zip([]), "error", "contains no PNG or JPEG images"),
        Case("zip_single_image", "single.zip", lambda: _zip(_good_pngs(1)), "error", "has 1 readable image(s)"),
        Case("image_pixel_bomb", "pixbomb.zip",
             lambda: _zip(_good_pngs(2) + [("big.png", _png_header_only(20_000, 20_000))]), "error",
             "decompression-bomb guard"),
        Case("images_partly_in_folders", "folders.zip",
             lambda: _zip(_good_pngs(2, "cats/") + _good_pngs(2, "dogs/") + _good_pngs(1)), "warning",
             "folder names are not used as labels"),
        Case("image_side_out_of_range", "side.zip", lambda: _zip(_good_pngs(3)), "error",
             "image_side must be between 4 and 256", options={"image_side": 1000}, error="ConfigError"),
    ]
    ids = [c.case_id for c in out]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    return out


def corpus() -> list[tuple[str, str, bytes, str]]:
    """``[(case_id, filename, bytes, expected_message_substring)]`` for every case."""
    return [(c.case_id, c.filename, c.data(), c.message) for c in cases()]


__all__ = ["Case", "cases", "corpus"]
