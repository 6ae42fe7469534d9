"""Errors a user can cause. Pages show them with ``st.error``; the CLI prints them and exits 2."""
from __future__ import annotations


class SynthLabError(Exception):
    """Base class: the message must tell a person what happened and what to do next."""


class DataError(SynthLabError):
    """A dataset could not be loaded or parsed."""


class DataUnavailableError(DataError):
    """A dataset needs files or a network that are not here; the message names the fallback."""


class ConfigError(SynthLabError):
    """A parameter, generator or dataset name is invalid."""


class TrainingError(SynthLabError):
    """Training failed (diverged, generator raised); the run folder keeps the last good state."""


class RunNotFoundError(SynthLabError):
    """A run id does not name a run folder (or is not a valid id)."""
