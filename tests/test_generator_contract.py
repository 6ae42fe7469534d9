"""One contract suite over every registered generator and every data kind it supports
(scikit-learn's ``parametrize_with_checks`` idea): a few steps on tiny data, finite losses,
sample shape/range, same seed -> same samples, state round-trip through a weights-only checkpoint,
and every optional capability the generator declares (``Generator`` declares each one with its
default: label conditioning, labels, log density, latent decoding, critic, step-by-step updates,
sampler trace).

The checks are plain functions of ``(generator class, data kind)`` (:data:`CHECKS`), so a generator
that is not in the registry (tests/test_contributing_recipe.py's toy) can be held to the same contract.
"""
from __future__ import annotations

import io
from typing import Callable

import numpy as np
import pytest
import torch

from synth_core.data import Dataset, load_dataset
from synth_core.errors import ConfigError
from synth_core.generators import Generator, list_generators
from synth_core.params import resolve_params

from .conftest import TINY

CASES = [(g, kind) for g in list_generators() for kind in sorted(g.supports) if kind in TINY]
IDS = [f"{g.name}-{kind}" for g, kind in CASES]
STEPS = 3
LOSS_KINDS = (None, "ns", "wgan-gp")


def trained(gen_cls: type[Generator], kind: str, seed: int = 0) -> tuple[Generator, Dataset, list[dict[str, float]]]:
    """A generator set up on the tiny data of ``kind`` and trained a few steps (one for closed forms)."""
    ds = TINY[kind]()
    g = gen_cls().setup(ds, device="cpu", seed=seed)
    losses = [g.train_step() for _ in range(1 if gen_cls.closed_form else STEPS)]
    return g, ds, losses


def _finite_losses(losses: dict[str, float]) -> bool:
    return bool(losses) and all(isinstance(k, str) and np.isfinite(v) for k, v in losses.items())


# ---- the core contract ------------------------------------------------------------------------------
def check_declaration(gen_cls: type[Generator]) -> None:
    assert gen_cls.label and gen_cls.family and gen_cls.paper, "label, family and paper must be declared"
    assert gen_cls.default_steps >= 1
    # Every default lies inside its declared space (Param validates on construction; check again).
    defaults = resolve_params(gen_cls.params, {})
    assert set(defaults) == {p.name for p in gen_cls.params}
    # Capabilities are declared with the right types, and what one implies holds.
    for flag in ("conditions_on_label", "has_log_density", "has_latent", "has_critic", "has_trace"):
        assert isinstance(getattr(gen_cls, flag), bool), flag
    assert gen_cls.loss_kind in LOSS_KINDS
    assert not gen_cls.has_critic or gen_cls.loss_kind is not None, "a critic needs its loss declared"
    units = gen_cls.update_units
    assert isinstance(units, tuple) and units and all(isinstance(u, str) for u in units)
    # One sampling path: families implement _sample (or _sample_labelled), so sample() is always
    # sample_with_labels()'s draw without the labels.
    assert gen_cls.sample is Generator.sample and gen_cls.sample_with_labels is Generator.sample_with_labels


def check_steps_and_samples(gen_cls: type[Generator], kind: str) -> None:
    g, ds, losses = trained(gen_cls, kind)
    for step in losses:
        assert _finite_losses(step)
    x = g.sample(17, seed=1)
    assert x.shape == (17, *ds.sample_shape) and x.dtype == np.float32
    assert np.isfinite(x).all()
    if kind == "image":
        assert x.min() >= -1.0001 and x.max() <= 1.0001
    prev = g.preview()
    assert prev.shape[1:] == ds.sample_shape


def check_same_seed_same_samples(gen_cls: type[Generator], kind: str) -> None:
    a, _, _ = trained(gen_cls, kind, seed=7)
    b, _, _ = trained(gen_cls, kind, seed=7)
    np.testing.assert_allclose(a.sample(32, seed=3), b.sample(32, seed=3), rtol=1e-5, atol=1e-5)


def check_state_round_trip(gen_cls: type[Generator], kind: str) -> None:
    g, ds, _ = trained(gen_cls, kind, seed=5)
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


