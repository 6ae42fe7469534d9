"""Downloadable artefacts of a run: losses as CSV, synthetic samples as NPZ/CSV/PNG ZIP (built in
chunks with a progress callback, so they are testable without Streamlit), history for charts."""
from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Any, Callable, Protocol

import numpy as np
import pandas as pd

from ..data.base import Dataset
from ..errors import ConfigError, TrainingError
from . import store


def metrics_csv(run_path: Path) -> bytes:
    rows = store.read_metrics(Path(run_path) / "metrics.jsonl")
    keys: list[str] = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=keys or ["step"])
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode()


def _plain_arrays(df: pd.DataFrame) -> dict[str, np.ndarray]:
    """DataFrame columns as NPZ-safe arrays: no object dtype (np.load refuses pickles)."""
    out = {}
    for c in df.columns:
        col = df[c]
        if pd.api.types.is_datetime64_any_dtype(col):
            out[str(c)] = col.to_numpy(dtype="datetime64[ns]")
        elif pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            out[str(c)] = col.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            out[str(c)] = col.astype("string").fillna("").to_numpy(dtype=str)
    return out


def samples_frame(x: np.ndarray, dataset: Dataset, y: np.ndarray | None = None) -> pd.DataFrame:
    """Rows in the user's space: a table's own columns (the label too: labelled tables need ``y``),
    named features for points."""
    if dataset.kind == "tabular":
        if y is None and dataset.y is not None and dataset.schema is not None:
            raise TrainingError(f"{dataset.name} has a label column, but these rows come without labels; "
                                f"sample them with sample_with_labels (synth_core.train.export.draw_labelled).")
        decoded = dataset.decode(x, y)  # type: ignore[call-arg]
    else:
        decoded = dataset.decode(x)
    if isinstance(decoded, pd.DataFrame):
        return decoded
    names = dataset.feature_names or [f"x{i}" for i in range(decoded.shape[1])]
    return pd.DataFrame(np.asarray(decoded, dtype=np.float64).round(6), columns=names)


class LabelledSampler(Protocol):
    """What draws labelled samples: a generator, a live :class:`~synth_core.train.Run` or a page's
    trained model (``Generator.sample_with_labels``)."""

    def sample_with_labels(self, n: int, condition: Any = None, seed: int | None = None
                           ) -> tuple[np.ndarray, np.ndarray | None]: ...


def draw_labelled(source: LabelledSampler, n: int, *, seed: int | None = 0, condition: Any = None
                  ) -> tuple[np.ndarray, np.ndarray | None]:
    """``n`` rows in model space and their label codes (None when the data has no label) from a
    generator, a live :class:`~synth_core.train.Run` or a page's trained model: the one sampling
    path behind every export, the CLI, Compare and reports (a Run locks its model while drawing)."""
    x, y = source.sample_with_labels(int(n), condition=condition, seed=seed)
    return np.asarray(x), None if y is None else np.asarray(y, dtype=np.int64)


def synthetic_frame(source: LabelledSampler, dataset: Dataset, n: int, *, seed: int | None = 0,
                    condition: Any = None) -> pd.DataFrame:
    """``n`` synthetic rows decoded to the user's table: exactly its columns, order and dtypes, label
    included (see :func:`draw_labelled`)."""
    x, y = draw_labelled(source, n, seed=seed, condition=condition)
    return samples_frame(x, dataset, y)


def samples_npz(x: np.ndarray, dataset: Dataset, y: np.ndarray | None = None) -> bytes:
    """Synthetic samples in the user's space (pixels 0-255 for images, one array per column for
    tables), plus labels if any."""
    if dataset.kind == "tabular":
        arrays = _plain_arrays(samples_frame(x, dataset, y))
    else:
        arrays = {"x": dataset.decode(x)}
    if y is not None:
        arrays["y"] = np.asarray(y)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def samples_csv(x: np.ndarray, dataset: Dataset, y: np.ndarray | None = None) -> bytes:
    """Points / tabular samples as CSV: the original columns and types for tables."""
    return samples_frame(x, dataset, y).to_csv(index=False).encode()


# ----------------------------------------------------------------------------------------------
# Large downloads, built in chunks (the Runs page and the CLI share these)
# ----------------------------------------------------------------------------------------------
#: a sampler draws ``count`` samples in model space for chunk ``index`` (each chunk its own seed),
#: returning x, or (x, y) with labels
Sampler = Callable[[int, int], "np.ndarray | tuple[np.ndarray, np.ndarray | None]"]
Progress = Callable[[float], None]

MAX_DOWNLOAD = 100_000
#: format id -> (button label, file extension, MIME type)
FORMATS: dict[str, tuple[str, str, str]] = {
    "csv": ("CSV", "csv", "text/csv"),
    "png-zip": ("PNG ZIP", "zip", "application/zip"),
    "npz": ("NPZ", "npz", "application/octet-stream"),
}


def formats_for(kind: str) -> list[str]:
    """Download formats that make sense for a dataset kind (images: PNG ZIP; rows: CSV; all: NPZ)."""
    return ["png-zip", "npz"] if kind == "image" else ["csv", "npz"]


def chunk_seed(seed: int, index: int) -> int:
    """Independent seeds per chunk: chunk 1 of seed 0 is not chunk 0 of seed 1."""
    return int(np.random.SeedSequence([int(seed), int(index)]).generate_state(1)[0] & 0x7FFFFFFF)


