"""Shared fixtures. Tests never touch the network and never write outside a temp folder."""
from __future__ import annotations

import os

os.environ.setdefault("SYNTHLAB_OFFLINE", "1")
# AppTest and unit tests train in a thread of the test process (they inspect the live Run); the browser
# tests' servers use the app's default, a worker process per run (tests/e2e_support.py)
os.environ.setdefault("SYNTHLAB_EXECUTOR", "inline")

import numpy as np
import pytest
import torch

from synth_core.data import Dataset, load_dataset

# Under pytest-xdist (`make test` runs one worker per core) each worker trains on one thread: two workers
# with two threads each would oversubscribe the cores. A run alone uses up to two.
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
torch.set_num_threads(1 if _WORKERS > 1 else max(1, min(2, os.cpu_count() or 1)))

# Statistical and training tests take their seeds from stat_seed(). SYNTHLAB_TEST_SEED=k shifts every
# such seed by k (default 0: the seeds the documented numbers were measured with), so CI can rerun them
# on another seed set, e.g. `SYNTHLAB_TEST_SEED=7 make test`. Their thresholds hold with margin on any
# seed set (bench/margins.py measures them over seeds and torch thread counts 1 and 2). Oracle and
# recorded-value tests keep their fixed seeds.
SEED_OFFSET = int(os.environ.get("SYNTHLAB_TEST_SEED", "0") or 0)


def stat_seed(base: int = 0) -> int:
    """The seed a statistical test uses in place of ``base``: ``base`` plus SYNTHLAB_TEST_SEED."""
    return base + SEED_OFFSET


@pytest.fixture(scope="session", autouse=True)
def _session_cache(tmp_path_factory):
    """Judge caches go to a per-session temp folder: tests never write to ~/.cache, and a test run
    here behaves like one on a fresh CI machine (judges trained once per session)."""
    old = os.environ.get("SYNTHLAB_CACHE_DIR")
    os.environ["SYNTHLAB_CACHE_DIR"] = str(tmp_path_factory.mktemp("synthlab_cache"))
    yield
    if old is None:
        os.environ.pop("SYNTHLAB_CACHE_DIR", None)
    else:
        os.environ["SYNTHLAB_CACHE_DIR"] = old


@pytest.fixture(autouse=True)
def _isolated_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("SYNTHLAB_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("SYNTHLAB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SYNTHLAB_OFFLINE", "1")
    yield


def tiny_points(n: int = 512) -> Dataset:
    return load_dataset("ring8").subset(n, seed=0)


def tiny_images(n: int = 256) -> Dataset:
    return load_dataset("digits").subset(n, seed=0)


def tiny_tabular(n: int = 300, seed: int = 0, *, labelled: bool = True) -> Dataset:
    """A small correlated numeric table (3 columns) standing in for tabular data. With its label,
    unconditional models see 4 columns (the label is modelled jointly); ``labelled=False`` keeps the
    model space at exactly the 3 numeric columns (tests of a model's maths)."""
    rng = np.random.default_rng(seed)
    cov = np.array([[1.0, 0.6, -0.3], [0.6, 1.0, 0.2], [-0.3, 0.2, 1.0]])
    x = rng.multivariate_normal([0.5, -1.0, 2.0], cov, size=n)
    if not labelled:
        return Dataset(name="tiny-tabular", kind="tabular", x=x, feature_names=["a", "b", "c"])
    y = (x[:, 0] > 0.5).astype(int)
    return Dataset(name="tiny-tabular", kind="tabular", x=x, y=y, classes=["low", "high"],
                   feature_names=["a", "b", "c"])


TINY = {"points": tiny_points, "image": tiny_images, "tabular": tiny_tabular}


@pytest.fixture
def app():
    """A fresh AppTest of the whole app (caches cleared); runs it started are stopped afterwards."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from synth_core.train import get_manager

    from .e2e_support import ROOT

    st.cache_resource.clear()
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    yield at
    get_manager().stop_all()


def live_run(at):
    """The live Run an AppTest session is following (it must be one this server holds)."""
    from synth_core.train import get_manager

    run = get_manager().get(at.session_state["run_id"])
    assert run is not None, f"run {at.session_state['run_id']!r} is not live in this server"
    return run


def trace_names(fig) -> list[str]:
    """The names of a Plotly figure's traces (figure object or its JSON dict)."""
    data = fig["data"] if isinstance(fig, dict) else fig.data
    return [t["name"] if isinstance(t, dict) else t.name for t in data]