# ---- declared capabilities: each check takes a trained generator and its data ------------------------
def check_labels(g: Generator, ds: Dataset) -> None:
    """``sample_with_labels`` gives labels exactly when ``produces_labels`` (it is ``sample``'s draw:
    see :func:`check_declaration`); a ``conditional`` model gives the classes asked for, one per row."""
    x, y = g.sample_with_labels(6, seed=3)
    assert x.shape == (6, *ds.sample_shape) and np.isfinite(x).all()
    if g.produces_labels:
        assert y is not None and y.shape == (6,) and y.dtype == np.int64
        assert ((y >= 0) & (y < ds.n_classes)).all()
    else:
        assert y is None
    if type(g).conditions_on_label and ds.y is not None and ds.n_classes >= 2:
        assert g.conditional, "a label-conditioned family is conditional on labelled data (default params)"
    if not g.conditional:
        return
    assert type(g).conditions_on_label and g.produces_labels
    k = ds.n_classes
    for c in range(k):
        xc, yc = g.sample_with_labels(4, condition=c, seed=4)
        assert xc.shape == (4, *ds.sample_shape) and np.isfinite(xc).all()
        np.testing.assert_array_equal(yc, np.full(4, c))
    want = np.repeat(np.arange(k), 3)  # three rows of every class, in this order
    xw, yw = g.sample_with_labels(len(want), condition=want, seed=5)
    assert xw.shape == (len(want), *ds.sample_shape)
    np.testing.assert_array_equal(yw, want)
    np.testing.assert_array_equal(np.bincount(yw, minlength=k), np.full(k, 3))


def check_condition_columns(g: Generator, ds: Dataset) -> None:
    """Every column ``condition_columns()`` names can be conditioned on: each row gets the level asked
    for. Checked on a real table (categorical, boolean and label columns), with a fresh model of ``g``'s class."""
    cols = g.condition_columns()
    assert isinstance(cols, list)
    if not cols:
        return
    table = load_dataset("patients").subset(300, seed=0)
    h = type(g)().setup(table, device="cpu", seed=0)
    h.train_step()
    specs = {str(s.name): s for s in table.column_specs}
    names = h.condition_columns()
    assert names and table.label_spec is not None
    for name in names:
        spec = specs.get(str(name))
        if spec is None:  # the label
            assert str(name) == str(table.label_spec.name)
            _, y = h.sample_with_labels(12, condition={name: table.classes[1]}, seed=0)
            np.testing.assert_array_equal(y, np.ones(12))
        else:
            x, _ = h.sample_with_labels(12, condition={name: spec.levels[1]}, seed=0)
            np.testing.assert_array_equal(x[:, spec.span].argmax(1), np.ones(12))  # how the encoder decodes it


def check_log_density(g: Generator, ds: Dataset) -> None:
    """A declared log density gives finite float64 values, one per row, from arrays or tensors, with a
    differentiable hook; model-space ``log_density`` agrees where the model has no frequency view."""
    rows = np.asarray(g.dataset_.x[:13])
    if not g.has_log_density:
        assert g.log_density(ds.x[:13]) is None
        with pytest.raises(NotImplementedError):
            g.log_prob(rows)
        return
    lp = g.log_prob(rows)
    assert lp.shape == (13,) and lp.dtype == np.float64 and np.isfinite(lp).all()
    np.testing.assert_allclose(g.log_prob(torch.from_numpy(rows)), lp, rtol=1e-6, atol=1e-8)
    xt = torch.from_numpy(rows).double().reshape(13, -1).to(g.device_).requires_grad_(True)
    grad, = torch.autograd.grad(g._log_prob(xt).sum(), xt)
    assert grad.shape == xt.shape and torch.isfinite(grad).all()
    with pytest.raises(ConfigError):
        g.log_prob(np.zeros((3, g.dataset_.n_features + 1)))
    md = g.log_density(ds.x[:13])
    if g.view_ is None:
        np.testing.assert_allclose(md, lp, rtol=1e-6, atol=1e-8)
    else:
        assert md is None  # a frequency view has no density at one-hot rows


def check_latent(g: Generator, ds: Dataset) -> None:
    """A declared latent space decodes N latents to N finite samples of the data's shape."""
    size = g.latent_size()
    if not g.has_latent:
        assert size is None
        with pytest.raises(NotImplementedError):
            g.decode_latent(np.zeros((2, 1), np.float32))
        return
    assert isinstance(size, int) and size >= 1
    z = np.random.default_rng(0).standard_normal((5, size)).astype(np.float32)
    x = g.decode_latent(z)
    assert x.shape == (5, *ds.sample_shape) and x.dtype == np.float32 and np.isfinite(x).all()
    x2, y = g.decode_latent_with_labels(z)
    np.testing.assert_allclose(x2, x, rtol=1e-5, atol=1e-5)
    assert y is None or y.shape == (5,)
    if g.conditional:
        _, yc = g.decode_latent_with_labels(z, condition=1)
        np.testing.assert_array_equal(yc, np.ones(5))


