"""Bounded memory: no registered generator's footprint grows with the number of training steps.

For every generator on a points set and on images (tabular for the tabular-only families), after a
warm-up the test trains more steps and checks three measures do not grow:

1. the checkpoint (``state_dict``) size in bytes: tensors, arrays, strings, containers;
2. everything the generator object owns: tensors and arrays reachable from its attributes (nets,
   optimisers, caches, pools) plus the slots of every list/dict/deque, so an unbounded history list
   of floats shows up too;
3. Python allocations still alive that were made from ``synth_core`` code (``tracemalloc``), which
   catches growth kept outside the object (module-level caches, registries).

Caps that fill during training (MCMC's ``max_pool`` draw pool, its ESS window and teaching trace) are
reached in the warm-up by small MCMC settings, so "does not grow" is exact there too.
"""
from __future__ import annotations

import collections
import gc
import os
import tracemalloc
from typing import Any

import numpy as np
import pytest
import torch

from synth_core.generators import list_generators

from .conftest import TINY

#: small settings that make MCMC's capped buffers fill during the warm-up (4 chains, a draw kept at
#: every iteration, 64 iterations per step: the 256-draw ESS window is full after 4 steps).
OVERRIDES: dict[str, dict[str, Any]] = {
    "mcmc": {"n_chains": 4, "burn_in": 0, "thin": 1, "iters_per_step": 64, "max_pool": 100},
}
#: the two heaviest image models (a gradient-penalty double backward; a U-Net) run narrower and on smaller
#: batches: what is kept per step does not depend on the width, and the test stays fast.
IMAGE_OVERRIDES: dict[str, dict[str, Any]] = {
    "wgan_gp": {"width": 16, "batch_size": 32},
    "ddpm": {"width": 8, "batch_size": 32},
}
#: (warm-up steps, further steps): MCMC needs 10 warm-up steps before torch's small internal caches
#: stop growing (measured: +7.5 KB of live allocations from step 10 to 20, under 1 KB after).
STEPS: dict[str, tuple[int, int]] = {"mcmc": (10, 10)}
DEFAULT_STEPS = (4, 4)
SYNTH_CORE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep + "synth_core"


def _kinds(gen_cls) -> list[str]:
    kinds = [k for k in ("points", "image") if k in gen_cls.supports]
    return kinds or [k for k in ("tabular",) if k in gen_cls.supports]


CASES = [(g, k) for g in list_generators() for k in _kinds(g)]
IDS = [f"{g.name}-{k}" for g, k in CASES]


def footprint(obj: Any) -> int:
    """Bytes held by ``obj``: tensor storages and arrays (each counted once), string/bytes lengths and
    8 bytes per number or container slot, recursing through containers, modules, optimisers and
    plain objects' attributes."""
    seen: set[int] = set()
    storages: set[tuple[str, int]] = set()

    def walk(o: Any, depth: int) -> int:
        if isinstance(o, (int, float, complex, type(None))):
            return 8  # immutable scalars are shared by identity (small ints): count each use, not each object
        if isinstance(o, (str, bytes)):
            return len(o)
        if id(o) in seen or depth > 40:
            return 0
        seen.add(id(o))
        if isinstance(o, torch.Tensor):
            storage = o.untyped_storage()
            key = (str(o.device), storage.data_ptr())
            if key in storages:
                return 0
            storages.add(key)
            return storage.nbytes()
        if isinstance(o, np.ndarray):
            return o.nbytes
        if isinstance(o, (str, bytes, bytearray)):
            return len(o)
        if isinstance(o, torch.Generator):
            return walk(o.get_state(), depth + 1)
        if isinstance(o, dict):
            return 8 * len(o) + sum(walk(k, depth + 1) + walk(v, depth + 1) for k, v in o.items())
        if isinstance(o, (list, tuple, set, frozenset, collections.deque)):
            return 8 * len(o) + sum(walk(v, depth + 1) for v in o)
        if isinstance(o, (torch.nn.Module, torch.optim.Optimizer)) or (hasattr(o, "__dict__") and not callable(o)):
            return walk(vars(o), depth + 1)
        return 8  # numbers, None, devices, dtypes, functions, classes

    return walk(obj, 0)


def owned(g) -> int:
    """What the generator object owns, the dataset excluded (it is the input, not training state)."""
    return footprint({k: v for k, v in vars(g).items() if k != "dataset_"})


def synth_core_alloc(snapshot: tracemalloc.Snapshot) -> int:
    """Bytes of live Python allocations whose allocating frame is in ``synth_core``."""
    return sum(s.size for s in snapshot.filter_traces([tracemalloc.Filter(True, SYNTH_CORE + "*")]).statistics("filename"))


@pytest.mark.parametrize("gen_cls,kind", CASES, ids=IDS)
@pytest.mark.slow
def test_footprint_does_not_grow_with_steps(gen_cls, kind):
    ds = TINY[kind]()
    over = {**OVERRIDES.get(gen_cls.name, {}), **(IMAGE_OVERRIDES.get(gen_cls.name, {}) if kind == "image" else {})}
    g = gen_cls(**over).setup(ds, device="cpu", seed=0)
    warmup, more = STEPS.get(gen_cls.name, DEFAULT_STEPS)
    tracemalloc.start(1)
    try:
        for _ in range(warmup):
            g.train_step()
        g.sample(8, seed=0)
        gc.collect()
        state0, owned0, py0 = footprint(g.state_dict()), owned(g), synth_core_alloc(tracemalloc.take_snapshot())
        for _ in range(more):
            g.train_step()
        g.sample(8, seed=0)
        gc.collect()
        state1, owned1, py1 = footprint(g.state_dict()), owned(g), synth_core_alloc(tracemalloc.take_snapshot())
    finally:
        tracemalloc.stop()
    assert state1 <= state0, f"checkpoint grew from {state0} to {state1} bytes over {more} steps"
    assert owned1 <= owned0, f"the generator's own state grew from {owned0} to {owned1} bytes over {more} steps"
    # a few KB of slack: interned/cached small objects created on a later first use are not growth per step
    assert py1 - py0 < 16_384, f"live synth_core allocations grew by {py1 - py0} bytes over {more} steps"


def test_footprint_sees_a_growing_history():
    """The measure is not blind: a generator that keeps a per-step history list is caught."""
    gen_cls = next(g for g in list_generators("points") if g.name == "gaussian")
    g = gen_cls().setup(TINY["points"](), seed=0)
    before = owned(g)
    g.history_ = [float(i) for i in range(10)]
    assert owned(g) >= before + 10 * 8
    g.history_.append(1.0)
    assert owned(g) > before + 10 * 8


def test_mcmc_pool_is_capped_by_max_pool():
    """MCMC keeps at most ``max_pool`` draws, however long it runs."""
    gen_cls = next(g for g in list_generators("points") if g.name == "mcmc")
    g = gen_cls(**OVERRIDES["mcmc"]).setup(TINY["points"](), seed=0)
    for _ in range(6):
        g.train_step()
    assert len(g.pool_) == OVERRIDES["mcmc"]["max_pool"]
