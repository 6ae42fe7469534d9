"""A trained generator rebuilt from its run folder (sampling, evaluation, export)."""
from __future__ import annotations

from pathlib import Path

from ..data import Dataset, load_dataset
from ..device import resolve_device
from ..errors import TrainingError
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
