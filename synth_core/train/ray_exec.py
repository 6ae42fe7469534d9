"""The ``ray`` executor: each run trains in a Ray actor, placed by Ray on a node of a cluster with the CPUs
and GPU the run asks for (``num_gpus=1`` when its device is cuda; ``num_cpus`` 1, or ``SYNTHLAB_RAY_CPUS``).

The server drives it through :class:`RayRun`, the ``local`` executor's proxy (:class:`~.remote.LocalRun`)
with the worker's life replaced: its monitor thread creates the actor, then polls its state, and controls,
views and sampling are actor calls answered by the worker's own request handler (``worker._handle``).

Shared storage, not streaming: the runs folder (``SYNTHLAB_RUNS_DIR``) must be storage every node of the
cluster mounts **at the same path**, such as NFS or a bucket mounted with a FUSE driver. The server creates
the run folder; the actor writes config, status, metrics, samples and checkpoints into it, as a local
worker does, and the folder stays the durable record. An actor that does not see the folder the server
created fails the run at once with a message that says so. Every node also needs SynthLab installed (the
same version as the server).

Actors are named ``synthlab-run:<run id>`` in the ``synthlab`` namespace and detached: a run keeps training
when the server goes away, and a restarted server re-attaches to it by name (:func:`live_run_ids`,
:meth:`RayRun.attach`). A finished run's actor exits once the server has fetched its last state, or
``worker.LINGER_S`` after the end if no server is there to ask.

``ray.init`` runs once per process (:class:`RayConnection`), from a proxy's monitor thread or the
manager's re-attach thread, never from a Streamlit script thread.
"""
from __future__ import annotations

import functools
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from ..errors import ConfigError, TrainingError
from . import store
from .config import RunConfig
from .history import LossHistory
from .ray_actor import ACTOR_PREFIX, NAMESPACE, RunActor, actor_name
from .remote import CALL_TIMEOUT_S, START_TIMEOUT_S, LocalRun, WorkerGone
from .status import RunStatus

INFEASIBLE_S = 60.0  # a run no node could ever hold fails after this long (an autoscaler may add one meanwhile)
#: the server's settings an actor needs too (its own generators, the data folder); the rest are the server's
FORWARD_ENV = ("SYNTHLAB_PLUGINS", "SYNTHLAB_DATA_DIR", "SYNTHLAB_CACHE_DIR", "SYNTHLAB_OFFLINE")


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError("The ray executor needs Ray: pip install synthlab[ray]") from None
    return ray


class RayConnection:
    """The process's one connection to a Ray cluster, opened on first use and kept for the process's life."""

    _lock = threading.Lock()
    address: str | None = None

    @classmethod
    def get(cls, address: str | None) -> Any:
        """The ``ray`` module, connected to ``address`` (a second address in one process is refused)."""
        ray = _ray()
        address = address or os.environ.get("SYNTHLAB_RAY_ADDRESS") or None
        with cls._lock:
            if ray.is_initialized():
                if cls.address is not None and address is not None and address != cls.address:
                    raise ConfigError(f"This process is connected to the Ray cluster at {cls.address}; "
                                      f"it cannot also use {address}.")
                return ray
            if address is None:
                raise ConfigError("The ray executor needs a cluster address: set SYNTHLAB_RAY_ADDRESS "
                                  "(or synthlab train --ray-address), e.g. 10.0.0.5:6379.")
            try:
                ray.init(address=address, namespace=NAMESPACE, ignore_reinit_error=True, log_to_driver=False,
                         logging_level=logging.WARNING)
            except Exception as exc:  # noqa: BLE001 - ConnectionError, ValueError, a timeout...
                raise ConfigError(f"Cannot connect to the Ray cluster at {address}: {type(exc).__name__}: {exc}"
                                  ) from None
            cls.address = address
            return ray


