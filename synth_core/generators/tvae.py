"""TVAE: a variational autoencoder for tables (Xu, Skoularidou, Cuesta-Infante & Veeramachaneni 2019,
"Modeling Tabular Data using Conditional GAN", NeurIPS, sec. 4.4).

MLP encoder q(z|x) and decoder p(x|z) over the same per-column layout CTGAN uses: each one-hot
block (categories, CTGAN mode indicators, missing flags, the label) gets a softmax likelihood
(cross-entropy loss), each continuous scalar a Gaussian with a learned per-column sigma (tanh mean
for mode-normalised scalars, identity for normal scores). The loss is the negative ELBO,
reconstruction + KL, reported separately. Samples decode z ~ N(0, I) and draw each column from
its likelihood.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..data.base import Dataset
from ..errors import ConfigError
from ..params import Param
from .base import Generator, register_generator
from .tabular_nets import LabelledSamples, TabularLayout, mlp

#: the learned per-column sigma is kept in [SIGMA_MIN, SIGMA_MAX] (as in the reference TVAE)
SIGMA_MIN, SIGMA_MAX = 0.01, 1.0


def tvae_loss(x: torch.Tensor, raw: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, layout: TabularLayout,
              log_sigma: torch.Tensor, *, recon_weight: float = 1.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """-ELBO per row (Kingma & Welling 2014, eq. 10) with TVAE's per-column likelihoods.

    ``x``: internal rows (B, dim); ``raw``: decoder outputs (B, dim); ``log_sigma``: one per scalar
    segment. Returns (objective = recon_weight * recon + KL, recon, KL), nats per row.
    """
    recon = x.new_zeros(len(x))
    j = 0
    for s in layout.segments:
        r, t = raw[:, s.start:s.stop], x[:, s.start:s.stop]
        if s.kind == "softmax":
            recon = recon + F.cross_entropy(r, t.argmax(1), reduction="none")
        else:
            mean = torch.tanh(r[:, 0]) if s.kind == "tanh" else r[:, 0]
            ls = log_sigma[j]
            recon = recon + 0.5 * ((t[:, 0] - mean) * torch.exp(-ls)) ** 2 + ls + 0.5 * math.log(2 * math.pi)
            j += 1
    kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)
    recon, kl = recon.mean(), kl.mean()
    return recon_weight * recon + kl, recon, kl


@register_generator
class TVAE(LabelledSamples, Generator):
    name = "tvae"
    label = "TVAE (tabular VAE)"
    family = "vae"
    supports = frozenset({"tabular"})
    tabular_input = "onehot"  # its own softmax head per one-hot block (tabular_nets.TabularLayout)
    paper = ("Xu, Skoularidou, Cuesta-Infante & Veeramachaneni 2019, Modeling Tabular Data using Conditional "
             "GAN (NeurIPS); Kingma & Welling 2014, Auto-Encoding Variational Bayes")
    default_steps = 2000
    has_latent = True
    params = (
        Param("z_dim", "int", 128, low=1, high=512, label="Latent size", help="Dimension of the latent vector z."),
        Param("width", "int", 128, low=8, high=1024, help="Hidden units per layer of encoder and decoder."),
        Param("depth", "int", 2, low=1, high=6, help="Hidden layers of encoder and decoder."),
        Param("lr", "float", 1e-3, low=1e-6, high=1e-1, log=True, help="Adam learning rate."),
        Param("batch_size", "int", 500, low=8, high=5000, help="Rows per update (drawn with replacement)."),
        Param("recon_weight", "float", 2.0, low=0.1, high=20.0,
              help="Weight of the reconstruction term (the reference TVAE's loss_factor = 2; 1 is the true ELBO)."),
        Param("weight_decay", "float", 1e-5, low=0.0, high=1e-2, advanced=True, help="Adam L2 weight decay."),
    )
    renamed_params = {"latent_dim": "z_dim"}  # its name until issue 14 (one name across families)

    def _setup(self, dataset: Dataset) -> None:
        hp = self.hparams
        self.layout_ = TabularLayout.from_dataset(dataset)
        self.data_ = torch.from_numpy(self.layout_.to_internal(dataset.x, dataset.y)).to(self.device_)
        n_scalar = sum(s.kind != "softmax" for s in self.layout_.segments)
        d, zd, w = self.layout_.dim, hp["z_dim"], hp["width"]
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed_)
            self.net_ = nn.Module()
            self.net_.enc = mlp(d, 2 * zd, w, hp["depth"])
            self.net_.dec = mlp(zd, d, w, hp["depth"])
            self.net_.log_sigma = nn.Parameter(torch.full((n_scalar,), math.log(0.1)))
        self.net_.to(self.device_)
        self.opt_ = torch.optim.Adam(self.net_.parameters(), lr=hp["lr"], weight_decay=hp["weight_decay"])

    def _log_sigma(self) -> torch.Tensor:
        return self.net_.log_sigma.clamp(math.log(SIGMA_MIN), math.log(SIGMA_MAX))

    def _train_step(self) -> dict[str, float]:
        idx = torch.randint(len(self.data_), (self.hparams["batch_size"],), generator=self.rng_).to(self.device_)
        x = self.data_[idx]
        mu, logvar = self.net_.enc(x).chunk(2, dim=1)
        # reparameterisation: z = mu + sigma * eps, eps from this run's RNG
        z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=self.rng_).to(mu.device)
        raw = self.net_.dec(z)
        loss, recon, kl = tvae_loss(x, raw, mu, logvar, self.layout_, self._log_sigma(),
                                    recon_weight=self.hparams["recon_weight"])
        self.opt_.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_.step()
        # the negative ELBO (recon + KL, nats per row), named as the VAE names it: a loss, lower is better
        return {"neg_elbo": (recon + kl).item(), "recon": recon.item(), "kl": kl.item()}

    def _draw(self, n: int, condition: Any, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor | None]:
        if condition is not None:
            raise ConfigError(f"{self.label} is unconditional; sample without a condition (or use "
                              f"synth_core.train.conditional.sample_where, which filters its samples).")
        z = torch.randn((n, self.hparams["z_dim"]), generator=gen).to(self.device_)
        raw = self.net_.dec(z)
        sigma = torch.exp(self._log_sigma())
        parts, j = [], 0
        for s in self.layout_.segments:
            r = raw[:, s.start:s.stop]
            if s.kind == "softmax":  # a draw from the categorical likelihood, as a one-hot
                k = torch.multinomial(F.softmax(r, 1).cpu().double(), 1, generator=gen).squeeze(1) if n else \
                    torch.zeros(0, dtype=torch.int64)
                parts.append(F.one_hot(k, s.width).to(r.device, r.dtype))
            else:
                mean = torch.tanh(r) if s.kind == "tanh" else r
                noise = torch.randn(mean.shape, generator=gen).to(r.device)
                v = mean + sigma[j] * noise
                parts.append(v.clamp(-1, 1) if s.kind == "tanh" else v)
                j += 1
        h = torch.cat(parts, 1) if parts else raw
        return self.layout_.to_model(h)

    def latent_size(self) -> int | None:
        return int(self.hparams["z_dim"])

    def _decode_latent(self, z: np.ndarray, condition: Any = None) -> np.ndarray:
        return self.decode_latent_with_labels(z, condition)[0]

    @torch.no_grad()
    def decode_latent_with_labels(self, z: np.ndarray, condition: Any = None
                                  ) -> tuple[np.ndarray, np.ndarray | None]:
        """The most likely row at each latent (argmax categories, Gaussian means), and its label."""
        zt = torch.as_tensor(np.asarray(z, dtype=np.float32)).reshape(len(z), -1).to(self.device_)
        raw = self.net_.dec(zt)
        parts = []
        for s in self.layout_.segments:
            r = raw[:, s.start:s.stop]
            if s.kind == "softmax":
                parts.append(F.one_hot(r.argmax(1), s.width).to(r.dtype))
            else:
                parts.append(torch.tanh(r) if s.kind == "tanh" else r)
        x, y = self.layout_.to_model(torch.cat(parts, 1))
        return x.cpu().numpy().astype(np.float32), None if y is None else y.cpu().numpy().astype(np.int64)

    def _state_dict(self) -> dict[str, Any]:
        return {"net": self.net_.state_dict(), "opt": self.opt_.state_dict()}

    def _load_state_dict(self, state: dict[str, Any]) -> None:
        self.net_.load_state_dict(state["net"])
        self.opt_.load_state_dict(state["opt"])
