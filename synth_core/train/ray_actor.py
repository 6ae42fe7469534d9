"""The ``ray`` executor's actor: the worker side of a run on a Ray cluster (``ray_exec`` is the server side).

It builds the :class:`~.run.Run` like the local worker does (a new one in the folder the server created, or
one continued from its checkpoint), after checking that its node sees that folder: the runs folder must be
shared storage (see ``ray_exec``). It answers the server's calls with the local worker's handler, so
snapshots, controls, teaching views and sampling behave the same on every executor.
"""
from __future__ import annotations

import os
import socket
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from ..errors import SynthLabError, TrainingError
from . import worker
from .config import RunConfig
from .run import Run

NAMESPACE = "synthlab"
ACTOR_PREFIX = "synthlab-run:"
SHARED_STORAGE = ("the runs folder (SYNTHLAB_RUNS_DIR) must be shared storage that every node of the Ray "
                  "cluster mounts at the same path (NFS or a mounted bucket)")


def actor_name(run_id: str) -> str:
    """The detached actor's name in the ``synthlab`` namespace: a restarted server finds its runs by it."""
    return ACTOR_PREFIX + run_id


class RunActor:
    """The actor: a :class:`~.run.Run` trained in a thread of a Ray worker process, on some node.

    Made a Ray actor class by ``ray_exec`` (Ray is optional: this module imports without it)."""

    def __init__(self, request: dict[str, Any], root: str) -> None:
        self.request, self.root, self.run = request, root, None
        self._last_call = time.time()

    def where(self) -> dict[str, Any]:
        """The node it was placed on, and the runs folder it serves (re-attach checks it)."""
        import ray
        return {"node_id": ray.get_runtime_context().get_node_id(), "host": socket.gethostname(),
                "pid": os.getpid(), "root": self.root, "run_id": self.run_id}

    @property
    def run_id(self) -> str:
        return self.request.get("run_id") or self.request["config"]["run_id"]

    def start(self) -> tuple[bool, str]:
        """Build the run like the local worker does and start it: (True, run id) or (False, why not)."""
        import ray

        where = self.where()
        folder = Path(self.root) / self.run_id
        if not folder.is_dir():
            return False, (f"The Ray node {where['host']} (node {where['node_id'][:12]}) does not see the run folder "
                           f"{folder}: {SHARED_STORAGE}.")
        try:
            if self.request["kind"] == "new":
                run = Run(RunConfig.from_dict(self.request["config"]), self.root, adopt=True)
            else:
                run = Run.continue_from(self.run_id, self.root, steps=self.request.get("steps"))
            run.executor = "ray"
            run.placement = {"ray_node_id": where["node_id"], "ray_actor": actor_name(self.run_id)}
            run.start()
        except SynthLabError as exc:
            return False, str(exc)
        except Exception as exc:  # noqa: BLE001 - reported to the server, which shows it
            return False, f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
        self.run = run
        threading.Thread(target=self._linger, args=(ray.get_runtime_context().current_actor,),
                         name="linger", daemon=True).start()
        return True, run.id

    def call(self, op: str, args: tuple, kwargs: dict) -> tuple[bool, Any]:
        """One request, answered like the local worker answers its pipe: (True, result) or (False, error)."""
        self._last_call = time.time()
        if self.run is None:  # a re-attaching server asks before the run is built: it asks again
            return False, TrainingError("The run is still starting.")
        try:
            return True, worker._handle(self.run, op, args, kwargs)
        except Exception as exc:  # noqa: BLE001 - the server raises it in the caller
            return False, exc

    def close(self) -> tuple[bool, None]:
        """Stop the run (a no-op once it has ended) and wait for its final checkpoint; the server then kills
        the actor."""
        self._last_call = time.time()
        if self.run is not None:
            self.run.stop()
            self.run.join()
        return True, None

    def _linger(self, me: Any) -> None:
        """A run that ended with no server asking (the server is gone): the actor exits LINGER_S later."""
        import ray
        while not (self.run.join(1.0) and time.time() - self._last_call > worker.LINGER_S):
            time.sleep(1.0)
        ray.kill(me)
