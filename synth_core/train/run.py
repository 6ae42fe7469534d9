"""A training run: dataset + generator + params + seed + device, trained in a background thread.

The UI never owns the loop: it polls :meth:`Run.snapshot`. The CLI calls :meth:`Run.run_sync`
with an event callback. Either way the same loop writes the run folder (``store.RunFolder``).

``Run`` holds the state and the controls; its parts live beside it: the worker's loop (``loop``),
previews, snapshots and checkpoints (``outputs``), active time, steps/s and the speed limit (``pace``),
the config (``config``), curves (``history``), events and snapshots (``snapshot``).
"""
from __future__ import annotations

import os
import socket
import threading
from collections import deque
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..data import Dataset
from ..errors import ConfigError, RunNotFoundError, TrainingError
from ..generators import Generator, get_generator
from . import store
# re-exported: ``from synth_core.train.run import MAX_STEPS, RunConfig, ...`` keeps working
from .config import MAX_STEPS, RunConfig, new_run_id
from .history import LossHistory
from .loader import continue_plan, load_generator
from .loop import TrainingLoopMixin
from .outputs import MAX_SAMPLE_FILES, POINT_PREVIEW, OutputsMixin
from .pace import RATE_SAMPLE_S, RATE_WINDOW_S, PaceMixin
from .snapshot import Event, RunSnapshot
from .status import RunStatus

__all__ = ["MAX_SAMPLE_FILES", "MAX_STEPS", "POINT_PREVIEW", "RATE_SAMPLE_S", "RATE_WINDOW_S", "Event",
           "LossHistory", "Run", "RunConfig", "RunSnapshot", "RunStatus", "load_generator", "new_run_id"]


