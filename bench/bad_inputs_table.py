"""Print the bad-input corpus as a markdown table: case | file | outcome | message.

    .venv/bin/python bench/bad_inputs_table.py

Each case goes through ``save_upload`` (the path the Data page and ``synthlab train --data``
take); ``outcome`` is what happened (error class, or "loaded, warned"), ``message`` what the user
reads. Uses a temporary data folder.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _cell(text: str, width: int = 220) -> str:
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text if len(text) <= width else text[: width - 3] + "..."


def markdown_table() -> str:
    """Run every case and return the table (the header and one row per case)."""
    from synth_core.data import load_dataset
    from synth_core.data.user_data import save_upload
    from synth_core.errors import SynthLabError
    from tests.bad_inputs import cases

    rows = ["| case | file | outcome | message |", "| --- | --- | --- | --- |"]
    for c in cases():
        try:
            info = save_upload(c.filename, c.data(), c.options)
            warnings = load_dataset(info.name).warnings
            hit = next((w for w in warnings if c.message in w), "; ".join(warnings))
            outcome, message = "loaded, warned" if warnings else "loaded", hit
        except SynthLabError as exc:
            outcome, message = type(exc).__name__, str(exc)
        expected = "error" if outcome not in ("loaded", "loaded, warned") else "warning"
        flag = "" if expected == c.outcome and c.message in message else " (UNEXPECTED)"
        rows.append(f"| {c.case_id} | `{c.filename}` | {outcome}{flag} | {_cell(message)} |")
    return "\n".join(rows)


if __name__ == "__main__":
    os.environ["SYNTHLAB_DATA_DIR"] = tempfile.mkdtemp(prefix="synthlab-bad-inputs-")
    print(markdown_table())
