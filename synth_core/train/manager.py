"""Process-wide job manager: every Run in this process, and a FIFO cap on concurrent training,
so two browser tabs (or two users) cannot oversubscribe the cores."""
from __future__ import annotations

import atexit
import os
import threading
from pathlib import Path
from typing import Any

from ..device import default_max_concurrent_runs
from ..errors import ConfigError
from . import store
from .pool import POOL
from .ray_exec import RayRun, live_run_ids
from .remote import LocalRun
from .run import Run, RunConfig
from .status import RunStatus


#: where runs train: "local" = a worker process per run (the app's default: training never shares the
#: server's GIL, and a crash ends only its run); "inline" = a thread of this process (unit tests, and
#: what the CLI does in its own calling thread); "ray" = an actor per run on a Ray cluster (``ray_exec``)
EXECUTORS = ("local", "inline", "ray")


def default_executor() -> str:
    """``SYNTHLAB_EXECUTOR`` (local, inline or ray), else ray when ``SYNTHLAB_RAY_ADDRESS`` names a cluster,
    else local."""
    fallback = "ray" if os.environ.get("SYNTHLAB_RAY_ADDRESS") else "local"
    name = (os.environ.get("SYNTHLAB_EXECUTOR") or fallback).strip().lower()
    if name not in EXECUTORS:
        raise ConfigError(f"SYNTHLAB_EXECUTOR must be one of {', '.join(EXECUTORS)}; got {name!r}")
    return name


