"""Per-browser-session state and the process-wide job manager, as the pages see them.

A browser session keeps only ids (dataset name, run id) in ``session_state``; the runs themselves
live in the process-wide :class:`~synth_core.train.JobManager`, so a page switch, a refresh or a
second tab re-attaches to the same run instead of losing it.

The page address keeps what a refresh must not lose (``session_state`` starts empty after one):
``?run=`` the run this browser follows (on load the form is restored from that run's config: its
dataset, generator and hyperparameters) and ``?owner=`` a random token naming this person's own
uploads and drawings (``synth_core.data.owners``), so they stay listed after a refresh while other
browsers, which lack the token, still cannot see them.
"""
from __future__ import annotations

from typing import Any

import streamlit as st

from ..data import Dataset, DatasetInfo, dataset_info, load_dataset  # noqa: F401 (load_dataset re-exported for pages)
from ..data import owners
from ..data.base import is_user_dataset
from ..errors import SynthLabError
from ..train import JobManager, Run, get_manager, store
from ..train.store import upgrade_config
from ..viz.text import format_progress
from .widgets import set_values

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


# ----------------------------------------------------------------------------------------------
# What survives a refresh: the owner token and the followed run, in the page address
# ----------------------------------------------------------------------------------------------
OWNER_PARAM, RUN_PARAM = "owner", "run"
_RESTORED = "_restored_from_url"


def owner_token() -> str:
    """This browser's owner token: kept in the session, in the address (``?owner=``) so a refresh finds
    it again, and new when neither has a valid one."""
    tok = st.session_state.get(OWNER_PARAM)
    if not owners.valid_token(tok):
        q = st.query_params.get(OWNER_PARAM)
        tok = q if owners.valid_token(q) else owners.new_token()
        st.session_state[OWNER_PARAM] = tok
    if st.query_params.get(OWNER_PARAM) != tok:
        st.query_params[OWNER_PARAM] = tok
    return tok


def restore_from_url() -> None:
    """Call first in every script run (app.py). Keeps ``?owner=`` in the address; in a new browser
    session (a refresh, an opened link) lists the owner's own datasets again and restores the form from
    the run in ``?run=``."""
    tok = owner_token()
    if st.session_state.get(_RESTORED):
        return
    st.session_state[_RESTORED] = True
    for name in owners.owned(tok):
        try:
            dataset_info(name)  # still on disk (a saved upload or drawing)?
        except SynthLabError:
            continue
        _remember(name)
    rid = st.query_params.get(RUN_PARAM)
    if not rid:
        return
    try:
        live = manager().get(rid)
        cfg = live.config.to_dict() if live is not None else store.read_run(manager().root, rid).config
    except SynthLabError:
        return  # an unknown or malformed id: nothing to restore (never used as a path unchecked)
    restore_form(cfg)


def restore_form(cfg: dict[str, Any]) -> None:
    """Put a run's dataset, generator, steps, seed and hyperparameters back into the Train page's form.
    Someone else's upload or drawing is not selected (it stays private to its owner)."""
    cfg = upgrade_config(cfg)  # a run saved before a Param was renamed
    name, gen = cfg.get("dataset"), cfg.get("generator")
    if isinstance(name, str) and (not is_user_dataset(name) or name in my_uploads()):
        try:
            dataset_info(name)
            st.session_state["dataset"] = name
        except SynthLabError:
            pass
    if isinstance(gen, str):
        st.session_state["train_gen"] = gen
        st.session_state.pop("train_gen_select", None)  # the selectbox starts from train_gen
        if isinstance(cfg.get("params"), dict):
            set_values(gen, cfg["params"])
        run_values: dict[str, Any] = {k: cfg[k] for k in ("steps", "seed") if isinstance(cfg.get(k), int)}
        if isinstance(cfg.get("holdout"), (int, float)):
            run_values["holdout"] = float(cfg["holdout"])  # a run setting shown beside the generator's
        set_values(f"run/{gen}", run_values)


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
    url = st.query_params.get(RUN_PARAM)
    if url is not None:
        try:
            store.validate_run_id(url)
        except SynthLabError as exc:  # never used as a path; say so, then follow a real run
            st.warning(f"Ignoring the run in the address: {exc}")
            url = None
    rid = st.session_state.get("run_id") or url
    run = mgr.get(rid) if rid else None
    if run is None and not st.session_state.get("run_detached"):
        run = mgr.latest()
    if run is not None:
        st.session_state["run_id"] = run.id
        if st.query_params.get(RUN_PARAM) != run.id:
            st.query_params[RUN_PARAM] = run.id  # a refresh follows (and restores the form from) this run
    return run


def run_summary(run: Run) -> None:
    """The sidebar's "Run:" line and progress (the same steps/s and ETA as the Train page and the CLI:
    ``format_progress``), refreshed every 2 s while the run is active, on every page."""
    first = run.snapshot().status

    @st.fragment(run_every=2.0 if run.active else None)
    def _line() -> None:
        snap = run.snapshot()
        st.markdown(f"**Run:** `{snap.generator}` on `{snap.dataset}` ({snap.status})")
        st.caption(format_progress(snap))
        if snap.status != first and not snap.active:
            st.rerun(scope="app")  # finished/stopped/failed: polling stops, pages show the outcome

    _line()


def follow(run: Run) -> None:
    st.session_state["run_id"] = run.id
    st.session_state.pop("run_detached", None)
    st.query_params[RUN_PARAM] = run.id


# ----------------------------------------------------------------------------------------------
# Uploads and drawings: each browser session sees only its own (built-ins are everyone's)
# ----------------------------------------------------------------------------------------------
UPLOADS_KEY = "uploads"
_PENDING_SELECT = "_pending_dataset_select"


def my_uploads() -> list[str]:
    """Names of the datasets this browser session made (uploaded or drew), oldest first."""
    return list(st.session_state.setdefault(UPLOADS_KEY, []))


def _remember(name: str) -> None:
    uploads = my_uploads()
    if name not in uploads:
        uploads.append(name)
    st.session_state[UPLOADS_KEY] = uploads


def remember_own_dataset(name: str) -> None:
    """Add a dataset this session made (an upload, a drawing) to the ones its pickers offer, and to its
    owner token's list on disk, so a refresh lists it again."""
    _remember(name)
    owners.add(owner_token(), name)


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
