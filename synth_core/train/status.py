"""A run's status, and what each one means (live, in progress, final, continuable).

A ``StrEnum``: a status equals, hashes and formats as its lowercase string, so ``status.json``, the
CLI's JSON, old comparisons like ``snap.status == "paused"`` and dicts keyed by strings keep working.
"""
from __future__ import annotations

from enum import StrEnum
from typing import Any


class RunStatus(StrEnum):
    """Where a run is in its life: created -> queued -> running <-> paused -> one final status."""

    CREATED = "created"          # folder written (or reopened to continue), not started yet
    QUEUED = "queued"            # started, waiting for a training slot
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"        # trained all its steps
    STOPPED = "stopped"          # stopped by the user (final checkpoint written)
    FAILED = "failed"            # diverged or raised; see its error
    INTERRUPTED = "interrupted"  # its trainer died: on disk it looks live, but no process holds its lock
    UNKNOWN = "unknown"          # status.json missing, unreadable or holding a value we do not know

    @classmethod
    def parse(cls, value: Any) -> "RunStatus":
        """A status read from disk (or any string): the member, else ``UNKNOWN``; never raises."""
        try:
            return cls(value)
        except ValueError:
            return cls.UNKNOWN

    @property
    def in_progress(self) -> bool:
        """Started and not ended: queued, running or paused (stoppable; a quality report would be stale)."""
        return self in (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.PAUSED)

    @property
    def live(self) -> bool:
        """Not ended: created or in progress. A live run belongs to a trainer; one that looks live on disk
        while no process holds its lock was interrupted."""
        return self is RunStatus.CREATED or self.in_progress

    @property
    def can_pause(self) -> bool:
        """Running, or queued (the pause takes effect when it gets a slot)."""
        return self in (RunStatus.RUNNING, RunStatus.QUEUED)

    @property
    def final(self) -> bool:
        """Ended: finished, stopped, failed or interrupted (nothing trains it any more)."""
        return self in (RunStatus.FINISHED, RunStatus.STOPPED, RunStatus.FAILED, RunStatus.INTERRUPTED)

    @property
    def continuable(self) -> bool:
        """Ended with a model worth training on (given a checkpoint): finished, stopped or interrupted."""
        return self in (RunStatus.FINISHED, RunStatus.STOPPED, RunStatus.INTERRUPTED)
