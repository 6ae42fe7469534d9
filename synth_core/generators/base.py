"""The ``Generator`` protocol and its registry.

A generator is an object that owns its own update (``train_step``) and can ``sample``. GANs, EM,
MCMC and closed-form fits all fit this shape, so the training runner never assumes one loss or
one optimizer. Conventions follow scikit-learn: ``__init__`` only stores validated params;
``setup`` builds learned state (attributes ending in ``_``) from the data and a seed.
"""
from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from typing import Any, ClassVar, TypeVar

import numpy as np
import torch

from ..data.base import Dataset
from ..errors import ConfigError
from ..params import Param, resolve_params
from .parts import PREVIEW_SEED_OFFSET
from .tabular_view import VERSION as VIEW_VERSION
from .tabular_view import FrequencyView, class_shares

_T = TypeVar("_T")


class Generator(ABC):
    """Base class. Subclasses set the class attributes and implement the abstract methods."""

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    family: ClassVar[str] = ""
    supports: ClassVar[frozenset[str]] = frozenset()
    params: ClassVar[tuple[Param, ...]] = ()
    paper: ClassVar[str] = ""
    #: closed-form / one-shot fits: the whole fit is one ``train_step``.
    closed_form: ClassVar[bool] = False
    #: a sensible number of steps for this generator on a laptop CPU.
    default_steps: ClassVar[int] = 1000
    #: how many fixed-latent samples make the live preview.
    preview_size: ClassVar[int] = 64
    #: per data kind, defaults that replace the Params' own (e.g. a GAN wants a different learning
    #: rate on 2-D points than on images). Only params the user did not set follow the data kind.
    kind_defaults: ClassVar[dict[str, dict[str, Any]]] = {}
    #: old Param names -> today's, so a run's config.json saved before a rename still loads (see
    #: :meth:`upgrade_params`). An old name is never reused for another Param.
    renamed_params: ClassVar[dict[str, str]] = {}
    #: how the model sees a table. "frequency": every one-hot block (categorical/boolean column, mode
    #: indicators, missing flag; the label too unless the model is conditional) is one frequency-encoded
    #: column (tabular_view.py), so level shares survive sampling; "onehot": the encoder's matrix as is,
    #: for models with their own per-column softmax heads (CTGAN, TVAE).
    tabular_input: ClassVar[str] = "frequency"

    # ---- declared capabilities ---------------------------------------------------------------
    # Every optional feature is declared here, once, with its default. A family that has one sets the
    # flag and overrides the matching method; callers read the flag (or call the method, whose default
    # answers "not here") and never probe with getattr/hasattr. tests/test_generator_contract.py checks
    # every capability a generator declares.
    #: the family is given the label (cGAN, CVAE, CTGAN): ``sample(n, condition=class codes)``; see
    #: :attr:`conditional` (whether a set-up model is) and :meth:`sample_with_labels`.
    conditions_on_label: ClassVar[bool] = False
    #: a likelihood model (GMM, KDE, flows, the MCMC target): implements :meth:`_log_prob`; see :meth:`log_prob`.
    has_log_density: ClassVar[bool] = False
    #: a latent space: :meth:`latent_size` is an int and :meth:`_decode_latent` maps latents to rows.
    has_latent: ClassVar[bool] = False
    #: adversarial models with a decision surface: :meth:`critic` gives D's values and gradients.
    has_critic: ClassVar[bool] = False
    #: the adversarial loss: "ns" (non-saturating, D is a probability) or "wgan-gp" (an unbounded critic);
    #: None for models that are not adversarial.
    loss_kind: ClassVar[str | None] = None
    #: what one :meth:`train_update` call may do, in order within a step (step-by-step mode). ("step",):
    #: a whole step; GANs: ("discriminator", "generator"), see :meth:`next_update` and :meth:`step_progress`.
    update_units: ClassVar[tuple[str, ...]] = ("step",)
    #: recent sampler iterations for a teaching view (MCMC): see :meth:`trace`.
    has_trace: ClassVar[bool] = False

    @classmethod
    def params_for(cls, kind: str | None) -> tuple[Param, ...]:
        """``params`` with the defaults for data of ``kind`` (what the UI shows and a run resolves)."""
        over = cls.kind_defaults.get(kind or "", {})
        return tuple(dataclasses.replace(p, default=over[p.name]) if p.name in over else p for p in cls.params)

    @classmethod
    def upgrade_params(cls, values: dict[str, Any], kind: str | None = None) -> dict[str, Any]:
        """Saved params (a run's config.json) under today's names (:attr:`renamed_params`); where a config
        holds both an old and its new name, the new one wins. ``kind``: the run's data kind, for a family
        whose rename depends on it (None when unknown)."""
        out = dict(values)
        for old, new in cls.renamed_params.items():
            if old in out:
                out.setdefault(new, out.pop(old))
        return out

    @classmethod
    def summary(cls) -> str:
        """First paragraph of the generator's module docstring (what the model is, its paper)."""
        import sys

        doc = sys.modules[cls.__module__].__doc__ or cls.__doc__ or ""
        para = doc.strip().split("\n\n")[0]
        return " ".join(para.split()) or cls.label

    def __init__(self, **params: Any) -> None:
        self._given = dict(params)
        self.hparams: dict[str, Any] = resolve_params(self.params, params)
        self.dataset_: Dataset | None = None  # what the model trains on (a table's frequency view)
        self.user_data_: Dataset | None = None
        self.view_: FrequencyView | None = None
        self.device_: torch.device = torch.device("cpu")
        self.seed_: int = 0
        self.step_: int = 0

    # ---- lifecycle -------------------------------------------------------------------------
    def setup(self, dataset: Dataset, *, device: torch.device | str = "cpu", seed: int = 0) -> "Generator":
        """Check the data kind, seed every RNG this generator owns, then build state (``_setup``)."""
        if dataset.kind not in self.supports:
            raise ConfigError(
                f"{self.label or self.name} does not support {dataset.kind} data "
                f"(it supports: {', '.join(sorted(self.supports))})."
            )
        if self.kind_defaults.get(dataset.kind):  # unset params follow the data kind
            self.hparams = resolve_params(self.params_for(dataset.kind), self._given)
        self.device_ = torch.device(device)
        self.seed_ = int(seed)
        self._build(dataset, view=dataset.kind == "tabular" and self.tabular_input == "frequency")
        return self

    def _build(self, dataset: Dataset, *, view: bool) -> None:
        """Fresh RNGs and state on ``dataset`` (``view``: on its frequency view)."""
        self.user_data_ = dataset
        self.view_ = FrequencyView.fit(dataset, joint_label=not self.conditional) if view else None
        self.dataset_ = self.view_.dataset(dataset) if self.view_ is not None else dataset
        self.step_ = 0
        self.rng_ = torch.Generator(device="cpu").manual_seed(self.seed_)
        self.np_rng_ = np.random.default_rng(self.seed_)
        self._setup(self.dataset_)

    @abstractmethod
    def _setup(self, dataset: Dataset) -> None:
        """Build models/optimisers/fitted state from ``dataset``."""

    def train_step(self) -> dict[str, float]:
        """One optimisation step (or the whole fit for closed-form models); returns named losses."""
        if self.dataset_ is None:
            raise RuntimeError("call setup() before train_step()")
        losses = self._train_step()
        self.step_ += 1
        return {k: float(v) for k, v in losses.items()}

    @abstractmethod
    def _train_step(self) -> dict[str, float]:
        ...

    def sample(self, n: int, condition: Any = None, seed: int | None = None) -> np.ndarray:
        """``n`` samples in model space (same layout as ``dataset.x``), float32 numpy.

        With ``seed`` the result is reproducible and independent of training RNG state.
        """
        return self.sample_with_labels(n, condition=condition, seed=seed)[0]

    @torch.no_grad()
    def sample_with_labels(self, n: int, condition: Any = None, seed: int | None = None
                           ) -> tuple[np.ndarray, np.ndarray | None]:
        """(``n`` samples in model space, their label codes or None): the same draw as :meth:`sample`.

        Labels come from the model: the label column of a table's frequency view (unconditional
        models), the classes a conditional model was given (without ``condition``: drawn in the real
        data's class proportions), or the model's own label head (CTGAN, TVAE). None when the data has
        no label or the model does not produce one (see :attr:`produces_labels`).
        """
        if self.dataset_ is None or self.user_data_ is None:
            raise RuntimeError("call setup() before sample()")
        gen = torch.Generator(device="cpu").manual_seed(int(seed)) if seed is not None else self.rng_
        n = int(n)
        x, y = self._sample_labelled(n, condition, gen)
        x = x.detach().float().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x, np.float32)
        if y is not None:
            y = (y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else np.asarray(y)).astype(np.int64)
        return x.reshape((n, *self.user_data_.sample_shape)).astype(np.float32, copy=False), y

    def _sample_labelled(self, n: int, condition: Any, gen: torch.Generator
                         ) -> tuple[torch.Tensor | np.ndarray, torch.Tensor | np.ndarray | None]:
        """Draw ``n`` rows and their labels (see :meth:`sample_with_labels`); models with their own
        label head override this."""
        y = None
        ds = self.dataset_
        if self.conditional and ds.y is not None and ds.n_classes >= 2 and not isinstance(condition, dict):
            if condition is None:  # the real class proportions, from this draw's own RNG
                share = torch.from_numpy(class_shares(ds.y, ds.n_classes))
                y = torch.multinomial(share, n, replacement=True, generator=gen) if n else torch.zeros(0, dtype=torch.int64)
            else:
                y = torch.as_tensor(np.broadcast_to(np.asarray(condition, dtype=np.int64), (n,)).copy())
            condition = y.numpy()
        out = self._sample(n, condition, gen)
        if self.view_ is not None:
            x, y_view = self.view_.decode(out)
            return x, y if y is not None else y_view
        return out, y

    @property
    def conditional(self) -> bool:
        """Whether this model is given the label: ``sample(n, condition=class codes)`` draws rows of those
        classes, and ``sample(n)`` draws classes in the real data's proportions. Its family's
        :attr:`conditions_on_label` (cGAN and CVAE need a labelled dataset); a family whose set-up state
        decides (CTGAN: a labelled table and its conditional vector on) overrides this property."""
        return self.conditions_on_label

    def condition_columns(self) -> list[Any]:
        """Columns ``sample(condition={column: value})`` conditions on natively (CTGAN); [] for the rest
        (``synth_core.train.conditional.sample_where`` then filters their samples)."""
        return []

    @property
    def produces_labels(self) -> bool:
        """Whether :meth:`sample_with_labels` gives label codes (the data has a label and the model
        models it jointly or is conditioned on it)."""
        if self.view_ is not None and self.view_.joint_label:
            return True
        return bool(self.conditional and self.dataset_ is not None and self.dataset_.y is not None
                    and self.dataset_.n_classes >= 2)

    @abstractmethod
    def _sample(self, n: int, condition: Any, gen: torch.Generator) -> torch.Tensor | np.ndarray:
        """``n`` rows in the space the model trains on (a table's frequency view, when it has one)."""

    def preview(self, n: int | None = None) -> np.ndarray:
        """Samples from a *fixed* latent batch so live grids are comparable over time."""
        return self.sample(n or self.preview_size, seed=self.seed_ + PREVIEW_SEED_OFFSET)

    # ---- optional capabilities (declared above; a family overrides what it has) ------------
    def train_update(self) -> tuple[str, dict[str, float]]:
        """The smallest unit of training, for step-by-step mode: ``(what, losses)``, ``what`` one of
        :attr:`update_units`.

        Default: one whole step (``what="step"``). GANs split a step into its discriminator and
        generator updates; ``step_`` advances only when a whole step is complete.
        """
        return "step", self.train_step()

    def next_update(self) -> str:
        """What the next :meth:`train_update` does (one of :attr:`update_units`); default "step"."""
        return self.update_units[0]

    def step_progress(self) -> tuple[int, int]:
        """(updates done in the current step, updates before the step's last one): GANs count their
        discriminator updates; (0, 1) for models whose unit is a whole step."""
        return 0, 1

    def latent_size(self) -> int | None:
        """Dimension of the latent vector :meth:`decode_latent` takes; None unless :attr:`has_latent`."""
        return None

    @torch.no_grad()
    def decode_latent(self, z: np.ndarray, condition: Any = None) -> np.ndarray:
        """Latent vectors (N x latent_size) -> samples in model space (interpolation, traversals)."""
        return self.decode_latent_with_labels(z, condition)[0]

    @torch.no_grad()
    def decode_latent_with_labels(self, z: np.ndarray, condition: Any = None
                                  ) -> tuple[np.ndarray, np.ndarray | None]:
        """:meth:`decode_latent` plus the label codes of the decoded rows (None without a label in the view)."""
        out = np.asarray(self._decode_latent(z, condition), dtype=np.float32)
        x, y = self.view_.decode(out) if self.view_ is not None else (out, None)
        if y is None and self.produces_labels and self.conditional:  # the class it decoded (0 if none given)
            y = np.broadcast_to(np.asarray(0 if condition is None else condition, dtype=np.int64), (len(x),)).copy()
        return x, y

    def _decode_latent(self, z: np.ndarray, condition: Any = None) -> np.ndarray:
        """Latent rows -> rows in the space the model trains on; models with a latent space override this."""
        raise NotImplementedError(f"{self.label or self.name} has no latent space to decode")

    def _log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Log-density (nats) of each row of ``x``: an (N, D) float64 tensor on the generator's device, in
        the space the model trains on (models with float32 networks cast it). Returns an (N,) tensor,
        differentiable in ``x``. Likelihood models (:attr:`has_log_density`) override this."""
        raise NotImplementedError(f"{self.label or self.name} has no log-density")

    @torch.no_grad()
    def log_prob(self, x: np.ndarray | torch.Tensor) -> np.ndarray:
        """Log-density (nats, float64) of each row of ``x`` (N x D, the space the model trains on)."""
        if not self.has_log_density:
            raise NotImplementedError(f"{self.label or self.name} has no log-density")
        if self.dataset_ is None:
            raise RuntimeError("call setup() before log_prob()")
        xt = torch.as_tensor(x).detach().to(torch.float64).reshape(len(x), -1).to(self.device_)
        if xt.shape[1] != self.dataset_.n_features:
            raise ConfigError(f"log_prob needs rows of {self.dataset_.n_features} features; got {xt.shape[1]}")
        out = [self._log_prob(xt[i:i + 8192]).reshape(-1) for i in range(0, len(xt), 8192)]
        return torch.cat(out).double().cpu().numpy() if out else np.zeros(0, np.float64)

    def log_density(self, x: np.ndarray) -> np.ndarray | None:
        """:meth:`log_prob` of rows in model space (the density views), or None: the model has no
        density, or it trains on a table's frequency view, which has no density at one-hot rows."""
        if not self.has_log_density or self.dataset_ is None or self.view_ is not None:
            return None
        return self.log_prob(x)

    def critic(self, x: np.ndarray, *, grad: bool = False, condition: Any = None
               ) -> tuple[np.ndarray, np.ndarray | None] | None:
        """For adversarial models (:attr:`has_critic`): the discriminator's output at ``x`` (N x D, model
        space) and, with ``grad``, the direction the generator's loss pushes a fake sample at ``x``
        (N x D); ``condition``: a class for conditional models. None for the rest."""
        return None

    def trace(self, n_chains: int = 4) -> dict[str, np.ndarray]:
        """Recent sampler iterations for a teaching view (:attr:`has_trace`): ``proposals`` and
        ``states`` (T x C x D) and ``accepted`` (T x C bool)."""
        raise NotImplementedError(f"{self.label or self.name} has no sampler trace")

    # ---- persistence -----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume: tensors, numbers, strings only (``weights_only`` loadable)."""
        view = {"tabular_view": VIEW_VERSION} if self.view_ is not None else {}
        return {"step": self.step_, "rng": self.rng_.get_state(), **view, **self._state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if self.view_ is not None and "tabular_view" not in state and self.user_data_ is not None:
            self._build(self.user_data_, view=False)  # a checkpoint from before the frequency view: one-hot columns
        self.step_ = int(state.get("step", 0))
        if "rng" in state:
            self.rng_.set_state(state["rng"])
        self._load_state_dict(state)

    @abstractmethod
    def _state_dict(self) -> dict[str, Any]:
        ...

    @abstractmethod
    def _load_state_dict(self, state: dict[str, Any]) -> None:
        ...

    # ---- helpers for subclasses ------------------------------------------------------------
    @staticmethod
    def fitted(state: _T | None, what: str) -> _T:
        """``state`` (a fit's result), or a clear error before the first training step has made it."""
        if state is None:
            raise RuntimeError(f"the {what} has not been fitted yet: run one training step first")
        return state

    def data_tensor(self) -> torch.Tensor:
        """The training data as a float32 tensor on the generator's device (cached)."""
        if getattr(self, "_x_cache", None) is None:
            assert self.dataset_ is not None
            self._x_cache = torch.from_numpy(self.dataset_.x).to(self.device_)
        return self._x_cache

    def minibatch(self, batch_size: int) -> torch.Tensor:
        """A random minibatch drawn with this generator's own RNG (deterministic per seed)."""
        x = self.data_tensor()
        idx = torch.randint(len(x), (min(batch_size, len(x)),), generator=self.rng_)
        return x[idx.to(x.device)]


_REGISTRY: dict[str, type[Generator]] = {}


def register_generator(cls: type[Generator]) -> type[Generator]:
    """Class decorator: add a generator to the registry (duplicate names raise)."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} needs a non-empty `name`")
    if cls.name in _REGISTRY:
        raise ValueError(f"generator {cls.name!r} is already registered by {_REGISTRY[cls.name].__name__}")
    if not cls.supports:
        raise ValueError(f"generator {cls.name!r} must declare the data kinds it supports")
    names = [p.name for p in cls.params]
    if len(names) != len(set(names)):
        raise ValueError(f"generator {cls.name!r} declares a param twice")
    if set(cls.renamed_params) & set(names) or set(cls.renamed_params.values()) - set(names):
        raise ValueError(f"generator {cls.name!r}: renamed_params must map old names to declared params")
    for kind, over in cls.kind_defaults.items():
        if kind not in cls.supports or set(over) - set(names):
            raise ValueError(f"generator {cls.name!r}: kind_defaults for {kind!r} name an unsupported kind "
                             f"or unknown params {sorted(set(over) - set(names))}")
        cls.params_for(kind)  # each value is validated against its Param (a bad default raises here)
    _REGISTRY[cls.name] = cls
    return cls


def unregister_generator(name: str) -> type[Generator]:
    """Remove a generator from the registry and return its class (for tests that register a throwaway
    generator: they must not leave it in :func:`list_generators` for the rest of the suite)."""
    try:
        return _REGISTRY.pop(name)
    except KeyError:
        raise ConfigError(f"Unknown generator {name!r}; choose one of: {', '.join(_REGISTRY)}") from None


def get_generator(name: str) -> type[Generator]:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(f"Unknown generator {name!r}; choose one of: {', '.join(_REGISTRY)}") from None


#: the order families are taught in (and listed in the UI): simplest first
FAMILY_ORDER = ("rule-based", "probabilistic", "mcmc", "gan", "vae", "diffusion", "flow")


def list_generators(kind: str | None = None) -> list[type[Generator]]:
    """Registered generators (optionally only those supporting ``kind``), simplest family first."""
    def rank(g: type[Generator]) -> tuple[int, str]:
        fam = FAMILY_ORDER.index(g.family) if g.family in FAMILY_ORDER else len(FAMILY_ORDER)
        return fam, g.name

    return sorted((g for g in _REGISTRY.values() if kind is None or kind in g.supports), key=rank)
