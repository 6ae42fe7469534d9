"""Networks shared by the neural generators (GANs, VAEs, flows).

Conv nets handle any square image whose side is divisible by 4 (28x28 MNIST, 8x8 digits,
32x32): two stride-2 (transposed) convolutions between ``side/4`` and ``side``.
"""
from __future__ import annotations

import contextlib
import math
from typing import Iterator

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as _sn


@contextlib.contextmanager
def eval_mode(net: nn.Module) -> Iterator[nn.Module]:
    """``net`` in eval mode (batch-norm running statistics, no spectral-norm power iteration) for the
    block, then back in the mode it was in: sampling and teaching views never disturb training."""
    was_training = net.training
    net.eval()
    try:
        yield net
    finally:
        net.train(was_training)


def _maybe_sn(module: nn.Module, use: bool) -> nn.Module:
    return _sn(module) if use else module


class ConvGenerator(nn.Module):
    """z (+ label embedding) -> Linear -> (2w, s/4, s/4) -> ConvT -> (w, s/2, s/2) -> ConvT -> (c, s, s), tanh."""

    def __init__(self, z_dim: int, channels: int, side: int, width: int = 64, n_classes: int = 0) -> None:
        super().__init__()
        if side % 4:
            raise ValueError(f"conv generators need an image side divisible by 4; got {side}")
        self.base = side // 4
        self.width = width
        self.embed = nn.Embedding(n_classes, z_dim) if n_classes else None
        in_dim = z_dim * (2 if n_classes else 1)
        self.fc = nn.Sequential(
            nn.Linear(in_dim, 2 * width * self.base * self.base, bias=False),
            nn.BatchNorm1d(2 * width * self.base * self.base),
            nn.ReLU(inplace=True),
        )
        self.net = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False),  # s/4 -> s/2
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(width, channels, 4, 2, 1),  # s/2 -> s
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.embed is not None:
            z = torch.cat([z, self.embed(y)], dim=1)
        h = self.fc(z).view(-1, 2 * self.width, self.base, self.base)
        return self.net(h)


class ConvDiscriminator(nn.Module):
    """(c, s, s) -> Conv -> (w, s/2, s/2) -> Conv -> (2w, s/4, s/4) -> Linear -> logit.

    Conditional: projection discriminator (Miyato & Koyama 2018), logit += <embed(y), h>.
    ``norm``: batch norm (DCGAN), layer norm (WGAN-GP: the gradient penalty is per-sample,
    so batch statistics are not allowed) or none.
    """

    def __init__(self, channels: int, side: int, width: int = 64, n_classes: int = 0,
                 norm: str = "batch", spectral_norm: bool = False) -> None:
        super().__init__()
        base = side // 4
        if norm == "batch":
            mid_norm: nn.Module = nn.BatchNorm2d(2 * width)
        elif norm == "layer":
            mid_norm = nn.GroupNorm(1, 2 * width)  # LayerNorm over (C, H, W)
        else:
            mid_norm = nn.Identity()
        self.features = nn.Sequential(
            _maybe_sn(nn.Conv2d(channels, width, 4, 2, 1), spectral_norm),
            nn.LeakyReLU(0.2, inplace=True),
            _maybe_sn(nn.Conv2d(width, 2 * width, 4, 2, 1, bias=norm == "none"), spectral_norm),
            mid_norm,
            nn.LeakyReLU(0.2, inplace=True),
            nn.Flatten(),
        )
        feat = 2 * width * base * base
        self.out = _maybe_sn(nn.Linear(feat, 1), spectral_norm)
        self.embed = _maybe_sn(nn.Embedding(n_classes, feat), spectral_norm) if n_classes else None

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.features(x)
        logit = self.out(h).squeeze(1)
        if self.embed is not None:
            logit = logit + (self.embed(y) * h).sum(1)
        return logit


def mlp(in_dim: int, out_dim: int, width: int, depth: int, act: type[nn.Module] = nn.ReLU,
        spectral_norm: bool = False) -> nn.Sequential:
    """``depth`` hidden layers of ``width`` units."""
    layers: list[nn.Module] = []
    d = in_dim
    for _ in range(depth):
        layers += [_maybe_sn(nn.Linear(d, width), spectral_norm), act()]
        d = width
    layers.append(_maybe_sn(nn.Linear(d, out_dim), spectral_norm))
    return nn.Sequential(*layers)


