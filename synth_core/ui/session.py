"""Per-browser-session state and the process-wide job manager, as the pages see them.

A browser session keeps only ids (dataset name, run id) in ``session_state``; the runs themselves
live in the process-wide :class:`~synth_core.train.JobManager`, so a page switch, a refresh or a
second tab re-attaches to the same run instead of losing it.
"""
from __future__ import annotations

from typing import Any

import streamlit as st

from ..data import Dataset, DatasetInfo, dataset_info, load_dataset  # noqa: F401 (load_dataset re-exported for pages)
from ..data.base import is_user_dataset
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


# ----------------------------------------------------------------------------------------------
# Uploads and drawings: each browser session sees only its own (built-ins are everyone's)
# ----------------------------------------------------------------------------------------------
UPLOADS_KEY = "uploads"
_PENDING_SELECT = "_pending_dataset_select"


def my_uploads() -> list[str]:
    """Names of the datasets this browser session made (uploaded or drew), oldest first."""
    return list(st.session_state.setdefault(UPLOADS_KEY, []))


def remember_own_dataset(name: str) -> None:
    """Add a dataset this session made (an upload, a drawing) to the ones its pickers offer."""
    uploads = my_uploads()
    if name not in uploads:
        uploads.append(name)
    st.session_state[UPLOADS_KEY] = uploads


def dataset_choices() -> list[str]:
    """What this session's dataset picker offers: every built-in, then its own uploads and drawings."""
    from ..data.user_data import builtin_datasets

    names = [d.name for d in builtin_datasets()] + my_uploads()
    current = dataset_name()
    if current not in names and is_user_dataset(current):
        names.append(current)  # chosen by this session (e.g. before its upload list was cleared)
    return names


def apply_pending_select(widget_key: str) -> None:
    """Call before drawing the dataset selectbox: a dataset chosen elsewhere (an upload) becomes its
    value. A widget's state cannot be set after the widget is drawn in the same run."""
    pending = st.session_state.pop(_PENDING_SELECT, None)
    if pending is not None:
        st.session_state[widget_key] = pending


def use_upload(filename: str, data: bytes, options: Any = None) -> DatasetInfo | None:
    """Save and select an uploaded file. On a :class:`SynthLabError` show it with ``st.error`` and
    return None: the previous dataset stays selected and nothing else changes."""
    from ..data.user_data import save_upload

    try:
        info = save_upload(filename, data, options)
        load_dataset(info.name)
    except SynthLabError as exc:
        st.error(str(exc))
        return None
    remember_own_dataset(info.name)
    st.session_state["dataset"] = info.name
    st.session_state[_PENDING_SELECT] = info.name
    return info
