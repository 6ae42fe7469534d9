"""The advisory lock that says "a process is training this run" (``runs/<id>/.lock``)."""
from __future__ import annotations

import os
from pathlib import Path

try:  # advisory locks: POSIX only; elsewhere a run folder is simply not locked
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


class RunLock:
    """An advisory lock on ``runs/<id>/.lock`` held while a process trains the run.

    The OS drops it when that process dies (even by SIGKILL), so another server (or the CLI) can
    tell a run that is training elsewhere from one that was interrupted, and never writes into a
    folder another process is writing.
    """

    def __init__(self, run_path: Path) -> None:
        self.path = Path(run_path) / ".lock"
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock without waiting; False if another process (or Run) holds it."""
        if fcntl is None or self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            finally:
                os.close(self._fd)
                self._fd = None


def is_locked(run_path: Path) -> bool:
    """True while some process trains this run (holds its :class:`RunLock`)."""
    if fcntl is None or not (Path(run_path) / ".lock").exists():
        return False
    probe = RunLock(run_path)
    if probe.acquire():
        probe.release()
        return False
    return True
