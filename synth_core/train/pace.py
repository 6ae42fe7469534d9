"""A run's pace: active training time (time queued, loading or paused excluded), steps/s and the ETA
over a window of it, and the speed limit (teaching demos). A mixin of :class:`~.run.Run`: it uses the
run's ``_lock``, ``step``, ``status``, ``config`` and ``_stop``/``_pause`` events."""
from __future__ import annotations

import time
from collections import deque

from ..errors import ConfigError
from .status import RunStatus

#: steps/s and the ETA are steps over the last RATE_WINDOW_S seconds of *active* training time (time
#: paused or queued excluded; everything the worker does per step -- previews, checkpoints, metrics,
#: the speed limit's wait -- included), measured from one step's start to a later step's start
RATE_WINDOW_S = 5.0
RATE_SAMPLE_S = 0.05  # at most one (active time, step) sample this often: bounded memory at any speed


class PaceMixin:
    """Active time, steps/s, ETA and the speed limit of a :class:`~.run.Run`."""

    #: the clock active time (steps/s, ETA, time trained) is measured on; a test can swap it
    _clock = staticmethod(time.monotonic)

    def _init_pace(self) -> None:
        self._t_active = 0.0          # active seconds before the current active stretch (pauses excluded)
        self._active_since: float | None = None  # monotonic start of the current active stretch
        self._rate: deque[tuple[float, int]] = deque(maxlen=int(4 * RATE_WINDOW_S / RATE_SAMPLE_S))
        self._free_from: tuple[float, int] | None = None  # (active s, step) since no speed limit
        self.early_steps_per_s: float | None = None
        self._rate_reset = False
        self._last_start: tuple[float, int] | None = None  # (active s, steps done) at the latest step start
        self._step_began: float | None = None  # active time the last step began (the speed limit)
        self.max_steps_per_s: float | None = None  # speed slider (teaching); None = full speed

    def set_speed(self, max_steps_per_s: float | None) -> None:
        """Limit training speed (teaching demos): at most this many steps per second; None = no limit."""
        if max_steps_per_s is not None and not max_steps_per_s > 0:
            raise ConfigError("speed must be a positive number of steps per second (or no limit)")
        with self._lock:
            new = None if max_steps_per_s is None else float(max_steps_per_s)
            if new != self.max_steps_per_s:
                self.max_steps_per_s = new
                self._rate_reset = True  # steps/s restarts at the next step boundary at the new speed

    def _throttle(self) -> bool:
        """Honour the speed limit before the next step: it starts no sooner than 1/limit seconds of
        active time after the previous one began. A stop or pause interrupts the wait (True: interrupted);
        as time paused is not active time, the rest of the wait still applies after a resume, so a
        limited run never goes faster than its limit across a pause. A new limit applies at once."""
        while True:
            limit, began = self.max_steps_per_s, self._step_began
            if not limit or began is None:
                return False
            left = began + 1.0 / limit - self._active_now()
            if left <= 0:
                return False
            if self._stop.is_set() or self._pause.is_set():
                return True
            self._stop.wait(min(left, 0.05))

    def _active_now(self) -> float:
        """Seconds of active training so far (a continued run starts from its earlier total): time
        queued, loading or paused is excluded; everything the worker does per step is included."""
        since = self._active_since
        return self._t_active + (self._clock() - since if since is not None else 0.0)

    def _set_active(self, on: bool) -> None:
        with self._lock:
            now = self._clock()
            if on and self._active_since is None:
                self._active_since = now
            elif not on and self._active_since is not None:
                self._t_active += now - self._active_since
                self._active_since = None

    def _restart_rate_window(self) -> None:
        """Start measuring steps/s afresh at this step's start (training starts, the speed changed)."""
        a = self._active_now()
        self._rate.clear()
        self._rate.append((a, self.step))
        self._last_start = (a, self.step)
        self._free_from = (a, self.step) if self.max_steps_per_s is None else None
        self._rate_reset = False

    def _mark_step_start(self, a: float) -> None:
        """A step starts at active time ``a`` with ``self.step`` steps done: a sample for the rate window
        (start to start holds exactly one whole cycle of the worker per step), and the early rate once a
        full window without a speed limit has passed."""
        with self._lock:
            if self._rate_reset or not self._rate:
                self._restart_rate_window()
                return
            self._last_start = (a, self.step)
            if a - self._rate[-1][0] >= RATE_SAMPLE_S:
                self._rate.append((a, self.step))
            free = self._free_from
            if self.early_steps_per_s is None and free is not None and a - free[0] >= RATE_WINDOW_S:
                self.early_steps_per_s = (self.step - free[1]) / (a - free[0])

    def _rate_window(self) -> tuple[float, int, float] | None:
        """(active seconds, completed steps, window start) over the current rate window, or None.

        From the newest step start at least ``RATE_WINDOW_S`` before the latest step start, to that
        latest start: under a speed limit this can never exceed the limit. A step running longer than
        the window's mean step (a stall) stretches the window to "now", so the rate falls at once."""
        if not self._rate or self._last_start is None:
            return None
        end_a, end_s = self._last_start
        ref = self._rate[0]
        for a, s in reversed(self._rate):
            if end_a - a >= RATE_WINDOW_S:
                ref = (a, s)
                break
        n, span = end_s - ref[1], end_a - ref[0]
        if n <= 0 or span <= 0:
            return None
        return max(span, self._active_now() - ref[0] - span / n), n, ref[0]

    def steps_per_s(self) -> float:
        """Completed steps over active seconds in the last ``RATE_WINDOW_S`` (from a step boundary to
        now, so a step in progress only lowers it: the rate is never overstated). 0 unless running."""
        with self._lock:
            if self.status != RunStatus.RUNNING:
                return 0.0
            w = self._rate_window()
        if w is None or w[0] <= 0 or w[1] <= 0:
            return 0.0
        return w[1] / w[0]

    def speed(self) -> tuple[float, float | None]:
        """(steps/s, ETA in seconds or None): what every front end shows (Train page, sidebar, CLI)."""
        rate = self.steps_per_s()
        with self._lock:
            remaining = self.config.steps - self.step
        return rate, (remaining / rate if rate > 0 else None)
