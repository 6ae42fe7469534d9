"""CTGAN: a conditional GAN for tables (Xu, Skoularidou, Cuesta-Infante & Veeramachaneni 2019,
"Modeling Tabular Data using Conditional GAN", NeurIPS).

Numeric columns use the encoder's mode-specific normalisation when the schema asks for it (a tanh
scalar plus a mode one-hot), categorical columns are one-hot blocks produced by Gumbel-softmax
heads, and a *conditional vector* fixes one discrete column per row: during training the column is
drawn uniformly and its category by log-frequency (**training-by-sampling**), so rare categories
are seen often enough to be learned, and the generator pays a cross-entropy penalty when its
output disagrees with the condition. The critic is a PacGAN critic trained with the WGAN-GP loss.
``sample(n, condition={"column": value})`` gives rows that all have that value.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..data.base import Dataset
from ..errors import ConfigError
from ..params import Param
from .base import Generator, register_generator
from .gan_core import GP_WEIGHT, n_critic_param, wgan_gp_critic_update
from .nets import eval_mode
from .tabular_nets import CondSampler, LabelledSamples, PacCritic, TabularGenerator, TabularLayout, conditional_loss


@register_generator
class CTGAN(LabelledSamples, Generator):
    name = "ctgan"
    label = "CTGAN (conditional tabular GAN)"
    family = "gan"
    supports = frozenset({"tabular"})
    tabular_input = "onehot"  # its own softmax head per one-hot block (tabular_nets.TabularLayout)
    paper = ("Xu, Skoularidou, Cuesta-Infante & Veeramachaneni 2019, Modeling Tabular Data using Conditional "
             "GAN (NeurIPS); Lin et al. 2018, PacGAN (NeurIPS); Gulrajani et al. 2017, WGAN-GP")
    default_steps = 2000
    conditions_on_label = True  # on a labelled table, with its conditional vector on: see ``conditional``
    loss_kind = "wgan-gp"
    params = (
        Param("batch_size", "int", 500, low=10, high=5000,
              help="Rows per update (rounded down to a multiple of pac). Rows are drawn with replacement, so it "
                   "may exceed the table size."),
        Param("z_dim", "int", 128, low=1, high=512, label="Latent size", help="Dimension of the noise vector z."),
        Param("width", "int", 256, low=8, high=1024, help="Hidden units per layer of the generator and critic."),
        Param("depth", "int", 2, low=1, high=6, help="Residual blocks in G and hidden layers in the critic."),
        Param("lr_g", "float", 2e-4, low=1e-6, high=1e-1, log=True, label="Generator LR", help="Adam learning rate of G."),
        Param("lr_d", "float", 2e-4, low=1e-6, high=1e-1, log=True, label="Critic LR",
              help="Adam learning rate of the critic."),
        Param("pac", "int", 10, low=1, high=50,
              help="PacGAN: the critic judges groups of this many rows at once, which penalises mode collapse."),
        n_critic_param(1),
        GP_WEIGHT,
        Param("tau", "float", 0.2, low=0.05, high=5.0, advanced=True,
              help="Gumbel-softmax temperature of the categorical heads while training."),
        Param("weight_decay", "float", 1e-6, low=0.0, high=1e-2, advanced=True, help="L2 weight decay on G (as CTGAN)."),
        Param("conditional_vector", "bool", True, advanced=True,
              help="Use the conditional vector and training-by-sampling (off = a plain WGAN-GP on the same heads, "
                   "the paper's ablation)."),
    )

    # ---- setup -------------------------------------------------------------------------------
    def _setup(self, dataset: Dataset) -> None:
        hp = self.hparams
        if hp["pac"] > hp["batch_size"]:
            raise ConfigError(f"pac ({hp['pac']}) must not exceed batch_size ({hp['batch_size']}).")
        self.layout_ = TabularLayout.from_dataset(dataset)
        self.use_cond_ = bool(hp["conditional_vector"]) and bool(self.layout_.discrete)
        data = self.layout_.to_internal(dataset.x, dataset.y)
        self.data_ = torch.from_numpy(data).to(self.device_)
        self.sampler_ = CondSampler(self.layout_, data) if self.layout_.discrete else None
        cdim = self.layout_.cond_dim if self.use_cond_ else 0
        dim = self.layout_.dim
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed_)
            self.G_ = TabularGenerator(hp["z_dim"] + cdim, dim, hp["width"], hp["depth"]).to(self.device_)
            self.D_ = PacCritic(dim + cdim, hp["width"], hp["depth"], hp["pac"]).to(self.device_)
        self.opt_g_ = torch.optim.Adam(self.G_.parameters(), lr=hp["lr_g"], betas=(0.5, 0.9),
                                       weight_decay=hp["weight_decay"])
        self.opt_d_ = torch.optim.Adam(self.D_.parameters(), lr=hp["lr_d"], betas=(0.5, 0.9))
        self.last_agreement_: float | None = None

    def _batch_size(self) -> int:
        pac = self.hparams["pac"]
        return max(pac, self.hparams["batch_size"] // pac * pac)

    def _noise(self, n: int, gen: torch.Generator) -> torch.Tensor:
        return torch.randn((n, self.hparams["z_dim"]), generator=gen).to(self.device_)

    def _conds(self, b: int) -> tuple[torch.Tensor | None, torch.Tensor | None, torch.Tensor | None, torch.Tensor]:
        """(cond, mask, category, real rows) for one batch; plain random rows without a conditional vector."""
        if self.use_cond_:
            cond, mask, cat, rows = self.sampler_.sample_train(b, self.rng_)
            return cond.to(self.device_), mask.to(self.device_), cat.to(self.device_), rows.to(self.device_)
        rows = torch.randint(len(self.data_), (b,), generator=self.rng_).to(self.device_)
        return None, None, None, rows

    def _generate(self, z: torch.Tensor, cond: torch.Tensor | None, gen: torch.Generator, *, hard: bool
                  ) -> tuple[torch.Tensor, torch.Tensor]:
        """(raw logits/scalars, activated internal rows)."""
        raw = self.G_(z if cond is None else torch.cat([z, cond], 1))
        return raw, self.layout_.activate(raw, gen, tau=self.hparams["tau"], hard=hard)

    @staticmethod
    def _with(x: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
        return x if cond is None else torch.cat([x, cond], 1)

    # ---- the update ----------------------------------------------------------------------------
    def _train_step(self) -> dict[str, float]:
        hp = self.hparams
        b, pac, lam = self._batch_size(), hp["pac"], hp["gp_weight"]
        # (1) update the critic: minimise D(G(z, c), c) - D(x, c) + lambda * GP, with x drawn to match c:
        # the WGAN-GP critic update (gan_core), the penalty taken on PacGAN groups of pac rows
        for _ in range(hp["n_critic"]):
            cond, _, _, rows = self._conds(b)
            real = self._with(self.data_[rows], cond)
            with torch.no_grad():
                _, fake = self._generate(self._noise(b, self.rng_), cond, self.rng_, hard=False)
            d_out = wgan_gp_critic_update(lambda v: self.D_(v, self.rng_), self.opt_d_, real, self._with(fake, cond),
                                          self.rng_, gp_weight=lam, group=pac)
        # (2) update G: minimise -D(G(z, c), c) + cross-entropy(conditioned column, asked category)
        cond, mask, cat, _ = self._conds(b)
        self.opt_g_.zero_grad(set_to_none=True)
        raw, fake = self._generate(self._noise(b, self.rng_), cond, self.rng_, hard=False)
        adv = -self.D_(self._with(fake, cond), self.rng_).mean()
        ce = conditional_loss(raw, self.layout_, mask, cat) if cond is not None else raw.new_zeros(())
        loss_g = adv + ce
        loss_g.backward()
        self.opt_g_.step()
        return {"loss_d": d_out["loss_d"], "loss_g": loss_g.item(), "wasserstein": d_out["wasserstein"],
                "gp": d_out["gp"], "cond_ce": ce.item()}

    # ---- sampling ------------------------------------------------------------------------------
    @property
    def conditional(self) -> bool:
        """A labelled table with the conditional vector on makes CTGAN a conditional generator like cGAN:
        ``condition`` may then be class indices."""
        return self.layout_ is not None and self.layout_.label_seg is not None and self.use_cond_

    def condition_columns(self) -> list[Any]:
        """Columns ``sample(condition={column: value})`` accepts: categorical/boolean features and the label."""
        return [c.name for c in self.layout_.discrete] if self.use_cond_ else []

    def _condition_vector(self, n: int, condition: Any, gen: torch.Generator
                          ) -> tuple[torch.Tensor | None, tuple[int, int] | None]:
        """The condition vectors for ``n`` rows and, for a fixed column, (discrete index, category)."""
        lay = self.layout_
        if condition is None:
            return (self.sampler_.sample_original(n, gen).to(self.device_) if self.use_cond_ else None), None
        if not self.use_cond_:
            raise ConfigError(f"{self.label} was trained without a conditional vector (no categorical columns, or "
                              f"conditional_vector=false): sample without a condition.")
        if isinstance(condition, dict):
            if len(condition) != 1:
                raise ConfigError(f"{self.label} conditions on one column at a time; got {len(condition)} "
                                  f"({', '.join(map(str, condition))}). Use synth_core.train.conditional.sample_where "
                                  f"for several.")
            (column, value), = condition.items()
            i = lay.find(column)
            k = lay.level_index(i, value)
            col = torch.full((n,), i, dtype=torch.int64)
            cat = torch.full((n,), k, dtype=torch.int64)
            return self.sampler_.onehot(col, cat).to(self.device_), (i, k)
        # class indices (an int or n ints), as for every conditional generator
        if lay.label_seg is None:
            raise ConfigError(f"{self.label}: this table has no label, so a class index means nothing; "
                              f"condition with {{'column': value}} instead.")
        i = next(j for j, c in enumerate(lay.discrete) if c.is_label)
        y = torch.as_tensor(np.broadcast_to(np.asarray(condition, dtype=np.int64), (n,)).copy())
        if len(y) and ((y < 0).any() or (y >= lay.discrete[i].seg.width).any()):
            raise ConfigError(f"condition must be a class index in 0..{lay.discrete[i].seg.width - 1}")
        return self.sampler_.onehot(torch.full((n,), i, dtype=torch.int64), y).to(self.device_), (i, -1)

    def _draw(self, n: int, condition: Any, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor | None]:
        cond, fixed = self._condition_vector(n, condition, gen)
        z = self._noise(n, gen)
        with eval_mode(self.G_):  # batch-norm running statistics: a row does not depend on the rest of its batch
            parts = []
            for a in range(0, n, 4096):
                c = None if cond is None else cond[a:a + 4096]
                parts.append(self._generate(z[a:a + 4096], c, gen, hard=True)[1])
            h = torch.cat(parts) if parts else z.new_zeros((0, self.layout_.dim))
        if fixed is not None and n:
            # The generator was trained (cross-entropy) to honour the condition; record how often it did,
            # then set the conditioned block exactly, so every row has the value asked for.
            i, k = fixed
            seg = self.layout_.discrete[i].seg
            asked = cond[:, self.layout_.cond_offsets()[i]:self.layout_.cond_offsets()[i] + seg.width]
            self.last_agreement_ = float((h[:, seg.start:seg.stop].argmax(1) == asked.argmax(1)).float().mean())
            h[:, seg.start:seg.stop] = asked
        return self.layout_.to_model(h)

    # ---- persistence ---------------------------------------------------------------------------
    def _state_dict(self) -> dict[str, Any]:
        return {"G": self.G_.state_dict(), "D": self.D_.state_dict(),
                "opt_g": self.opt_g_.state_dict(), "opt_d": self.opt_d_.state_dict(),
                "internal_dim": self.layout_.dim, "cond_dim": self.layout_.cond_dim if self.use_cond_ else 0}

    def _load_state_dict(self, state: dict[str, Any]) -> None:
        cdim = self.layout_.cond_dim if self.use_cond_ else 0
        if int(state.get("internal_dim", self.layout_.dim)) != self.layout_.dim or int(state.get("cond_dim", cdim)) != cdim:
            raise ConfigError("this CTGAN checkpoint was trained on a table with a different column layout.")
        self.G_.load_state_dict(state["G"])
        self.D_.load_state_dict(state["D"])
        self.opt_g_.load_state_dict(state["opt_g"])
        self.opt_d_.load_state_dict(state["opt_d"])
