"""Training runner: Run (background worker), JobManager (concurrency cap), run folders."""
from .manager import JobManager, get_manager
from .config import RunConfig
from .history import LossHistory
from .loader import load_generator
from .run import Run
from .snapshot import Event, RunSnapshot
from .status import RunStatus
from .store import RunRecord, iter_runs, read_run, runs_root, validate_run_id

__all__ = ["JobManager", "get_manager", "Event", "LossHistory", "Run", "RunConfig", "RunSnapshot",
           "load_generator", "RunStatus", "RunRecord", "iter_runs", "read_run",
           "runs_root", "validate_run_id"]
