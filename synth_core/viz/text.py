"""Small text formatters shared by the CLI and the pages."""
from __future__ import annotations


def format_seconds(s: float | None) -> str:
    """``75`` -> ``1:15``, ``3725`` -> ``1:02:05``; ``None`` (unknown) -> ``--:--``."""
    if s is None:
        return "--:--"
    s = int(round(s))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
