"""The GAN training step shared by every GAN in the catalogue.

DCGAN, WGAN-GP, conditional GAN and the MLP GAN differ only in their networks, their loss and
whether labels are fed in; they are presets over :class:`GANBase` (one small file each), so the
step below is written once. References: Goodfellow et al. 2014 (GAN, non-saturating loss);
Radford et al. 2016 (DCGAN); Gulrajani et al. 2017 (WGAN-GP); Mirza & Osindero 2014 (cGAN);
Miyato & Koyama 2018 (projection discriminator); Miyato et al. 2018 (spectral normalisation);
Yazici et al. 2019, The Unusual Effectiveness of Averaging in GAN Training (``g_ema``: samples come
from an exponential moving average of the generator's weights, which damps the step-to-step jitter
of a GAN's samples; training itself is unchanged).
"""
from __future__ import annotations

from typing import Any, Callable, ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from ..data.base import Dataset
from ..errors import ConfigError
from ..params import Param
from .base import Generator
from .nets import ConvDiscriminator, ConvGenerator, MLPDiscriminator, MLPGenerator, eval_mode
from .parts import conv_image_ok, ema_copy, ema_update, preview_by_class, require_conv_image, require_labels


def gan_params(*, lr_g: float = 2e-4, lr_d: float = 2e-4, beta1: float = 0.5, beta2: float = 0.999,
               batch_size: int = 64, z_dim: int = 64, width: int = 64, depth: int | None = None,
               g_ema: float = 0.0, extra: tuple[Param, ...] = ()) -> tuple[Param, ...]:
    """The hyperparameters every GAN preset exposes, with that preset's defaults."""
    params = [
        Param("batch_size", "int", batch_size, low=8, high=1024, help="Real and fake samples per update."),
        Param("z_dim", "int", z_dim, low=1, high=512, label="Latent size", help="Dimension of the noise vector z."),
        Param("width", "int", width, low=8, high=512, help="Channels (conv) or hidden units (MLP) of the base layer."),
        Param("lr_g", "float", lr_g, low=1e-6, high=1e-1, log=True, label="Generator LR", help="Adam learning rate of G."),
        Param("lr_d", "float", lr_d, low=1e-6, high=1e-1, log=True, label="Discriminator LR",
              help="Adam learning rate of D (the critic for WGAN-GP)."),
        Param("beta1", "float", beta1, low=0.0, high=0.999, help="Adam beta1; 0.5 (DCGAN) or 0 (WGAN-GP) damps oscillation.",
              advanced=True),
        Param("beta2", "float", beta2, low=0.0, high=0.9999, help="Adam beta2.", advanced=True),
        Param("g_ema", "float", g_ema, low=0.0, high=0.9999, label="G weight EMA", advanced=True,
              help="Sample from an exponential moving average of G's weights with this decay (e.g. 0.999); "
                   "0 = the current G. Averaging damps the jitter of GAN samples (Yazici et al. 2019)."),
    ]
    if depth is not None:
        params.append(Param("depth", "int", depth, low=1, high=8, help="Hidden layers in G and D."))
    return tuple(params) + tuple(extra)


def condition_labels(n: int, condition: Any, n_classes: int, gen: torch.Generator) -> torch.Tensor:
    """(n,) int64 class indices for conditional sampling: ``condition`` (an int or n ints) broadcast,
    or uniform random classes drawn with ``gen`` when it is None. Shared by every conditional generator."""
    if condition is None:
        return torch.randint(n_classes, (n,), generator=gen)
    y = torch.as_tensor(np.broadcast_to(np.asarray(condition, dtype=np.int64), (n,)).copy())
    if (y < 0).any() or (y >= n_classes).any():
        raise ConfigError(f"condition must be a class index in 0..{n_classes - 1}")
    return y


#: one-sided label smoothing of the non-saturating GANs' real targets (declared once, shared by the presets)
LABEL_SMOOTHING = Param("label_smoothing", "float", 0.0, low=0.0, high=0.3, advanced=True,
                        help="One-sided label smoothing: real targets become 1 - value (Salimans et al. 2016).")
#: spectral normalisation of D's layers; a preset without this Param runs without it (its default)
SPECTRAL_NORM = Param("spectral_norm", "bool", False,
                      help="Spectral normalisation on D's layers (Miyato et al. 2018), instead of batch norm: "
                           "bounds D's Lipschitz constant.")


