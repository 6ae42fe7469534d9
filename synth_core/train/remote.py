"""The ``local`` executor: a run trained in a worker process of its own (``worker.py``), driven through
:class:`LocalRun`, a proxy with the same calls as an in-process :class:`~.run.Run`.

Why a process: training no longer shares the server's GIL with the pages, and a crash in a generator
(a segfault, ``os.abort()``, an out-of-memory kill) ends only that run: the server marks it interrupted,
keeps its last checkpoint, and other runs never notice.

The proxy's monitor thread waits for a training slot (the manager's rule: one per GPU, else the CPU
budget), spawns the worker, then fetches the run's state a few times a second. The pages read that
copy (``snapshot()`` never waits on the worker); controls, views and sampling are requests over the
pipe, answered by the worker where the model is.
"""
from __future__ import annotations

import dataclasses
import os
from datetime import datetime, timezone
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, TrainingError
from . import store
from .config import RunConfig
from .history import LossHistory
from .faults import WorkerEndMixin, signal_name
from .pool import POOL
from .snapshot import RunSnapshot, SnapshotReadsMixin
from .status import RunStatus

REFRESH_S = 0.5       # how often the proxy copies the worker's state (the pages poll once a second)
START_TIMEOUT_S = 180.0  # spawn + imports + building the run, on a loaded machine
STOP_GRACE_S = 15.0   # after Stop, a worker still alive this long (stuck in a long C call) is terminated
CALL_TIMEOUT_S = 60.0


class WorkerGone(TrainingError):
    """The worker process ended (or its pipe broke) while a request was in flight."""


