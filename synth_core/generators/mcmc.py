"""Markov chain Monte Carlo from a density fitted to the data (GMM or KDE).

Two samplers, both run as many parallel chains (vectorised):

* random-walk Metropolis-Hastings (Metropolis et al. 1953; Hastings 1970): propose x' = x + s·σ⊙ε,
  accept with probability min(1, p(x')/p(x)).
* MALA, the Metropolis-adjusted Langevin algorithm (Roberts & Tweedie 1996, Bernoulli 2(4)): the
  proposal drifts up the gradient, x' = x + (s²/2) σ²⊙∇log p(x) + s·σ⊙ε, and the MH correction
  uses the asymmetric proposal density. Gradients come from torch autograd.

σ is each feature's standard deviation (a diagonal preconditioner). During burn-in each chain's
step size s adapts towards the optimal acceptance rate (0.234 for random walk, Roberts, Gelman &
Gilks 1997; 0.574 for MALA, Roberts & Rosenthal 1998); afterwards it is frozen, so the kept draws
come from a valid (non-adaptive) chain. Chains start at random data rows: local samplers rarely
jump between well-separated modes, so starting them across the data is what lets the pool cover
them all. The effective sample size uses Geyer's (1992) initial positive sequence on the
multi-chain autocorrelation (Gelman et al., *Bayesian Data Analysis*, 3rd ed., §11.5).
"""
from __future__ import annotations

import math
from collections import deque
from typing import Any, Callable

import numpy as np
import torch

from ..data.base import Dataset
from ..params import Param
from .base import Generator, register_generator
from .gmm import fit_gmm, gmm_log_prob, with_inverse
from .kde import kde_log_prob, select_bandwidth

TARGET_ACCEPT = {"mh": 0.234, "mala": 0.574}
ESS_WINDOW = 256      # thinned draws per chain kept for the ESS estimate
TRACE_LEN = 200       # iterations kept for the teaching view
TRACE_CHAINS = 4      # chains kept for the teaching view


def effective_sample_size(draws: torch.Tensor) -> torch.Tensor:
    """Multi-chain ESS per dimension for ``draws`` of shape T×C×D (iterations, chains, dims).

    rho_t = 1 - (W - mean_c acov_c(t)) / var+, with W the within-chain variance and var+ the
    pooled variance estimate; summed with Geyer's initial positive sequence. Chains stuck in
    different modes make var+ >> W, hence a small ESS: that is the honest answer.
    """
    t, c, d = draws.shape
    if t < 4:
        return torch.zeros(d, dtype=torch.float64)
    x = draws.double() - draws.double().mean(0)
    f = torch.fft.rfft(x, n=2 * t, dim=0)
    acov = torch.fft.irfft(f * f.conj(), n=2 * t, dim=0)[:t] / t          # T×C×D, biased
    w = acov[0].mean(0) * t / (t - 1)                                      # within-chain variance
    b_over_t = draws.double().mean(0).var(0) if c > 1 else torch.zeros(d, dtype=torch.float64)
    var_plus = (t - 1) / t * w + b_over_t
    ess = torch.full((d,), float(c * t), dtype=torch.float64)
    for j in range(d):
        if var_plus[j] <= 1e-300:  # a constant coordinate has nothing to estimate
            continue
        rho = 1 - (w[j] - acov[:, :, j].mean(1)) / var_plus[j]
        tau, prev = -1.0, math.inf
        for k in range(0, t - 1, 2):
            pair = float(rho[k] + rho[k + 1])
            if pair <= 0:
                break
            pair = min(pair, prev)  # initial monotone sequence
            tau += 2 * pair
            prev = pair
        ess[j] = c * t / max(tau, 1e-12)
    return ess


