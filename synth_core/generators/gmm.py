"""Gaussian mixture model fitted by expectation-maximisation (EM), one EM iteration per step.

p(x) = sum_k pi_k N(x | mu_k, Sigma_k). EM alternates (E) responsibilities r_nk ∝ pi_k N(x_n | mu_k,
Sigma_k) and (M) closed-form weighted means/covariances; each iteration cannot lower the
likelihood, so the live loss curve falls monotonically. Dempster, Laird & Rubin 1977, JRSS B 39(1);
Bishop 2006, *Pattern Recognition and Machine Learning*, §9.2. ``k_selection = "bic"`` picks K by
the Bayesian information criterion (Schwarz 1978) over 1..k_max. Written in torch (float64) so the
fitted state is plain tensors and the log-density is differentiable (MCMC's MALA uses it).
"""
from __future__ import annotations

import math
from typing import Any

import torch

from ..data.base import Dataset
from ..params import Param
from .base import Generator, register_generator

LOG_2PI = math.log(2 * math.pi)


# ---- functional core (shared with mcmc.py) ------------------------------------------------------
def _kmeanspp(x: torch.Tensor, k: int, gen: torch.Generator) -> torch.Tensor:
    """k-means++ seeding (Arthur & Vassilvitskii 2007): spread initial centres over the data."""
    n = len(x)
    centres = [x[int(torch.randint(n, (1,), generator=gen))]]
    d2 = ((x - centres[0]) ** 2).sum(1)
    for _ in range(1, k):
        p = d2 / d2.sum() if d2.sum() > 0 else torch.full_like(d2, 1.0 / n)
        c = x[int(torch.multinomial(p, 1, generator=gen))]
        centres.append(c)
        d2 = torch.minimum(d2, ((x - c) ** 2).sum(1))
    return torch.stack(centres)


def init_gmm(x: torch.Tensor, k: int, *, covariance: str, reg: float, init: str,
             gen: torch.Generator) -> dict[str, torch.Tensor]:
    """Initial parameters: k-means++ (+5 Lloyd iterations) or random data points as means; the
    hard assignment then gives weights and covariances through one M-step."""
    k = min(k, len(x))
    if init == "kmeans++":
        mu = _kmeanspp(x, k, gen)
        for _ in range(5):
            lab = torch.cdist(x, mu).argmin(1)
            for j in range(k):
                if (lab == j).any():
                    mu[j] = x[lab == j].mean(0)
    else:
        mu = x[torch.randperm(len(x), generator=gen)[:k]].clone()
    resp = torch.nn.functional.one_hot(torch.cdist(x, mu).argmin(1), k).double()
    return m_step(x, resp, covariance=covariance, reg=reg)


def m_step(x: torch.Tensor, resp: torch.Tensor, *, covariance: str, reg: float) -> dict[str, torch.Tensor]:
    """(M) weights, means and covariances (``scale``: Cholesky factors K×D×D, or std devs K×D)."""
    n, d = x.shape
    nk = resp.sum(0) + 1e-10                                   # K
    mu = (resp.T @ x) / nk[:, None]                            # K×D
    if covariance == "full":
        eye = reg * torch.eye(d, dtype=x.dtype)
        covs = []
        for k in range(len(mu)):  # a loop keeps memory at N×D instead of K×N×D
            xc = x - mu[k]
            covs.append((resp[:, k, None] * xc).T @ xc / nk[k] + eye)
        scale = torch.linalg.cholesky(torch.stack(covs))
    else:
        var = (resp.T @ (x * x)) / nk[:, None] - mu**2
        scale = (var.clamp_min(0) + reg).sqrt()
    return {"weights": nk / n, "means": mu, "scale": scale}


def component_log_prob(x: torch.Tensor, p: dict[str, torch.Tensor]) -> torch.Tensor:
    """log pi_k + log N(x_n | mu_k, Sigma_k), shape N×K. Differentiable in ``x``."""
    mu, scale = p["means"], p["scale"]
    d = mu.shape[1]
    if scale.dim() == 3:  # full: Mahalanobis distance through L_k^-1 (one batched solve, not K)
        linv = p.get("linv")  # callers that evaluate often (MCMC) cache L^-1 with with_inverse()
        if linv is None:
            eye = torch.eye(d, dtype=scale.dtype).expand_as(scale)
            linv = torch.linalg.solve_triangular(scale, eye, upper=False)        # K×D×D
        z = torch.einsum("kij,nkj->nki", linv, x[:, None, :] - mu[None])      # N×K×D
        logdet = torch.log(torch.diagonal(scale, dim1=1, dim2=2)).sum(1)
    else:
        z = (x[:, None, :] - mu[None]) / scale[None]
        logdet = torch.log(scale).sum(1)
    return torch.log(p["weights"])[None] - 0.5 * (z**2).sum(2) - logdet[None] - 0.5 * d * LOG_2PI


