"""WGAN-GP: Wasserstein GAN with gradient penalty (Gulrajani et al. 2017, arXiv:1704.00028).

The critic D estimates the Wasserstein-1 distance; instead of weight clipping, a penalty
lambda * (||grad D(x_hat)||_2 - 1)^2 on random interpolates keeps it 1-Lipschitz. ``n_critic``
critic updates per generator update, Adam(1e-4, betas (0.5, 0.9)) as in the paper's Algorithm 1
(beta1 0.5 as in its toy experiments). The critic uses layer norm, never batch norm (the penalty is
per sample). MLP nets for points/tabular, DCGAN-style conv nets for images (``arch``).
The shared step lives in ``gan_core``.
"""
from __future__ import annotations

from ..params import Param
from .base import register_generator
from .gan_core import GANBase, arch_param, gan_params


@register_generator
class WGANGP(GANBase):
    name = "wgan_gp"
    label = "WGAN-GP"
    supports = frozenset({"points", "tabular", "image"})
    paper = "Gulrajani et al. 2017, Improved Training of Wasserstein GANs (arXiv:1704.00028)"
    loss_kind = "wgan-gp"
    arch = "auto"
    default_steps = 3000
    params = gan_params(lr_g=1e-4, lr_d=1e-4, beta1=0.5, beta2=0.9, batch_size=256, z_dim=16, width=128,
                        depth=3, extra=(
        Param("n_critic", "int", 5, low=1, high=20, help="Critic updates per generator update."),
        Param("gp_weight", "float", 10.0, low=0.0, high=100.0, label="GP weight (lambda)",
              help="Weight of the gradient penalty; 10 in the paper."),
        arch_param(),
    ))