@register_generator
class MCMCGenerator(Generator):
    name = "mcmc"
    label = "MCMC (Metropolis-Hastings / MALA)"
    family = "mcmc"
    supports = frozenset({"points", "tabular"})
    has_log_density = True  # the fitted target density
    has_trace = True
    default_steps = 100
    paper = ("Metropolis et al. 1953; Hastings 1970, Biometrika 57(1); "
             "Roberts & Tweedie 1996, Exponential convergence of Langevin distributions (Bernoulli)")
    params = (
        Param("method", "choice", "mala", choices=("mala", "mh"),
              help="mala: Langevin proposals that follow the gradient of log p; mh: random-walk Metropolis-Hastings."),
        Param("density", "choice", "gmm", choices=("gmm", "kde"),
              help="The target density, fitted to the data first: a Gaussian mixture or a kernel density estimate."),
        Param("n_components", "int", 10, low=1, high=100, help="Mixture components when density is gmm."),
        Param("kde_points", "int", 2000, low=10, high=50_000,
              help="Kernel centres kept when density is kde (each log-density costs chains × points)."),
        Param("step_size", "float", 0.1, low=1e-4, high=10.0, log=True,
              help="Initial proposal scale, in units of each feature's standard deviation."),
        Param("adapt", "bool", True,
              help="Tune each chain's step size during burn-in towards the optimal acceptance rate."),
        Param("n_chains", "int", 64, low=1, high=4096, help="Parallel chains, started at random data rows."),
        Param("burn_in", "int", 200, low=0, high=1_000_000, help="Iterations discarded before draws are kept."),
        Param("thin", "int", 5, low=1, high=10_000, help="Keep every thin-th iteration of each chain."),
        Param("iters_per_step", "int", 10, low=1, high=10_000,
              help="MCMC iterations per training step (one point on the live chart)."),
        Param("max_pool", "int", 20_000, low=1, high=1_000_000, help="Most recent kept draws that sample() uses."),
    )

    # ---- setup: fit the target density, start the chains --------------------------------------
    def _setup(self, dataset: Dataset) -> None:
        hp = self.hparams
        x = torch.from_numpy(dataset.x.reshape(len(dataset), -1)).double()
        self.scale_ = x.std(0).nan_to_num(1.0).clamp_min(1e-3)   # diagonal preconditioner σ
        if hp["density"] == "gmm":
            d = x.shape[1]
            fitted, _ = fit_gmm(x, hp["n_components"], covariance="full" if d <= 32 else "diagonal",
                                reg=1e-5, iters=60, gen=self.rng_)
            self.target_ = with_inverse(fitted)
        else:
            pts = x[torch.randperm(len(x), generator=self.rng_)[: hp["kde_points"]]]
            std = pts.std(0).nan_to_num(1.0)
            sc = torch.where(std > 1e-12, std, torch.ones_like(std))
            h, _ = select_bandwidth(pts / sc, "cv", self.rng_)
            self.target_ = {"points": pts, "scale": sc, "h": torch.tensor(h, dtype=torch.float64)}
        start = torch.randint(len(x), (hp["n_chains"],), generator=self.rng_)
        self.x_ = x[start].clone()
        self.logp_, self.grad_ = self._logp_grad(self.x_)
        self.log_step_ = torch.full((hp["n_chains"],), math.log(hp["step_size"]), dtype=torch.float64)
        self.iter_ = 0
        self.pool_ = torch.zeros((0, x.shape[1]), dtype=torch.float64)
        self.window_ = torch.zeros((0, hp["n_chains"], x.shape[1]), dtype=torch.float64)
        self._trace: deque[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = deque(maxlen=TRACE_LEN)

    def _log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Log-density of the fitted target at ``x`` (N×D), differentiable."""
        fn: Callable[..., torch.Tensor] = gmm_log_prob if self.hparams["density"] == "gmm" else kde_log_prob
        return fn(x.reshape(len(x), -1).double(), self.target_)

    def _logp_grad(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.hparams["method"] == "mh":  # random walk needs no gradient
            with torch.no_grad():
                return self._log_prob(x), torch.zeros_like(x)
        with torch.enable_grad():
            xg = x.detach().requires_grad_(True)
            lp = self._log_prob(xg)
            (g,) = torch.autograd.grad(lp.sum(), xg)
        return lp.detach(), g.detach()

    # ---- one training step = iters_per_step MCMC iterations -----------------------------------
    def _train_step(self) -> dict[str, float]:
        hp = self.hparams
        mala = hp["method"] == "mala"
        target = TARGET_ACCEPT[hp["method"]]
        acc_sum, n_iter = 0.0, hp["iters_per_step"]
        for _ in range(n_iter):
            s = self.log_step_.exp()[:, None] * self.scale_              # C×D proposal std
            # (1) propose: x' = x + drift + noise
            drift = 0.5 * s**2 * self.grad_ if mala else 0.0
            eps = torch.randn(self.x_.shape, generator=self.rng_, dtype=torch.float64)
            prop = self.x_ + drift + s * eps
            lp_prop, g_prop = self._logp_grad(prop)
            # (2) Metropolis-Hastings ratio; MALA adds log q(x | x') - log q(x' | x)
            log_alpha = lp_prop - self.logp_
            if mala:
                back = self.x_ - prop - 0.5 * s**2 * g_prop
                log_alpha = log_alpha + 0.5 * ((eps**2).sum(1) - ((back / s) ** 2).sum(1))
            log_alpha = torch.nan_to_num(log_alpha, nan=-math.inf)
            u = torch.rand(len(self.x_), generator=self.rng_, dtype=torch.float64)
            accept = torch.log(u) < log_alpha
            # (3) move the accepted chains
            self.x_ = torch.where(accept[:, None], prop, self.x_)
            self.logp_ = torch.where(accept, lp_prop, self.logp_)
            self.grad_ = torch.where(accept[:, None], g_prop, self.grad_)
            self._trace.append((prop[:TRACE_CHAINS].clone(), self.x_[:TRACE_CHAINS].clone(), accept[:TRACE_CHAINS].clone()))
            acc_sum += float(accept.double().mean())
            self.iter_ += 1
            if self.iter_ <= hp["burn_in"]:
                # (4) burn-in only: Robbins-Monro step-size adaptation towards the target acceptance
                if hp["adapt"]:
                    a = log_alpha.clamp(max=0).exp()
                    self.log_step_ = self.log_step_ + (a - target) / math.sqrt(self.iter_)
            elif (self.iter_ - hp["burn_in"]) % hp["thin"] == 0:
                # (5) keep a thinned draw of every chain
                self.pool_ = torch.cat([self.pool_, self.x_])[-hp["max_pool"]:]
                self.window_ = torch.cat([self.window_, self.x_[None]])[-ESS_WINDOW:]
        ess = float(effective_sample_size(self.window_).min()) if len(self.window_) else 0.0
        return {"acceptance_rate": acc_sum / n_iter, "ess": ess,
                "mean_log_density": float(self.logp_.mean()), "step_size": float(self.log_step_.exp().mean())}

    def trace(self, n_chains: int = TRACE_CHAINS) -> dict[str, np.ndarray]:
        """Recent iterations of the first chains for a teaching view: ``proposals`` and ``states``
        (T×C×D, the state *after* the accept/reject) and ``accepted`` (T×C bool)."""
        if not self._trace:
            d = self.x_.shape[1]
            return {"proposals": np.zeros((0, 0, d)), "states": np.zeros((0, 0, d)), "accepted": np.zeros((0, 0), bool)}
        p, s, a = (torch.stack(t)[:, :n_chains].numpy() for t in zip(*self._trace))
        return {"proposals": p, "states": s, "accepted": a}

    @property
    def in_burn_in(self) -> bool:
        """Still in burn-in: no draw has been kept as a sample yet (the trace view says so)."""
        return self.iter_ < self.hparams["burn_in"] or len(self.pool_) == 0

    # ---- sampling: from the kept pool -----------------------------------------------------------
    def _sample(self, n: int, condition: Any, gen: torch.Generator) -> torch.Tensor:
        # Before the first kept draw the pool is empty: fall back to the current (unconverged) states.
        pool = self.pool_ if len(self.pool_) else self.x_
        if n <= len(pool):
            idx = torch.randperm(len(pool), generator=gen)[:n]
        else:
            idx = torch.randint(len(pool), (n,), generator=gen)
        return pool[idx].float()

    # ---- persistence ---------------------------------------------------------------------------
    def _state_dict(self) -> dict[str, Any]:
        return {"target": self.target_, "scale": self.scale_, "x": self.x_, "logp": self.logp_,
                "grad": self.grad_, "log_step": self.log_step_, "iter": self.iter_,
                "pool": self.pool_, "window": self.window_}

    def _load_state_dict(self, state: dict[str, Any]) -> None:
        self.target_, self.scale_ = state["target"], state["scale"]
        self.x_, self.logp_, self.grad_ = state["x"], state["logp"], state["grad"]
        self.log_step_, self.iter_ = state["log_step"], int(state["iter"])
        self.pool_, self.window_ = state["pool"], state["window"]
        self._trace.clear()
