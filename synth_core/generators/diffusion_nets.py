"""Denoiser networks for diffusion models: eps_theta(x_t, t).

* :class:`TimeEmbedding` — sinusoidal (Vaswani et al. 2017, as used by Ho et al. 2020) or a learned
  table, followed by a small MLP.
* :class:`MLPDenoiser` — residual MLP for points and tabular rows (B x D).
* :class:`UNet` — a small U-Net (Ronneberger et al. 2015; the DDPM variant of Ho et al. 2020 with
  GroupNorm residual blocks and additive time embeddings, without attention to stay CPU-friendly).
  It handles any square image whose side is divisible by 4: 28 -> 14 -> 7 -> 14 -> 28 (MNIST),
  8 -> 4 -> 2 -> 4 -> 8 (scikit-learn digits).

This module registers no generator; ``ddpm.py`` imports it.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def sinusoidal_embedding(t: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    """Transformer position encoding of the timestep: (B,) -> (B, dim). ``dim`` must be even."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None, :]  # (B, half)
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1)


class TimeEmbedding(nn.Module):
    """Integer timestep t in 0..T-1 -> (B, out_dim) vector that every block adds to its features."""

    def __init__(self, n_steps: int, dim: int, out_dim: int, kind: str = "sinusoidal") -> None:
        super().__init__()
        if kind not in ("sinusoidal", "learned"):
            raise ValueError(f"time embedding must be 'sinusoidal' or 'learned'; got {kind!r}")
        self.kind, self.dim = kind, dim
        self.table = nn.Embedding(n_steps, dim) if kind == "learned" else None
        self.mlp = nn.Sequential(nn.Linear(dim, out_dim), nn.SiLU(), nn.Linear(out_dim, out_dim))

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        e = self.table(t) if self.table is not None else sinusoidal_embedding(t, self.dim)
        return self.mlp(e)


class MLPDenoiser(nn.Module):
    """(x_t: B x D, t: B) -> predicted noise B x D.

    Pre-activation residual blocks; each block adds its own projection of the time embedding, so
    the same weights can denoise every noise level. The output layer starts at zero (the network
    first predicts eps = 0, the minimum-variance guess) which keeps early training stable.
    """

    def __init__(self, dim: int, n_steps: int, hidden: int = 128, depth: int = 3,
                 time_embedding: str = "sinusoidal") -> None:
        super().__init__()
        self.temb = TimeEmbedding(n_steps, hidden, hidden, time_embedding)
        self.inp = nn.Linear(dim, hidden)
        self.blocks = nn.ModuleList(
            nn.ModuleDict({"t": nn.Linear(hidden, hidden), "fc1": nn.Linear(hidden, hidden),
                           "fc2": nn.Linear(hidden, hidden)}) for _ in range(depth))
        self.out = nn.Linear(hidden, dim)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        emb = self.temb(t)                                   # (B, hidden)
        h = self.inp(x)                                      # (B, hidden)
        for b in self.blocks:
            r = b["fc1"](F.silu(h)) + b["t"](F.silu(emb))
            h = h + b["fc2"](F.silu(r))
        return self.out(F.silu(h))


def _group_norm(channels: int) -> nn.GroupNorm:
    # 8 groups where the channel count allows it (GroupNorm needs groups | channels).
    return nn.GroupNorm(math.gcd(8, channels), channels)


class ResBlock(nn.Module):
    """GN -> SiLU -> conv3x3 (+ time) -> GN -> SiLU -> conv3x3, plus a 1x1 skip when channels change."""

    def __init__(self, cin: int, cout: int, tdim: int) -> None:
        super().__init__()
        self.norm1, self.conv1 = _group_norm(cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.tproj = nn.Linear(tdim, cout)
        self.norm2, self.conv2 = _group_norm(cout), nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.tproj(F.silu(emb))[:, :, None, None]   # broadcast (B, C) over H x W
        h = self.conv2(F.silu(self.norm2(h)))
        return h + self.skip(x)


class UNet(nn.Module):
    """(x_t: B x C x s x s, t: B) -> predicted noise of the same shape.

    Channels: w at s, 2w at s/2 and s/4; skip connections concatenate the encoder features of the
    same resolution into the decoder (why a U-Net: fine detail from the skips, global shape from
    the bottleneck).
    """

    def __init__(self, channels: int, side: int, n_steps: int, width: int = 32,
                 time_embedding: str = "sinusoidal") -> None:
        super().__init__()
        if side % 4:
            raise ValueError(f"the diffusion U-Net needs an image side divisible by 4; got {side}")
        w0, w1, tdim = width, 2 * width, 4 * width
        self.temb = TimeEmbedding(n_steps, w0, tdim, time_embedding)
        self.inp = nn.Conv2d(channels, w0, 3, padding=1)
        self.enc0 = ResBlock(w0, w0, tdim)                      # s
        self.down0 = nn.Conv2d(w0, w0, 3, stride=2, padding=1)  # s -> s/2
        self.enc1 = ResBlock(w0, w1, tdim)                      # s/2
        self.down1 = nn.Conv2d(w1, w1, 3, stride=2, padding=1)  # s/2 -> s/4
        self.mid = ResBlock(w1, w1, tdim)                       # s/4
        self.up1 = nn.Conv2d(w1, w1, 3, padding=1)              # after x2 nearest upsampling
        self.dec1 = ResBlock(w1 + w1, w1, tdim)                 # s/2, concat enc1
        self.up0 = nn.Conv2d(w1, w1, 3, padding=1)
        self.dec0 = ResBlock(w1 + w0, w0, tdim)                 # s, concat enc0
        self.out_norm = _group_norm(w0)
        self.out = nn.Conv2d(w0, channels, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        emb = self.temb(t)                                      # (B, 4w)
        h0 = self.enc0(self.inp(x), emb)                        # (B, w, s, s)
        h1 = self.enc1(self.down0(h0), emb)                     # (B, 2w, s/2, s/2)
        h = self.mid(self.down1(h1), emb)                       # (B, 2w, s/4, s/4)
        h = self.up1(F.interpolate(h, scale_factor=2.0, mode="nearest"))
        h = self.dec1(torch.cat([h, h1], dim=1), emb)           # (B, 2w, s/2, s/2)
        h = self.up0(F.interpolate(h, scale_factor=2.0, mode="nearest"))
        h = self.dec0(torch.cat([h, h0], dim=1), emb)           # (B, w, s, s)
        return self.out(F.silu(self.out_norm(h)))