class MLPGenerator(nn.Module):
    """z (+ label embedding) -> MLP -> flat sample; tanh on the output only for [-1, 1] images."""

    def __init__(self, z_dim: int, out_dim: int, width: int, depth: int, n_classes: int = 0,
                 tanh: bool = False) -> None:
        super().__init__()
        self.embed = nn.Embedding(n_classes, z_dim) if n_classes else None
        self.net = mlp(z_dim * (2 if n_classes else 1), out_dim, width, depth)
        self.tanh = tanh

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.embed is not None:
            z = torch.cat([z, self.embed(y)], dim=1)
        out = self.net(z)
        return torch.tanh(out) if self.tanh else out


class MLPDiscriminator(nn.Module):
    """Flat sample -> LeakyReLU MLP features -> logit (projection term when conditional)."""

    def __init__(self, in_dim: int, width: int, depth: int, n_classes: int = 0, spectral_norm: bool = False) -> None:
        super().__init__()
        self.features = mlp(in_dim, width, width, max(depth - 1, 0), act=lambda: nn.LeakyReLU(0.2),
                            spectral_norm=spectral_norm)
        self.act = nn.LeakyReLU(0.2)
        self.out = _maybe_sn(nn.Linear(width, 1), spectral_norm)
        self.embed = _maybe_sn(nn.Embedding(n_classes, width), spectral_norm) if n_classes else None

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.act(self.features(x.flatten(1)))
        logit = self.out(h).squeeze(1)
        if self.embed is not None:
            logit = logit + (self.embed(y) * h).sum(1)
        return logit


# ---- VAE encoders/decoders (Kingma & Welling 2014; conditional: Sohn et al. 2015) ----------------
# Conditioning is by concatenating a learned label embedding to the input of both nets.


class MLPEncoder(nn.Module):
    """Flat x (+ label embedding) -> MLP -> (mu, logvar), each (B, z_dim)."""

    def __init__(self, in_dim: int, z_dim: int, width: int, depth: int, n_classes: int = 0, emb_dim: int = 16) -> None:
        super().__init__()
        self.embed = nn.Embedding(n_classes, emb_dim) if n_classes else None
        self.net = mlp(in_dim + (emb_dim if n_classes else 0), 2 * z_dim, width, depth)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        h = x.flatten(1)
        if self.embed is not None:
            h = torch.cat([h, self.embed(y)], dim=1)
        mu, logvar = self.net(h).chunk(2, dim=1)
        return mu, logvar


class MLPDecoder(nn.Module):
    """z (+ label embedding) -> MLP -> flat (B, out_dim) likelihood parameters (means or logits)."""

    def __init__(self, z_dim: int, out_dim: int, width: int, depth: int, n_classes: int = 0, emb_dim: int = 16) -> None:
        super().__init__()
        self.embed = nn.Embedding(n_classes, emb_dim) if n_classes else None
        self.net = mlp(z_dim + (emb_dim if n_classes else 0), out_dim, width, depth)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.embed is not None:
            z = torch.cat([z, self.embed(y)], dim=1)
        return self.net(z)


class ConvEncoder(nn.Module):
    """(c, s, s) -> Conv -> (w, s/2, s/2) -> Conv -> (2w, s/4, s/4) -> flatten (+ label emb) -> (mu, logvar)."""

    def __init__(self, channels: int, side: int, z_dim: int, width: int = 32, n_classes: int = 0,
                 emb_dim: int = 16) -> None:
        super().__init__()
        if side % 4:
            raise ValueError(f"conv encoders need an image side divisible by 4; got {side}")
        self.features = nn.Sequential(
            nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(width, 2 * width, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True),
            nn.Flatten(),
        )
        self.embed = nn.Embedding(n_classes, emb_dim) if n_classes else None
        feat = 2 * width * (side // 4) ** 2 + (emb_dim if n_classes else 0)
        self.out = nn.Linear(feat, 2 * z_dim)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.features(x)
        if self.embed is not None:
            h = torch.cat([h, self.embed(y)], dim=1)
        mu, logvar = self.out(h).chunk(2, dim=1)
        return mu, logvar


class ConvDecoder(nn.Module):
    """z (+ label emb) -> Linear -> (2w, s/4, s/4) -> ConvT -> (w, s/2, s/2) -> ConvT -> (c, s, s) raw outputs.

    No batch norm (a VAE decoder's output should not depend on its batch) and no output
    activation: the likelihood decides (logits for Bernoulli, means for Gaussian).
    """

    def __init__(self, z_dim: int, channels: int, side: int, width: int = 32, n_classes: int = 0,
                 emb_dim: int = 16) -> None:
        super().__init__()
        if side % 4:
            raise ValueError(f"conv decoders need an image side divisible by 4; got {side}")
        self.base, self.width = side // 4, width
        self.embed = nn.Embedding(n_classes, emb_dim) if n_classes else None
        self.fc = nn.Sequential(nn.Linear(z_dim + (emb_dim if n_classes else 0), 2 * width * self.base ** 2),
                                nn.ReLU(inplace=True))
        self.net = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1), nn.ReLU(inplace=True),  # s/4 -> s/2
            nn.ConvTranspose2d(width, channels, 4, 2, 1),  # s/2 -> s
        )

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.embed is not None:
            z = torch.cat([z, self.embed(y)], dim=1)
        return self.net(self.fc(z).view(-1, 2 * self.width, self.base, self.base))


