"""A run's config: everything needed to reproduce it (saved as ``config.json`` and in every
checkpoint), validated before a worker starts."""
from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from ..data import Dataset, dataset_info, load_dataset
from ..data.holdout import HOLDOUT_SEED, check_fraction, default_holdout, split_dataset
from ..errors import ConfigError
from ..generators import get_generator
from ..params import resolve_params
from . import store

#: the most steps a run may train for (RunConfig checks it; the Train and Runs pages' inputs stop there)
MAX_STEPS = 10_000_000


@dataclass
class RunConfig:
    """Everything needed to reproduce a run. Saved as ``config.json`` beside every checkpoint."""

    dataset: str
    generator: str
    params: dict[str, Any] = field(default_factory=dict)
    steps: int | None = None
    seed: int = 0
    device: str = "auto"
    sample_every: int | None = None
    checkpoint_every: int = 500
    run_id: str | None = None
    #: share of the real rows kept out of training (``data.holdout``); None = the dataset's default.
    #: A stored config without it predates holdouts: it trained on every row (``from_dict`` -> 0).
    holdout: float | None = None
    holdout_seed: int = HOLDOUT_SEED

    def resolved(self) -> "RunConfig":
        """Validate names and params now, so a bad config fails before a thread starts."""
        gen_cls = get_generator(self.generator)
        info = dataset_info(self.dataset)
        if info.kind not in gen_cls.supports:
            raise ConfigError(f"{gen_cls.label} does not support {info.kind} data like {info.label}; "
                              f"it supports {', '.join(sorted(gen_cls.supports))}.")
        params = resolve_params(gen_cls.params_for(info.kind), self.params)
        steps = self.steps if self.steps is not None else gen_cls.default_steps
        if not isinstance(steps, int) or steps < 1 or steps > MAX_STEPS:
            raise ConfigError(f"steps must be a whole number between 1 and {MAX_STEPS:,}; got {steps!r}")
        sample_every = self.sample_every or max(1, min(50, steps // 40 or 1))
        if self.checkpoint_every < 1:
            raise ConfigError("checkpoint_every must be at least 1")
        run_id = self.run_id or new_run_id(self.generator, self.dataset)
        store.validate_run_id(run_id)
        n_rows = len(load_dataset(self.dataset))
        holdout = default_holdout(info.kind, n_rows) if self.holdout is None else check_fraction(self.holdout, n_rows)
        return RunConfig(self.dataset, self.generator, params, steps, int(self.seed), self.device,
                         int(sample_every), int(self.checkpoint_every), run_id, holdout, int(self.holdout_seed))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RunConfig":
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(d) - known - {"synthlab_version", "created_at"}
        if unknown:
            raise ConfigError(f"Unknown keys in run config: {', '.join(sorted(unknown))}")
        d = {"holdout": 0.0, **store.upgrade_config(d)}  # a config from before holdouts: the run trained on every row
        return cls(**{k: v for k, v in d.items() if k in known})

    def split(self, dataset: Dataset) -> tuple[Dataset, Dataset | None]:
        """(the rows the generator trains on, the holdout rows or None): the seeded split this config names."""
        return split_dataset(dataset, self.holdout, self.holdout_seed)



def new_run_id(generator: str, dataset: str) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{generator}-{dataset}-{secrets.token_hex(2)}"
