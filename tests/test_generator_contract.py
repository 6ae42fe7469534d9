"""One contract suite over every registered generator and every data kind it supports
(scikit-learn's ``parametrize_with_checks`` idea): a few steps on tiny data, finite losses,
sample shape/range, same seed -> same samples, state round-trip through a weights-only checkpoint."""
from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from synth_core.generators import list_generators
from synth_core.params import resolve_params

from .conftest import TINY

CASES = [(g, kind) for g in list_generators() for kind in sorted(g.supports) if kind in TINY]
IDS = [f"{g.name}-{kind}" for g, kind in CASES]
STEPS = 3


def _trained(gen_cls, kind, seed=0):
    ds = TINY[kind]()
    g = gen_cls().setup(ds, device="cpu", seed=seed)
    losses = [g.train_step() for _ in range(1 if gen_cls.closed_form else STEPS)]
    return g, ds, losses


def test_registry_is_not_empty():
    names = [g.name for g in list_generators()]
    assert "gaussian" in names and "dcgan" in names
    assert len(names) == len(set(names))


@pytest.mark.parametrize("gen_cls", list_generators(), ids=[g.name for g in list_generators()])
def test_declaration(gen_cls):
    assert gen_cls.label and gen_cls.family and gen_cls.paper, "label, family and paper must be declared"
    assert gen_cls.default_steps >= 1
    # Every default lies inside its declared space (Param validates on construction; check again).
    defaults = resolve_params(gen_cls.params, {})
    assert set(defaults) == {p.name for p in gen_cls.params}


@pytest.mark.parametrize("gen_cls,kind", CASES, ids=IDS)
def test_steps_and_samples(gen_cls, kind):
    g, ds, losses = _trained(gen_cls, kind)
    for step in losses:
        assert step and all(isinstance(k, str) and np.isfinite(v) for k, v in step.items())
    x = g.sample(17, seed=1)
    assert x.shape == (17, *ds.sample_shape) and x.dtype == np.float32
    assert np.isfinite(x).all()
    if kind == "image":
        assert x.min() >= -1.0001 and x.max() <= 1.0001
    prev = g.preview()
    assert prev.shape[1:] == ds.sample_shape


@pytest.mark.parametrize("gen_cls,kind", CASES, ids=IDS)
def test_same_seed_same_samples(gen_cls, kind):
    a, _, _ = _trained(gen_cls, kind, seed=7)
    b, _, _ = _trained(gen_cls, kind, seed=7)
    np.testing.assert_allclose(a.sample(32, seed=3), b.sample(32, seed=3), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("gen_cls,kind", CASES, ids=IDS)
def test_state_round_trip(gen_cls, kind):
    g, ds, _ = _trained(gen_cls, kind, seed=5)
    buf = io.BytesIO()
    torch.save(g.state_dict(), buf)
    buf.seek(0)
    state = torch.load(buf, weights_only=True)  # checkpoints must be plain data
    h = gen_cls().setup(ds, device="cpu", seed=99)
    h.load_state_dict(state)
    np.testing.assert_allclose(g.sample(32, seed=4), h.sample(32, seed=4), rtol=1e-5, atol=1e-5)
    # Training continues from the restored state exactly as from the original.
    if not gen_cls.closed_form:
        np.testing.assert_allclose(list(g.train_step().values()), list(h.train_step().values()), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("gen_cls,kind", CASES, ids=IDS)
def test_moves_to_cuda_when_available(gen_cls, kind):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device on this machine")
    ds = TINY[kind]()
    g = gen_cls().setup(ds, device="cuda", seed=0)
    g.train_step()
    assert np.isfinite(g.sample(8, seed=0)).all()
