"""Conditional VAE (Sohn, Lee & Yan 2015, Learning Structured Output Representation using Deep
Conditional Generative Models, NeurIPS). The label y is fed to the encoder q(z|x, y) and the decoder
p(x|z, y), and the ELBO is conditioned on y; ``sample(n, condition=c)`` decodes z ~ p(z) with class
``c`` (p(z) does not depend on y: N(0, I) for images, the VAE's learnable mixture prior for points and
tabular rows). Everything else (likelihoods, nets, loss, prior) is the VAE in ``vae.py``.
"""
from __future__ import annotations

from .base import register_generator
from .vae import VAE


@register_generator
class ConditionalVAE(VAE):
    name = "cvae"
    label = "Conditional VAE"
    paper = "Sohn, Lee & Yan 2015, Learning Structured Output Representation using Deep Conditional Generative Models"
    conditions_on_label = True
