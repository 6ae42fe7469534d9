"""Plain GAN with MLP generator and discriminator (Goodfellow et al. 2014, arXiv:1406.2661).

The original minimax game with the non-saturating generator loss (maximise log D(G(z)), §3 of the
paper). Works on points, tabular rows and flattened images. On the 8-Gaussian ring it usually
*mode-collapses* (covers a few modes): that is the point of showing it next to WGAN-GP.
The shared step lives in ``gan_core``.
"""
from __future__ import annotations

from .base import register_generator
from .gan_core import LABEL_SMOOTHING, SPECTRAL_NORM, GANBase, gan_params


@register_generator
class MLPGAN(GANBase):
    name = "gan"
    label = "GAN (MLP)"
    supports = frozenset({"points", "tabular", "image"})
    paper = "Goodfellow et al. 2014, Generative Adversarial Nets (arXiv:1406.2661)"
    loss_kind = "ns"
    arch = "mlp"
    default_steps = 3000
    params = gan_params(lr_g=2e-4, lr_d=2e-4, batch_size=128, z_dim=16, width=128, depth=3, extra=(
        SPECTRAL_NORM,
        LABEL_SMOOTHING,
    ))
