"""Module boundaries that issue 14 settled: no private name is imported across modules, and the
dataset registry / report modules import each other neither at the top (a cycle) nor inside
functions (a cycle hidden from the reader)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "synth_core"


def _sources() -> list[Path]:
    return sorted(PKG.rglob("*.py")) + sorted((ROOT / "pages").rglob("*.py")) + [ROOT / "app.py"]


def _module(path: Path) -> str:
    name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    return name.removesuffix(".__init__")


def _target(mod: str, path: Path, node: ast.ImportFrom) -> str:
    pkg = mod.split(".") if path.name == "__init__.py" else mod.split(".")[:-1]
    if not node.level:
        return node.module or ""
    base = pkg[: len(pkg) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def test_no_private_name_is_imported_across_modules():
    found = []
    for path in _sources():
        mod = _module(path)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module != "__future__":
                found += [f"{path.relative_to(ROOT)}:{node.lineno} {a.name}" for a in node.names
                          if a.name.startswith("_")]
                # a private module (``metrics._common``) serves its own package only
                tgt = _target(mod, path, node).split(".")
                private = [i for i, part in enumerate(tgt) if part.startswith("_")]
                if private and mod.split(".")[:private[0]] != tgt[:private[0]]:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {'.'.join(tgt)}")
    assert not found, found


WATCHED = {"synth_core.data.base", "synth_core.data.user_data", "synth_core.data.drawn",
           "synth_core.metrics.report", "synth_core.metrics.render", "synth_core.metrics.stages"}


@pytest.mark.slow
def test_registry_and_report_modules_have_no_hidden_cycles():
    top: dict[str, set[str]] = {}
    hidden = []
    for path in sorted(PKG.rglob("*.py")):
        mod = _module(path)
        tree = ast.parse(path.read_text())
        top[mod] = set()
        for node in tree.body:
            if isinstance(node, ast.ImportFrom):
                tgt = _target(mod, path, node)
                top[mod] |= {tgt} | {f"{tgt}.{a.name}" for a in node.names}
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for node in ast.walk(fn):
                    if isinstance(node, ast.ImportFrom) and mod in WATCHED and _target(mod, path, node) in WATCHED:
                        hidden.append(f"{mod}:{node.lineno} imports {_target(mod, path, node)} inside a function")
    assert not hidden, hidden
    for a in WATCHED:
        for b in WATCHED - {a}:
            assert not (b in top[a] and a in top[b]), f"{a} and {b} import each other"
