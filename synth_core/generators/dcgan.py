"""DCGAN: deep convolutional GAN for images (Radford, Metz & Chintala 2016, arXiv:1511.06434).

Transposed-conv generator with batch norm and ReLU, strided-conv discriminator with LeakyReLU,
Adam(lr 2e-4, beta1 0.5), non-saturating BCE loss. The shared step lives in ``gan_core``.
"""
from __future__ import annotations

from .base import register_generator
from .gan_core import LABEL_SMOOTHING, GANBase, gan_params


@register_generator
class DCGAN(GANBase):
    name = "dcgan"
    label = "DCGAN"
    supports = frozenset({"image"})
    paper = "Radford, Metz & Chintala 2016, Unsupervised Representation Learning with DCGANs (arXiv:1511.06434)"
    loss_kind = "ns"
    arch = "conv"
    default_steps = 2000
    # width 32, not 64: on a 2-core CPU it takes ~2.3x more steps per second and, measured with the
    # judge (bench/time_to_quality.py), reaches better digits at every mark from 60 s to 300 s.
    # lr 1e-3 / beta2 0.99, not the paper's 2e-4 / 0.999: at equal CPU budgets on MNIST the judge's
    # confidence share rose from 0.22 to 0.42 (60 CPU-s) and 0.35 to 0.46 (120 CPU-s); 5e-4 sat between,
    # TTUR (D 4e-4, G 1e-4), batch 32/128, width 16 and a weight EMA did not beat it (issue 8 note).
    params = gan_params(width=32, lr_g=1e-3, lr_d=1e-3, beta2=0.99, extra=(
        LABEL_SMOOTHING,
    ))
