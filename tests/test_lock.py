"""The lock (constraints.txt) is what this environment runs: CI and users get the versions tested."""
from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _canon(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s;]+)(\s*;.*)?", line)
            assert m, f"constraints.txt: not an exact pin: {line!r}"
            pins[_canon(m.group(1))] = m.group(2)
    return pins


def test_every_direct_dependency_is_pinned() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"]) + [r for rs in project["optional-dependencies"].values() for r in rs]
    pins = _lock()
    missing = [r for r in reqs if _canon(re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0]) not in pins]
    assert not missing, f"pyproject.toml dependencies missing from constraints.txt (run `make lock`): {missing}"


def test_installed_versions_match_the_lock() -> None:
    """`make test` installs with `-c constraints.txt`: every locked package that is installed has its pin."""
    wrong = []
    for name, version in _lock().items():
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue  # platform-specific pins (e.g. CUDA wheels) are absent elsewhere
        if have != version:
            wrong.append(f"{name} {have} (lock {version})")
    assert not wrong, f"installed versions differ from constraints.txt: {wrong}. Run `make test` (it reinstalls)."
