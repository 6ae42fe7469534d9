"""A reusable "download N synthetic samples" panel: count, format, Prepare (with a progress bar),
then a download button. The bytes are built by :mod:`synth_core.train.export` in chunks."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from ..data import Dataset
from ..errors import SynthLabError
from ..train import Run, load_generator
from ..train.export import FORMATS, MAX_DOWNLOAD, build_download, download_filename, formats_for, generator_sampler

#: below this many samples the bytes are built without a progress bar (it would only flash)
PROGRESS_FROM = 2000


def _source(run_dir_or_run: Run | Path | str, dataset: Dataset | None) -> tuple[Any, Dataset, str]:
    """(object with .sample, dataset, file stem) for a live Run or a run folder on disk."""
    if isinstance(run_dir_or_run, Run):
        run = run_dir_or_run
        from ..data import load_dataset

        return run, dataset if dataset is not None else load_dataset(run.config.dataset), run.id
    path = Path(run_dir_or_run)
    gen, _config, ds = load_generator(path)
    return gen, dataset if dataset is not None else ds, path.name


def download_panel(run_dir_or_run: Run | Path | str, dataset: Dataset | None = None, *, key: str = "dl") -> None:
    """Draw the panel for a live ``Run`` or a run folder. ``dataset`` decodes the samples (default:
    the run's own dataset). ``key`` keeps two panels on one page apart."""
    kind = dataset.kind if dataset is not None else None
    if kind is None:
        try:
            kind = _source(run_dir_or_run, None)[1].kind
        except SynthLabError as exc:
            st.error(str(exc))
            return
    fmts = formats_for(kind)
    c1, c2, c3 = st.columns([2, 1, 1])
    n = int(c1.number_input("Synthetic samples", min_value=1, max_value=MAX_DOWNLOAD, value=1000, step=500,
                            key=f"{key}_n", help=f"1 to {MAX_DOWNLOAD:,}; large counts are drawn in chunks."))
    seed = int(c2.number_input("Seed", min_value=0, value=0, step=1, key=f"{key}_seed"))
    fmt = c3.selectbox("Format", fmts, format_func=lambda f: FORMATS[f][0], key=f"{key}_fmt",
                       help="PNG ZIP: one PNG per sample (samples/00001.png ...). CSV: your columns. "
                            "NPZ: arrays in your units (pixels 0-255, one array per column).")
    ident = str(run_dir_or_run.id if isinstance(run_dir_or_run, Run) else Path(run_dir_or_run).resolve())
    want = (ident, n, seed, fmt)
    state_key = f"{key}_prepared"
    if st.button("Prepare", key=f"{key}_prepare", icon=":material/build:"):
        bar = st.progress(0.0, text=f"Sampling {n:,}...") if n >= PROGRESS_FROM else None

        def progress(frac: float) -> None:
            if bar is not None:
                bar.progress(min(max(frac, 0.0), 1.0), text=f"Sampling {n:,}... {frac:.0%}")

        try:
            source, ds, stem = _source(run_dir_or_run, dataset)
            data = build_download(fmt, generator_sampler(source, ds, seed=seed), n, ds, progress=progress)
        except SynthLabError as exc:
            st.session_state.pop(state_key, None)
            st.error(str(exc))
        else:
            # one prepared file per panel: the previous one is released
            st.session_state[state_key] = {"want": want, "data": data, "name": download_filename(stem, fmt, n)}
        if bar is not None:
            bar.empty()
    prepared = st.session_state.get(state_key)
    if prepared and prepared["want"] == want:
        label, _ext, mime = FORMATS[fmt]
        st.download_button(f"Download {n:,} samples ({label}, {len(prepared['data']) / 1e6:,.1f} MB)",
                           prepared["data"], file_name=prepared["name"], mime=mime, key=f"{key}_download",
                           icon=":material/download:")
    elif prepared:
        st.caption("Settings changed: press Prepare again.")
