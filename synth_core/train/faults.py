"""How a run proxy records the end of a worker that could not record it itself: terminated after Stop
(stuck in a long native call), or dead (an uncaught crash, a signal, an out-of-memory kill). A mixin of
:class:`~.remote.LocalRun` (and so of the Ray proxy): the worker wrote every status before this one."""
from __future__ import annotations

import signal
from datetime import datetime, timezone

from .status import RunStatus


def signal_name(code: int | None) -> str:
    if code is None or code >= 0:
        return f"exit code {code}"
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


class WorkerEndMixin:
    """Needs the proxy's ``folder``, ``executor``, ``_snap``, ``_set``, ``_kill``, ``_wait_end`` and ``_exit_cause``."""

    def _terminate(self, grace_s: float) -> None:
        """Stop means stop: the worker did not end within the grace period, so it is ended here."""
        self._kill()
        self._record_end(RunStatus.STOPPED, f"Stopped: the training process did not stop within {grace_s:.0f} s "
                                            f"(stuck in a long computation), so it was terminated.")

    def _died(self) -> None:
        """The worker ended without a final status: an uncaught crash, a signal, or an out-of-memory kill."""
        self._wait_end(10)
        on_disk = RunStatus.parse((self.folder.read_status() or {}).get("status"))
        if on_disk.final:  # it ended properly; the pipe closed before the last copy was fetched
            self._set(status=on_disk, step=int((self.folder.read_status() or {}).get("step", self._snap.step)))
            return
        cause = self._exit_cause() or "it ended"
        why = {"SIGKILL": " (killed: the system ends a process this way when memory runs out)",
               "SIGABRT": " (aborted by native code)", "SIGSEGV": " (a crash in native code)"}.get(cause, "")
        self._record_end(RunStatus.INTERRUPTED, f"The training process died: {cause}{why}.")

    def _record_end(self, status: RunStatus, message: str) -> None:
        """The worker is gone, so the run folder's status is written here, once: its last step, the cause,
        and the checkpoint kept (continue the run from it)."""
        disk = self.folder.read_status() or {}
        step = int(disk.get("step", self._snap.step) or 0)
        kept = int(self.folder.load_checkpoint()["step"]) if self.folder.has_checkpoint() else None
        message += (f" Its last checkpoint (step {kept:,}) is kept: continue it from the Runs page." if kept is not None
                    else " It had no checkpoint yet.")
        self.folder.write_status({**disk, "status": status.value, "error": message, "executor": self.executor,
                                  "exit": self._exit_cause(), "updated_at": datetime.now(timezone.utc).isoformat()})
        self._set(status=status, error=message, step=step)
