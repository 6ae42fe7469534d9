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

from ..errors import RunNotFoundError

RUN_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
ACTIVE_STATES = ("queued", "running", "paused")
FINAL_STATES = ("finished", "stopped", "failed", "interrupted")


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
    """Checkpoints are data, never code: ``weights_only=True`` refuses pickled objects."""
    return torch.load(path, map_location="cpu", weights_only=True)


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


@dataclass
class RunRecord:
    """A run as found on disk (possibly written by another process or an earlier server)."""

    run_id: str
    path: Path
    config: dict[str, Any]
    status: dict[str, Any]

    @property
    def state(self) -> str:
        return self.status.get("status", "unknown")

    def sample_files(self) -> list[Path]:
        return sorted((self.path / "samples").glob("step_*.png"))

    @property
    def checkpoint(self) -> Path:
        return self.path / "checkpoint.pt"


def read_run(root: Path, run_id: str) -> RunRecord:
    path = run_dir(root, run_id)
    if not (path / "config.json").is_file():
        raise RunNotFoundError(f"No run {run_id!r} in {root}.")
    config = read_json(path / "config.json")
    try:
        status = read_json(path / "status.json")
    except (FileNotFoundError, json.JSONDecodeError):
        status = {"status": "unknown"}
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