def check_critic(g: Generator, ds: Dataset) -> None:
    """A declared critic gives one value per row and, with ``grad``, a finite direction per row."""
    x = np.asarray(g.dataset_.x[:9], dtype=np.float32).reshape(9, -1)
    out = g.critic(x)
    if not g.has_critic:
        assert out is None
        return
    value, none = out
    assert value.shape == (9,) and np.isfinite(value).all() and none is None
    if g.loss_kind == "ns":
        assert ((value >= 0) & (value <= 1)).all()  # a probability "real"
    value2, grad = g.critic(x, grad=True)
    np.testing.assert_allclose(value2, value, rtol=1e-5, atol=1e-6)
    assert grad.shape == (9, g.dataset_.n_features) and np.isfinite(grad).all()
    if g.conditional:
        v0, _ = g.critic(x, condition=0)
        assert v0.shape == (9,) and np.isfinite(v0).all()


def check_train_update(g: Generator, ds: Dataset) -> None:
    """Step-by-step mode: ``train_update`` runs the declared units in order, ``next_update`` predicts
    each, and ``step_`` advances by one exactly when the step's last unit is done."""
    units, start, seen = g.update_units, g.step_, []
    for _ in range(64):
        done, per = g.step_progress()
        assert 0 <= done <= per
        nxt = g.next_update()
        assert nxt in units
        what, losses = g.train_update()
        assert what == nxt and _finite_losses(losses)
        seen.append(what)
        if g.step_ != start:
            break
    assert g.step_ == start + 1
    assert seen[-1] == units[-1] and all(u in units[:-1] for u in seen[:-1]) and set(seen) == set(units)
    assert g.step_progress()[0] == 0  # a new step begins


def check_trace(g: Generator, ds: Dataset) -> None:
    """A declared sampler trace: proposals and states (T x C x D), accepted (T x C)."""
    if not g.has_trace:
        with pytest.raises(NotImplementedError):
            g.trace()
        return
    tr = g.trace()
    assert tr["proposals"].shape == tr["states"].shape and tr["states"].shape[-1] == g.dataset_.n_features
    assert tr["accepted"].shape == tr["states"].shape[:2] and tr["accepted"].dtype == bool


CAPABILITY_CHECKS: tuple[Callable[[Generator, Dataset], None], ...] = (
    check_labels, check_condition_columns, check_log_density, check_latent, check_critic, check_trace,
    check_train_update)


def check_capabilities(gen_cls: type[Generator], kind: str) -> None:
    g, ds, _ = trained(gen_cls, kind, seed=2)
    for check in CAPABILITY_CHECKS:  # train_update last: it trains one more step
        check(g, ds)


#: the whole contract for one (generator class, data kind): what tests/test_contributing_recipe.py reuses
CHECKS: tuple[Callable[[type[Generator], str], None], ...] = (
    check_steps_and_samples, check_same_seed_same_samples, check_state_round_trip, check_capabilities)


# ---- the suite over the registry -------------------------------------------------------------------
def test_registry_is_not_empty():
    names = [g.name for g in list_generators()]
    assert "gaussian" in names and "dcgan" in names
    assert len(names) == len(set(names))


@pytest.mark.parametrize("gen_cls", list_generators(), ids=[g.name for g in list_generators()])
def test_declaration(gen_cls):
    check_declaration(gen_cls)


@pytest.mark.slow
@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__.removeprefix("check_") for c in CHECKS])
@pytest.mark.parametrize("gen_cls,kind", CASES, ids=IDS)
def test_contract(gen_cls, kind, check):
    """Each check of the contract (steps and samples, same seed same samples, state round trip, every
    declared capability) on each registered generator and data kind it supports."""
    check(gen_cls, kind)


def test_every_capability_is_declared_by_some_generator():
    """Each capability the contract checks is exercised by at least one registered generator."""
    gens = list_generators()
    for flag in ("conditions_on_label", "has_log_density", "has_latent", "has_critic", "has_trace"):
        assert any(getattr(g, flag) for g in gens), flag
    assert {g.loss_kind for g in gens} >= {"ns", "wgan-gp"}
    assert any(len(g.update_units) > 1 for g in gens)


@pytest.mark.parametrize("gen_cls,kind", CASES, ids=IDS)
def test_moves_to_cuda_when_available(gen_cls, kind):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device on this machine")
    ds = TINY[kind]()
    g = gen_cls().setup(ds, device="cuda", seed=0)
    g.train_step()
    assert np.isfinite(g.sample(8, seed=0)).all()
