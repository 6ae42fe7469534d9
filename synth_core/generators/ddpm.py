"""DDPM: denoising diffusion probabilistic model (Ho, Jain & Abbeel 2020, arXiv:2006.11239).

Forward process: q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I) with abar_t = prod_{s<=t} (1 - beta_s).
The model learns eps_theta(x_t, t), the noise that was added, with the "simple" loss (Ho eq. 14);
sampling runs the learned reverse chain from x_T ~ N(0, I) (Ho Algorithm 2), or the deterministic
DDIM sampler on a subsequence of timesteps (Song, Meng & Ermon 2021, arXiv:2010.02502, eta = 0).
Beta schedules: Ho's linear one (rescaled by 1000 / T so a short chain still ends in pure noise, as in
Nichol & Dhariwal's code) or the cosine one (Nichol & Dhariwal 2021, arXiv:2102.09672, eq. 17).
The EMA of the weights (Ho et al. use decay 0.9999) is what ``sample`` uses.

Denoisers (``diffusion_nets``): a residual MLP for points/tabular, a small U-Net for images.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn

from ..data.base import Dataset
from ..errors import ConfigError
from ..params import Param
from .base import Generator, register_generator
from .diffusion_nets import MLPDenoiser, UNet
from .parts import ema_copy, ema_update, feature_scaling, require_conv_image, standardize, unstandardize


def beta_schedule(kind: str, n_steps: int) -> torch.Tensor:
    """beta_1..beta_T as float64 (T,).

    linear: Ho et al. 2020 use 1e-4 .. 0.02 over T = 1000; scaled by 1000 / T so that abar_T stays
    close to 0 for short chains (Nichol & Dhariwal 2021, improved-diffusion ``get_named_beta_schedule``).
    cosine: abar(t) = f(t) / f(0), f(t) = cos^2(((t / T + s) / (1 + s)) * pi / 2), s = 0.008, betas
    clipped at 0.999 (Nichol & Dhariwal 2021, eq. 17).
    """
    if kind == "linear":
        scale = 1000.0 / n_steps
        return torch.linspace(scale * 1e-4, min(scale * 0.02, 0.999), n_steps, dtype=torch.float64)
    if kind == "cosine":
        s = 0.008
        t = torch.arange(n_steps + 1, dtype=torch.float64) / n_steps
        f = torch.cos((t + s) / (1 + s) * math.pi / 2) ** 2
        abar = f / f[0]
        return (1 - abar[1:] / abar[:-1]).clamp(max=0.999)
    raise ConfigError(f"beta schedule must be 'linear' or 'cosine'; got {kind!r}")


def ddpm_simple_loss(model: nn.Module, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor,
                     alphas_bar: torch.Tensor) -> torch.Tensor:
    """L_simple = E_{t, x0, eps} || eps - eps_theta(sqrt(abar_t) x0 + sqrt(1 - abar_t) eps, t) ||^2
    (Ho et al. 2020, eq. 14), averaged over the batch and every dimension.

    x0, noise: (B, ...); t: (B,) integer timesteps in 0..T-1; alphas_bar: (T,).
    """
    ab = alphas_bar[t].view(-1, *([1] * (x0.dim() - 1)))  # (B, 1, ...) broadcasts over the sample
    x_t = ab.sqrt() * x0 + (1 - ab).sqrt() * noise
    return ((noise - model(x_t, t)) ** 2).mean()


@register_generator
class DDPM(Generator):
    name = "ddpm"
    label = "DDPM (diffusion)"
    family = "diffusion"
    supports = frozenset({"points", "tabular", "image"})
    default_steps = 5000
    paper = ("Ho, Jain & Abbeel 2020, Denoising Diffusion Probabilistic Models (arXiv:2006.11239); "
             "Nichol & Dhariwal 2021 (cosine schedule, arXiv:2102.09672); Song et al. 2021 (DDIM, arXiv:2010.02502)")
    params = (
        Param("timesteps", "int", 100, low=10, high=1000, label="Diffusion steps T",
              help="Length of the noising chain. Ho et al. use 1000; 100 is enough for toy data and faster to sample."),
        Param("schedule", "choice", "cosine", choices=("cosine", "linear"), label="Beta schedule",
              help="cosine (Nichol & Dhariwal 2021) destroys information more gradually than linear (Ho et al. 2020)."),
        Param("time_embedding", "choice", "sinusoidal", choices=("sinusoidal", "learned"),
              help="How the network is told the timestep: fixed sinusoids or a learned vector per step."),
        Param("sample_steps", "int", 0, low=0, high=1000, label="Sampling steps",
              help="0: the full ancestral DDPM chain (T steps). k > 0: deterministic DDIM with k steps (faster)."),
        Param("batch_size", "int", 128, low=8, high=2048, help="Training samples per step."),
        Param("lr", "float", 1e-3, low=1e-6, high=1e-1, log=True, label="Learning rate", help="Adam learning rate."),
        Param("width", "int", 128, low=8, high=1024,
              help="Network width: hidden units of the MLP denoiser (points/tabular), base channels of the U-Net "
                   "(images; 16 trains at ~2-3 steps/s on MNIST with batch 128 on a 2-core CPU)."),
        Param("depth", "int", 3, low=1, high=8, help="Residual blocks of the MLP denoiser (points/tabular)."),
        Param("ema", "bool", True, label="EMA weights",
              help="Sample with an exponential moving average of the weights (smoother, better samples)."),
        Param("ema_decay", "float", 0.995, low=0.0, high=0.99999, advanced=True,
              help="EMA decay; warmed up as min(decay, (1 + step) / (10 + step)) so early samples are not stale."),
        Param("grad_clip", "float", 1.0, low=0.0, high=100.0, advanced=True,
              help="Clip the gradient norm to this value (0 disables)."),
        Param("standardize", "bool", True, advanced=True,
              help="Points/tabular: scale each feature to mean 0, std 1 (the noise is N(0, I), so the data should match)."),
    )
    # the U-Net's base channels on images (its cost grows with width squared), the MLP's hidden units otherwise
    kind_defaults = {"image": dict(width=16)}

    @classmethod
    def upgrade_params(cls, values: dict[str, Any], kind: str | None = None) -> dict[str, Any]:
        """Until issue 14 DDPM had ``hidden`` (the MLP denoiser's units: points/tabular) beside ``width``
        (the U-Net's channels: images); a saved config keeps the one its data kind used as ``width``."""
        out = dict(values)
        if "hidden" in out:
            hidden = out.pop("hidden")
            if kind != "image":
                out["width"] = hidden
        return super().upgrade_params(out, kind)

    # ---- setup -----------------------------------------------------------------------------
    def _setup(self, dataset: Dataset) -> None:
        hp = self.hparams
        T = hp["timesteps"]
        self.is_image_ = dataset.kind == "image"
        betas = beta_schedule(hp["schedule"], T)
        alphas_bar = torch.cumprod(1 - betas, 0)
        # Schedules in float64, stored as float32 on the device: (T,) each.
        self.betas_ = betas.float().to(self.device_)
        self.alphas_bar_ = alphas_bar.float().to(self.device_)
        # Per-feature standardisation for points/tabular (images are already in [-1, 1]).
        self.shift_, self.scale_ = feature_scaling(dataset.x, enabled=not self.is_image_ and hp["standardize"])
        self.shift_, self.scale_ = self.shift_.to(self.device_), self.scale_.to(self.device_)
        with torch.random.fork_rng(devices=[]):  # build from the run's seed, leave the global RNG alone
            torch.manual_seed(self.seed_)
            if self.is_image_:
                require_conv_image(dataset, self.label)
                c, h, _ = dataset.sample_shape
                self.net_: nn.Module = UNet(c, h, T, hp["width"], hp["time_embedding"])
            else:
                self.net_ = MLPDenoiser(dataset.n_features, T, hp["width"], hp["depth"], hp["time_embedding"])
        self.net_.to(self.device_)
        self.ema_net_ = ema_copy(self.net_) if hp["ema"] else None
        self.opt_ = torch.optim.Adam(self.net_.parameters(), lr=hp["lr"])

    def _to_model(self, x: torch.Tensor) -> torch.Tensor:
        return standardize(x, self.shift_, self.scale_)

    def _from_model(self, x: torch.Tensor) -> torch.Tensor:
        return unstandardize(x, self.shift_, self.scale_)

    # ---- training --------------------------------------------------------------------------
    def _train_step(self) -> dict[str, float]:
        x0 = self._to_model(self.minibatch(self.hparams["batch_size"]))
        # t and eps come from the generator's own RNG (on the CPU) so runs are reproducible per seed.
        t = torch.randint(self.hparams["timesteps"], (len(x0),), generator=self.rng_).to(self.device_)
        noise = torch.randn(x0.shape, generator=self.rng_).to(self.device_)
        self.net_.train()
        loss = ddpm_simple_loss(self.net_, x0, t, noise, self.alphas_bar_)
        self.opt_.zero_grad(set_to_none=True)
        loss.backward()
        if self.hparams["grad_clip"] > 0:
            nn.utils.clip_grad_norm_(self.net_.parameters(), self.hparams["grad_clip"])
        self.opt_.step()
        self._update_ema()
        return {"loss": loss.item()}

    def _update_ema(self) -> None:
        if self.ema_net_ is None:
            return
        # Warm-up: average over roughly the steps seen so far early on (the weights move fast then).
        ema_update(self.ema_net_, self.net_, min(self.hparams["ema_decay"], (1 + self.step_) / (10 + self.step_)))

    # ---- sampling --------------------------------------------------------------------------
    def _predict_x0(self, x_t: torch.Tensor, eps: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
        x0 = (x_t - (1 - ab).sqrt() * eps) / ab.sqrt()
        # Images live in [-1, 1]: clipping the x0 estimate keeps the chain in range (Ho et al.'s code).
        return x0.clamp(-1, 1) if self.is_image_ else x0

    def _sample(self, n: int, condition: Any, gen: torch.Generator) -> torch.Tensor:
        if condition is not None:
            raise ConfigError(f"{self.label} is unconditional; sample without a condition.")
        net = self.ema_net_ if self.ema_net_ is not None else self.net_
        net.eval()
        shape = (n, *self.dataset_.sample_shape)
        x = torch.randn(shape, generator=gen).to(self.device_)  # x_T ~ N(0, I)
        k = self.hparams["sample_steps"]
        x = self._ddim(net, x, k) if k > 0 else self._ancestral(net, x, gen)
        x = self._from_model(x)
        return x.clamp(-1, 1) if self.is_image_ else x

    def preview(self, n: int | None = None) -> np.ndarray:
        """Live preview from the fixed latent batch with a cheap 20-step DDIM (a full chain is T net calls)."""
        k = self.hparams["sample_steps"]
        self.hparams["sample_steps"] = k or min(20, self.hparams["timesteps"])
        try:
            return super().preview(n)
        finally:
            self.hparams["sample_steps"] = k

    def _eps(self, net: nn.Module, x: torch.Tensor, t: int) -> torch.Tensor:
        tt = torch.full((len(x),), t, dtype=torch.long, device=self.device_)
        # Chunk big requests so memory stays bounded (a 10k-point scatter, a big image grid).
        return torch.cat([net(x[i:i + 1024], tt[i:i + 1024]) for i in range(0, len(x), 1024)]) if len(x) else x

    def _ancestral(self, net: nn.Module, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """Ho et al. Algorithm 2 with the posterior q(x_{t-1} | x_t, x0_hat) and its variance beta_tilde."""
        betas, abar = self.betas_, self.alphas_bar_
        for t in reversed(range(len(betas))):
            ab, beta = abar[t], betas[t]
            ab_prev = abar[t - 1] if t > 0 else torch.ones_like(ab)
            x0 = self._predict_x0(x, self._eps(net, x, t), ab)
            # Posterior mean (Ho eq. 7): c0 * x0 + ct * x_t
            c0 = beta * ab_prev.sqrt() / (1 - ab)
            ct = (1 - ab_prev) * (1 - beta).sqrt() / (1 - ab)
            x = c0 * x0 + ct * x
            if t > 0:
                var = beta * (1 - ab_prev) / (1 - ab)
                x = x + var.sqrt() * torch.randn(x.shape, generator=gen).to(self.device_)
        return x

    def _ddim(self, net: nn.Module, x: torch.Tensor, k: int) -> torch.Tensor:
        """Deterministic DDIM (eta = 0, Song et al. 2021 eq. 12) on ``k`` evenly spaced timesteps."""
        T = len(self.betas_)
        ts = np.unique(np.linspace(0, T - 1, min(k, T)).round().astype(int))[::-1].tolist()
        for i, t in enumerate(ts):
            ab = self.alphas_bar_[t]
            ab_prev = self.alphas_bar_[ts[i + 1]] if i + 1 < len(ts) else torch.ones_like(ab)
            eps = self._eps(net, x, t)
            x0 = self._predict_x0(x, eps, ab)
            eps = (x - ab.sqrt() * x0) / (1 - ab).sqrt()  # consistent with a clipped x0
            x = ab_prev.sqrt() * x0 + (1 - ab_prev).sqrt() * eps
        return x

    # ---- persistence -----------------------------------------------------------------------
    def _state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {"net": self.net_.state_dict(), "opt": self.opt_.state_dict(),
                                 "shift": self.shift_.cpu(), "scale": self.scale_.cpu()}
        if self.ema_net_ is not None:
            state["ema"] = self.ema_net_.state_dict()
        return state

    def _load_state_dict(self, state: dict[str, Any]) -> None:
        self.net_.load_state_dict(state["net"])
        self.opt_.load_state_dict(state["opt"])
        self.shift_, self.scale_ = state["shift"].to(self.device_), state["scale"].to(self.device_)
        if self.ema_net_ is not None:
            self.ema_net_.load_state_dict(state.get("ema", state["net"]))
