"""Conditional VAE (Sohn, Lee & Yan 2015, Learning Structured Output Representation using Deep
Conditional Generative Models, NeurIPS). The label y is fed to the encoder q(z|x, y) and the decoder
p(x|z, y), and the ELBO is conditioned on y; ``sample(n, condition=c)`` decodes z ~ N(0, I) with class
``c``. Everything else (likelihoods, nets, loss) is the VAE in ``vae.py``.
"""
from __future__ import annotations

from .base import register_generator
from .vae import VAE


@register_generator
class ConditionalVAE(VAE):
    name = "cvae"
    label = "Conditional VAE"
    paper = "Sohn, Lee & Yan 2015, Learning Structured Output Representation using Deep Conditional Generative Models"
    conditional = True
