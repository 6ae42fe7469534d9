"""A plain reference MNIST DCGAN loop for ``bench/time_to_quality.py`` (not part of the library).

The classic tutorial recipe most MNIST DCGAN write-ups start from (the TensorFlow DCGAN tutorial, a
PyTorch port): G = Dense(100 -> 7*7*256) -> BN -> LeakyReLU -> ConvT(256->128, 5, s1) -> BN -> LReLU ->
ConvT(128->64, 5, s2) -> BN -> LReLU -> ConvT(64->1, 5, s2) -> tanh; D = Conv(1->64, 5, s2) -> LReLU ->
Dropout(0.3) -> Conv(64->128, 5, s2) -> LReLU -> Dropout(0.3) -> Linear(1); BCE loss, Adam(1e-4) for
both, batch 256, noise 100. No Run, no previews: the bare loop SynthLab's default is compared with.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class RefG(nn.Module):
    def __init__(self, z: int = 100) -> None:
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(z, 7 * 7 * 256, bias=False), nn.BatchNorm1d(7 * 7 * 256), nn.LeakyReLU(0.3))
        self.net = nn.Sequential(
            nn.ConvTranspose2d(256, 128, 5, 1, 2, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(0.3),
            nn.ConvTranspose2d(128, 64, 5, 2, 2, output_padding=1, bias=False), nn.BatchNorm2d(64), nn.LeakyReLU(0.3),
            nn.ConvTranspose2d(64, 1, 5, 2, 2, output_padding=1, bias=False), nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self.fc(z).view(-1, 256, 7, 7))  # (B, 1, 28, 28)


class RefD(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, 64, 5, 2, 2), nn.LeakyReLU(0.3), nn.Dropout(0.3),
                                 nn.Conv2d(64, 128, 5, 2, 2), nn.LeakyReLU(0.3), nn.Dropout(0.3), nn.Flatten(),
                                 nn.Linear(128 * 7 * 7, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)


class ReferenceDCGAN:
    """``train_step()`` and ``sample(n, seed)`` like a SynthLab generator, nothing else."""

    z_dim, batch_size, lr = 100, 256, 1e-4

    def __init__(self, x: np.ndarray, seed: int = 0) -> None:
        torch.manual_seed(seed)
        self.x = torch.from_numpy(np.asarray(x, np.float32))  # (N, 1, 28, 28) in [-1, 1]
        self.G, self.D = RefG(self.z_dim), RefD()
        self.opt_g = torch.optim.Adam(self.G.parameters(), self.lr)
        self.opt_d = torch.optim.Adam(self.D.parameters(), self.lr)
        self.gen = torch.Generator().manual_seed(seed)

    def train_step(self) -> dict[str, float]:
        idx = torch.randint(len(self.x), (self.batch_size,), generator=self.gen)
        real = self.x[idx]
        z = torch.randn((self.batch_size, self.z_dim), generator=self.gen)
        fake = self.G(z)
        d_real, d_fake = self.D(real), self.D(fake.detach())
        loss_d = (F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
                  + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake)))
        self.opt_d.zero_grad()
        loss_d.backward()
        self.opt_d.step()
        d_gen = self.D(fake)
        loss_g = F.binary_cross_entropy_with_logits(d_gen, torch.ones_like(d_gen))
        self.opt_g.zero_grad()
        loss_g.backward()
        self.opt_g.step()
        return {"loss_d": loss_d.item(), "loss_g": loss_g.item()}

    @torch.no_grad()
    def sample(self, n: int, seed: int = 1) -> np.ndarray:
        self.G.eval()
        z = torch.randn((n, self.z_dim), generator=torch.Generator().manual_seed(seed))
        out = self.G(z).numpy()
        self.G.train()
        return out