# ---- a learnable Gaussian mixture (flow base density, VAE prior) ------------------------------
_LOG_2PI = math.log(2 * math.pi)


class DiagonalGaussianMixture(nn.Module):
    """A learnable mixture of K diagonal Gaussians, sum_k pi_k N(z; mu_k, diag sigma_k^2).

    Used as a flow's base density (a common variant, e.g. Izmailov et al. 2020, FlowGMM,
    arXiv:1912.13025: the flow only has to map each data cluster onto a component instead of
    tearing one Gaussian into several modes) and as a VAE prior (a mixture-of-Gaussians prior,
    cf. Tomczak & Welling 2018, VampPrior, arXiv:1705.07120)."""

    def __init__(self, dim: int, k: int) -> None:
        super().__init__()
        self.dim = dim
        self.logits = nn.Parameter(torch.zeros(k))
        self.means = nn.Parameter(torch.zeros(k, dim))
        self.log_std = nn.Parameter(torch.zeros(k, dim))

    @torch.no_grad()
    def initialize(self, z: torch.Tensor, gen: torch.Generator, iters: int = 10) -> None:
        """Data-dependent init (as ActNorm's): k-means on ``z`` (latents of a data batch), seeded by
        farthest-point picks from a random start; each component takes its cluster's mean, per-feature
        std and share. Training then refines the mixture and the flow jointly."""
        k = len(self.logits)
        z = z.double()
        centres = [z[torch.randint(len(z), (1,), generator=gen).item()]]
        d2 = ((z - centres[0]) ** 2).sum(1)
        for _ in range(1, k):
            centres.append(z[int(d2.argmax())])
            d2 = torch.minimum(d2, ((z - centres[-1]) ** 2).sum(1))
        mu = torch.stack(centres)
        for _ in range(iters):
            assign = torch.cdist(z, mu).argmin(1)
            for j in range(k):
                if (assign == j).any():
                    mu[j] = z[assign == j].mean(0)
        assign = torch.cdist(z, mu).argmin(1)
        std = torch.ones_like(mu)
        count = torch.zeros(k, dtype=z.dtype)
        for j in range(k):
            members = z[assign == j]
            count[j] = len(members)
            if len(members) > 1:
                std[j] = members.std(0).clamp_min(1e-3)
        self.means.copy_(mu.float())
        self.log_std.copy_(std.log().float())
        self.logits.copy_(torch.log(count.clamp_min(1.0) / len(z)).float())

    def component_log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """(B, D) -> (B, K): log pi_k + log N(z; mu_k, diag sigma_k^2)."""
        diff = (z[:, None, :] - self.means) * (-self.log_std).exp()
        log_n = -0.5 * (diff**2 + _LOG_2PI).sum(2) - self.log_std.sum(1)
        return torch.log_softmax(self.logits, 0) + log_n

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        return torch.logsumexp(self.component_log_prob(z), 1)

    def sample(self, n: int, gen: torch.Generator) -> torch.Tensor:
        probs = torch.softmax(self.logits.detach(), 0).cpu()
        k = torch.multinomial(probs, n, replacement=True, generator=gen) if n else torch.zeros(0, dtype=torch.long)
        eps = torch.randn((n, self.dim), generator=gen)
        k = k.to(self.means.device)
        return self.means[k] + eps.to(self.means.device) * self.log_std[k].exp()
