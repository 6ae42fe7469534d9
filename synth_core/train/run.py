"""A training run: dataset + generator + params + seed + device, trained in a background thread.

The UI never owns the loop: it polls :meth:`Run.snapshot`. The CLI calls :meth:`Run.run_sync`
with an event callback. Either way the same loop writes the run folder (see ``store``).
"""
from __future__ import annotations

import json
import math
import secrets
import threading
import time
import traceback
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..data import Dataset, dataset_info, load_dataset
from ..data.holdout import HOLDOUT_SEED, check_fraction, default_holdout, split_dataset
from ..device import resolve_device
from ..errors import ConfigError, RunNotFoundError, SynthLabError, TrainingError
from ..generators import Generator, get_generator
from ..generators.parts import PREVIEW_SEED_OFFSET, preview_row
from ..params import resolve_params
from ..viz.grid import data_bounds, image_grid, png_bytes, scatter_png
from . import store
from .status import RunStatus

#: the most steps a run may train for (RunConfig checks it; the Train and Runs pages' inputs stop there)
MAX_STEPS = 10_000_000
POINT_PREVIEW = 1000  # points drawn in each live scatter of a points dataset
#: sample snapshots kept on disk per run: the first, the newest and at most this many spread over the
#: run (past it the snapshot stride doubles and every other file goes, like ``LossHistory``)
MAX_SAMPLE_FILES = 200
#: steps/s and the ETA are steps over the last RATE_WINDOW_S seconds of *active* training time (time
#: paused or queued excluded; everything the worker does per step -- previews, checkpoints, metrics,
#: the speed limit's wait -- included), measured from one step's start to a later step's start
RATE_WINDOW_S = 5.0
RATE_SAMPLE_S = 0.05  # at most one (active time, step) sample this often: bounded memory at any speed


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


class LossHistory:
    """Loss curves with bounded memory: past ``max_points`` it keeps every 2nd point and doubles
    its stride, so a million-step run still charts in ~``max_points`` points."""

    def __init__(self, max_points: int = 4000) -> None:
        self.max_points = max_points
        self.stride = 1
        self.steps: list[int] = []
        self.times: list[float] = []
        self.values: dict[str, list[float]] = {}

    def add(self, step: int, t: float, losses: dict[str, float]) -> None:
        if step % self.stride:
            return
        for k in losses:
            if k not in self.values:
                self.values[k] = [math.nan] * len(self.steps)
        self.steps.append(step)
        self.times.append(t)
        for k, col in self.values.items():
            col.append(losses.get(k, math.nan))
        if len(self.steps) > self.max_points:
            self.stride *= 2
            keep = [i for i, s in enumerate(self.steps) if s % self.stride == 0]
            self.steps = [self.steps[i] for i in keep]
            self.times = [self.times[i] for i in keep]
            self.values = {k: [v[i] for i in keep] for k, v in self.values.items()}

    def copy(self) -> dict[str, Any]:
        return {"step": list(self.steps), "time": list(self.times),
                "losses": {k: list(v) for k, v in self.values.items()}}

    @classmethod
    def from_metrics(cls, path: Path | str, max_points: int = 4000) -> "LossHistory":
        """Stream a ``metrics.jsonl`` into a bounded history: memory stays ~``max_points`` rows
        however long the run was (a torn last line from a crash is skipped)."""
        h = cls(max_points)
        try:
            with open(path, encoding="utf-8") as fh:
                for line in fh:
                    try:
                        r = json.loads(line)
                        step = int(r["step"])
                    except (ValueError, KeyError, TypeError):
                        continue
                    t = r.get("t")
                    h.add(step, float(t) if isinstance(t, (int, float)) else math.nan,
                          {k: (float(v) if isinstance(v, (int, float)) else math.nan)
                           for k, v in r.items() if k not in ("step", "t")})
        except FileNotFoundError:
            pass
        return h


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