def _death(exc: BaseException) -> str:
    """Why Ray says an actor died, in a line ("the actor is dead because it was killed by `ray.kill`"), without
    Ray's list of common causes (the run's message gives its own)."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    why = [ln for ln in lines if ln.startswith(("The actor is dead because", "The actor died because"))]
    line = (why or lines or ["the Ray actor died"])[-1].split(" Some common causes")[0].rstrip(". ")
    return (line[:1].lower() + line[1:])[:300]


@functools.cache
def _actor_class() -> Any:
    return _ray().remote(RunActor)


def _resources(config: RunConfig) -> tuple[float, int]:
    """(num_cpus, num_gpus) the actor asks Ray for."""
    raw = os.environ.get("SYNTHLAB_RAY_CPUS", "1")
    try:
        cpus = float(raw)
    except ValueError:
        cpus = -1.0
    if not cpus > 0:
        raise ConfigError(f"SYNTHLAB_RAY_CPUS must be a positive number of CPUs; got {raw!r}")
    return cpus, (1 if str(config.device).startswith("cuda") else 0)


def _feasible(ray: Any, cpus: float, gpus: int) -> bool:
    """Some live node of the cluster could hold the actor (when it is free)."""
    return any(n.get("Alive") and n["Resources"].get("CPU", 0) >= cpus and n["Resources"].get("GPU", 0) >= gpus
               for n in ray.nodes())


def live_run_ids(root: Path, address: str | None = None) -> list[str]:
    """Runs of this runs folder that train in a live actor on the cluster (what a restarted server re-attaches)."""
    ray = RayConnection.get(address)
    root = Path(root).resolve()
    found = []
    for entry in ray.util.list_named_actors(all_namespaces=True):
        name = entry["name"]
        if entry["namespace"] != NAMESPACE or not name.startswith(ACTOR_PREFIX):
            continue
        run_id = name[len(ACTOR_PREFIX):]
        if not store.RunFolder.of(root, run_id).exists():
            continue
        try:
            where = ray.get(ray.get_actor(name, namespace=NAMESPACE).where.remote(), timeout=10)
        except Exception:  # noqa: BLE001 - gone meanwhile, or stuck: not re-attached
            continue
        if Path(where["root"]) == root:  # another server's runs folder may hold a run of the same id
            found.append(run_id)
    return found


class RayRun(LocalRun):
    """A run in a Ray actor, with the calls of a :class:`~.remote.LocalRun` (and so of a :class:`~.run.Run`)."""

    executor = "ray"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.address: str | None = None
        self._actor: Any = None
        self._attach = False    # re-attach to a live actor instead of creating one
        self._cause: str | None = None

    @classmethod
    def new(cls, config: RunConfig, root: Path, *, address: str | None = None, **_: Any) -> "RayRun":  # type: ignore[override]
        run = super().new(config, Path(root).resolve())
        run.address = address
        return run

    @classmethod
    def continued(cls, run_id: str, root: Path, *, steps: int | None = None, address: str | None = None,  # type: ignore[override]
                  **_: Any) -> "RayRun":
        run = super().continued(run_id, Path(root).resolve(), steps=steps)
        run.address = address
        return run

    @classmethod
    def attach(cls, run_id: str, root: Path, *, address: str | None = None) -> "RayRun":
        """A proxy for a run that trains in a live actor (a restarted server's): it launches nothing."""
        folder = store.RunFolder.of(Path(root).resolve(), run_id)
        config = RunConfig.from_dict(folder.read_config())
        run = cls({"kind": "attach", "run_id": run_id}, config, folder.path.parent,
                  history=LossHistory.from_metrics(folder.metrics_path))
        run.address, run._attach = address, True
        disk = folder.read_status() or {}
        run._set(status=RunStatus.parse(disk.get("status")), step=int(disk.get("step", 0) or 0))
        return run

    # ---- the actor's life (LocalRun's hooks) ----------------------------------------------------
    def _launch(self) -> bool:
        self._launched = True
        ray = RayConnection.get(self.address)
        name = actor_name(self.id)
        if self._attach:
            try:
                self._actor = ray.get_actor(name, namespace=NAMESPACE)
            except ValueError:  # its run ended since it was listed: the folder says how
                self._died()
                return False
        else:
            self._clear_old_actor(ray, name)
            cpus, gpus = _resources(self.config)
            env = {k: os.environ[k] for k in FORWARD_ENV if os.environ.get(k)}
            self._actor = _actor_class().options(
                name=name, namespace=NAMESPACE, lifetime="detached", num_cpus=cpus, num_gpus=gpus,
                max_restarts=0, max_concurrency=4, runtime_env={"env_vars": env} if env else None,
            ).remote(self._request, str(self.root))
            if not self._placed(ray, cpus, gpus):
                return False
            ok, payload = self._start_actor(ray)
            if not ok:
                self._kill()
                self._record_end(RunStatus.FAILED, f"The run could not start: {payload}")
                return False
        self._connected = True
        for op, args, kwargs in self._pending:
            self._control(op, *args, **kwargs)
        self._pending.clear()
        return True

    def _clear_old_actor(self, ray: Any, name: str) -> None:
        """A continued run's previous actor, if it still lingers after its end, makes way."""
        try:
            old = ray.get_actor(name, namespace=NAMESPACE)
        except ValueError:
            return
        try:
            ok, state = ray.get(old.call.remote("state", (), {}), timeout=30)
        except ray.exceptions.RayError:
            ok = False  # dead or stuck: the run folder's lock said nobody trains it
        if ok and not RunStatus(state[0].status).final:
            raise ConfigError(f"Run {self.id!r} is still training on the Ray cluster ({name}); stop it first.")
        ray.kill(old)
        deadline = time.time() + 30
        while self._alive() and time.time() < deadline:
            time.sleep(0.2)

    def _placed(self, ray: Any, cpus: float, gpus: int) -> bool:
        """Wait until Ray has placed the actor (queued meanwhile, like a run waiting for a slot); False if
        it was stopped, died or could not be placed (the run says why)."""
        ref = self._actor.where.remote()
        infeasible_since: float | None = None
        while not ray.wait([ref], timeout=1.0)[0]:
            if self._stop.is_set():
                self._kill()
                self._record_end(RunStatus.STOPPED, "Stopped before Ray placed it on a node.")
                return False
            if _feasible(ray, cpus, gpus):
                infeasible_since = None
            elif infeasible_since is None:
                infeasible_since = time.time()
            elif time.time() - infeasible_since > INFEASIBLE_S:
                self._kill()
                self._record_end(RunStatus.FAILED, f"No node of the Ray cluster has {cpus:g} CPU(s)"
                                 f"{f' and {gpus} GPU' if gpus else ''} for this run (SYNTHLAB_RAY_CPUS sets the "
                                 f"CPUs; a cuda device asks for a GPU).")
                return False
        try:
            ray.get(ref)
        except ray.exceptions.RayError as exc:
            self._cause = _death(exc)
            self._record_end(RunStatus.FAILED, f"The run's Ray actor could not start: {self._cause}")
            return False
        return True

    def _start_actor(self, ray: Any) -> tuple[bool, str]:
        try:
            return ray.get(self._actor.start.remote(), timeout=START_TIMEOUT_S)
        except ray.exceptions.GetTimeoutError:
            return False, f"the Ray actor did not build the run within {START_TIMEOUT_S:.0f} s."
        except ray.exceptions.RayError as exc:
            self._cause = _death(exc)
            return False, f"its Ray actor died while starting: {self._cause}"

    def _call(self, op: str, *args: Any, timeout: float = CALL_TIMEOUT_S, **kwargs: Any) -> Any:
        """One actor call: its result, or its exception raised here. ``WorkerGone`` when the actor has died;
        ``TrainingError`` when it did not answer within ``timeout`` seconds."""
        actor = self._actor
        if actor is None:
            raise WorkerGone("The run's Ray actor is not running.")
        ray = _ray()
        ref = actor.close.remote() if op == "close" else actor.call.remote(op, args, kwargs)
        try:
            ok, result = ray.get(ref, timeout=timeout)
        except ray.exceptions.GetTimeoutError:
            raise TrainingError(f"The run's Ray actor did not answer within {timeout:.0f} s.") from None
        except getattr(ray.exceptions, "ActorUnavailableError", ()) as exc:  # e.g. its node is unreachable for now
            raise TrainingError(f"The run's Ray actor is unreachable: {exc}") from None
        except ray.exceptions.RayActorError as exc:
            self._cause = self._cause or _death(exc)
            raise WorkerGone("The run's Ray actor ended.") from exc
        except ray.exceptions.RayError as exc:
            raise TrainingError(f"Ray could not deliver {op!r}: {exc}") from exc
        if op == "close":  # its run has ended and its last state was fetched: the actor goes
            ray.kill(actor)
            self._cause = self._cause or "closed"
        if not ok:
            raise result
        return result

    def _alive(self) -> bool:
        if self._actor is None:
            return False
        try:
            return any(e["namespace"] == NAMESPACE and e["name"] == actor_name(self.id)
                       for e in _ray().util.list_named_actors(all_namespaces=True))
        except Exception:  # noqa: BLE001 - the cluster is unreachable for now: not known to be dead
            return True

    def _wait_end(self, timeout: float) -> None:
        deadline = time.time() + timeout
        while self._alive() and time.time() < deadline:
            time.sleep(0.2)

    def _kill(self) -> None:
        if self._actor is not None:
            _ray().kill(self._actor)
            self._cause = "killed (ray.kill)"
            self._wait_end(10)

    def _exit_cause(self) -> str | None:
        if self._cause is not None:
            return self._cause
        return None if self._actor is None or self._alive() else "the Ray actor ended"

    def _disconnect(self) -> None:
        self._actor = None  # a detached actor lives on its own: dropping the handle ends nothing

