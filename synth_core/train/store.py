"""Run folders on disk: ``runs/<id>/`` with config.json, status.json, metrics.jsonl,
samples/step_XXXXX.png and checkpoint.pt. Every whole-file write is atomic (temp file + rename),
so a crash or a restart never leaves a half-written config, status or checkpoint."""
from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import torch

from ..data import dataset_info
from ..errors import RunNotFoundError, SynthLabError, TrainingError
from ..generators import get_generator
from .status import RunStatus

try:  # advisory locks: POSIX only; elsewhere a run folder is simply not locked
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

RUN_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def runs_root() -> Path:
    """``SYNTHLAB_RUNS_DIR`` or ./runs."""
    return Path(os.environ.get("SYNTHLAB_RUNS_DIR", "runs")).resolve()


def validate_run_id(run_id: str) -> str:
    """Run ids are plain names: no separators, no '..', so ``runs/<id>`` never escapes ``runs/``."""
    if not isinstance(run_id, str) or not RUN_ID_RE.match(run_id) or ".." in run_id:
        raise RunNotFoundError(f"{run_id!r} is not a valid run id (letters, digits, '.', '_' and '-').")
    return run_id


def run_dir(root: Path, run_id: str) -> Path:
    return Path(root) / validate_run_id(run_id)


def _atomic(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    _atomic(Path(path), lambda fh: fh.write(data))


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n").encode())


def atomic_torch_save(path: Path, obj: Any) -> None:
    _atomic(Path(path), lambda fh: torch.save(obj, fh))


def read_json(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Checkpoints are data, never code: ``weights_only=True`` refuses pickled objects.

    A checkpoint that holds code (a pickle with callables) or is corrupt raises ``TrainingError``
    with a message, never a traceback: pages and the CLI show it as a user error.
    """
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise TrainingError(f"{Path(path).parent.name} has no checkpoint file {Path(path).name}.") from None
    except Exception as exc:  # noqa: BLE001 - UnpicklingError, RuntimeError (bad zip), EOFError, ...
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise TrainingError(
            f"Checkpoint {Path(path).parent.name}/{Path(path).name} could not be loaded safely ({first}). "
            f"SynthLab loads checkpoints with weights_only=True and refuses anything but tensors and plain "
            f"data; a truncated or foreign file fails too. Use a checkpoint written by SynthLab."
        ) from None


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


def read_metrics(path: Path) -> list[dict[str, Any]]:
    """Rows of metrics.jsonl; a torn last line (crash mid-write) is skipped."""
    rows = []
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
    except FileNotFoundError:
        pass
    return rows


def sample_step(path: Path) -> int:
    """``samples/step_000120.png`` -> 120 (-1 for a name that is not a snapshot)."""
    try:
        return int(Path(path).stem.split("_", 1)[1])
    except (IndexError, ValueError):
        return -1


@dataclass
class RunRecord:
    """A run as found on disk (possibly written by another process or an earlier server)."""

    run_id: str
    path: Path
    config: dict[str, Any]
    status: dict[str, Any]

    @property
    def state(self) -> RunStatus:
        """The status as found (or as the manager corrected it); ``UNKNOWN`` if missing or not one we know."""
        return RunStatus.parse(self.status.get("status"))

    def sample_files(self) -> list[Path]:
        """Sample snapshots in step order (numeric: step_1000000 comes after step_999999)."""
        return sorted((self.path / "samples").glob("step_*.png"), key=lambda p: (sample_step(p), p.name))

    @property
    def checkpoint(self) -> Path:
        return self.path / "checkpoint.pt"


def upgrade_config(d: dict[str, Any]) -> dict[str, Any]:
    """A stored run config (config.json, a checkpoint's copy, ``synthlab train --config``) with its params
    under today's names (``Generator.renamed_params``); an unknown generator's is returned as it is."""
    params, gen = d.get("params"), d.get("generator")
    if not isinstance(params, dict) or not isinstance(gen, str):
        return d
    try:
        gen_cls = get_generator(gen)
    except SynthLabError:
        return d
    if set(params) <= {p.name for p in gen_cls.params}:
        return d  # nothing renamed
    try:
        kind: str | None = dataset_info(str(d.get("dataset"))).kind
    except SynthLabError:
        kind = None  # the dataset is gone: renames that depend on the kind keep their default choice
    return {**d, "params": gen_cls.upgrade_params(params, kind)}


def read_run(root: Path, run_id: str) -> RunRecord:
    path = run_dir(root, run_id)
    if not (path / "config.json").is_file():
        raise RunNotFoundError(f"No run {run_id!r} in {root}.")
    config = upgrade_config(read_json(path / "config.json"))  # params under today's names
    try:
        status = read_json(path / "status.json")
    except (FileNotFoundError, json.JSONDecodeError):
        status = {"status": RunStatus.UNKNOWN.value}
    return RunRecord(run_id, path, config, status)


def iter_runs(root: Path) -> Iterator[RunRecord]:
    root = Path(root)
    if not root.is_dir():
        return
    for p in sorted(root.iterdir(), reverse=True):
        if p.is_dir() and RUN_ID_RE.match(p.name) and (p / "config.json").is_file():
            try:
                yield read_run(root, p.name)
            except (OSError, json.JSONDecodeError, RunNotFoundError):
                continue