#: the weight lambda of the WGAN-GP gradient penalty (WGAN-GP, CTGAN)
GP_WEIGHT = Param("gp_weight", "float", 10.0, low=0.0, high=100.0, label="GP weight (lambda)",
                  help="Weight of the gradient penalty; 10 in the paper (Gulrajani et al. 2017).")


def n_critic_param(default: int) -> Param:
    """WGAN-GP critic updates per generator update (the paper uses 5, CTGAN 1)."""
    return Param("n_critic", "int", default, low=1, high=20,
                 help="Critic updates per generator update (WGAN-GP's paper uses 5, CTGAN 1).")


def arch_param(default: str = "auto") -> Param:
    """The ``arch`` override shared by presets that work on several data kinds."""
    return Param("arch", "choice", default, choices=("auto", "conv", "mlp"), advanced=True,
                 help="Network type: auto = convolutional for images, MLP for points/tabular; mlp flattens images.")


def gradient_penalty(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor, fake: torch.Tensor,
                     gen: torch.Generator, *, group: int = 1) -> torch.Tensor:
    """(||grad_xhat D(xhat)||_2 - 1)^2 averaged over random interpolates xhat = eps * real + (1 - eps) * fake
    (Gulrajani et al. 2017, eq. 3). ``group``: rows the critic judges together (PacGAN): one eps per group
    and the gradient norm over the whole group, as the critic sees it; 1 = per row."""
    n = len(real) // group
    eps = torch.rand(n, generator=gen).to(real.device).repeat_interleave(group)
    eps = eps.view(-1, *(1,) * (real.dim() - 1))  # (B, 1, ...): broadcast over each row
    xhat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    grad, = torch.autograd.grad(critic(xhat).sum(), xhat, create_graph=True)
    return ((grad.reshape(n, -1).norm(2, dim=1) - 1) ** 2).mean()


def wgan_gp_critic_update(critic: Callable[[torch.Tensor], torch.Tensor], opt: torch.optim.Optimizer,
                          real: torch.Tensor, fake: torch.Tensor, gen: torch.Generator, *, gp_weight: float,
                          group: int = 1) -> dict[str, float]:
    """One WGAN-GP critic update (of n_critic per step): minimise D(G(z)) - D(x) + lambda * GP
    (Gulrajani et al. 2017, Algorithm 1). ``critic`` maps a batch to its scores (the condition bound in);
    ``fake`` is detached; ``gen`` draws the interpolation weights. Shared by the WGAN-GP presets and CTGAN."""
    opt.zero_grad(set_to_none=True)
    d_real, d_fake = critic(real).mean(), critic(fake).mean()
    gp = gradient_penalty(critic, real, fake, gen, group=group)
    loss_d = d_fake - d_real + gp_weight * gp
    loss_d.backward()
    opt.step()
    return {"loss_d": loss_d.item(), "wasserstein": (d_real - d_fake).item(), "gp": gp.item()}