class JobManager:
    def __init__(self, root: Path | str | None = None, max_concurrent: int | None = None,
                 executor: str | None = None, ray_address: str | None = None, reattach: bool = True) -> None:
        """``ray_address``: the cluster of the ``ray`` executor (default ``SYNTHLAB_RAY_ADDRESS``). With it,
        ``reattach`` (a server) picks up the runs of this folder still training on the cluster, in a
        background thread (``ray.init`` never runs in a Streamlit script thread); ``reattached`` is set then."""
        self.root = Path(root) if root is not None else store.runs_root()
        self.executor = executor or default_executor()
        if self.executor not in EXECUTORS:
            raise ConfigError(f"executor must be one of {', '.join(EXECUTORS)}; got {self.executor!r}")
        if self.executor == "local":
            POOL.prime()  # a warm worker waits for the first Start click
        self.max_concurrent = max_concurrent or default_max_concurrent_runs()
        self._cond = threading.Condition()
        self._queue: list[Run] = []     # waiting, FIFO
        self._running: set[str] = set()
        self._runs: dict[str, Run] = {}
        self.ray_address = ray_address or os.environ.get("SYNTHLAB_RAY_ADDRESS") or None
        self.reattached = threading.Event()
        self.reattach_error: str | None = None
        if self.executor == "ray" and reattach:
            threading.Thread(target=self._reattach, name="ray-reattach", daemon=True).start()
        else:
            self.reattached.set()

    # ---- slots (called by Run workers) -----------------------------------------------------
    def acquire(self, run: Run, stop: threading.Event) -> bool:
        """Block until ``run`` is first in line and a slot is free; False if stopped meanwhile."""
        with self._cond:
            self._queue.append(run)
            try:
                while not (self._queue[0] is run and len(self._running) < self.max_concurrent):
                    if stop.is_set():
                        return False
                    self._cond.wait(0.1)
                self._running.add(run.id)
                return True
            finally:
                self._queue.remove(run)
                self._cond.notify_all()

    def release(self, run: Run) -> None:
        with self._cond:
            self._running.discard(run.id)
            self._cond.notify_all()

    def queue_position(self, run: Run) -> int:
        """1 = next to start; 0 = not waiting."""
        with self._cond:
            return self._queue.index(run) + 1 if run in self._queue else 0

    # ---- runs ------------------------------------------------------------------------------
    def submit(self, config: RunConfig, **kwargs: Any) -> Run:
        """Start a run on this manager's executor (``dataset=`` in memory means inline: it cannot travel)."""
        if self.executor == "local" and not kwargs:
            run = LocalRun.new(config, self.root, slots=self)
        elif self.executor == "ray" and not kwargs:
            # no slots: Ray places each actor where its CPUs/GPU are free and queues it until then, so this
            # server's concurrency limit (meant for its own cores) would only hold back the cluster
            run = RayRun.new(config, self.root, address=self.ray_address)
        else:
            run = Run(config, self.root, slots=self, **kwargs)
        with self._cond:
            self._runs[run.id] = run
        return run.start()

    def continue_run(self, run_id: str, steps: int | None = None) -> Run:
        """Reopen a past run (stopped, finished or interrupted) from its checkpoint and queue it."""
        live = self.get(run_id)
        if live is not None and live.active:
            raise ConfigError(f"Run {run_id!r} is still {live.status}; stop it before continuing it.")
        if self.executor == "local":
            run = LocalRun.continued(run_id, self.root, steps=steps, slots=self)
        elif self.executor == "ray":  # no slots: see submit
            run = RayRun.continued(run_id, self.root, steps=steps, address=self.ray_address)
        else:
            run = Run.continue_from(run_id, self.root, steps=steps, slots=self)
        with self._cond:
            previous = self._runs.pop(run_id, None)
            self._runs[run.id] = run  # re-inserted last: the newest run again
        try:
            return run.start()
        except BaseException:
            with self._cond:  # e.g. another process took the run's lock meanwhile
                self._runs.pop(run_id, None)
                if previous is not None:
                    self._runs[run_id] = previous
            raise

    def _reattach(self) -> None:
        """A restarted server: every run of this folder whose actor still trains shows as running again."""
        try:
            for run_id in live_run_ids(self.root, self.ray_address):
                with self._cond:
                    if run_id in self._runs:
                        continue
                    run = self._runs[run_id] = RayRun.attach(run_id, self.root, address=self.ray_address)
                run.start()
        except Exception as exc:  # noqa: BLE001 - e.g. the cluster is unreachable: new runs will say so
            self.reattach_error = f"{type(exc).__name__}: {exc}"
        finally:
            self.reattached.set()

    def get(self, run_id: str) -> Run | None:
        with self._cond:
            return self._runs.get(run_id)

    def runs(self) -> list[Run]:
        with self._cond:
            return list(self._runs.values())

    def active(self) -> list[Run]:
        return [r for r in self.runs() if r.active]

    def latest(self) -> Run | None:
        """The newest active run, else the newest run: what a fresh browser tab re-attaches to."""
        runs = self.runs()
        active = [r for r in runs if r.active]
        pool = active or runs
        return pool[-1] if pool else None

    def records(self) -> list[store.RunRecord]:
        """Runs on disk. One that looks active on disk but is neither live here nor locked by another
        process (a second server, the CLI) was interrupted: its trainer died."""
        out = []
        for rec in store.iter_runs(self.root):
            live = self.get(rec.run_id)
            if live is not None:
                rec.status = {**rec.status, "status": live.status, "step": live.step}
            elif rec.state.live and not store.is_locked(rec.path):
                rec.status = {**rec.status, "status": RunStatus.INTERRUPTED}
            out.append(rec)
        return out

    def stop_all(self, timeout: float = 10.0) -> None:
        for r in self.runs():
            r.stop()
        for r in self.runs():
            r.join(timeout)


_MANAGERS: dict[str, JobManager] = {}
_LOCK = threading.Lock()


@atexit.register
def _stop_everything() -> None:
    """On interpreter exit (server shutdown, end of tests) stop runs cleanly: each writes a final
    checkpoint and status instead of dying mid-step inside a daemon thread."""
    for m in list(_MANAGERS.values()):
        if m.executor != "ray":  # Ray runs train on; a restarted server re-attaches to them
            m.stop_all(timeout=10.0)


def get_manager(root: Path | str | None = None) -> JobManager:
    """One manager per runs folder per process."""
    key = str(Path(root).resolve() if root is not None else store.runs_root())
    with _LOCK:
        if key not in _MANAGERS:
            _MANAGERS[key] = JobManager(key)
        return _MANAGERS[key]
