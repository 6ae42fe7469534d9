"""What a run tells its front ends: :class:`Event` objects as they happen (the CLI prints them) and
:class:`RunSnapshot` copies of its state (the pages poll them)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .status import RunStatus


@dataclass
class Event:
    type: str  # status | step | samples | checkpoint | done | error
    step: int
    data: dict[str, Any] = field(default_factory=dict)
    time: float = field(default_factory=time.time)


@dataclass
class RunSnapshot:
    """A consistent copy of a run's state for a UI to draw (never shares mutable state)."""

    run_id: str
    status: RunStatus
    step: int
    total: int
    steps_per_s: float
    eta_s: float | None
    elapsed_s: float
    history: dict[str, Any]
    last_losses: dict[str, float]
    preview_step: int
    preview_png: bytes | None
    preview_points: np.ndarray | None
    error: str | None
    queue_position: int
    dataset: str
    generator: str
    #: the last single update in step-by-step mode: ("discriminator" | "generator" | "step", losses)
    last_update: tuple[str, dict[str, float]] | None = None
    #: how many single updates the run has done (a step-by-step click waits for it to move)
    updates_done: int = 0
    #: speed limit in steps/s (None: as fast as the machine goes)
    max_steps_per_s: float | None = None
    #: step the run was continued from (0 for a fresh run)
    resumed_from: int = 0
    #: the run's own early speed: steps/s over its first full rate window without a speed limit
    early_steps_per_s: float | None = None
    #: True while the current rate window holds only time without a speed limit (a slowdown means
    #: something else is taking the CPU, not the user's slider)
    rate_unthrottled: bool = False
    #: tables: the label codes of ``preview_points`` (None without a label), so a preview decodes to
    #: every column of the user's table
    preview_labels: np.ndarray | None = None

    @property
    def active(self) -> bool:
        """In progress (queued, running or paused): the Train page polls while this holds. Unlike
        :attr:`Run.active`, a run created but not started is not active here."""
        return RunStatus.parse(self.status).in_progress


class SnapshotReadsMixin:
    """A run proxy's attributes, read from its latest snapshot (``snapshot()``) and the model facts the
    worker sent with it (``_model_ready``, ``_next``): the same names an in-process ``Run`` has."""

    @property
    def status(self) -> RunStatus:
        return self.snapshot().status

    @property
    def step(self) -> int:
        return self.snapshot().step

    @property
    def last_update(self) -> Any:
        return self.snapshot().last_update

    @property
    def error(self) -> str | None:
        return self.snapshot().error

    @property
    def active(self) -> bool:
        return RunStatus(self.snapshot().status).live

    @property
    def model_ready(self) -> bool:
        return self._model_ready

    def next_update(self) -> tuple[str, str] | None:
        return self._next

    def speed(self) -> tuple[float, float | None]:
        snap = self.snapshot()
        return snap.steps_per_s, snap.eta_s
