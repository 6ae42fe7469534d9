"""Is a run training slower than it did early on, and why: the "slow training" notice.

A run measures its own early speed (``RunSnapshot.early_steps_per_s``: steps/s over its first full
rate window without a speed limit). When its current speed, again measured without a speed limit,
falls below half of that, something else is taking the machine: other runs of this app (named), or
another process (the load average says so). Pages and the CLI show the same text.
"""
from __future__ import annotations

import os

from ..device import cpu_count
from .status import RunStatus

SLOW_FRACTION = 0.5  # slower than this share of the run's own early rate -> a notice


def machine_load() -> tuple[float, int] | None:
    """(1-minute load average, cores this process may use), or None where the OS has no load average."""
    try:
        return os.getloadavg()[0], cpu_count()
    except (OSError, AttributeError):  # pragma: no cover - Windows
        return None


def slowdown_notice(snap, other_active_runs: int = 0, load: tuple[float, int] | None = None) -> str | None:
    """A one-line notice when ``snap`` (a RunSnapshot) trains below half its own early rate, with the
    cause when it is known; None when it is not slow (or cannot tell: no early rate yet, a speed limit)."""
    early, now = snap.early_steps_per_s, snap.steps_per_s
    if snap.status != RunStatus.RUNNING or not early or not now or not snap.rate_unthrottled:
        return None
    if now >= SLOW_FRACTION * early:
        return None
    text = f"Training slowed down: {now:.1f} steps/s, under half of its early {early:.1f} steps/s."
    causes = []
    if other_active_runs:
        causes.append(f"{other_active_runs} other run(s) are active in this app and share the machine")
    if load is not None and load[0] > load[1]:
        causes.append(f"the CPU is busy (load average {load[0]:.1f} on {load[1]} core(s)): another program is "
                      f"using it")
    if causes:
        text += " Likely cause: " + "; ".join(causes) + "."
    else:
        text += " No other run of this app is active; another program may be using the CPU or memory."
    return text
