"""RealNVP: a normalizing flow of affine coupling layers (Dinh, Sohl-Dickstein & Bengio 2017,
"Density estimation using Real NVP", arXiv:1605.08803), for points and tabular rows.

A flow is an invertible map f from data x to a latent z ~ N(0, I). By the change of variables,
log p(x) = log N(f(x); 0, I) + log |det df/dx|, which is *exact*, so training maximises the
likelihood directly. Each coupling layer keeps the masked features x_a and transforms the rest:

    y_b = x_b * exp(s(x_a)) + t(x_a),   log |det| = sum(s(x_a))      (Dinh et al. eqs. 4-6)

so its Jacobian is triangular and the inverse is as cheap as the forward pass. Masks alternate
(for 2-D data: x is transformed given y, then y given x). Scales are soft-bounded with tanh for
stability; optional ActNorm layers (Kingma & Dhariwal 2018, Glow, arXiv:1807.03039) with a
data-dependent initialisation replace the paper's batch norm, so the flow has no batch statistics.
Data are standardised per feature first (the density reported by :meth:`RealNVP.log_prob` is in
the original data space, the Jacobian of the standardisation included).

Beyond the paper: the base density is by default a learnable diagonal Gaussian mixture
(``base="gmm"``, k-means initialised in latent space; a common variant, e.g. FlowGMM) rather than the
paper's N(0, I) (``base="normal"``). A flow is a continuous bijection, so with a unimodal base it
must tear one Gaussian into separate modes and leaves mass on the bridges between them: measured on
ring8 with N(0, I) the best of several tuned configurations reached 7/8 modes and 61.5% of samples
within 3 sigma of a mode (NLL -1.94 nats; the optimum is ~ -2.9) after 1,200 steps, while the mixture
base reaches 8/8 and 99% in 200 steps at default settings, with NLL below -2.5. The density stays exact.
Option, off by default: a cosine learning-rate decay (``lr_schedule``; the rate is a function of the
step count, so a restored run resumes exactly).
"""
from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from ..data.base import Dataset
from ..errors import ConfigError
from ..params import Param
from .base import Generator, register_generator
from .nets import DiagonalGaussianMixture
from .parts import feature_scaling, lr_factor, lr_schedule_params, standardize, unstandardize

_LOG_2PI = math.log(2 * math.pi)


def standard_normal_log_prob(z: torch.Tensor) -> torch.Tensor:
    """log N(z; 0, I) summed over features: (B, D) -> (B,)."""
    return -0.5 * (z**2 + _LOG_2PI).sum(1)


class StandardNormalBase(nn.Module):
    """The paper's base distribution N(0, I) (no parameters)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        return standard_normal_log_prob(z)

    def sample(self, n: int, gen: torch.Generator) -> torch.Tensor:
        return torch.randn((n, self.dim), generator=gen)


#: the learnable mixture base (kept under its old name; the class now lives in ``nets``)
GaussianMixtureBase = DiagonalGaussianMixture


class ActNorm(nn.Module):
    """Per-feature affine y = (x + b) * exp(log_s) (Kingma & Dhariwal 2018), log |det| = sum(log_s)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(dim))
        self.log_scale = nn.Parameter(torch.zeros(dim))

    @torch.no_grad()
    def initialize(self, x: torch.Tensor) -> None:
        """Data-dependent init: this layer's output has zero mean and unit variance on ``x``."""
        self.bias.copy_(-x.mean(0))
        self.log_scale.copy_(-torch.log(x.std(0).clamp_min(1e-6)))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return (x + self.bias) * self.log_scale.exp(), self.log_scale.sum().expand(len(x))

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        return y * (-self.log_scale).exp() - self.bias


