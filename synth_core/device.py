"""Device selection and thread settings."""
from __future__ import annotations

import os

import torch

from .errors import ConfigError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` picks cuda, then mps, then cpu. Asking for a missing accelerator is a user error."""
    name = (name or "auto").lower()
    if name not in DEVICE_CHOICES and not name.startswith("cuda:"):
        raise ConfigError(f"device must be one of {', '.join(DEVICE_CHOICES)}; got {name!r}")
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError("CUDA was requested but no CUDA GPU is available here; use device 'auto' or 'cpu'.")
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ConfigError("MPS was requested but is not available here; use device 'auto' or 'cpu'.")
    return torch.device(name)


def cpu_count() -> int:
    """Cores this process may use (respects affinity masks and cgroup-limited containers)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS / Windows
        return max(1, os.cpu_count() or 1)


def default_max_concurrent_runs() -> int:
    """One training job at a time on CPU (they would fight for the same cores); one per GPU."""
    env = os.environ.get("SYNTHLAB_MAX_RUNS")
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            raise ConfigError(f"SYNTHLAB_MAX_RUNS must be a whole number; got {env!r}") from None
    if torch.cuda.is_available():
        return max(1, torch.cuda.device_count())
    return 1


def describe_device(dev: torch.device) -> str:
    if dev.type == "cuda":
        return f"CUDA: {torch.cuda.get_device_name(dev)}"
    if dev.type == "mps":
        return "Apple MPS"
    return f"CPU ({cpu_count()} cores, {torch.get_num_threads()} torch threads)"
