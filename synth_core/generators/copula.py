"""Gaussian copula: each feature keeps its own empirical marginal, dependence is a Gaussian one.

Sklar's theorem splits a joint distribution into marginals and a copula. Fit: map every column to
normal scores z = Phi^-1(rank / (n + 1)) and estimate their correlation matrix R. Sample:
z ~ N(0, R), u = Phi(z), x_j = F_j^-1(u_j) through each column's inverse empirical CDF. On Gaussian
data this recovers the Gaussian exactly (up to sampling error); on skewed or discrete columns it
keeps the marginals the multivariate Gaussian would get wrong. Nelsen 2006, *An Introduction to
Copulas* (2nd ed.), §2.3 & §5.1; Patki, Wedge & Veeramachaneni 2016, The Synthetic Data Vault (IEEE DSAA).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..data.base import Dataset
from ..params import Param
from .base import Generator, register_generator
from .marginals import fit_marginal, marginal_icdf


def normal_scores(x: np.ndarray) -> np.ndarray:
    """Column-wise Phi^-1(average rank / (n + 1)): ties share a score, values stay inside (0, 1)."""
    from scipy.stats import norm, rankdata

    return norm.ppf(rankdata(x, axis=0) / (len(x) + 1))


@register_generator
class GaussianCopulaGenerator(Generator):
    name = "copula"
    label = "Gaussian copula"
    family = "probabilistic"
    supports = frozenset({"points", "tabular", "image"})
    closed_form = True
    default_steps = 1
    paper = ("Nelsen 2006, An Introduction to Copulas (Springer); "
             "Patki, Wedge & Veeramachaneni 2016, The Synthetic Data Vault (IEEE DSAA)")
    params = (
        Param("marginal", "choice", "quantile", choices=("quantile", "histogram"),
              help="How each column's marginal is represented: interpolated empirical quantiles, or a histogram."),
        Param("bins", "int", 50, low=2, high=1000, help="Histogram bins per feature (histogram marginals only)."),
        Param("max_categories", "int", 20, low=0, high=1000,
              help="Integer-valued columns with at most this many distinct values keep their exact categories."),
        Param("shrinkage", "float", 1e-3, low=0.0, high=1.0,
              help="Shrink the correlation matrix towards the identity: R = (1 - s) R + s I. A little keeps it "
                   "invertible when features are collinear or constant."),
    )

    def _setup(self, dataset: Dataset) -> None:
        self.marginals_: list[dict[str, Any]] | None = None
        self.chol_: torch.Tensor | None = None

    def _train_step(self) -> dict[str, float]:
        hp = self.hparams
        x = self.dataset_.x.reshape(len(self.dataset_), -1).astype(np.float64)
        n, d = x.shape
        self.marginals_ = [fit_marginal(x[:, j], method=hp["marginal"], bins=hp["bins"],
                                        max_categories=hp["max_categories"]) for j in range(d)]
        z = normal_scores(x)
        std = z.std(0)
        # A constant column has no dependence to learn: give it zero correlation with the rest.
        zs = np.where(std > 1e-12, (z - z.mean(0)) / np.where(std > 1e-12, std, 1.0), 0.0)
        corr = zs.T @ zs / n
        np.fill_diagonal(corr, 1.0)
        corr = (1 - hp["shrinkage"]) * corr + hp["shrinkage"] * np.eye(d)
        corr_t = torch.from_numpy(corr)
        chol, info = torch.linalg.cholesky_ex(corr_t)
        if info != 0:  # numerically singular (more columns than rows): add jitter until it factors
            jitter = 1e-6
            while info != 0:
                chol, info = torch.linalg.cholesky_ex(corr_t + jitter * torch.eye(d, dtype=torch.float64))
                jitter *= 10
        self.chol_ = chol
        # Loss: the copula's mean negative log-density at the data's normal scores,
        # -log c(u) = 0.5 log|R| + 0.5 z^T (R^-1 - I) z, in nats per row. 0 means "no dependence found".
        zt = torch.from_numpy(zs)
        w = torch.linalg.solve_triangular(chol, zt.T, upper=False)
        logdet = 2 * torch.log(torch.diagonal(chol)).sum()
        nll = 0.5 * (logdet + ((w**2).sum(0) - (zt**2).sum(1)).mean())
        return {"copula_nll": float(nll)}

    def _sample(self, n: int, condition: Any, gen: torch.Generator) -> torch.Tensor:
        chol = self.fitted(self.chol_, "copula")
        z = torch.randn((n, chol.shape[0]), generator=gen, dtype=torch.float64) @ chol.T
        u = torch.special.ndtr(z)  # standard normal CDF
        return torch.stack([marginal_icdf(m, u[:, j]) for j, m in enumerate(self.marginals_)], 1).float()

    def _state_dict(self) -> dict[str, Any]:
        return {"marginals": self.marginals_, "chol": self.chol_}

    def _load_state_dict(self, state: dict[str, Any]) -> None:
        self.marginals_, self.chol_ = state["marginals"], state["chol"]