class Run(TrainingLoopMixin, OutputsMixin, PaceMixin):
    """One training job. Thread-safe controls: :meth:`pause`, :meth:`resume`, :meth:`stop`."""

    def __init__(self, config: RunConfig, root: Path | str | None = None, *,
                 slots: "Any | None" = None, dataset: Dataset | None = None,
                 _resume: dict[str, Any] | None = None, adopt: bool = False) -> None:
        """``adopt``: the folder was created by the server that queued this run (the local executor's
        worker process trains it)."""
        self.config = config.resolved()
        self.id: str = self.config.run_id  # type: ignore[assignment]
        self.root = Path(root) if root is not None else store.runs_root()
        self.folder = store.RunFolder.of(self.root, self.id)
        self.path = self.folder.path
        self.gen_cls = get_generator(self.config.generator)
        self._dataset = dataset
        self._slots = slots  # a JobManager (or None: run without a concurrency limit)
        self._lock = threading.RLock()        # guards the fields a snapshot reads
        self.model_lock = threading.Lock()    # held during a train step and during sampling
        self._pause = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._listeners: list[Callable[[Event], None]] = []
        self.events: deque[Event] = deque(maxlen=500)
        self.history = LossHistory()
        #: where the loop runs: "inline" (a thread of this process) or "local" (a worker process of its own)
        self.executor = "inline"
        #: more about where it trains, merged into status.json (the ``ray`` executor's node id and actor name)
        self.placement: dict[str, Any] = {}
        self.status = RunStatus.CREATED
        self.step = 0
        self.error: str | None = None
        self.last_losses: dict[str, float] = {}
        self.preview_step = -1
        self.preview_png: bytes | None = None
        self.preview_points: np.ndarray | None = None
        self.preview_labels: np.ndarray | None = None
        self.generator: Generator | None = None
        self._t_start: float | None = None  # epoch seconds metrics.jsonl's "t" counts from
        self._init_pace()
        self._last_preview_t = 0.0
        self._saved_step = -1
        #: seconds between live (in-memory) sample previews; disk snapshots stay every K steps
        self.live_preview_s = 1.0
        self._update_requests = 0                  # single updates asked for while paused
        self._step_requests = 0                    # whole steps asked for while paused
        self.last_update: tuple[str, dict[str, float]] | None = None
        self.updates_done = 0  # single updates so far (step-by-step mode): a click waits for this to move
        self._resume = _resume
        self.resumed_from = 0
        self._lock_file = self.folder.lock()
        #: snapshot files kept on disk (MAX_SAMPLE_FILES, read here so a test can patch run.MAX_SAMPLE_FILES);
        #: the stride multiplies sample_every
        self.max_sample_files = MAX_SAMPLE_FILES
        self._sample_stride = 1
        self._sample_steps: list[int] = []
        if _resume is not None:
            self._reopen(_resume)
            return
        if adopt:
            if not self.folder.exists():
                raise RunNotFoundError(f"Run folder {self.path} does not exist.")
        else:
            self.create_folder(self.folder, self.config)
        self._write_status()

    @staticmethod
    def create_folder(folder: store.RunFolder, config: RunConfig) -> None:
        """A new run's folder with its config (the run id must be new)."""
        if folder.exists():
            raise ConfigError(f"Run folder {folder.path} already exists; pick another run id.")
        cfg = config.to_dict()
        cfg["created_at"] = datetime.now(timezone.utc).isoformat()
        folder.create(cfg)

    @classmethod
    def continue_from(cls, run_id: str, root: Path | str | None = None, *, steps: int | None = None,
                      slots: "Any | None" = None) -> "Run":
        """Reopen a stopped, finished or interrupted run from its last checkpoint and train on to
        ``steps`` in total (default: its original total, or twice that if it already got there).

        Same run id and folder: metrics after the checkpoint (steps an interruption lost) are dropped,
        so the curves and the checkpoint agree. With the same config and seed on CPU, a continued run
        gives the same model as one that was never interrupted.
        """
        root_p = Path(root) if root is not None else store.runs_root()
        config, ckpt = cls.continue_plan(run_id, root_p, steps=steps)
        return cls(config, root_p, slots=slots, _resume=ckpt)

    continue_plan = staticmethod(continue_plan)  # (config, checkpoint) of a continuation, or why not

    def _reopen(self, ckpt: dict[str, Any]) -> None:
        """Adopt an existing run folder: step, curves and active time up to the checkpoint."""
        if not self.path.is_dir():
            raise RunNotFoundError(f"Run folder {self.path} does not exist.")
        done = int(ckpt["step"])
        rows = self.folder.drop_metrics_after(done)
        self.history = LossHistory.from_metrics(self.folder.metrics_path, self.history.max_points)
        self.step = self.resumed_from = done
        self.last_losses = {k: v for k, v in (rows[-1] if rows else {}).items() if k not in ("step", "t")}
        try:
            self._t_active = float((self.folder.read_status() or {}).get("elapsed_s") or 0.0)
        except (OSError, ValueError):
            pass
        cfg = self.folder.read_config()
        cfg["steps"] = self.config.steps
        self.folder.write_config(cfg)
        # sample snapshots: adopt the ones on disk, with the stride a run this long would have
        self._sample_steps = self.folder.sample_steps()
        while done // (self.config.sample_every * self._sample_stride) + 2 > self.max_sample_files:
            self._sample_stride *= 2
        self._prune_samples()
        self.status = RunStatus.CREATED
        self._write_status()

    # ---- controls --------------------------------------------------------------------------
    def start(self) -> "Run":
        """Train in a daemon thread; returns immediately."""
        if self._thread is not None:
            raise RuntimeError("run already started")
        self._take_lock()
        self._set_status(RunStatus.QUEUED)
        self._thread = threading.Thread(target=self._worker, name=f"run-{self.id}", daemon=True)
        self._thread.start()
        return self

    def add_listener(self, fn: Callable[[Event], None]) -> None:
        """``fn`` is called (in the worker thread) with every event; keep it quick."""
        self._listeners.append(fn)

    def run_sync(self, on_event: Callable[[Event], None] | None = None) -> "Run":
        """Train in the calling thread (the CLI); ``on_event`` sees every event."""
        if on_event:
            self._listeners.append(on_event)
        self._take_lock()
        self._set_status(RunStatus.QUEUED)
        self._worker()
        return self

    def _take_lock(self) -> None:
        if not self._lock_file.acquire():
            raise ConfigError(f"Run {self.id!r} is being trained by another process; stop it there first.")

    def pause(self) -> None:
        with self._lock:
            if self.status.can_pause:
                self._pause.set()
                if self.status == RunStatus.RUNNING:
                    self._set_status(RunStatus.PAUSED)

    def resume(self) -> None:
        with self._lock:
            self._pause.clear()
            if self.status == RunStatus.PAUSED:
                self._set_status(RunStatus.RUNNING)

    def step_once(self, unit: str = "update", n: int = 1) -> None:
        """Step-by-step mode: while paused, advance by ``n`` single updates (``unit="update"``: one
        discriminator *or* generator update for GANs, one step for other families) or ``n`` whole
        steps. Pauses a running run first, so the click is never lost."""
        if unit not in ("update", "step"):
            raise ValueError("unit must be 'update' or 'step'")
        with self._lock:
            if not self.status.live:
                return
            self.pause()
            if unit == "update":
                self._update_requests += int(n)
            else:
                self._step_requests += int(n)

    def stop(self) -> None:
        """Stop after the current step; the worker writes a final checkpoint and samples."""
        self._stop.set()
        self._pause.clear()

    def join(self, timeout: float | None = None) -> bool:
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    @property
    def status(self) -> RunStatus:
        return self._status

    @status.setter
    def status(self, value: RunStatus | str) -> None:
        self._status = RunStatus(value)  # a plain string (a test driving the worker by hand) becomes the member

    @property
    def active(self) -> bool:
        """Live (created, queued, running or paused): it still belongs to this process's trainer."""
        return self.status.live

    # ---- status ----------------------------------------------------------------------------
    def _set_status(self, status: RunStatus) -> None:
        with self._lock:
            self.status = status
        self._write_status()
        self._emit(Event("status", self.step, {"status": status}))

    def _write_status(self) -> None:
        with self._lock:
            d = {"status": self.status.value, "step": self.step, "total": self.config.steps, "error": self.error,
                 "last_losses": self.last_losses, "elapsed_s": round(self._active_now(), 3),
                 "updated_at": datetime.now(timezone.utc).isoformat(),
                 # where it trains: the executor, the host and the process (a worker's, or this server's)
                 "executor": self.executor, "host": socket.gethostname(), "pid": os.getpid(),
                 # epoch seconds of the clock metrics.jsonl's "t" counts from (bench/ui.py's latency)
                 "t0_epoch": self._t_start, **self.placement}
        self.folder.write_status(d)

    def _finish(self, status: RunStatus) -> None:
        self._set_status(status)
        self._emit(Event("done", self.step, {"status": status}))

    def _fail(self, message: str, tb: str | None = None) -> None:
        with self._lock:
            self.error = message
        if tb:
            self.folder.write_error_log(tb)
        self._set_status(RunStatus.FAILED)
        self._emit(Event("error", self.step, {"message": message}))
        self._emit(Event("done", self.step, {"status": RunStatus.FAILED}))

    def _emit(self, ev: Event) -> None:
        self.events.append(ev)
        for fn in list(self._listeners):
            fn(ev)

    # ---- reading ---------------------------------------------------------------------------
    def snapshot(self) -> RunSnapshot:
        rate, eta = self.speed()
        with self._lock:
            w = self._rate_window()
            free = self._free_from
            unthrottled = (self.max_steps_per_s is None and free is not None and w is not None
                           and w[2] >= free[0] and w[0] >= RATE_WINDOW_S)
            qpos = self._slots.queue_position(self) if (self._slots is not None and self.status == RunStatus.QUEUED) else 0
            return RunSnapshot(
                run_id=self.id, status=self.status, step=self.step, total=self.config.steps,
                steps_per_s=rate, eta_s=eta, elapsed_s=self._active_now(), history=self.history.copy(),
                last_losses=dict(self.last_losses), preview_step=self.preview_step, preview_png=self.preview_png,
                preview_points=self.preview_points, error=self.error, queue_position=qpos,
                dataset=self.config.dataset, generator=self.config.generator,
                last_update=self.last_update, updates_done=self.updates_done, max_steps_per_s=self.max_steps_per_s,
                resumed_from=self.resumed_from, early_steps_per_s=self.early_steps_per_s,
                rate_unthrottled=unthrottled, preview_labels=self.preview_labels,
            )

    # ---- the model, for the pages (the same calls a worker-process run answers over its pipe) ----
    @property
    def model_ready(self) -> bool:
        """The generator is built (the run has left the queue): views, step buttons and sampling work."""
        return self.generator is not None

    def next_update(self) -> tuple[str, str] | None:
        """Step-by-step mode's next unit and its caption (``views.next_update``)."""
        from . import views  # views draw figures: imported when a page first asks
        return views.next_update(self.generator)

    def view(self, view: str, real: np.ndarray, fake: np.ndarray | None, bounds: Any, *, height: int = 420) -> Any:
        """A teaching view (``views.View``) of the live model, evaluated under its model lock."""
        from . import views
        return views.run_view(self, view, real, fake, bounds, height=height)

    def sample(self, n: int, condition: Any = None, seed: int | None = None) -> np.ndarray:
        """Draw samples from the current model without disturbing training."""
        return self.sample_with_labels(n, condition=condition, seed=seed)[0]

    def sample_with_labels(self, n: int, condition: Any = None, seed: int | None = None
                           ) -> tuple[np.ndarray, np.ndarray | None]:
        """Samples and their label codes (``Generator.sample_with_labels``), under the model lock."""
        if self.generator is None:
            raise TrainingError("This run has no trained model yet: wait for it to start.")
        with self.model_lock:
            return self.generator.sample_with_labels(n, condition=condition, seed=seed)