def with_inverse(p: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``p`` plus cached inverse Cholesky factors, so repeated log-density calls skip the solve."""
    if p["scale"].dim() != 3:
        return dict(p)
    eye = torch.eye(p["scale"].shape[-1], dtype=p["scale"].dtype).expand_as(p["scale"])
    return {**p, "linv": torch.linalg.solve_triangular(p["scale"], eye, upper=False)}


def gmm_log_prob(x: torch.Tensor, p: dict[str, torch.Tensor]) -> torch.Tensor:
    """Mixture log-density log p(x), shape N (float64, differentiable)."""
    return torch.logsumexp(component_log_prob(x.to(p["means"].dtype), p), 1)


def em_step(x: torch.Tensor, p: dict[str, torch.Tensor], *, covariance: str, reg: float
            ) -> tuple[dict[str, torch.Tensor], float]:
    """One EM iteration; returns the new parameters and the mean log-likelihood *before* the update."""
    lp = component_log_prob(x, p)                              # (E) N×K
    ll = torch.logsumexp(lp, 1, keepdim=True)
    resp = torch.exp(lp - ll)
    return m_step(x, resp, covariance=covariance, reg=reg), float(ll.mean())


def n_free_params(k: int, d: int, covariance: str) -> int:
    return (k - 1) + k * d + k * (d * (d + 1) // 2 if covariance == "full" else d)


def fit_gmm(x: torch.Tensor, k: int, *, covariance: str = "full", reg: float = 1e-6, init: str = "kmeans++",
            iters: int = 100, tol: float = 1e-6, gen: torch.Generator) -> tuple[dict[str, torch.Tensor], float]:
    """Run EM to convergence (or ``iters``); returns parameters and final mean log-likelihood."""
    p = init_gmm(x, k, covariance=covariance, reg=reg, init=init, gen=gen)
    prev = -math.inf
    for _ in range(iters):
        p, ll = em_step(x, p, covariance=covariance, reg=reg)
        if abs(ll - prev) < tol:
            break
        prev = ll
    return p, float(gmm_log_prob(x, p).mean())


def sample_gmm(p: dict[str, torch.Tensor], n: int, gen: torch.Generator) -> torch.Tensor:
    comp = torch.multinomial(p["weights"], n, replacement=True, generator=gen)
    z = torch.randn((n, p["means"].shape[1]), generator=gen, dtype=torch.float64)
    if p["scale"].dim() == 3:
        noise = torch.einsum("nij,nj->ni", p["scale"][comp], z)
    else:
        noise = p["scale"][comp] * z
    return p["means"][comp] + noise


@register_generator
class GMMGenerator(Generator):
    name = "gmm"
    label = "Gaussian mixture (EM)"
    family = "probabilistic"
    supports = frozenset({"points", "tabular", "image"})
    has_log_density = True
    default_steps = 100
    paper = ("Dempster, Laird & Rubin 1977, Maximum likelihood from incomplete data via the EM algorithm "
             "(JRSS B); Bishop 2006, Pattern Recognition and Machine Learning, §9.2")
    params = (
        Param("n_components", "int", 10, low=1, high=200,
              help="Number of Gaussian components K (used when k_selection is 'fixed')."),
        Param("k_selection", "choice", "fixed", choices=("fixed", "bic"),
              help="fixed: use n_components; bic: fit K = 1..k_max on the first step and keep the K with "
                   "the lowest Bayesian information criterion."),
        Param("k_max", "int", 12, low=1, high=50, help="Largest K tried by BIC selection."),
        Param("covariance", "choice", "auto", choices=("auto", "full", "diagonal"),
              help="full: each component learns correlations; diagonal: far fewer parameters, suited to "
                   "high-dimensional data such as images; auto: full up to 32 features, else diagonal."),
        Param("reg", "float", 1e-5, low=1e-10, high=1.0, log=True,
              help="Added to each covariance diagonal so constant features keep it positive definite."),
        Param("init", "choice", "kmeans++", choices=("kmeans++", "random"),
              help="Initial means: k-means++ seeding (spread over the data) or random data points."),
        Param("clip", "bool", True, help="Clip samples to the data's value range (images live in [-1, 1])."),
    )

    def _setup(self, dataset: Dataset) -> None:
        self.params_: dict[str, torch.Tensor] | None = None
        self.lo_ = float(dataset.x.min())
        self.hi_ = float(dataset.x.max())

    def _x(self) -> torch.Tensor:
        return torch.from_numpy(self.dataset_.x.reshape(len(self.dataset_), -1)).double()

    def _train_step(self) -> dict[str, float]:
        hp = self.hparams
        x = self._x()
        n, d = x.shape
        cov_type = hp["covariance"] if hp["covariance"] != "auto" else ("full" if d <= 32 else "diagonal")
        kw = {"covariance": cov_type, "reg": hp["reg"]}
        if self.params_ is None:
            if hp["k_selection"] == "bic":
                best = None
                for k in range(1, min(hp["k_max"], n) + 1):
                    p, ll = fit_gmm(x, k, init=hp["init"], iters=50, gen=self.rng_, **kw)
                    bic = -2 * ll * n + n_free_params(k, d, cov_type) * math.log(n)
                    if best is None or bic < best[0]:
                        best = (bic, p)
                self.params_ = best[1]
            else:
                self.params_ = init_gmm(x, hp["n_components"], init=hp["init"], gen=self.rng_, **kw)
        self.params_, ll = em_step(x, self.params_, **kw)
        k = len(self.params_["weights"])
        bic = -2 * ll * n + n_free_params(k, d, cov_type) * math.log(n)
        # nll per dimension is comparable with the Gaussian baseline; BIC per sample keeps the scale sane.
        return {"nll_per_dim": -ll / d, "bic_per_sample": bic / n}

    def _log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Log-density of the fitted mixture at ``x`` (N×D), differentiable."""
        return gmm_log_prob(x.reshape(len(x), -1), self.fitted(self.params_, "mixture"))

    def _sample(self, n: int, condition: Any, gen: torch.Generator) -> torch.Tensor:
        x = sample_gmm(self.fitted(self.params_, "mixture"), n, gen)
        if self.hparams["clip"]:
            x = x.clamp(self.lo_, self.hi_)
        return x.float()

    def _state_dict(self) -> dict[str, Any]:
        return {"params": self.params_, "lo": self.lo_, "hi": self.hi_}

    def _load_state_dict(self, state: dict[str, Any]) -> None:
        self.params_ = state["params"]
        self.lo_, self.hi_ = float(state["lo"]), float(state["hi"])
