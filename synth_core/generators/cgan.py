"""Conditional GAN (Mirza & Osindero 2014, arXiv:1411.1784) for labelled data.

G(z, y) gets a label embedding next to z; D(x, y) is a projection discriminator (Miyato & Koyama
2018), which conditions more reliably than concatenating the label to D's input. Conv nets for
images, MLPs for labelled points/tabular rows. ``sample(n, condition=c)`` draws class ``c``.
The shared step lives in ``gan_core``.
"""
from __future__ import annotations

from .base import register_generator
from .gan_core import LABEL_SMOOTHING, SPECTRAL_NORM, GANBase, arch_param, gan_params


@register_generator
class ConditionalGAN(GANBase):
    name = "cgan"
    label = "Conditional GAN"
    supports = frozenset({"image", "points", "tabular"})
    paper = "Mirza & Osindero 2014, Conditional Generative Adversarial Nets (arXiv:1411.1784)"
    loss_kind = "ns"
    arch = "auto"
    conditions_on_label = True
    default_steps = 2000
    params = gan_params(z_dim=32, width=64, depth=3, extra=(
        SPECTRAL_NORM,
        LABEL_SMOOTHING,
        arch_param(),
    ))
