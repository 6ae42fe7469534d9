"""Loss curves kept in bounded memory, live (a Run adds each step) or read back from ``metrics.jsonl``."""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any


class LossHistory:
    """Loss curves with bounded memory: past ``max_points`` it keeps every 2nd point and doubles
    its stride, so a million-step run still charts in ~``max_points`` points."""

    def __init__(self, max_points: int = 4000) -> None:
        self.max_points = max_points
        self.stride = 1
        self.steps: list[int] = []
        self.times: list[float] = []
        self.values: dict[str, list[float]] = {}

    def add(self, step: int, t: float, losses: dict[str, float]) -> None:
        if step % self.stride:
            return
        for k in losses:
            if k not in self.values:
                self.values[k] = [math.nan] * len(self.steps)
        self.steps.append(step)
        self.times.append(t)
        for k, col in self.values.items():
            col.append(losses.get(k, math.nan))
        if len(self.steps) > self.max_points:
            self.stride *= 2
            keep = [i for i, s in enumerate(self.steps) if s % self.stride == 0]
            self.steps = [self.steps[i] for i in keep]
            self.times = [self.times[i] for i in keep]
            self.values = {k: [v[i] for i in keep] for k, v in self.values.items()}

    def copy(self) -> dict[str, Any]:
        return {"step": list(self.steps), "time": list(self.times),
                "losses": {k: list(v) for k, v in self.values.items()}}

    @classmethod
    def from_metrics(cls, path: Path | str, max_points: int = 4000) -> "LossHistory":
        """Stream a ``metrics.jsonl`` into a bounded history: memory stays ~``max_points`` rows
        however long the run was (a torn last line from a crash is skipped)."""
        h = cls(max_points)
        try:
            with open(path, encoding="utf-8") as fh:
                for line in fh:
                    try:
                        r = json.loads(line)
                        step = int(r["step"])
                    except (ValueError, KeyError, TypeError):
                        continue
                    t = r.get("t")
                    h.add(step, float(t) if isinstance(t, (int, float)) else math.nan,
                          {k: (float(v) if isinstance(v, (int, float)) else math.nan)
                           for k, v in r.items() if k not in ("step", "t")})
        except FileNotFoundError:
            pass
        return h
