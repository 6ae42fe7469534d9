"""Per-browser-session state and the process-wide job manager, as the pages see them.

A browser session keeps only ids (dataset name, run id) in ``session_state``; the runs themselves
live in the process-wide :class:`~synth_core.train.JobManager`, so a page switch, a refresh or a
second tab re-attaches to the same run instead of losing it.
"""
from __future__ import annotations

import streamlit as st

from ..data import Dataset, dataset_info, load_dataset  # noqa: F401 (load_dataset re-exported for pages)
from ..errors import SynthLabError
from ..train import JobManager, Run, get_manager

DEFAULT_DATASET = "mnist"


def manager() -> JobManager:
    return get_manager()


def dataset_name() -> str:
    return st.session_state.setdefault("dataset", DEFAULT_DATASET)


def set_dataset(name: str) -> bool:
    """Switch dataset only if it loads; on failure keep the previous one and show why."""
    try:
        dataset_info(name)
        load_dataset(name)
    except SynthLabError as exc:
        st.error(str(exc))
        return False
    st.session_state["dataset"] = name
    return True


def current_dataset() -> Dataset:
    name = dataset_name()
    try:
        return load_dataset(name)
    except SynthLabError as exc:  # e.g. files removed since: fall back to the bundled default
        st.error(f"{exc} Falling back to {DEFAULT_DATASET}.")
        st.session_state["dataset"] = DEFAULT_DATASET
        return load_dataset(DEFAULT_DATASET)


def current_run() -> Run | None:
    """The run this session follows: session state, else ``?run=`` in the URL (survives a refresh),
    else the newest active run of the server (a new tab sees what is training)."""
    mgr = manager()
    rid = st.session_state.get("run_id") or st.query_params.get("run")
    run = mgr.get(rid) if rid else None
    if run is None and not st.session_state.get("run_detached"):
        run = mgr.latest()
    if run is not None:
        st.session_state["run_id"] = run.id
    return run


def follow(run: Run) -> None:
    st.session_state["run_id"] = run.id
    st.session_state.pop("run_detached", None)
    st.query_params["run"] = run.id
