"""Shared helpers for benchmarks that drive the real app: the tests' server and browser helpers
(tests/e2e_support.py), plus typing into a number box."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.e2e_support import ARGS, CHROMIUM, serve_app, settle  # noqa: E402

__all__ = ["ARGS", "CHROMIUM", "serve", "settle", "set_number"]
serve = serve_app


def set_number(page, label: str, value: int | float) -> None:
    box = page.get_by_role("spinbutton", name=label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    settle(page)
