"""Uploads: every bad input is generated here (no committed binaries) and must fail with a specific,
actionable SynthLabError - or be repaired with a specific warning - never a generic exception."""
from __future__ import annotations

import io
import zipfile
from typing import Any, Callable

import numpy as np
import pandas as pd
import pytest

from synth_core.data import Dataset
from synth_core.data.tabular import TabularDataset, infer_schema
from synth_core.data.tabular_sets import patients_frame
from synth_core.data.uploads import UploadOptions, load_upload, read_table, table_dataset
from synth_core.errors import ConfigError, DataError, SynthLabError


# ------------------------------------------------------------------------------------------------
# generators of files
# ------------------------------------------------------------------------------------------------
def png(arr: np.ndarray, fmt: str = "PNG") -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(arr, dtype=np.uint8)).save(buf, format=fmt)
    return buf.getvalue()


def npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=True)  # allow_pickle only so we can *write* the hostile object arrays
    return buf.getvalue()


def npz(*positional: np.ndarray, **arrays: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, *positional, **arrays)
    return buf.getvalue()


def zipped(entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, blob in entries.items():
            zf.writestr(name, blob)
    return buf.getvalue()


def csv_rows(n: int, header: str = "a,b,label", row: Callable[[int], str] | None = None) -> bytes:
    row = row or (lambda i: f"{i},{(i * 7) % 5}.5,{'yes' if i % 3 else 'no'}")
    return ("\n".join([header] + [row(i) for i in range(n)]) + "\n").encode()


def digit_images(k: int, seed: int = 0, side: int = 12, rgb: bool = False) -> list[bytes]:
    rng = np.random.default_rng(seed)
    shape = (side, side, 3) if rgb else (side, side)
    return [png(rng.integers(0, 256, shape)) for _ in range(k)]


GOOD_PNG = png(np.full((10, 10), 200))
CORRUPT_PNG = GOOD_PNG[:40]  # a PNG signature and header, then the data is cut off


@pytest.fixture
def bad_upload() -> Callable[[str], tuple[str, bytes, dict[str, Any]]]:
    """Builds a named bad input on demand: (filename, bytes, options)."""

    def zip_bomb() -> bytes:
        # 8 MB of zeros deflate to ~8 KB: a ratio of ~1000x, the signature of a zip bomb
        return zipped({"a.png": b"\0" * (8 * 1024 * 1024)})

    cases: dict[str, Callable[[], tuple[str, bytes, dict[str, Any]]]] = {
        "empty": lambda: ("d.csv", b"", {}),
        "whitespace": lambda: ("d.csv", b"  \n\n \n", {}),
        "header_only": lambda: ("d.csv", b"a,b,c\n", {}),
        "one_row": lambda: ("d.csv", b"a,b\n1,2\n", {}),
        "ragged": lambda: ("d.csv", b"a,b\n1,2\n3,4,5\n6,7\n", {}),
        "too_many_columns": lambda: ("d.csv", csv_rows(3, ",".join(f"c{i}" for i in range(501)),
                                                       lambda i: ",".join(["1"] * 501)), {}),
        "too_many_rows": lambda: ("d.csv", csv_rows(11), {"max_rows": 10}),
        "cell_too_long": lambda: ("d.csv", b"a,notes\n1,short\n2," + b"x" * 10_001 + b"\n", {}),
        "duplicate_names": lambda: ("d.csv", b"a,b,a\n1,2,3\n4,5,6\n", {}),
        "single_class_label": lambda: ("d.csv", b"a,y\n1,u\n2,u\n3,u\n", {"label": "y"}),
        "missing_label": lambda: ("d.csv", csv_rows(5), {"label": "nope"}),
        "continuous_label": lambda: ("d.csv", csv_rows(5), {"label": "b"}),
        "all_columns_empty": lambda: ("d.csv", b"a,b\n,\n,\n", {}),
        "binary_as_csv": lambda: ("d.csv", GOOD_PNG, {}),
        "nul_bytes": lambda: ("d.csv", b"a,b\n1,\x002\n3,4\n", {}),
        "unsupported": lambda: ("d.xlsx", b"PK\x03\x04...", {}),
        "oversize": lambda: ("d.csv", csv_rows(50), {"max_bytes": 100}),
        "bad_parquet": lambda: ("d.parquet", b"PAR1 not really", {}),
        "npy_object": lambda: ("d.npy", npy(np.array([{"a": 1}, [2]], dtype=object)), {}),
        "npz_object_y": lambda: ("d.npz", npz(x=np.zeros((4, 3)), y=np.array(["a", None, 1, 2.0], dtype=object)), {}),
        "npy_text": lambda: ("d.npy", npy(np.array([["a", "b"], ["c", "d"]])), {}),
        "npy_1d": lambda: ("d.npy", npy(np.arange(10.0)), {}),
        "npy_5d": lambda: ("d.npy", npy(np.zeros((2, 2, 2, 2, 2))), {}),
        "npz_no_x": lambda: ("d.npz", npz(a=np.zeros((3, 2)), b=np.zeros(3)), {}),
        "y_wrong_length": lambda: ("d.npz", npz(x=np.zeros((10, 3)), y=np.zeros(9, dtype=int)), {}),
        "y_not_integer": lambda: ("d.npz", npz(x=np.zeros((4, 3)), y=np.array([0.5, 1, 2, 0])), {}),
        "y_2d": lambda: ("d.npz", npz(x=np.zeros((4, 3)), y=np.zeros((4, 3), dtype=int)), {}),
        "x_nan": lambda: ("d.npy", npy(np.array([[1.0, np.nan, 2.0], [1.0, 2.0, np.inf]])), {}),
        "image_range": lambda: ("d.npy", npy(np.linspace(-5, 300, 2 * 8 * 8).reshape(2, 8, 8)), {}),
        "image_channels": lambda: ("d.npy", npy(np.zeros((3, 5, 6, 7))), {}),
        "image_too_small": lambda: ("d.npy", npy(np.zeros((3, 2, 2))), {}),
        "flattened_images": lambda: ("d.npy", npy(np.zeros((3, 784))), {}),
        "npy_too_big": lambda: ("d.npy", npy(np.zeros((100, 10))), {"max_elements": 999}),
        "npz_not_zip": lambda: ("d.npz", b"definitely not a zip", {}),
        "npy_garbage": lambda: ("d.npy", b"\x93NUMPY garbage", {}),
        "zip_traversal": lambda: ("d.zip", zipped({"ok/a.png": GOOD_PNG, "../evil.png": GOOD_PNG}), {}),
        "zip_absolute": lambda: ("d.zip", zipped({"/etc/evil.png": GOOD_PNG}), {}),
        "zip_bomb": lambda: ("d.zip", zip_bomb(), {}),
        "zip_too_many_files": lambda: ("d.zip", zipped({f"{i}.png": GOOD_PNG for i in range(6)}), {"max_files": 5}),
        "zip_unpacks_too_big": lambda: ("d.zip", zipped({"a.png": GOOD_PNG, "b.png": GOOD_PNG}),
                                        {"max_uncompressed": len(GOOD_PNG) + 10}),
        "zip_no_images": lambda: ("d.zip", zipped({"readme.txt": b"hi", "inner.zip": zipped({"a.png": GOOD_PNG})}), {}),
        "zip_only_corrupt": lambda: ("d.zip", zipped({"bad.png": CORRUPT_PNG}), {}),
        "zip_corrupt_strict": lambda: ("d.zip", zipped({"a.png": GOOD_PNG, "b.png": GOOD_PNG, "bad.png": CORRUPT_PNG}),
                                       {"skip_bad_images": False}),
        "zip_image_too_many_pixels": lambda: ("d.zip", zipped({"a.png": png(np.zeros((60, 60))),
                                                               "b.png": GOOD_PNG}), {"max_image_pixels": 1000}),
        "zip_not_zip": lambda: ("d.zip", b"PK but not really", {}),
        "zip_one_image": lambda: ("d.zip", zipped({"a.png": GOOD_PNG}), {}),
    }

    def make(case: str) -> tuple[str, bytes, dict[str, Any]]:
        return cases[case]()

    make.cases = sorted(cases)  # type: ignore[attr-defined]
    return make


# case -> (exception type, message regex). Each message says what is wrong and what to do.
BAD: dict[str, tuple[type[SynthLabError], str]] = {
    "empty": (DataError, r"'d.csv' is empty \(0 bytes\)"),
    "whitespace": (DataError, r"has no content \(only whitespace\)"),
    "header_only": (DataError, r"has a header \(3 columns\) but no data rows"),
    "one_row": (DataError, r"has only 1 data row; at least 2 are needed"),
    "ragged": (DataError, r"line 3 has 3 fields but the header has 2 \(delimiter: comma\)"),
    "too_many_columns": (DataError, r"has 501 columns; the limit is 500"),
    "too_many_rows": (DataError, r"more than 10 data rows \(the limit\)\. Upload a random sample"),
    "cell_too_long": (DataError, r"line 3, column 'notes' has a 10,001-character cell; the limit is 10,000"),
    "duplicate_names": (DataError, r"duplicate column names: 'a' \(columns 1 and 3\)"),
    "single_class_label": (DataError, r"label column 'y' has a single class \('u'\)"),
    "missing_label": (DataError, r"label column 'nope' is not in 'd.csv'"),
    "continuous_label": (ConfigError, r"label column 'b' is continuous: a label must be discrete"),
    "all_columns_empty": (DataError, r"every column is empty"),
    "binary_as_csv": (DataError, r"is a binary file \(ZIP, PNG or Parquet\), not CSV text"),
    "nul_bytes": (DataError, r"contains NUL bytes"),
    "unsupported": (DataError, r"unsupported file type '.xlsx'.*export spreadsheets as CSV"),
    "oversize": (DataError, r"the upload limit is 100 bytes \(0.0 MB\)"),
    "bad_parquet": (DataError, r"is not a valid Parquet file"),
    "npy_object": (DataError, r"holds Python objects \(dtype=object\), which SynthLab never unpickles"),
    "npz_object_y": (DataError, r"y holds Python objects \(dtype=object\)"),
    "npy_text": (DataError, r"has dtype <U1 \(text\); x must be numeric"),
    "npy_1d": (DataError, r"x is 1-D \(shape \(10,\)\).*x.reshape\(-1, 1\)"),
    "npy_5d": (DataError, r"x has 5 dimensions .* at most 4"),
    "npz_no_x": (DataError, r"needs an array named 'x' \(and optionally 'y'\); it has: a, b"),
    "y_wrong_length": (DataError, r"y has 9 labels but x has 10 rows"),
    "y_not_integer": (DataError, r"y holds non-integer numbers.*regression target belongs in x"),
    "y_2d": (DataError, r"y has shape \(4, 3\).*y.argmax\(1\)"),
    "x_nan": (DataError, r"x has 2 NaN/inf value\(s\)"),
    "image_range": (DataError, r"image values span \[-5, 300\]"),
    "image_channels": (DataError, r"cannot tell the channels of x with shape \(3, 5, 6, 7\)"),
    "image_too_small": (DataError, r"images are 2x2; sides must be 4..256 pixels"),
    "flattened_images": (DataError, r"784 features.*flattened 28x28 images, save x.reshape\(-1, 28, 28\)"),
    "npy_too_big": (DataError, r"shape \(100, 10\) = 1,000 numbers; the limit is 999"),
    "npz_not_zip": (DataError, r"is not a valid .npz file"),
    "npy_garbage": (DataError, r"is not a valid .npy array"),
    "zip_traversal": (DataError, r"unsafe path '../evil.png' \(absolute or with '..'\)"),
    "zip_absolute": (DataError, r"unsafe path '/etc/evil.png'"),
    "zip_bomb": (DataError, r"entry 'a.png' expands [\d,]+x .*zip bomb"),
    "zip_too_many_files": (DataError, r"holds 6 files; the limit is 5"),
    "zip_unpacks_too_big": (DataError, r"unpacks to .* MB; the limit is"),
    "zip_no_images": (DataError, r"contains no PNG or JPEG images \(found: inner.zip, readme.txt\)"),
    "zip_only_corrupt": (DataError, r"none of the 1 images could be read; e.g. 'bad.png' is not a readable image"),
    "zip_corrupt_strict": (DataError, r"'bad.png' is not a readable image .*Remove or re-save that file"),
    "zip_image_too_many_pixels": (DataError, r"image 'a.png' is 60x60 = 3,600 pixels; the limit is 1,000"),
    "zip_not_zip": (DataError, r"is not a valid ZIP archive"),
    "zip_one_image": (DataError, r"has 1 readable image\(s\); at least 2 are needed"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_fails_with_a_specific_message(case, bad_upload):
    name, data, opts = bad_upload(case)
    exc_type, pattern = BAD[case]
    with pytest.raises(exc_type, match=pattern) as info:
        load_upload(name, data, options=opts)
    assert isinstance(info.value, SynthLabError)  # never a raw ValueError/KeyError/OSError


def test_every_generated_case_is_checked(bad_upload):
    assert set(bad_upload.cases) == set(BAD)  # type: ignore[attr-defined]


def test_bad_options_are_config_errors():
    with pytest.raises(ConfigError, match="image_side must be between 4 and 256"):
        load_upload("d.zip", b"x", options={"image_side": 1000})
    with pytest.raises(ConfigError, match="unknown upload option"):
        load_upload("d.csv", b"a\n1\n", options={"side": 3})
    with pytest.raises(ConfigError, match="color must be"):
        UploadOptions(color="sepia")


# ------------------------------------------------------------------------------------------------
# repaired with a warning
# ------------------------------------------------------------------------------------------------
def _warns(ds: Dataset, pattern: str) -> None:
    import re

    ws = ds.warnings
    assert any(re.search(pattern, w) for w in ws), ws


def test_latin1_csv_is_read_with_a_note():
    data = "city,n\nZürich,1\nCôte,2\nOslo,3\n".encode("latin-1")
    ds = load_upload("d.csv", data)
    _warns(ds, r"not UTF-8 \(first bad byte at position 8\); read it as Windows-1252")
    assert ds.frame()["city"].tolist() == ["Zürich", "Côte", "Oslo"]
    odd = load_upload("d.csv", b"k,n\na\x81b,1\nc,2\n")  # 0x81 is undefined in Windows-1252
    _warns(odd, r"read it as Latin-1")
    assert odd.frame()["k"].tolist() == ["a\x81b", "c"]


def test_utf8_bom_and_semicolons_and_utf16():
    text = "größe;farbe\n1,5;rot\n2,5;blau\n3,0;rot\n"
    ds = load_upload("d.csv", ("\ufeff" + text).encode("utf-8"))
    assert list(ds.frame().columns) == ["größe", "farbe"]  # BOM stripped, delimiter ';' sniffed
    assert ds.frame()["größe"].tolist() == [1.5, 2.5, 3.0]  # ';' files write decimal commas
    points = load_upload("d.csv", b"a;b\n1.5;x\n2.25;y\n3;x\n")  # ... unless they use points
    assert points.frame()["a"].tolist() == [1.5, 2.25, 3.0]
    ds16 = load_upload("d.csv", text.encode("utf-16"))
    assert list(ds16.frame().columns) == ["größe", "farbe"]
    tab = load_upload("d.tsv", b"a\tb\n1\t2\n3\t4\n5\t6\n")
    assert list(tab.frame().columns) == ["a", "b"]


def test_all_nan_column_is_dropped_with_a_warning():
    ds = load_upload("d.csv", csv_rows(20, "a,b,label,empty", lambda i: f"{i},{i % 4}.5,{'x' if i % 2 else 'y'},"))
    _warns(ds, r"dropped 1 column\(s\) with no values at all: 'empty'")
    assert "empty" not in ds.frame().columns


def test_inf_is_missing_with_a_warning():
    ds = load_upload("d.csv", csv_rows(20, "a,b,label",
                                       lambda i: f"{i},{'inf' if i == 3 else '-inf' if i == 4 else i / 2},z{i % 2}"))
    _warns(ds, r"column 'b': 2 infinite value\(s\) treated as missing")
    b = ds.frame()["b"]
    assert b.isna().tolist()[3:5] == [True, True] and b.notna().sum() == 18
    assert "b.missing" in ds.feature_names  # missing values are modelled, not dropped


def test_constant_column_is_kept_with_a_warning():
    ds = load_upload("d.csv", csv_rows(20, "a,c,label", lambda i: f"{i},7,z{i % 2}"))
    _warns(ds, r"column 'c' has a single value \(7\); it is kept but carries no information")
    assert (ds.frame()["c"] == 7).all()


def test_mixed_types_are_reported():
    mostly = csv_rows(30, "a,b", lambda i: f"{i},{'?' if i == 5 else i * 2}")
    ds = load_upload("d.csv", mostly)
    _warns(ds, r"column 'b' is numeric but 1 cell\(s\) are not numbers \('\?'\); they are treated as missing")
    assert ds.schema["b"].type == "integer" and ds.frame()["b"].isna().sum() == 1
    half = csv_rows(30, "a,b", lambda i: f"{i},{'word' if i % 2 else i}")
    ds2 = load_upload("d.csv", half)
    _warns(ds2, r"column 'b' mixes numbers and text \(15 numeric of 30\); it is treated as categorical")
    assert ds2.schema["b"].type == "categorical"


def test_long_free_text_is_left_out_of_the_model():
    ds = load_upload("d.csv", csv_rows(150, "a,notes", lambda i: f"{i},{'lorem ipsum ' * 40}{i}"))
    col = ds.schema["notes"]
    assert not col.include and "ID or free text" in col.note
    assert not any(n.startswith("notes") for n in ds.feature_names)


def test_unnamed_column_and_few_rows_warn():
    ds = load_upload("d.csv", b",a\n0,1\n1,2\n2,5\n")
    _warns(ds, r"called column_1; a first unnamed column is often a saved row index")
    _warns(ds, r"only 3 rows")


def test_npz_single_class_y_is_dropped_with_warning():
    ds = load_upload("d.npz", npz(x=np.random.default_rng(0).normal(size=(20, 3)), y=np.ones(20, dtype=int)))
    assert ds.y is None
    _warns(ds, r"y has a single class \(1\); the labels are ignored")


def test_zip_skips_nested_zip_non_images_and_corrupt_images():
    entries = {f"imgs/{i}.png": b for i, b in enumerate(digit_images(4))}
    entries.update({"imgs/notes.txt": b"hello", "imgs/more.zip": zipped({"x.png": GOOD_PNG}),
                    "imgs/broken.png": CORRUPT_PNG, "__MACOSX/imgs/._0.png": b"junk", "imgs/.DS_Store": b"x"})
    ds = load_upload("d.zip", zipped(entries))
    assert ds.x.shape == (4, 1, 28, 28)
    _warns(ds, r"ignored 1 nested ZIP file\(s\) \(imgs/more.zip\)")
    _warns(ds, r"skipped 1 file\(s\) that are not PNG/JPEG: imgs/notes.txt\.")
    _warns(ds, r"skipped 1 unreadable image\(s\): 'imgs/broken.png' is not a readable image")
    assert not any("MACOSX" in w or "DS_Store" in w for w in ds.warnings)
    assert ds.meta["upload"]["skipped"] == 1


def test_npz_rgba_images_drop_alpha():
    x = np.random.default_rng(0).integers(0, 256, size=(5, 8, 8, 4), dtype=np.uint8)
    ds = load_upload("d.npz", npz(x=x))
    assert ds.x.shape == (5, 3, 8, 8)
    _warns(ds, r"dropped the alpha channel")


# ------------------------------------------------------------------------------------------------
# good paths
# ------------------------------------------------------------------------------------------------
def test_csv_good_path_mixed_types_round_trip():
    src = patients_frame(300)
    data = src.to_csv(index=False).encode()
    df, warnings = read_table("patients.csv", data)
    assert str(df["admitted"].dtype).startswith("datetime64")  # ISO date text parsed
    schema = infer_schema(df).set_label("risk")
    ds = table_dataset(df, "patients.csv", options={"schema": schema.to_dict()})
    assert isinstance(ds, TabularDataset) and ds.name == "upload-patients" and ds.classes == ["high", "low", "medium"]
    dec = ds.frame()
    pd.testing.assert_frame_equal(dec, src)  # the user's values and dtypes (int, bool, date, text) back
    assert dec["smoker"].dtype == bool and dec["region"].isna().sum() == src["region"].isna().sum()
    same = load_upload("patients.csv", data, options=UploadOptions(label="risk"))
    np.testing.assert_array_equal(same.x, ds.x)
    assert same.meta["upload"] == {"filename": "patients.csv", "format": "csv", "rows": 300, "columns": 10}


def test_parquet_good_path():
    src = patients_frame(100)
    buf = io.BytesIO()
    src.to_parquet(buf, index=False)
    ds = load_upload("p.parquet", buf.getvalue(), options={"label": "risk"})
    dec = ds.frame()
    pd.testing.assert_frame_equal(dec, src)
    with pytest.raises(DataError, match=r"has 100 rows; the limit is 50"):
        load_upload("p.parquet", buf.getvalue(), options={"max_rows": 50})


def test_npz_good_paths_points_tabular_images():
    rng = np.random.default_rng(0)
    pts = load_upload("pts.npz", npz(x=rng.normal(size=(50, 2)), y=np.repeat(["a", "b"], 25)))
    assert pts.kind == "points" and pts.classes == ["a", "b"] and pts.feature_names == ["x", "y"]
    tab = load_upload("tab.npy", npy(rng.normal(size=(40, 5)).astype(np.float32)))
    assert tab.kind == "tabular" and tab.x.shape == (40, 5) and tab.y is None
    pixels = rng.integers(0, 256, size=(12, 16, 16), dtype=np.uint8)
    img = load_upload("img.npz", npz(x=pixels, y=np.arange(12) % 3))
    assert img.kind == "image" and img.x.shape == (12, 1, 16, 16) and img.x.min() >= -1 and img.x.max() <= 1
    np.testing.assert_array_equal(img.decode(img.x)[..., 0], pixels)  # 0..255 scaling detected and inverted
    assert img.classes == ["0", "1", "2"]
    unit = load_upload("u.npy", npy(pixels.astype(np.float32) / 255.0))  # 0..1 detected
    np.testing.assert_allclose(unit.x, img.x, atol=1e-5)
    chw = load_upload("chw.npz", npz(x=rng.random((6, 3, 10, 10)).astype(np.float32)))
    hwc = load_upload("hwc.npz", npz(x=np.moveaxis(chw.x, 1, -1) * 0.5 + 0.5))
    assert chw.x.shape == hwc.x.shape == (6, 3, 10, 10)
    np.testing.assert_allclose(chw.x, hwc.x, atol=1e-5)
    positional = load_upload("pos.npz", npz(rng.normal(size=(10, 3)), np.arange(10) % 2))  # arr_0, arr_1
    assert positional.x.shape == (10, 3) and positional.classes == ["0", "1"]


def test_zip_good_path_with_class_folders():
    entries = {}
    for cls, seed in (("cat", 1), ("dog", 2)):
        for i, blob in enumerate(digit_images(3, seed=seed, side=20)):
            entries[f"pets/{cls}/{i}.png"] = blob
    entries["pets/dog/3.jpg"] = png(np.full((30, 40), 90), fmt="JPEG")  # not square: centre-cropped
    ds = load_upload("pets.zip", zipped(entries), options={"image_side": 16})
    assert ds.kind == "image" and ds.x.shape == (7, 1, 16, 16)
    assert ds.classes == ["cat", "dog"] and ds.y.tolist() == [0, 0, 0, 1, 1, 1, 1]
    assert ds.x.min() >= -1 and ds.x.max() <= 1
    # the one 40x30 photo among 20x20 ones is cropped: said once, with the sizes
    assert ds.warnings == ["the images have 2 different sizes (e.g. 20x20 (6), 40x30 (1)); each was "
                                   "centre-cropped to a square and resized to 16x16."]
    rgb = load_upload("c.zip", zipped({f"{i}.png": b for i, b in enumerate(digit_images(3, rgb=True))}))
    assert rgb.x.shape == (3, 3, 28, 28) and rgb.y is None  # colour detected, no folders -> no labels
    gray = load_upload("c.zip", zipped({f"{i}.png": b for i, b in enumerate(digit_images(3, rgb=True))}),
                       options={"color": "grayscale"})
    assert gray.x.shape == (3, 1, 28, 28)
    forced = load_upload("g.zip", zipped({"a.png": GOOD_PNG, "b.png": GOOD_PNG}), options={"color": "rgb"})
    assert forced.x.shape == (2, 3, 28, 28)
    np.testing.assert_allclose(forced.x, 200 / 127.5 - 1, atol=1e-6)  # a flat image stays flat


def test_stored_zip_is_fine_and_mixed_folders_are_unlabelled():
    entries = {"a/1.png": GOOD_PNG, "a/2.png": GOOD_PNG, "3.png": GOOD_PNG}
    ds = load_upload("m.zip", zipped(entries, compression=zipfile.ZIP_STORED))
    assert ds.y is None
    _warns(ds, r"some images are in sub-folders and some are not")