class InvertibleLinear(nn.Module):
    """y = x W^T with W initialised to a random rotation (Glow's invertible 1x1 conv on features,
    Kingma & Dhariwal 2018); log |det| = log |det W|. Lets the next coupling act along learned axes."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.linalg.qr(torch.randn(dim, dim))[0])

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x @ self.weight.T, torch.linalg.slogdet(self.weight)[1].expand(len(x))

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        return torch.linalg.solve(self.weight, y.T).T


class AffineCoupling(nn.Module):
    """y = x_a + (1 - m) * (x * exp(s(x_a)) + t(x_a)) with x_a = m * x (m: binary mask, 1 = kept)."""

    def __init__(self, mask: torch.Tensor, hidden: int, depth: int, scale_bound: float) -> None:
        super().__init__()
        dim = mask.numel()
        self.register_buffer("mask", mask.float())
        layers: list[nn.Module] = []
        d = dim
        for _ in range(depth):
            layers += [nn.Linear(d, hidden), nn.ReLU()]
            d = hidden
        last = nn.Linear(d, 2 * dim)
        # Zero init: s = t = 0, so a fresh coupling is the identity (stable start, exact oracle in tests).
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        self.net = nn.Sequential(*layers, last)
        self.scale_bound = float(scale_bound)

    def _s_t(self, x_a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s_raw, t = self.net(x_a).chunk(2, dim=1)               # (B, D) each
        free = 1 - self.mask
        # Soft bound |s| < scale_bound: exp(s) cannot explode, yet s ~ s_raw near 0.
        s = self.scale_bound * torch.tanh(s_raw / self.scale_bound) * free
        return s, t * free

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x_a = x * self.mask
        s, t = self._s_t(x_a)
        return x_a + (1 - self.mask) * (x * s.exp() + t), s.sum(1)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        y_a = y * self.mask                                    # the kept part passes unchanged
        s, t = self._s_t(y_a)
        return y_a + (1 - self.mask) * ((y - t) * (-s).exp())


def alternating_masks(dim: int, n: int) -> list[torch.Tensor]:
    """Masks 1010..., 0101..., ... so every feature is transformed by every other layer."""
    even = (torch.arange(dim) % 2 == 0).float()
    return [even if i % 2 == 0 else 1 - even for i in range(n)]


class RealNVPFlow(nn.Module):
    """x (B, D) -> z (B, D) through [ActNorm ->] coupling, repeated; also returns log |det dz/dx| (B,)."""

    def __init__(self, dim: int, n_couplings: int, hidden: int, depth: int, scale_bound: float,
                 actnorm: bool, mixing: bool = False) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for mask in alternating_masks(dim, n_couplings):
            if actnorm:
                layers.append(ActNorm(dim))
            if mixing:
                layers.append(InvertibleLinear(dim))
            layers.append(AffineCoupling(mask, hidden, depth, scale_bound))
        self.layers = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logdet = x.new_zeros(len(x))
        for layer in self.layers:
            x, ld = layer(x)
            logdet = logdet + ld
        return x, logdet

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        for layer in reversed(self.layers):
            z = layer.inverse(z)
        return z

    @torch.no_grad()
    def initialize_actnorm(self, x: torch.Tensor) -> None:
        """Run a data batch through, initialising each ActNorm on the activations it receives."""
        for layer in self.layers:
            if isinstance(layer, ActNorm):
                layer.initialize(x)
            x, _ = layer(x)


@register_generator
class RealNVP(Generator):
    name = "realnvp"
    label = "RealNVP (normalizing flow)"
    family = "flow"
    supports = frozenset({"points", "tabular"})
    has_log_density = True  # exact, by the change of variables
    default_steps = 3000
    paper = ("Dinh, Sohl-Dickstein & Bengio 2017, Density estimation using Real NVP (arXiv:1605.08803); "
             "ActNorm from Kingma & Dhariwal 2018, Glow (arXiv:1807.03039)")
    params = (
        Param("n_couplings", "int", 8, low=2, high=32, label="Coupling layers",
              help="Affine coupling layers; masks alternate so each feature is transformed every other layer."),
        Param("width", "int", 128, low=8, high=1024, help="Hidden units of each coupling's scale/shift network."),
        Param("depth", "int", 2, low=1, high=6, help="Hidden layers of each coupling's scale/shift network."),
        Param("scale_bound", "float", 3.0, low=0.1, high=10.0, advanced=True,
              help="Soft bound on each log-scale (s = b * tanh(s_raw / b)); smaller is more stable, larger more flexible."),
        Param("actnorm", "bool", True, label="ActNorm",
              help="Per-feature affine layer before each coupling, initialised from data (Glow); no batch statistics."),
        Param("mixing", "bool", False, label="Linear mixing",
              help="An invertible linear layer before each coupling (Glow), so couplings act along learned directions."),
        Param("standardize", "bool", True,
              help="Scale each feature to mean 0, std 1 before the flow (log_prob still reports the data-space density)."),
        Param("batch_size", "int", 512, low=8, high=4096, help="Training samples per step."),
        Param("lr", "float", 1e-3, low=1e-6, high=1e-1, log=True, label="Learning rate", help="Adam learning rate."),
        Param("grad_clip", "float", 10.0, low=0.0, high=1000.0, advanced=True,
              help="Clip the gradient norm to this value (0 disables); guards against rare exploding steps."),
        *lr_schedule_params(decay_steps=3000),
        Param("base", "choice", "gmm", choices=("normal", "gmm"), label="Base distribution",
              help="gmm: a learnable diagonal Gaussian mixture (a common variant; models separated modes without "
                   "bridges between them). normal: the paper's N(0, I)."),
        Param("base_components", "int", 16, low=1, high=256, advanced=True,
              help="Mixture components of the gmm base (ignored for the normal base)."),
    )
    renamed_params = {"hidden": "width"}  # its name until issue 14 (one name for network width)

    # ---- setup -----------------------------------------------------------------------------
    def _setup(self, dataset: Dataset) -> None:
        hp = self.hparams
        dim = dataset.n_features
        self.shift_, self.scale_ = feature_scaling(dataset.x, enabled=hp["standardize"])
        self.shift_, self.scale_ = self.shift_.to(self.device_), self.scale_.to(self.device_)
        with torch.random.fork_rng(devices=[]):  # build from the run's seed, leave the global RNG alone
            torch.manual_seed(self.seed_)
            self.flow_ = RealNVPFlow(dim, hp["n_couplings"], hp["width"], hp["depth"], hp["scale_bound"],
                                     hp["actnorm"], hp["mixing"]).to(self.device_)
        if hp["actnorm"]:
            # A fixed, seed-determined batch (not the training RNG) sets the ActNorm statistics.
            idx = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(self.seed_))[:1024]
            self.flow_.initialize_actnorm(self._standardize(self.data_tensor()[idx.to(self.device_)]))
        if hp["base"] == "gmm":
            self.base_ = DiagonalGaussianMixture(dim, hp["base_components"]).to(self.device_)
            gen = torch.Generator().manual_seed(self.seed_ + 1)
            idx = torch.randperm(len(dataset), generator=gen)[:4096]
            with torch.no_grad():
                z = self.to_latent(self.data_tensor()[idx.to(self.device_)])
            self.base_.initialize(z, gen)
        else:
            self.base_ = StandardNormalBase(dim).to(self.device_)
        self.opt_ = torch.optim.Adam([*self.flow_.parameters(), *self.base_.parameters()], lr=hp["lr"])

    def _standardize(self, x: torch.Tensor) -> torch.Tensor:
        return standardize(x, self.shift_, self.scale_)

    # ---- density ---------------------------------------------------------------------------
    def to_latent(self, x: torch.Tensor) -> torch.Tensor:
        """The full differentiable map data -> latent (standardisation, then the flow): (B, D) -> (B, D)."""
        return self.flow_(self._standardize(x))[0]

    def _log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log-density (nats) of each row of ``x`` (B, D) under the current flow, differentiable;
        ``x`` is cast to the flow's dtype (float32 unless a test made it float64)."""
        # log p(x) = log N(z) + log|det dz/du| + log|det du/dx|, u the standardised x (du/dx = diag(1/scale)).
        z, logdet = self.flow_(self._standardize(x.to(self.scale_.dtype)))
        return self.base_.log_prob(z) + logdet - torch.log(self.scale_).sum()

    # ---- training --------------------------------------------------------------------------
    def _lr_at(self, step: int) -> float:
        """Learning rate for ``step`` (a pure function of the step count, so resuming needs no extra state)."""
        return self.hparams["lr"] * lr_factor(self.hparams, step)

    def _train_step(self) -> dict[str, float]:
        lr = self._lr_at(self.step_)
        for group in self.opt_.param_groups:
            group["lr"] = lr
        x = self.minibatch(self.hparams["batch_size"])
        # Maximum likelihood: minimise the mean negative log-likelihood of the batch.
        nll = -self._log_prob(x).mean()
        self.opt_.zero_grad(set_to_none=True)
        nll.backward()
        if self.hparams["grad_clip"] > 0:
            nn.utils.clip_grad_norm_([*self.flow_.parameters(), *self.base_.parameters()], self.hparams["grad_clip"])
        self.opt_.step()
        d = x.shape[1]
        return {"nll": nll.item(), "bits_per_dim": nll.item() / (d * math.log(2))}

    # ---- sampling --------------------------------------------------------------------------
    def _sample(self, n: int, condition: Any, gen: torch.Generator) -> torch.Tensor:
        if condition is not None:
            raise ConfigError(f"{self.label} is unconditional; sample without a condition.")
        z = self.base_.sample(n, gen).to(self.device_)
        return unstandardize(self.flow_.inverse(z), self.shift_, self.scale_)

    # ---- persistence -----------------------------------------------------------------------
    def _state_dict(self) -> dict[str, Any]:
        return {"flow": self.flow_.state_dict(), "base": self.base_.state_dict(), "opt": self.opt_.state_dict(),
                "shift": self.shift_.cpu(), "scale": self.scale_.cpu()}

    def _load_state_dict(self, state: dict[str, Any]) -> None:
        self.flow_.load_state_dict(state["flow"])
        self.base_.load_state_dict(state.get("base", {}))
        self.opt_.load_state_dict(state["opt"])
        self.shift_, self.scale_ = state["shift"].to(self.device_), state["scale"].to(self.device_)
