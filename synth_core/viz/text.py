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


def format_rate(steps_per_s: float | None) -> str:
    """``112.34`` -> ``112 steps/s``, ``4.41`` -> ``4.4 steps/s``, ``0.25`` -> ``0.25 steps/s``; 0/None -> ``--``."""
    if not steps_per_s:
        return "-- steps/s"
    digits = 0 if steps_per_s >= 100 else 1 if steps_per_s >= 1 else 2
    return f"{steps_per_s:.{digits}f} steps/s"


def format_progress(snap) -> str:
    """One progress line for every front end (Train page, sidebar, CLI): step, steps/s and ETA from the
    run's own measure (``Run.steps_per_s``: steps over active time in a window), time trained."""
    text = f"step {snap.step:,} / {snap.total:,}"
    if snap.status == "running":
        text += f" · {format_rate(snap.steps_per_s)} · ETA {format_seconds(snap.eta_s)}"
    return text + f" · {format_seconds(snap.elapsed_s)} trained"


def where_it_trains(status: dict) -> str:
    """Where a run trains, from its status.json: the executor, and the host / process / Ray node."""
    executor = status.get("executor")
    host = status.get("host") or "this machine"
    if executor == "ray":
        node = str(status.get("ray_node_id") or "")
        return "Trains on the Ray cluster" + (f", node `{node[:12]}`" if node else "") + f" ({host})."
    if executor == "local":
        return f"Trains in a worker process of its own on {host}" + (
            f" (pid {status['pid']})." if status.get("pid") else ".")
    if executor == "inline":
        return f"Trains in a thread of this server's process on {host}."
    return ""
