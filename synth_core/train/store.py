"""Run folders on disk: ``runs/<id>/`` with config.json, status.json, metrics.jsonl,
samples/step_XXXXX.png and checkpoint.pt. Every whole-file write is atomic (temp file + rename),
so a crash or a restart never leaves a half-written config, status or checkpoint. :class:`RunFolder` is
the one class that reads and writes a run's folder; :class:`RunRecord` is a run as found there."""
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
from .lock import RunLock, is_locked  # store.is_locked: callers keep using it
from .status import RunStatus

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


class MetricsLog:
    """``metrics.jsonl`` open for appending, one JSON row per step. Appends are buffered: the Run flushes
    about once a second and before every checkpoint (a crash may tear the last line; readers skip it)."""

    def __init__(self, path: Path) -> None:
        self._fh = open(path, "a", encoding="utf-8")

    def append(self, row: dict[str, Any]) -> None:
        self._fh.write(json.dumps(row) + "\n")

    def flush(self) -> None:
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()

    @property
    def closed(self) -> bool:
        return self._fh.closed


class RunFolder:
    """One run's folder, ``runs/<id>/``: every read and write of its files goes through here, so only
    this class knows their names. Whole-file writes are atomic (see :func:`atomic_write_bytes`)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    @classmethod
    def of(cls, root: Path | str, run_id: str) -> "RunFolder":
        """``root/<run_id>``, the id validated so the folder never escapes ``root``."""
        return cls(run_dir(Path(root), run_id))

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def checkpoint_path(self) -> Path:
        return self.path / "checkpoint.pt"

    def sample_path(self, step: int) -> Path:
        return self.path / "samples" / f"step_{step:06d}.png"

    def exists(self) -> bool:
        """A run folder is one with a config."""
        return (self.path / "config.json").is_file()

    def has_checkpoint(self) -> bool:
        return self.checkpoint_path.is_file()

    # ---- config and status -----------------------------------------------------------------
    def create(self, config: dict[str, Any]) -> None:
        """Make a new run's folder (with ``samples/``) and write its config; fails if it exists."""
        self.path.mkdir(parents=True)
        (self.path / "samples").mkdir()
        self.write_config(config)

    def read_config(self) -> dict[str, Any]:
        """config.json as stored (``upgrade_config`` gives today's param names)."""
        return read_json(self.path / "config.json")

    def write_config(self, config: dict[str, Any]) -> None:
        atomic_write_json(self.path / "config.json", config)

    def read_status(self) -> dict[str, Any] | None:
        """status.json, or None if there is none yet or it is not valid JSON."""
        try:
            return read_json(self.path / "status.json")
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def write_status(self, status: dict[str, Any]) -> None:
        atomic_write_json(self.path / "status.json", status)

    def write_error_log(self, text: str) -> None:
        atomic_write_bytes(self.path / "error.log", text.encode())

    # ---- metrics, samples, checkpoint --------------------------------------------------------
    def read_metrics(self) -> list[dict[str, Any]]:
        return read_metrics(self.metrics_path)

    def open_metrics(self) -> MetricsLog:
        return MetricsLog(self.metrics_path)

    def drop_metrics_after(self, step: int) -> list[dict[str, Any]]:
        """Keep only the rows up to ``step`` (a checkpoint's: what came after it is lost); returns them."""
        rows = [r for r in self.read_metrics() if int(r.get("step", 0)) <= step]
        atomic_write_bytes(self.metrics_path, "".join(json.dumps(r) + "\n" for r in rows).encode())
        return rows

    def write_sample(self, step: int, png: bytes) -> Path:
        path = self.sample_path(step)
        atomic_write_bytes(path, png)
        return path

    def delete_sample(self, step: int) -> None:
        self.sample_path(step).unlink(missing_ok=True)

    def sample_files(self) -> list[Path]:
        """Sample snapshots in step order (numeric: step_1000000 comes after step_999999)."""
        return sorted((self.path / "samples").glob("step_*.png"), key=lambda p: (sample_step(p), p.name))

    def sample_steps(self) -> list[int]:
        return sorted(s for s in map(sample_step, (self.path / "samples").glob("step_*.png")) if s >= 0)

    def save_checkpoint(self, state: dict[str, Any]) -> None:
        atomic_torch_save(self.checkpoint_path, state)

    def load_checkpoint(self) -> dict[str, Any]:
        return load_checkpoint(self.checkpoint_path)

    # ---- who trains it -----------------------------------------------------------------------
    def lock(self) -> RunLock:
        """The lock a process holds while it trains this run (take it with ``acquire``)."""
        return RunLock(self.path)

    def is_locked(self) -> bool:
        return is_locked(self.path)


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

    @property
    def folder(self) -> RunFolder:
        return RunFolder(self.path)

    def sample_files(self) -> list[Path]:
        return self.folder.sample_files()

    @property
    def checkpoint(self) -> Path:
        return self.folder.checkpoint_path


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
    folder = RunFolder.of(root, run_id)
    if not folder.exists():
        raise RunNotFoundError(f"No run {run_id!r} in {root}.")
    config = upgrade_config(folder.read_config())  # params under today's names
    status = folder.read_status()
    if status is None:
        status = {"status": RunStatus.UNKNOWN.value}
    return RunRecord(run_id, folder.path, config, status)


def iter_runs(root: Path) -> Iterator[RunRecord]:
    root = Path(root)
    if not root.is_dir():
        return
    for p in sorted(root.iterdir(), reverse=True):
        if p.is_dir() and RUN_ID_RE.match(p.name) and RunFolder(p).exists():
            try:
                yield read_run(root, p.name)
            except (OSError, json.JSONDecodeError, RunNotFoundError):
                continue
