"""Parts several generators share, each written once.

- the cosine learning-rate schedule and its three Params (WGAN-GP, RealNVP);
- a weight EMA: the sampling copy of a net follows an exponential moving average of its weights
  (the GANs' ``g_ema``, DDPM's ``ema``);
- per-feature standardisation of points and tabular rows (VAE, DDPM, RealNVP);
- the rule the conv nets impose on images: square, side divisible by 4 (two stride-2 stages);
- "needs a labelled dataset" for conditional models;
- the live preview of a conditional model: one grid row per class.

This module registers no generator.
"""
from __future__ import annotations

import copy
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from ..data.base import Dataset
from ..errors import ConfigError
from ..params import Param

if TYPE_CHECKING:  # annotations only
    from .base import Generator

#: the fixed seed offset of live previews (``Generator.preview``): grids stay comparable over time
PREVIEW_SEED_OFFSET = 12345
#: images per row of an unconditional model's preview grid
PREVIEW_ROW = 8


# ---- learning-rate schedule ---------------------------------------------------------------------
def lr_schedule_params(*, decay_steps: int) -> tuple[Param, Param, Param]:
    """``lr_schedule``, ``lr_decay_steps`` (default ``decay_steps``: the generator's planned training
    length) and ``lr_min_ratio``: the Params of :func:`lr_factor`."""
    return (
        Param("lr_schedule", "choice", "constant", choices=("constant", "cosine"), label="LR schedule",
              help="cosine: anneal the learning rate(s) from their starting value to start * lr_min_ratio over "
                   "lr_decay_steps, then hold (lets a model settle into narrow modes, e.g. on 2-D points with a "
                   "higher starting rate such as 1e-3)."),
        Param("lr_decay_steps", "int", decay_steps, low=1, high=1_000_000, advanced=True,
              help="Length of the cosine decay in training steps (match it to the planned training length)."),
        Param("lr_min_ratio", "float", 0.01, low=0.0, high=1.0, advanced=True,
              help="Final learning rate of the cosine schedule, as a fraction of the starting rate."),
    )


def lr_factor(hparams: dict[str, Any], step: int) -> float:
    """Multiplier on the starting learning rate(s) at training step ``step``: 1 for "constant"; for
    "cosine" r + (1 - r) * (1 + cos(pi * min(step / lr_decay_steps, 1))) / 2 with r = lr_min_ratio
    (Loshchilov & Hutter 2017, SGDR, without restarts). A pure function of the step, so a restored
    run resumes exactly."""
    if hparams["lr_schedule"] == "constant":
        return 1.0
    frac = min(step / hparams["lr_decay_steps"], 1.0)
    return hparams["lr_min_ratio"] + (1 - hparams["lr_min_ratio"]) * 0.5 * (1 + math.cos(math.pi * frac))


# ---- weight EMA ---------------------------------------------------------------------------------
def ema_copy(model: nn.Module) -> nn.Module:
    """A frozen copy of ``model`` to hold its weight average (starts equal to the model)."""
    return copy.deepcopy(model).requires_grad_(False)


@torch.no_grad()
def ema_update(avg: nn.Module, model: nn.Module, decay: float) -> None:
    """avg <- decay * avg + (1 - decay) * model, parameter by parameter; buffers (batch-norm running
    statistics) are copied, not averaged."""
    for a, p in zip(avg.parameters(), model.parameters()):
        a.lerp_(p, 1.0 - decay)
    for a, b in zip(avg.buffers(), model.buffers()):
        a.copy_(b)


# ---- feature standardisation --------------------------------------------------------------------
def feature_scaling(x: np.ndarray, *, enabled: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-feature (shift, scale) of the rows of ``x`` (N x ...): the mean and the standard deviation
    (floored at 1e-6), computed in float64 and returned as float32 (D,); the identity (0, 1), shape
    (1,), when not ``enabled`` (images already live in [-1, 1])."""
    if not enabled:
        return torch.zeros(1), torch.ones(1)
    xt = torch.from_numpy(np.asarray(x)).reshape(len(x), -1).double()
    return xt.mean(0).float(), xt.std(0).clamp_min(1e-6).float()


def standardize(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Data rows -> mean 0, std 1 per feature (see :func:`feature_scaling`)."""
    return (x - shift) / scale


def unstandardize(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """The inverse of :func:`standardize`: model rows -> data space."""
    return x * scale + shift


# ---- data requirements --------------------------------------------------------------------------
def conv_image_ok(dataset: Dataset) -> bool:
    """Whether the conv nets can take ``dataset``: images, square, with a side divisible by 4."""
    if dataset.kind != "image":
        return False
    _, h, w = dataset.sample_shape
    return h == w and h % 4 == 0


def require_conv_image(dataset: Dataset, who: str) -> None:
    """Raise ConfigError unless :func:`conv_image_ok` (``who``: the model, for the message)."""
    if dataset.kind != "image":
        raise ConfigError(f"{who} uses convolutions and needs image data.")
    if not conv_image_ok(dataset):
        _, h, w = dataset.sample_shape
        raise ConfigError(f"{who} needs square images with a side divisible by 4; got {h}x{w}.")


def require_labels(dataset: Dataset, who: str) -> None:
    """Raise ConfigError unless ``dataset`` has labels (conditional models are given them)."""
    if dataset.y is None or not dataset.classes:
        raise ConfigError(f"{who} needs a labelled dataset; {dataset.name} has no labels.")


# ---- previews -----------------------------------------------------------------------------------
def preview_by_class(gen: "Generator", n: int | None = None) -> np.ndarray:
    """The live preview of a conditional model: one grid row per class, ``n // k`` samples of each of
    the k classes (at least one), from the preview's fixed seed."""
    k = gen.dataset_.n_classes
    cond = np.repeat(np.arange(k), max(1, (n or gen.preview_size) // k))
    return gen.sample(len(cond), condition=cond, seed=gen.seed_ + PREVIEW_SEED_OFFSET)


def preview_row(gen: "Generator", n_images: int) -> int:
    """Images per row of the grid that shows ``n_images`` of ``gen``'s preview: a conditional model's
    samples of one class (see :func:`preview_by_class`), so each row is one class; else PREVIEW_ROW."""
    if gen.conditional and gen.dataset_ is not None and gen.dataset_.n_classes >= 1:
        return max(1, n_images // gen.dataset_.n_classes)
    return PREVIEW_ROW
