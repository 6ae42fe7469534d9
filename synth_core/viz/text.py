"""Small text formatters shared by the CLI and the pages."""
from __future__ import annotations


def format_seconds(s: float | None) -> str:
    """``75`` -> ``1:15``, ``3725`` -> ``1:02:05``; ``None`` (unknown) -> ``--:--``."""
    if s is None:
        return "--:--"
    s = int(round(s))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


_MD_SPECIAL = "\\`*_[]<>#|~$:"


def escape_markdown(text: str) -> str:
    """User text (file names, column names, labels) made inert inside ``st.markdown``: every
    Markdown/HTML special character is backslash-escaped, so it renders literally."""
    return "".join("\\" + c if c in _MD_SPECIAL else c for c in str(text))
