"""The worker process of the ``local`` executor: one per run, spawned by :class:`~.remote.LocalRun`.

It builds the :class:`~.run.Run` (a new one, or one continued from its checkpoint), trains it in a
thread of its own process, and answers the server's requests over a pipe: snapshots, the controls
(pause, resume, stop, step-by-step, speed), the teaching views (computed here, where the model is) and
sampling. The worker alone writes the run folder while it lives.

If the server goes away (the pipe closes: a restart, a crash, a kill), the worker stops the run
cleanly: the loop writes a final checkpoint and status, so nothing trained is lost and the run can be
continued from the Runs page of the restarted server.
"""
from __future__ import annotations

import os
import time
import traceback
from typing import Any

#: how long a finished worker waits for the server to fetch its final snapshot before it exits anyway
LINGER_S = 30.0


def main(conn: Any, nice: int | None = None, warm_dataset: str | None = None) -> None:
    """The process's entry point (``multiprocessing`` spawn target). It imports everything first (and
    loads ``warm_dataset``, the one the last run used), then waits for its run: (request, runs folder) on
    the pipe. ``pool.py`` keeps such a spare ready, so a Start click finds the slow part done."""
    try:
        # the server's page runs come first: the UI stays responsive while this trains
        os.nice(int(os.environ.get("SYNTHLAB_WORKER_NICE", "5")) if nice is None else nice)
    except (AttributeError, OSError):
        pass
    from ..errors import SynthLabError
    from .config import RunConfig
    from .run import Run
    from . import views  # noqa: F401 - the teaching views import plotly: before the run, not on the first view
    _warm_up(warm_dataset)

    try:
        request, root = conn.recv()
    except (EOFError, OSError):  # a spare the server no longer needs
        return

    if request.get("threads"):
        import torch
        torch.set_num_threads(int(request["threads"]))
    try:
        if request["kind"] == "new":
            run = Run(RunConfig.from_dict(request["config"]), root, adopt=True)  # the server created the folder
        else:
            run = Run.continue_from(request["run_id"], root, steps=request.get("steps"))
        run.executor = "local"
        run.start()
    except SynthLabError as exc:
        conn.send((-1, False, str(exc)))
        return
    except Exception as exc:  # noqa: BLE001 - reported to the server, which shows it
        conn.send((-1, False, f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
        return
    conn.send((-1, True, run.id))
    serve(conn, run)


def _warm_up(dataset: str | None) -> None:
    """What a first run pays once per process: torch's optimiser machinery (its first optimiser imports
    torch._dynamo, about 2 s) and the dataset (MNIST takes about 2 s to load; kept in this process's cache)."""
    import torch

    torch.optim.Adam([torch.zeros(1, requires_grad=True)])
    if dataset:
        from ..data import load_dataset
        try:
            load_dataset(dataset)
        except Exception:  # noqa: BLE001 - gone, or an upload of another server: the run loads what it needs
            pass


def _handle(run: Any, op: str, args: tuple, kwargs: dict) -> Any:
    if op == "state":  # the snapshot and what the page asks of the model, in one round trip
        return run.snapshot(), run.model_ready, run.next_update()
    if op == "view":
        return run.view(*args, **kwargs)
    if op in ("pause", "resume", "stop", "step_once", "set_speed", "sample_with_labels"):
        return getattr(run, op)(*args, **kwargs)
    raise ValueError(f"unknown request {op!r}")


def serve(conn: Any, run: Any) -> None:
    """Answer requests until the server says goodbye (after the run ended), or is gone, or has not asked
    for LINGER_S seconds after the end. Each reply is (request id, ok, result or error): the server drops
    replies to requests it gave up waiting for."""
    ended_at: float | None = None
    while True:
        if ended_at is None and run.join(0):
            ended_at = time.time()
        if ended_at is not None and time.time() - ended_at > LINGER_S:
            return
        try:
            if not conn.poll(0.1):
                continue
            rid, op, args, kwargs = conn.recv()
        except (EOFError, OSError):  # the server is gone: stop cleanly, with a final checkpoint
            _stop(run)
            return
        if op == "close":
            _stop(run)
            conn.send((rid, True, None))
            return
        try:
            reply = (rid, True, _handle(run, op, args, kwargs))
        except Exception as exc:  # noqa: BLE001 - the server raises it in the caller
            reply = (rid, False, exc)
        try:
            conn.send(reply)
        except (EOFError, OSError):
            _stop(run)
            return
        except Exception as exc:  # noqa: BLE001 - e.g. a result that does not pickle
            conn.send((rid, False, RuntimeError(f"{type(exc).__name__}: {exc}")))


def _stop(run: Any) -> None:
    run.stop()  # a no-op once it has ended
    run.join()