class GANBase(Generator):
    """A generator G(z[, y]) trained against a discriminator/critic D(x[, y]).

    One ``train_step`` = one generator update (after ``n_critic`` discriminator updates);
    ``train_update`` runs those updates one at a time for step-by-step mode.
    """

    family = "gan"
    default_steps = 2000
    #: "ns": non-saturating BCE loss; "wgan-gp": Wasserstein loss with gradient penalty.
    loss_kind: ClassVar[str] = "ns"
    #: "conv" for images, "mlp" for points/tabular (and flattened images), or "auto": conv for
    #: square images whose side is divisible by 4, mlp otherwise. A preset may also declare an
    #: ``arch`` Param (same choices) that overrides this per run; see :meth:`_resolve_arch`.
    arch: ClassVar[str] = "conv"
    has_latent = True
    has_critic = True
    update_units = ("discriminator", "generator")

    def _setting(self, p: Param) -> Any:
        """The run's value of ``p``, a Param this preset may not declare: then ``p``'s own default."""
        return self.hparams[p.name] if p.name in self.hparams else p.default

    def _resolve_arch(self, dataset: Dataset) -> str:
        """The run's architecture: the ``arch`` param if declared, else the class attribute; "auto" picks
        conv for square images with a side divisible by 4 (what the conv nets need) and mlp for the rest."""
        arch = str(self._setting(arch_param(self.arch)))
        if arch == "auto":
            arch = "conv" if conv_image_ok(dataset) else "mlp"
        if arch not in ("conv", "mlp"):
            raise ConfigError(f"arch must be conv, mlp or auto; got {arch!r}")
        return arch

    def _setup(self, dataset: Dataset) -> None:
        if self.conditional:
            require_labels(dataset, self.label)
        n_classes = len(dataset.classes) if self.conditional else 0
        z_dim, width = self.hparams["z_dim"], self.hparams["width"]
        sn = bool(self._setting(SPECTRAL_NORM))
        d_norm = "layer" if self.loss_kind == "wgan-gp" else ("none" if sn else "batch")
        # Build the nets from the run's seed without touching the global RNG of the process.
        self.arch_ = self._resolve_arch(dataset)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed_)
            if self.arch_ == "conv":
                require_conv_image(dataset, self.label)
                c, h, _ = dataset.sample_shape
                self.G_ = ConvGenerator(z_dim, c, h, width, n_classes)
                self.D_ = ConvDiscriminator(c, h, width, n_classes, norm=d_norm, spectral_norm=sn)
            else:
                depth = self.hparams["depth"]  # every preset with MLP nets declares it (gan_params(depth=...))
                self.G_ = MLPGenerator(z_dim, dataset.n_features, width, depth, n_classes,
                                       tanh=dataset.kind == "image")
                self.D_ = MLPDiscriminator(dataset.n_features, width, depth, n_classes, spectral_norm=sn)
        self.G_.to(self.device_)
        self.D_.to(self.device_)
        if self.arch_ == "conv":  # channels-last convolutions: DCGAN steps 1.16-1.33x faster on CPU (bench/flops.py)
            self.G_.to(memory_format=torch.channels_last)
            self.D_.to(memory_format=torch.channels_last)
        # the sampling copy of G: its weight average when g_ema > 0, else G itself
        self.ema_ = float(self.hparams["g_ema"])
        self.G_avg_ = ema_copy(self.G_) if self.ema_ > 0 else self.G_
        betas = (self.hparams["beta1"], self.hparams["beta2"])
        self.opt_g_ = torch.optim.Adam(self.G_.parameters(), lr=self.hparams["lr_g"], betas=betas)
        self.opt_d_ = torch.optim.Adam(self.D_.parameters(), lr=self.hparams["lr_d"], betas=betas)
        self.y_all_ = (torch.from_numpy(dataset.y).to(self.device_) if self.conditional else None)
        self._reset_pending()

    # ---- data and noise ----------------------------------------------------------------------
    def _batch(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        x = self.data_tensor()
        idx = torch.randint(len(x), (min(self.hparams["batch_size"], len(x)),), generator=self.rng_).to(x.device)
        xb = x[idx]
        if self.arch_ == "mlp":
            xb = xb.flatten(1)  # (B, C, H, W) images -> (B, C*H*W) for the MLP nets
        return xb, (self.y_all_[idx] if self.y_all_ is not None else None)

    def _noise(self, n: int, gen: torch.Generator) -> torch.Tensor:
        return torch.randn((n, self.hparams["z_dim"]), generator=gen).to(self.device_)

    # ---- the update ------------------------------------------------------------------------
    # One step = ``d_updates_per_step()`` discriminator updates, then one generator update.
    # ``train_step`` runs what is left of the current step; ``train_update`` (step-by-step mode)
    # runs one update per call. Both call the same update functions, so both draw the same random
    # numbers in the same order and reach the same parameters.
    def d_updates_per_step(self) -> int:
        """Discriminator (critic) updates per generator update: ``n_critic`` for WGAN-GP, else 1."""
        return int(self.hparams["n_critic"]) if self.loss_kind == "wgan-gp" else 1

    def _reset_pending(self) -> None:
        self._d_done = 0                      # D updates already done in the current step
        self._pending: dict[str, Any] | None = None  # what the G update needs from the last D update

    def _train_step(self) -> dict[str, float]:
        # a step that step-by-step mode left half done is finished, never restarted
        while self._d_done < self.d_updates_per_step():
            self._d_update()
        return self._g_update()

    def train_update(self) -> tuple[str, dict[str, float]]:
        """One D update (``"discriminator"``) or, once the step's D updates are done, the G update
        (``"generator"``), which completes the step and advances ``step_``."""
        if self.dataset_ is None:
            raise RuntimeError("call setup() before train_update()")
        if self._d_done < self.d_updates_per_step():
            return "discriminator", {k: float(v) for k, v in self._d_update().items()}
        return "generator", self.train_step()

    def next_update(self) -> str:
        """What the next ``train_update`` does: ``"discriminator"`` or ``"generator"``."""
        return "discriminator" if self._d_done < self.d_updates_per_step() else "generator"

    def step_progress(self) -> tuple[int, int]:
        """(discriminator updates done in the current step, discriminator updates per step)."""
        return self._d_done, self.d_updates_per_step()

    def _d_update(self) -> dict[str, float]:
        out = self._wgan_gp_d_update() if self.loss_kind == "wgan-gp" else self._ns_d_update()
        self._d_done += 1
        return out

    def _g_update(self) -> dict[str, float]:
        if self._pending is None:
            raise RuntimeError("the generator update needs a discriminator update first")
        try:
            return self._wgan_gp_g_update() if self.loss_kind == "wgan-gp" else self._ns_g_update()
        finally:
            self._reset_pending()

    def _ns_d_update(self) -> dict[str, float]:
        smooth = float(self.hparams["label_smoothing"])
        x, y = self._batch()
        z = self._noise(len(x), self.rng_)
        fake = self.G_(z, y)  # kept with its graph: the G update backpropagates through it
        # (1) update D: maximise log D(x) + log(1 - D(G(z)))
        self.opt_d_.zero_grad(set_to_none=True)
        d_real = self.D_(x, y)
        d_fake = self.D_(fake.detach(), y)
        loss_d = (F.binary_cross_entropy_with_logits(d_real, torch.full_like(d_real, 1.0 - smooth))
                  + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake)))
        loss_d.backward()
        self.opt_d_.step()
        d_x = torch.sigmoid(d_real).mean().item()
        self._pending = {"fake": fake, "y": y, "loss_d": loss_d.item(), "D(x)": d_x}
        return {"loss_d": loss_d.item(), "D(x)": d_x, "D(G(z))": torch.sigmoid(d_fake).mean().item()}

    def _ns_g_update(self) -> dict[str, float]:
        p = self._pending
        assert p is not None
        # (2) update G: maximise log D(G(z))  (non-saturating form of minimising log(1 - D(G(z))))
        self.opt_g_.zero_grad(set_to_none=True)
        d_gen = self.D_(p["fake"], p["y"])
        loss_g = F.binary_cross_entropy_with_logits(d_gen, torch.ones_like(d_gen))
        loss_g.backward()
        self.opt_g_.step()
        self._update_average()
        return {"loss_d": p["loss_d"], "loss_g": loss_g.item(),
                "D(x)": p["D(x)"], "D(G(z))": torch.sigmoid(d_gen).mean().item()}

    def _update_average(self) -> None:
        """After each G update: G_avg <- ema * G_avg + (1 - ema) * G (buffers copied)."""
        if self.G_avg_ is not self.G_:
            ema_update(self.G_avg_, self.G_, self.ema_)

    def _wgan_gp_d_update(self) -> dict[str, float]:
        # (1) one critic update (of n_critic per step): minimise D(G(z)) - D(x) + lambda * GP
        x, y = self._batch()
        with torch.no_grad():
            fake = self.G_(self._noise(len(x), self.rng_), y)
        out = wgan_gp_critic_update(lambda v: self.D_(v, y), self.opt_d_, x, fake, self.rng_,
                                    gp_weight=float(self.hparams["gp_weight"]))
        self._pending = {"n": len(x), "y": y, **out}
        return out

    def _wgan_gp_g_update(self) -> dict[str, float]:
        p = self._pending
        assert p is not None
        # (2) update G: minimise -D(G(z))
        self.opt_g_.zero_grad(set_to_none=True)
        loss_g = -self.D_(self.G_(self._noise(p["n"], self.rng_), p["y"]), p["y"]).mean()
        loss_g.backward()
        self.opt_g_.step()
        self._update_average()
        return {"loss_d": p["loss_d"], "loss_g": loss_g.item(), "wasserstein": p["wasserstein"], "gp": p["gp"]}

    # ---- teaching view: what D says about a point, and where G's loss pushes it -----------------
    def critic(self, x: np.ndarray, *, grad: bool = False, condition: Any = None
               ) -> tuple[np.ndarray, np.ndarray | None]:
        """D at ``x`` (N x D, model space): the probability "real" for the non-saturating GAN, the
        critic value for WGAN-GP; with ``grad`` also -d loss_G / dx, the direction the generator's
        loss moves a fake sample sitting at x (d log D / dx for NS, d D / dx for WGAN-GP).

        Conditional GANs use class ``condition``, or with None the marginal: values and gradients
        averaged over the classes weighted by their frequency in the data. D runs in eval mode and
        no parameter gradient is touched, so training is not disturbed."""
        if self.dataset_ is None:
            raise RuntimeError("call setup() before critic()")
        xt = torch.as_tensor(np.asarray(x, dtype=np.float32)).to(self.device_)
        xt = xt.reshape((len(xt), *self.dataset_.sample_shape)) if self.arch_ == "conv" else xt.reshape(len(xt), -1)
        terms: list[tuple[torch.Tensor | None, float]] = [(None, 1.0)]
        if self.conditional:
            k = len(self.dataset_.classes)
            if condition is None:
                freq = np.bincount(self.dataset_.y, minlength=k) / len(self.dataset_.y)
                terms = [(torch.full((len(xt),), c, dtype=torch.long, device=self.device_), float(w))
                         for c, w in enumerate(freq) if w > 0]
            else:
                terms = [(condition_labels(len(xt), condition, k, torch.Generator()).to(self.device_), 1.0)]
        with eval_mode(self.D_) as D, torch.enable_grad():
            xg = xt.detach().clone().requires_grad_(grad)
            value = torch.zeros(len(xt), dtype=torch.float64, device=self.device_)
            direction = torch.zeros_like(xg, dtype=torch.float64) if grad else None
            for y, w in terms:
                logit = D(xg, y)
                value += w * (torch.sigmoid(logit) if self.loss_kind == "ns" else logit).detach().double()
                if grad:
                    # -loss_G per sample: log D(x) (non-saturating BCE), D(x) (Wasserstein)
                    gain = F.logsigmoid(logit) if self.loss_kind == "ns" else logit
                    g, = torch.autograd.grad(gain.sum(), xg)
                    direction += w * g.double()
        out_grad = None if direction is None else direction.reshape(len(xt), -1).cpu().numpy()
        return value.cpu().numpy(), out_grad

    # ---- sampling --------------------------------------------------------------------------
    def _labels(self, n: int, condition: Any, gen: torch.Generator) -> torch.Tensor | None:
        if not self.conditional:
            return None
        return condition_labels(n, condition, len(self.dataset_.classes), gen).to(self.device_)

    def _sample(self, n: int, condition: Any, gen: torch.Generator) -> torch.Tensor:
        y = self._labels(n, condition, gen)
        z = self._noise(n, gen)
        with eval_mode(self.G_avg_) as G:  # batch-norm running statistics: a sample does not depend on its batch
            return torch.cat([G(z[i:i + 1024], None if y is None else y[i:i + 1024])
                              for i in range(0, n, 1024)]) if n else z.new_zeros((0, self.dataset_.n_features))

    def latent_size(self) -> int | None:
        return int(self.hparams["z_dim"])

    @torch.no_grad()
    def _decode_latent(self, z: np.ndarray, condition: Any = None) -> np.ndarray:
        """G(z[, y]) for given noise rows (interpolation strips); class 0 if conditional and none given."""
        zt = torch.as_tensor(np.asarray(z, dtype=np.float32)).reshape(len(z), -1).to(self.device_)
        y = self._labels(len(zt), 0 if condition is None else condition, torch.Generator().manual_seed(0))
        with eval_mode(self.G_avg_) as G:
            out = G(zt, y)
        return out.cpu().numpy().reshape((len(zt), *self.dataset_.sample_shape)).astype(np.float32)

    def preview(self, n: int | None = None) -> np.ndarray:
        return preview_by_class(self, n) if self.conditional else super().preview(n)

    # ---- persistence -----------------------------------------------------------------------
    def _state_dict(self) -> dict[str, Any]:
        state = {"G": self.G_.state_dict(), "D": self.D_.state_dict(),
                 "opt_g": self.opt_g_.state_dict(), "opt_d": self.opt_d_.state_dict()}
        if self.G_avg_ is not self.G_:
            state["G_avg"] = self.G_avg_.state_dict()
        return state

    def _load_state_dict(self, state: dict[str, Any]) -> None:
        self.G_.load_state_dict(state["G"])
        self.D_.load_state_dict(state["D"])
        self.opt_g_.load_state_dict(state["opt_g"])
        self.opt_d_.load_state_dict(state["opt_d"])
        if self.G_avg_ is not self.G_:  # a checkpoint from before averaging was on starts it from G
            self.G_avg_.load_state_dict(state.get("G_avg", state["G"]))
        self._reset_pending()  # a checkpoint holds whole steps: a half-done step starts over
