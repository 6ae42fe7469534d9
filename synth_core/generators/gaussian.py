"""Multivariate Gaussian: the simplest probabilistic generator, fitted in closed form.

Maximum-likelihood mean and covariance (Bishop, *Pattern Recognition and Machine Learning*,
2006, §2.3.4), with ``reg`` added to the covariance diagonal so constant features (the blank
border of MNIST) keep it positive definite. Images are flattened: the model captures pixel
means and pairwise correlations, so samples look like blurry, noisy digits — a useful baseline.
"""
from __future__ import annotations

import math
from typing import Any

import torch

from ..data.base import Dataset
from ..params import Param
from .base import Generator, register_generator


@register_generator
class GaussianGenerator(Generator):
    name = "gaussian"
    label = "Multivariate Gaussian"
    family = "probabilistic"
    supports = frozenset({"points", "tabular", "image"})
    closed_form = True
    default_steps = 1
    paper = "Bishop 2006, Pattern Recognition and Machine Learning, §2.3.4"
    params = (
        Param("covariance", "choice", "full", choices=("full", "diagonal"),
              help="full: learn correlations between features; diagonal: treat features as independent."),
        Param("reg", "float", 1e-3, low=1e-8, high=1.0, log=True,
              help="Added to the covariance diagonal for numerical stability (needed for constant features)."),
        Param("clip", "bool", True, help="Clip samples to the data's value range (images live in [-1, 1])."),
    )

    def _setup(self, dataset: Dataset) -> None:
        self.mean_: torch.Tensor | None = None
        self.chol_: torch.Tensor | None = None
        self.lo_ = float(dataset.x.min())
        self.hi_ = float(dataset.x.max())

    def _train_step(self) -> dict[str, float]:
        # Closed form, in float64: mu = mean(x), Sigma = (x-mu)^T (x-mu) / n + reg * I.
        x = torch.from_numpy(self.dataset_.x.reshape(len(self.dataset_), -1)).double()
        n, d = x.shape
        mean = x.mean(0)
        xc = x - mean
        if self.hparams["covariance"] == "full":
            cov = xc.T @ xc / n
        else:
            cov = torch.diag((xc**2).mean(0))
        cov = cov + self.hparams["reg"] * torch.eye(d, dtype=torch.float64)
        chol = torch.linalg.cholesky(cov)
        self.mean_, self.chol_ = mean, chol
        # Average negative log-likelihood per dimension of the training data (nats).
        z = torch.linalg.solve_triangular(chol, xc.T, upper=False)
        logdet = 2 * torch.log(torch.diagonal(chol)).sum()
        nll = 0.5 * ((z**2).sum(0).mean() + logdet + d * math.log(2 * math.pi)) / d
        return {"nll_per_dim": float(nll)}

    def _sample(self, n: int, condition: Any, gen: torch.Generator) -> torch.Tensor:
        z = torch.randn((n, self.fitted(self.mean_, "Gaussian").numel()), generator=gen, dtype=torch.float64)
        x = self.mean_ + z @ self.chol_.T
        if self.hparams["clip"]:
            x = x.clamp(self.lo_, self.hi_)
        return x.float()

    def _state_dict(self) -> dict[str, Any]:
        return {"mean": self.mean_, "chol": self.chol_, "lo": self.lo_, "hi": self.hi_}

    def _load_state_dict(self, state: dict[str, Any]) -> None:
        self.mean_, self.chol_ = state["mean"], state["chol"]
        self.lo_, self.hi_ = float(state["lo"]), float(state["hi"])