class LocalRun(SnapshotReadsMixin, WorkerEndMixin):
    """A run in a worker process, with the calls the pages and the manager use on a :class:`~.run.Run`."""

    executor = "local"
    generator = None  # the model lives in the worker: views and samples are requests (``view``, ``sample``)

    def __init__(self, request: dict[str, Any], config: RunConfig, root: Path, *, slots: Any = None,
                 resumed_from: int = 0, history: LossHistory | None = None) -> None:
        self.config, self.root, self._request, self._slots = config, Path(root), request, slots
        self.id: str = config.run_id  # type: ignore[assignment]
        self.folder = store.RunFolder.of(self.root, self.id)
        self.path = self.folder.path
        self.resumed_from = resumed_from
        self._pipe = threading.Lock()        # one request at a time on the pipe
        self._state = threading.Lock()       # guards the copy below
        self._stop = threading.Event()
        self._stop_at: float | None = None
        self._wake = threading.Event()
        self._pending: list[tuple[str, tuple, dict]] = []  # controls given while queued, replayed at start
        self._conn: Any = None
        self._proc: Any = None
        self._launched = False   # the worker was started (it may have ended since)
        self._connected = False  # the worker is up and answering requests
        self._rid = 0
        self._views: dict[tuple, tuple[tuple, Any]] = {}
        self._model_ready, self._next = False, None
        self._snap = RunSnapshot(
            run_id=self.id, status=RunStatus.QUEUED, step=resumed_from, total=config.steps, steps_per_s=0.0,
            eta_s=None, elapsed_s=0.0, history=(history or LossHistory()).copy(), last_losses={},
            preview_step=-1, preview_png=None, preview_points=None, error=None, queue_position=0,
            dataset=config.dataset, generator=config.generator, resumed_from=resumed_from)
        self._thread = threading.Thread(target=self._life, name=f"run-{self.id}", daemon=True)

    # ---- creating ----------------------------------------------------------------------------
    @classmethod
    def new(cls, config: RunConfig, root: Path, *, slots: Any = None) -> "LocalRun":
        from .run import Run
        config = config.resolved()
        run = cls({"kind": "new", "config": config.to_dict()}, config, root, slots=slots)
        # the folder exists from the click on, like an in-process run's: the Runs page lists a queued run,
        # and a restarted server finds it (interrupted: it never got a checkpoint)
        Run.create_folder(run.folder, config)
        run._write_queued(0)
        return run

    @classmethod
    def continued(cls, run_id: str, root: Path, *, steps: int | None = None, slots: Any = None) -> "LocalRun":
        from .run import Run
        config, ckpt = Run.continue_plan(run_id, root, steps=steps)  # every refusal is raised here
        folder = store.RunFolder.of(root, run_id)
        history = LossHistory.from_metrics(folder.metrics_path)
        run = cls({"kind": "continue", "run_id": run_id, "steps": config.steps}, config, root, slots=slots,
                  resumed_from=int(ckpt["step"]), history=history)
        run._write_queued(int(ckpt["step"]))
        return run

    def _write_queued(self, step: int) -> None:
        """The folder's status until the worker takes over (it writes every status after this one)."""
        self.folder.write_status({**(self.folder.read_status() or {}), "status": RunStatus.QUEUED.value,
                                  "step": step, "total": self.config.steps, "error": None, "executor": self.executor,
                                  "updated_at": datetime.now(timezone.utc).isoformat()})

    def start(self) -> "LocalRun":
        self._thread.start()
        return self

    # ---- what the pages read -----------------------------------------------------------------
    def snapshot(self) -> RunSnapshot:
        with self._state:
            snap = self._snap
        if snap.status == RunStatus.QUEUED and self._slots is not None and not self._launched:
            snap = dataclasses.replace(snap, queue_position=self._slots.queue_position(self))
        return snap

    # ---- controls ------------------------------------------------------------------------------
    def _control(self, op: str, *args: Any, **kwargs: Any) -> None:
        if not self._connected:
            if not self._launched and not self._stop.is_set():
                self._pending.append((op, args, kwargs))
            return
        try:
            self._call(op, *args, timeout=10.0, **kwargs)
        except TrainingError:
            pass  # a worker that is gone or stuck: the monitor records what happened
        self._wake.set()  # fetch the new state now

    def pause(self) -> None:
        self._control("pause")

    def resume(self) -> None:
        self._control("resume")

    def step_once(self, unit: str = "update", n: int = 1) -> None:
        if unit not in ("update", "step"):
            raise ValueError("unit must be 'update' or 'step'")
        self._control("step_once", unit, n)

    def set_speed(self, max_steps_per_s: float | None) -> None:
        if max_steps_per_s is not None and not max_steps_per_s > 0:
            raise ConfigError("speed must be a positive number of steps per second (or no limit)")
        self._control("set_speed", max_steps_per_s)

    def stop(self) -> None:
        """Stop after the current step (final checkpoint). A worker that has not stopped STOP_GRACE_S
        later is terminated, and the run says so."""
        if self._stop_at is None:
            self._stop_at = time.time()
        self._stop.set()
        self._control("stop")

    def join(self, timeout: float | None = None) -> bool:
        if self._thread.ident is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # ---- the model, where it lives -------------------------------------------------------------
    def view(self, view: str, real: np.ndarray, fake: np.ndarray | None, bounds: Any, *, height: int = 420) -> Any:
        """The teaching view, computed by the worker; rebuilt only when the model has changed since."""
        snap = self.snapshot()
        version = (snap.step, snap.preview_step, snap.updates_done)
        key = (view, height, tuple(bounds) if bounds is not None else None)
        hit = self._views.get(key)
        if hit is not None and hit[0] == version:
            return hit[1]
        shown = self._call("view", view, real, fake, bounds, height=height, timeout=CALL_TIMEOUT_S)
        self._views[key] = (version, shown)
        return shown

    def sample_with_labels(self, n: int, condition: Any = None, seed: int | None = None
                           ) -> tuple[np.ndarray, np.ndarray | None]:
        if not self._connected:
            raise TrainingError("This run has no trained model yet: wait for it to start.")
        return self._call("sample_with_labels", n, condition=condition, seed=seed, timeout=CALL_TIMEOUT_S * 2)

    def sample(self, n: int, condition: Any = None, seed: int | None = None) -> np.ndarray:
        return self.sample_with_labels(n, condition=condition, seed=seed)[0]

    # ---- the pipe ------------------------------------------------------------------------------
    def _call(self, op: str, *args: Any, timeout: float = CALL_TIMEOUT_S, **kwargs: Any) -> Any:
        """One request to the worker: its result, or its exception raised here. ``WorkerGone`` when the
        worker has ended; ``TrainingError`` when it did not answer within ``timeout`` seconds."""
        conn = self._conn
        if conn is None:
            raise WorkerGone("The training process is not running.")
        with self._pipe:
            self._rid += 1
            rid = self._rid
            deadline = time.time() + timeout
            try:
                conn.send((rid, op, args, kwargs))
                while True:
                    left = deadline - time.time()
                    if left <= 0 or not conn.poll(left):
                        raise TrainingError(f"The training process did not answer within {timeout:.0f} s.")
                    got, ok, result = conn.recv()
                    if got == rid:
                        break  # an older id: the answer to a request given up on earlier
            except (EOFError, OSError) as exc:
                raise WorkerGone("The training process ended.") from exc
        if not ok:
            raise result
        return result

    # ---- the monitor thread ----------------------------------------------------------------------
    def _set(self, **changes: Any) -> None:
        with self._state:
            self._snap = dataclasses.replace(self._snap, **changes)

    def _life(self) -> None:
        acquired = False
        try:
            if self._slots is not None:
                acquired = self._slots.acquire(self, self._stop)
                if not acquired:  # stopped while queued: it never trained
                    self._set(status=RunStatus.STOPPED)
                    return
            elif self._stop.is_set():
                self._set(status=RunStatus.STOPPED)
                return
            if self._launch():
                self._monitor()
        except Exception as exc:  # noqa: BLE001 - the run fails, the server goes on
            self._record_end(RunStatus.FAILED, f"{type(exc).__name__}: {exc}")
        finally:
            if acquired:
                self._slots.release(self)
            self._connected = False
            self._disconnect()

    # ---- the worker's life: the hooks another executor (Ray) replaces ---------------------------
    def _disconnect(self) -> None:
        if self._conn is not None:
            self._conn.close()

    def _alive(self) -> bool:
        return self._proc is not None and self._proc.is_alive()

    def _wait_end(self, timeout: float) -> None:
        self._proc.join(timeout)

    def _kill(self) -> None:
        """End the worker now (SIGTERM, then SIGKILL)."""
        self._proc.terminate()
        self._proc.join(5)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join(5)

    def _exit_cause(self) -> str | None:
        """How the worker ended ("SIGKILL", "exit code 1", ...), None while it runs or before it started."""
        return signal_name(self._proc.exitcode) if self._proc is not None and self._proc.exitcode is not None else None

    def _launch(self) -> bool:
        """Start the worker and wait until it has built the run; False (the run failed) if it could not."""
        self._launched = True
        proc, parent = POOL.take()
        self._proc = proc
        # runs that may train side by side split the cores (threads x runs <= cores: no oversubscription)
        share = max(1, (os.cpu_count() or 1) // (self._slots.max_concurrent if self._slots is not None else 1))
        parent.send(({**self._request, "threads": share}, str(self.root)))
        if not parent.poll(START_TIMEOUT_S):
            proc.kill()
            proc.join(5)
            self._record_end(RunStatus.FAILED, f"The training process did not start within {START_TIMEOUT_S:.0f} s.")
            return False
        try:
            _rid, ok, payload = parent.recv()
        except (EOFError, OSError):
            proc.join(5)
            self._record_end(RunStatus.FAILED, f"The training process died while starting ({signal_name(proc.exitcode)}).")
            return False
        if not ok:
            proc.join(5)
            self._record_end(RunStatus.FAILED, f"The run could not start: {payload}")
            return False
        self._conn = parent
        self._connected = True
        POOL.prime(self.config.dataset)  # the next run's spare warms up now that this one has started
        for op, args, kwargs in self._pending:
            self._control(op, *args, **kwargs)
        self._pending.clear()
        return True

    def _monitor(self) -> None:
        while True:
            if self._stop_at is not None and time.time() - self._stop_at > STOP_GRACE_S and self._alive():
                self._terminate(STOP_GRACE_S)
                return
            try:
                snap, ready, nxt = self._call("state", timeout=10.0)
            except WorkerGone:
                self._died()
                return
            except TrainingError:  # busy or stuck: keep the last copy, try again
                if not self._alive():
                    self._died()
                    return
                continue
            with self._state:
                self._snap, self._model_ready, self._next = snap, ready, nxt
            if RunStatus(snap.status).final:
                try:
                    self._call("close", timeout=30.0)
                except TrainingError:
                    pass
                self._wait_end(30)
                return
            self._wake.wait(REFRESH_S)
            self._wake.clear()
