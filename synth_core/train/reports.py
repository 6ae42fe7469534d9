"""Quality reports saved with their run: ``runs/<id>/report.json``.

A report is computed once (on the Compare page, the Runs page or ``synthlab evaluate``) and shows
later in the run comparison table without recomputing. The file is ``Report.to_dict()`` plus the
step the model had when it was evaluated, written atomically; a continued run's report is then
marked stale by comparing that step with the run's.
"""
from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import store

if TYPE_CHECKING:  # pragma: no cover
    from ..metrics.report import Report

REPORT_FILE = "report.json"


def save_report(run_dir: Path | str, report: "Report | dict[str, Any]") -> Path:
    """Write ``report`` (a ``Report`` or its ``to_dict()``) to ``run_dir/report.json`` atomically."""
    d = report.to_dict() if hasattr(report, "to_dict") else dict(report)
    d = {**d, "saved_at": datetime.now(timezone.utc).isoformat()}
    path = Path(run_dir) / REPORT_FILE
    # allow_nan=False: to_dict already maps NaN/inf to None, and the file must be strict JSON
    store.atomic_write_bytes(path, (json.dumps(d, allow_nan=False, default=str) + "\n").encode())
    return path


def load_report(run_dir: Path | str) -> dict[str, Any] | None:
    """The saved report's dict, or None when there is none (or it is unreadable)."""
    try:
        d = store.read_json(Path(run_dir) / REPORT_FILE)
    except (OSError, ValueError):
        return None
    return d if isinstance(d, dict) and isinstance(d.get("overall"), (int, float)) else None


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and math.isfinite(v) else None


def report_summary(d: dict[str, Any] | None) -> dict[str, Any]:
    """The scores a comparison table shows: overall, privacy, each group (0-100), and the step."""
    if not d:
        return {}
    out: dict[str, Any] = {"overall": _num(d.get("overall")), "privacy": _num(d.get("privacy"))}
    labels = d.get("group_labels") or {}
    weights = d.get("weights") or {}
    for g, v in (d.get("groups") or {}).items():
        if g != "privacy" and (not weights or g in weights):  # groups outside the overall stay in the report
            out[f"group:{labels.get(g, g)}"] = _num(v)
    meta = d.get("meta") or {}
    out["report_step"] = meta.get("step")
    out["n_sampled"] = meta.get("n_sampled", d.get("n_synth"))
    out["seed"] = meta.get("seed")
    out["holdout"] = meta.get("n_holdout")
    return out
