"""The worker's training loop: wait for a slot, train step by step (honouring pause, stop, single
updates and the speed limit), record each step, and end with a checkpoint and a final status. A mixin of
:class:`~.run.Run`, which owns the state and the controls."""
from __future__ import annotations

import math
import time
import traceback

from ..data import load_dataset
from ..device import resolve_device
from ..errors import SynthLabError, TrainingError
from ..viz.grid import data_bounds
from .snapshot import Event
from .status import RunStatus


class TrainingLoopMixin:
    """The loop a :class:`~.run.Run` trains in (its worker thread, or the caller's for the CLI)."""

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
                self.updates_done += 1
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