class Run:
    """One training job. Thread-safe controls: :meth:`pause`, :meth:`resume`, :meth:`stop`."""

    #: the clock active time (steps/s, ETA, time trained) is measured on; a test can swap it
    _clock = staticmethod(time.monotonic)

    def __init__(self, config: RunConfig, root: Path | str | None = None, *,
                 slots: "Any | None" = None, dataset: Dataset | None = None,
                 _resume: dict[str, Any] | None = None) -> None:
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
        self.status = RunStatus.CREATED
        self.step = 0
        self.error: str | None = None
        self.last_losses: dict[str, float] = {}
        self.preview_step = -1
        self.preview_png: bytes | None = None
        self.preview_points: np.ndarray | None = None
        self.preview_labels: np.ndarray | None = None
        self.generator: Generator | None = None
        self._t_start: float | None = None
        self._t_active = 0.0          # active seconds before the current active stretch (pauses excluded)
        self._active_since: float | None = None  # monotonic start of the current active stretch
        self._rate: deque[tuple[float, int]] = deque(maxlen=int(4 * RATE_WINDOW_S / RATE_SAMPLE_S))
        self._free_from: tuple[float, int] | None = None  # (active s, step) since no speed limit
        self.early_steps_per_s: float | None = None
        self._rate_reset = False
        self._last_start: tuple[float, int] | None = None  # (active s, steps done) at the latest step start
        self._step_began: float | None = None  # active time the last step began (the speed limit)
        self._last_preview_t = 0.0
        self._saved_step = -1
        #: seconds between live (in-memory) sample previews; disk snapshots stay every K steps
        self.live_preview_s = 1.0
        self.max_steps_per_s: float | None = None  # speed slider (teaching); None = full speed
        self._update_requests = 0                  # single updates asked for while paused
        self._step_requests = 0                    # whole steps asked for while paused
        self.last_update: tuple[str, dict[str, float]] | None = None
        self._resume = _resume
        self.resumed_from = 0
        self._lock_file = self.folder.lock()
        #: snapshot files kept on disk (see MAX_SAMPLE_FILES); the stride multiplies sample_every
        self.max_sample_files = MAX_SAMPLE_FILES
        self._sample_stride = 1
        self._sample_steps: list[int] = []
        if _resume is not None:
            self._reopen(_resume)
            return
        if self.path.exists():
            raise ConfigError(f"Run folder {self.path} already exists; pick another run id.")
        cfg = self.config.to_dict()
        cfg["created_at"] = datetime.now(timezone.utc).isoformat()
        self.folder.create(cfg)
        self._write_status()

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
        return cls(config, root_p, slots=slots, _resume=ckpt)

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

    def set_speed(self, max_steps_per_s: float | None) -> None:
        """Limit training speed (teaching demos): at most this many steps per second; None = no limit."""
        if max_steps_per_s is not None and not max_steps_per_s > 0:
            raise ConfigError("speed must be a positive number of steps per second (or no limit)")
        with self._lock:
            new = None if max_steps_per_s is None else float(max_steps_per_s)
            if new != self.max_steps_per_s:
                self.max_steps_per_s = new
                self._rate_reset = True  # steps/s restarts at the next step boundary at the new speed

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

    # ---- the loop --------------------------------------------------------------------------
    def _worker(self) -> None:
        acquired = False
        try:
            if self._slots is not None:
                acquired = self._slots.acquire(self, self._stop)
                if not acquired:  # stopped while queued
                    self._finish(RunStatus.STOPPED)
                    return
            self._train()
        except SynthLabError as exc:
            self._fail(str(exc))
        except Exception as exc:  # noqa: BLE001 - a generator bug must not kill the server
            self._fail(f"{type(exc).__name__}: {exc}", tb=traceback.format_exc())
        finally:
            if acquired:
                self._slots.release(self)
            self._lock_file.release()

    def _train(self) -> None:
        cfg = self.config
        device = resolve_device(cfg.device)
        dataset = self._dataset or load_dataset(cfg.dataset)
        gen = self.gen_cls(**cfg.params)
        gen.setup(cfg.split(dataset)[0], device=device, seed=cfg.seed)  # the holdout stays unseen
        if self._resume is not None:
            gen.load_state_dict(self._resume["generator"])
            self._resume = None  # free the checkpoint's tensors
        self.generator = gen
        self._dataset = dataset
        self._bounds = data_bounds(dataset.x) if dataset.kind != "image" else None
        # curve times continue where a continued run left off
        self._t_start = time.time() - (self.history.times[-1] if self.history.times else 0.0)
        with self._lock:  # a pause that arrived while queued or loading takes effect now
            self._set_status(RunStatus.PAUSED if self._pause.is_set() else RunStatus.RUNNING)
            self._set_active(True)
            self._restart_rate_window()
        self._metrics = self.folder.open_metrics()
        self._last_flush = time.time()
        self._last_good_ckpt = self.resumed_from if self.resumed_from else -1
        try:
            while self.step < cfg.steps:
                if self._stop.is_set():
                    break
                if self._pause.is_set():
                    self._metrics.flush()
                    self._set_active(False)  # time paused is not training time (steps/s, ETA)
                    self._pause_wait()
                    self._set_active(True)
                    continue
                if self._throttle():
                    continue  # a pause or stop cut the wait short: check them first
                a0 = self._active_now()
                self._mark_step_start(a0)
                with self.model_lock:
                    losses = gen.train_step()
                self._step_began = a0
                self._record_step(losses)
            self._finish_partial_step(gen)
        finally:
            self._set_active(False)
            self._metrics.close()
        if self._saved_step != self.step:
            self._snapshot_samples()  # the folder always ends with the final model's samples
        self._checkpoint()
        self._finish(RunStatus.STOPPED if self.step < cfg.steps else RunStatus.FINISHED)

    def _finish_partial_step(self, gen) -> None:
        """A checkpoint holds whole steps. A step that step-by-step mode left half done (stopped after a
        lone "Step D") is completed first, so the stopped run, continued, equals one never stopped."""
        if gen.step_progress()[0] == 0 or self.step >= self.config.steps:
            return
        with self.model_lock:
            losses = gen.train_step()  # runs only what is left of the step
        self._record_step(losses)

    def _check_finite(self, losses: dict[str, float], what: str = "step") -> None:
        bad = [k for k, v in losses.items() if not math.isfinite(v)]
        if bad:
            good = self._last_good_ckpt if self._last_good_ckpt >= 0 else "none"
            raise TrainingError(
                f"Training diverged at {what} {self.step + 1}: {', '.join(bad)} became "
                f"{losses[bad[0]]}. Lower the learning rate(s) or the batch size and start again; "
                f"the last good checkpoint (step {good}) is kept."
            )

    def _record_step(self, losses: dict[str, float]) -> None:
        """Book-keeping after one complete step: curves, metrics file, samples, checkpoint."""
        cfg = self.config
        self._check_finite(losses)
        now = time.time()
        with self._lock:
            self.step += 1
            self.last_losses = losses
            self.history.add(self.step, now - self._t_start, losses)
        self._metrics.append({"step": self.step, "t": round(now - self._t_start, 4), **losses})
        self._emit(Event("step", self.step, {"losses": losses}))
        if self.step % (cfg.sample_every * self._sample_stride) == 0 or self.step == 1:
            self._snapshot_samples()
        elif now - self._last_preview_t >= self.live_preview_s:
            self._snapshot_samples(save=False)  # live view only; the folder keeps every K steps
        if self.step % cfg.checkpoint_every == 0:
            self._checkpoint()
            self._last_good_ckpt = self.step
        if now - self._last_flush > 1.0:
            self._metrics.flush()
            self._last_flush = now

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

    def _single_update(self) -> None:
        """Step-by-step mode: one update (or one whole step), then refresh the live preview at once."""
        gen = self.generator
        assert gen is not None
        with self._lock:
            whole = self._step_requests > 0
            if whole:
                self._step_requests -= 1
            else:
                self._update_requests -= 1
        self._set_active(True)  # a single update is training time, though the run is paused
        before = gen.step_
        while True:
            with self.model_lock:
                what, losses = gen.train_update()
            self._check_finite(losses, what)
            completed = gen.step_ > before
            with self._lock:
                self.last_update = (what, dict(losses))
            self._emit(Event("update", self.step, {"what": what, "losses": losses}))
            if completed or not whole:
                break
        if completed:
            self._record_step(losses)
        self._snapshot_samples(save=False)
        self._set_active(False)

    def _pause_wait(self) -> None:
        while self._pause.is_set() and not self._stop.is_set() and self.step < self.config.steps:
            if self._update_requests > 0 or self._step_requests > 0:
                self._single_update()
                continue
            self._stop.wait(0.05)
        with self._lock:
            self._update_requests = self._step_requests = 0
            if self.status == RunStatus.PAUSED and not self._pause.is_set():
                self._set_status(RunStatus.RUNNING)

    # ---- outputs ---------------------------------------------------------------------------
    def _snapshot_samples(self, save: bool = True) -> None:
        gen, ds = self.generator, self._dataset
        if gen is None or ds is None or (gen.closed_form and self.step == 0):
            return
        labels = None
        with self.model_lock:
            if ds.kind == "image":
                x = gen.preview()
            elif ds.kind == "tabular":  # fixed seed, label included, classes in the real proportions
                x, labels = gen.sample_with_labels(POINT_PREVIEW, seed=gen.seed_ + PREVIEW_SEED_OFFSET)
            else:
                x = gen.preview(POINT_PREVIEW)
        if ds.kind == "image":
            png = png_bytes(image_grid(ds.decode(x), nrow=preview_row(gen, len(x))))  # a row per class if conditional
            points = None
        else:
            # the live view draws points itself: rasterise a PNG only for the run folder
            png = png_bytes(scatter_png(x, self._bounds, reference=ds.x[:2000])) if save else None
            points = x
        with self._lock:
            self.preview_step, self.preview_png, self.preview_points = self.step, png, points
            self.preview_labels = labels
            self._last_preview_t = time.time()
        if not save:
            return
        path = self.folder.write_sample(self.step, png)
        self._saved_step = self.step
        if not self._sample_steps or self._sample_steps[-1] != self.step:
            self._sample_steps.append(self.step)
        self._prune_samples()
        self._emit(Event("samples", self.step, {"path": str(path)}))

    def _prune_samples(self) -> None:
        """Bound the snapshots on disk: over ``max_sample_files``, double the stride and keep only the
        first, the newest and those on the new grid (so they stay spread evenly over the run)."""
        steps = self._sample_steps
        limit = max(3, int(self.max_sample_files))

        def on_grid() -> list[int]:  # the first, the newest, and multiples of the current stride
            grid = self.config.sample_every * self._sample_stride
            return [s for i, s in enumerate(steps) if i == 0 or i == len(steps) - 1 or s % grid == 0]

        # stride 1 (short runs) keeps every snapshot; past that a superseded "newest" goes too
        keep = steps if self._sample_stride == 1 else on_grid()
        while len(keep) > limit:
            self._sample_stride *= 2
            keep = on_grid()
        for s in set(steps) - set(keep):
            self.folder.delete_sample(s)
        self._sample_steps = keep

    def _checkpoint(self) -> None:
        gen = self.generator
        if gen is None:
            return
        metrics = getattr(self, "_metrics", None)
        if metrics is not None and not metrics.closed:
            metrics.flush()  # the curves on disk always reach the checkpoint, even after a SIGKILL
        with self.model_lock:
            state = {"config": self.config.to_dict(), "step": self.step, "generator": gen.state_dict()}
            self.folder.save_checkpoint(state)
        self._write_status()
        self._emit(Event("checkpoint", self.step))

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
                 # epoch seconds of the clock metrics.jsonl's "t" counts from (bench/ui.py's latency)
                 "t0_epoch": self._t_start}
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

    # ---- active time and speed -------------------------------------------------------------
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

    # ---- reading ---------------------------------------------------------------------------
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
                last_update=self.last_update, max_steps_per_s=self.max_steps_per_s,
                resumed_from=self.resumed_from, early_steps_per_s=self.early_steps_per_s,
                rate_unthrottled=unthrottled, preview_labels=self.preview_labels,
            )

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