def generator_sampler(source: LabelledSampler, dataset: Dataset | None = None, *, seed: int = 0,
                      condition: Any = None) -> Sampler:
    """A :data:`Sampler` over a live :class:`~synth_core.train.Run`, a trained generator or a page's
    model: each chunk is :func:`draw_labelled` with its own seed, so tables keep their label column
    (unconditional models generate it, conditional ones draw it in the real class proportions)."""

    def sample(count: int, index: int):
        return draw_labelled(source, int(count), seed=chunk_seed(seed, index), condition=condition)

    return sample


def _chunks(n: int, chunk: int):
    done, i = 0, 0
    while done < n:
        k = min(chunk, n - done)
        yield i, k
        done += k
        i += 1


def _draw(sampler: Sampler, k: int, i: int) -> tuple[np.ndarray, np.ndarray | None]:
    out = sampler(k, i)
    x, y = out if isinstance(out, tuple) else (out, None)
    x = np.asarray(x)
    if len(x) != k:
        raise TrainingError(f"the generator returned {len(x)} samples instead of {k}.")
    return x, (None if y is None else np.asarray(y))


def _check_n(n: int) -> int:
    if not isinstance(n, (int, np.integer)) or not 1 <= int(n) <= MAX_DOWNLOAD:
        raise ConfigError(f"the number of samples must be between 1 and {MAX_DOWNLOAD:,}; got {n!r}.")
    return int(n)


def build_csv(sampler: Sampler, n: int, dataset: Dataset, *, chunk: int = 5000,
              progress: Progress | None = None) -> bytes:
    """N samples as CSV in the user's columns (tables decoded to their original types; points named)."""
    n = _check_n(n)
    if dataset.kind == "image":
        raise ConfigError("images download as a PNG ZIP or an NPZ, not CSV.")
    buf = io.StringIO()
    done = 0
    for i, k in _chunks(n, chunk):
        x, y = _draw(sampler, k, i)
        samples_frame(x, dataset, y).to_csv(buf, index=False, header=i == 0)
        done += k
        if progress:
            progress(done / n)
    return buf.getvalue().encode()


def png_name(i: int, n: int) -> str:
    """``samples/00001.png``: 1-based, zero-padded to at least 5 digits so files sort in order."""
    return f"samples/{i + 1:0{max(5, len(str(n)))}d}.png"


def build_png_zip(sampler: Sampler, n: int, dataset: Dataset, *, chunk: int = 1000,
                  progress: Progress | None = None) -> bytes:
    """N image samples as a ZIP of PNGs (decoded 0-255 pixels; gray or RGB), plus labels.csv when
    the sampler gives labels."""
    from PIL import Image

    n = _check_n(n)
    if dataset.kind != "image":
        raise ConfigError("a PNG ZIP is for image datasets; download rows as CSV or NPZ.")
    buf = io.BytesIO()
    labels: list[str] = []
    done = 0
    # PNG is deflated already: storing the members saves time for no loss of size
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for i, k in _chunks(n, chunk):
            x, y = _draw(sampler, k, i)
            pixels = dataset.decode(x)  # k x H x W x C uint8
            for j in range(k):
                img = pixels[j, ..., 0] if pixels.shape[-1] == 1 else pixels[j]
                png = io.BytesIO()
                Image.fromarray(img).save(png, format="PNG", compress_level=6)
                zf.writestr(png_name(done + j, n), png.getvalue())
                if y is not None:
                    c = int(y[j])
                    name = dataset.classes[c] if dataset.classes and 0 <= c < len(dataset.classes) else str(c)
                    labels.append(f"{png_name(done + j, n)},{name}")
            done += k
            if progress:
                progress(done / n)
        if labels:
            zf.writestr("labels.csv", "file,label\n" + "\n".join(labels) + "\n")
    return buf.getvalue()


def build_npz(sampler: Sampler, n: int, dataset: Dataset, *, chunk: int = 5000,
              progress: Progress | None = None) -> bytes:
    """N samples as NPZ in the user's space (see :func:`samples_npz`), drawn in chunks."""
    n = _check_n(n)
    xs, ys = [], []
    done = 0
    for i, k in _chunks(n, chunk):
        x, y = _draw(sampler, k, i)
        xs.append(x)
        ys.append(y)
        done += k
        if progress:
            progress(0.9 * done / n)  # the last tenth is the compression
    y_all = None if any(y is None for y in ys) else np.concatenate(ys)
    out = samples_npz(np.concatenate(xs), dataset, y_all)
    if progress:
        progress(1.0)
    return out


BUILDERS: dict[str, Callable[..., bytes]] = {"csv": build_csv, "png-zip": build_png_zip, "npz": build_npz}


def build_download(fmt: str, sampler: Sampler, n: int, dataset: Dataset, *,
                   progress: Progress | None = None) -> bytes:
    """Dispatch to the builder for ``fmt`` (one of :data:`FORMATS`), after checking it fits the data."""
    if fmt not in BUILDERS:
        raise ConfigError(f"unknown download format {fmt!r}; choose one of {', '.join(BUILDERS)}.")
    if fmt not in formats_for(dataset.kind):
        raise ConfigError(f"{FORMATS[fmt][0]} is not available for {dataset.kind} data; choose "
                          f"{' or '.join(FORMATS[f][0] for f in formats_for(dataset.kind))}.")
    return BUILDERS[fmt](sampler, n, dataset, progress=progress)


def download_filename(stem: str, fmt: str, n: int) -> str:
    """``<run id>-<n>-samples.<ext>``."""
    return f"{stem}-{n}-samples.{FORMATS[fmt][1]}"
