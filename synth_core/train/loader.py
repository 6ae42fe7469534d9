"""Reading a run folder's checkpoint: the trained generator rebuilt (sampling, evaluation, export), and
the plan for continuing a run (its config and checkpoint, or why it cannot be continued)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..data import Dataset, load_dataset
from ..device import resolve_device
from ..errors import ConfigError, RunNotFoundError, TrainingError
from ..generators import Generator, get_generator
from . import store
from .config import RunConfig


def load_generator(path: Path | str, device: str = "cpu") -> tuple[Generator, RunConfig, Dataset]:
    """Rebuild a trained generator from a run folder's config and checkpoint."""
    folder = store.RunFolder(path)
    if not folder.has_checkpoint():
        raise TrainingError(f"{folder.path.name} has no checkpoint yet (it may still be starting or it failed early).")
    ckpt = folder.load_checkpoint()
    config = RunConfig.from_dict(ckpt["config"])
    dataset = load_dataset(config.dataset)
    gen = get_generator(config.generator)(**config.params)
    gen.setup(config.split(dataset)[0], device=resolve_device(device), seed=config.seed)  # as it was trained
    gen.load_state_dict(ckpt["generator"])
    return gen, config, dataset


def continue_plan(run_id: str, root: Path | str, *, steps: int | None = None) -> tuple[RunConfig, dict[str, Any]]:
    """(the continued run's config, its checkpoint), or the reason it cannot be continued; writes nothing."""
    root_p = Path(root)
    folder = store.RunFolder.of(root_p, run_id)
    if not folder.exists():
        raise RunNotFoundError(f"No run {run_id!r} in {root_p}.")
    if not folder.has_checkpoint():
        raise TrainingError(f"Run {run_id!r} has no checkpoint to continue from (it failed before its "
                            f"first checkpoint); start a new run instead.")
    if folder.is_locked():
        raise ConfigError(f"Run {run_id!r} is being trained right now (by this server, another server or "
                          f"the CLI); stop it there before continuing it.")
    ckpt = folder.load_checkpoint()
    config = RunConfig.from_dict(ckpt["config"])
    done = int(ckpt["step"])
    gen_cls = get_generator(config.generator)
    if gen_cls.closed_form and done >= 1:
        raise ConfigError(f"Run {run_id!r} is a {gen_cls.label}, fitted in closed form in one step: there is "
                          f"nothing to continue. Start a new run to refit it (with other settings or data).")
    total = steps if steps is not None else (config.steps if done < (config.steps or 0) else done + config.steps)
    if not isinstance(total, int) or total <= done:
        raise ConfigError(f"Run {run_id!r} is already at step {done:,}: continue to more steps than that "
                          f"(got {total}).")
    config.steps = total
    return config, ckpt
