"""Warm worker processes for the ``local`` executor.

A new worker process spends seconds importing torch and the generators before it can train. The pool
keeps one spare that has done that already: a Start click hands the spare its run (training starts
about as fast as in a thread), and a new spare warms up in the background for the next run.

``SYNTHLAB_WARM_WORKERS`` sets how many spares to keep (default 1; 0 = start each worker cold, on the
click). A spare is idle (it waits on its pipe) and exits when the server does.
"""
from __future__ import annotations

import atexit
import multiprocessing as mp
import multiprocessing.util  # noqa: F401 - its exit hook first, so ours (registered below) runs before it
import os
import sys
import threading
import types
from typing import Any

_SPAWN_LOCK = threading.Lock()
_BARE_MAIN = types.ModuleType("__main__")  # no __file__, no __spec__: spawn imports nothing for it


def _spares_wanted() -> int:
    try:
        return max(0, int(os.environ.get("SYNTHLAB_WARM_WORKERS", "1")))
    except ValueError:
        return 1


class WarmPool:
    """Spawned, imported, idle worker processes, handed out one per run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spares: list[tuple[Any, Any]] = []
        self._filling = False
        self._closed = False
        self._hint: str | None = None  # the dataset the last run used: the next spare loads it in advance

    def _spawn(self) -> tuple[Any, Any]:
        from . import worker
        ctx = mp.get_context("spawn")  # never fork a threaded server
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=worker.main, args=(child,), kwargs={"warm_dataset": self._hint},
                           name="synthlab-worker", daemon=False)
        # spawn re-runs the parent's __main__ in the child, and in a Streamlit server __main__ is the app
        # script itself: the worker would run the app (and start workers of its own). It gets a bare one.
        with _SPAWN_LOCK:
            main = sys.modules.get("__main__")
            sys.modules["__main__"] = _BARE_MAIN
            try:
                proc.start()
            finally:
                if sys.modules.get("__main__") is _BARE_MAIN:
                    sys.modules["__main__"] = main
        child.close()
        return proc, parent

    def prime(self, dataset: str | None = None) -> None:
        """Top the spares up in the background (returns at once). ``dataset``: the one the next run will
        most likely use (the last run's), loaded by the spare in advance. A worker process keeps no spares."""
        if mp.parent_process() is not None:
            return
        if dataset:
            self._hint = dataset
        with self._lock:
            if self._filling or self._closed or len(self._spares) >= _spares_wanted():
                return
            self._filling = True
        threading.Thread(target=self._fill, name="synthlab-warm-pool", daemon=True).start()

    def _fill(self) -> None:
        try:
            while True:
                with self._lock:
                    if self._closed or len(self._spares) >= _spares_wanted():
                        return
                spare = self._spawn()
                with self._lock:
                    if self._closed:
                        spare[1].close()
                        return
                    self._spares.append(spare)
        finally:
            with self._lock:
                self._filling = False

    def take(self) -> tuple[Any, Any]:
        """(process, pipe) of a worker for one run: a warm spare if one is alive (it may still be importing:
        it is further along than a new one), else a new one. The caller primes the pool again once its
        run has started, so the next spare's imports do not compete with this run's start."""
        with self._lock:
            while self._spares:
                proc, conn = self._spares.pop(0)
                if proc.is_alive():
                    break
                conn.close()
            else:
                proc = conn = None
        if proc is None:
            proc, conn = self._spawn()
        return proc, conn

    def close(self) -> None:
        """Let every spare go (each sees its pipe close and exits)."""
        with self._lock:
            self._closed = True
            spares, self._spares = self._spares, []
        for proc, conn in spares:
            conn.close()
        for proc, _conn in spares:
            proc.join(5)
            if proc.is_alive():
                proc.kill()


POOL = WarmPool()
atexit.register(POOL.close)
