"""The "pick a trained run" control and its model, shared by the pages that sample from a run
(Compare, Latent space): a live run's model under its lock, else the checkpoint on disk (cached)."""
from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from typing import Any, ContextManager

import numpy as np
import streamlit as st

from ..data import Dataset, load_dataset
from ..errors import TrainingError
from ..generators import Generator
from ..train import RunRecord, load_generator
from . import session


@dataclass
class TrainedModel:
    """A generator to sample from, its dataset, and the lock that keeps it off a training step."""

    gen: Generator
    dataset: Dataset
    step: int
    source: str  # "live model at step N" | "checkpoint at step N"
    lock: threading.Lock | None = None

    def locked(self) -> ContextManager[Any]:
        return self.lock if self.lock is not None else contextlib.nullcontext()

    def sample(self, n: int, condition: Any = None, seed: int | None = None) -> np.ndarray:
        return self.sample_with_labels(n, condition=condition, seed=seed)[0]

    def sample_with_labels(self, n: int, condition: Any = None, seed: int | None = None
                           ) -> tuple[np.ndarray, np.ndarray | None]:
        with self.locked():
            return self.gen.sample_with_labels(n, condition=condition, seed=seed)


def pick_run(key: str, empty_hint: str) -> RunRecord:
    """A selectbox over runs that have a model (live or a checkpoint), preselecting the session's run;
    with none, an info box pointing to Train and ``st.stop()``."""
    mgr = session.manager()
    records = [r for r in mgr.records() if r.checkpoint.is_file() or mgr.get(r.run_id) is not None]
    if not records:
        st.info(f"No trained runs yet. {empty_hint}")
        st.page_link("pages/train.py", label="Go to Train", icon=":material/model_training:")
        st.stop()
    by_id = {r.run_id: r for r in records}
    ids = list(by_id)
    current = st.session_state.get("run_id")

    def label(rid: str) -> str:
        r = by_id[rid]
        return (f"{r.config.get('generator')} on {r.config.get('dataset')} · {r.status.get('status')} "
                f"at step {r.status.get('step', 0):,} · {rid}")

    rid = st.selectbox("Run", ids, index=ids.index(current) if current in ids else 0, format_func=label, key=key)
    return by_id[rid]


@st.cache_resource(max_entries=4, show_spinner="Loading the checkpoint...")
def _disk_model(path: str, mtime: float) -> tuple[Generator, Dataset]:
    """One rebuilt generator per run folder and checkpoint version (the file time)."""
    gen, _config, ds = load_generator(path)
    return gen, ds


def trained_model(rec: RunRecord) -> TrainedModel:
    """The run's live model if it is training in this server, else its checkpoint on disk."""
    live = session.manager().get(rec.run_id)
    if live is not None and live.generator is not None:
        return TrainedModel(live.generator, load_dataset(live.config.dataset), live.step,
                            f"live model at step {live.step:,}", live.model_lock)
    if live is not None and not rec.checkpoint.is_file():
        raise TrainingError("This run has not built its model yet (it is queued or starting); try again in a moment.")
    gen, ds = _disk_model(str(rec.path), rec.checkpoint.stat().st_mtime)
    return TrainedModel(gen, ds, gen.step_, f"checkpoint at step {gen.step_:,}")
