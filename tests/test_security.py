"""Issue 9, "security": local-only server with an upload cap and XSRF protection; no user text as
raw HTML; checkpoints are data, never code; run ids cannot escape the runs folder."""
from __future__ import annotations

import ast
import json
import tomllib
from pathlib import Path

import pytest
import torch

from synth_core.cli import main as cli
from synth_core.errors import RunNotFoundError, SynthLabError, TrainingError
from synth_core.train import JobManager, Run, RunConfig, iter_runs, load_generator
from synth_core.train import store

ROOT = Path(__file__).resolve().parents[1]
BAD_IDS = ["../escape", "a/b", "a\\b", "..", "/etc", "x/../../y"]


# ---- server config -----------------------------------------------------------------------------
def test_streamlit_config_is_local_capped_and_xsrf_protected():
    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    server = cfg["server"]
    assert server["address"] == "127.0.0.1"  # not every interface
    assert 1 <= server["maxUploadSize"] <= 200  # MB; Streamlit's default is 200
    assert server["enableXsrfProtection"] is True
    assert server.get("enableCORS", True) is True  # never switched off beside XSRF
    assert cfg.get("browser", {}).get("gatherUsageStats") is False


# ---- no user text as raw HTML ------------------------------------------------------------------
SAFE_CALLS = {"escape", "len", "int", "float", "round"}  # html.escape, or values that cannot hold markup


def _call_name(node: ast.AST) -> str:
    f = node.func if isinstance(node, ast.Call) else None
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def _is_safe_text(node: ast.AST) -> bool:
    """A string literal, or an f-string / concatenation whose every value is escaped (or numeric)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return all(isinstance(v, ast.Constant) or
                   (isinstance(v, ast.FormattedValue) and isinstance(v.value, ast.Call)
                    and _call_name(v.value) in SAFE_CALLS)
                   for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _is_safe_text(node.left) and _is_safe_text(node.right)
    if isinstance(node, ast.Call) and _call_name(node) == "escape":
        return True
    return False


def raw_html_calls(source: str) -> list[tuple[int, bool]]:
    """(line, safe) for each call that renders HTML: ``unsafe_allow_html=True`` or ``st.html``."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        unsafe = any(k.arg == "unsafe_allow_html" and not (isinstance(k.value, ast.Constant) and not k.value.value)
                     for k in node.keywords)
        if unsafe or _call_name(node) == "html":
            text = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "body"), None)
            out.append((node.lineno, text is not None and _is_safe_text(text)))
    return out


UI_FILES = sorted([*(ROOT / "pages").glob("*.py"), *(ROOT / "synth_core" / "ui").glob("*.py"), ROOT / "app.py"])
SITES = [(f"{p.relative_to(ROOT)}:{line}", safe) for p in UI_FILES for line, safe in raw_html_calls(p.read_text())]


def test_the_html_scanner_catches_user_text():
    bad = 'st.markdown(f"<b>{name}</b>", unsafe_allow_html=True)\nst.html("<p>" + col + "</p>")'
    good = ('st.markdown(f"<b>{html.escape(name)}</b> {len(x):,}", unsafe_allow_html=True)\n'
            'st.markdown("<hr>", unsafe_allow_html=True)\nst.markdown(name, unsafe_allow_html=False)')
    assert [s for _, s in raw_html_calls(bad)] == [False, False]
    assert [s for _, s in raw_html_calls(good)] == [True, True]


@pytest.mark.parametrize("site,safe", SITES or [("no raw HTML anywhere", True)], ids=lambda v: str(v))
def test_no_user_text_in_raw_html(site, safe):
    assert safe, (f"{site}: unsafe_allow_html / st.html with text that is not a constant or html.escape()d; "
                  f"dataset labels, file and column names come from uploads. Escape it or drop the HTML.")


# ---- checkpoints are data ----------------------------------------------------------------------
class _Bomb:
    """Unpickling this would run code (touch a file); weights_only=True must refuse it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _planted_run(tmp_path: Path) -> Path:
    run = Run(RunConfig("ring8", "gaussian", run_id="planted"), tmp_path).run_sync()
    ckpt = store.load_checkpoint(run.path / "checkpoint.pt")
    torch.save({**ckpt, "generator": _Bomb(tmp_path / "pwned")}, run.path / "checkpoint.pt")
    return run.path


def test_a_pickle_bomb_checkpoint_is_refused_everywhere(tmp_path, capsys):
    path = _planted_run(tmp_path)
    with pytest.raises(TrainingError, match="weights_only=True"):
        store.load_checkpoint(path / "checkpoint.pt")
    with pytest.raises(TrainingError):
        load_generator(path)  # Compare / Runs downloads / evaluate
    with pytest.raises(TrainingError):
        Run.continue_from("planted", tmp_path)
    assert cli(["sample", str(path), "-n", "10", "-o", str(tmp_path / "x.npz")]) == 2
    assert cli(["continue", str(path)]) == 2
    assert "could not be loaded safely" in capsys.readouterr().err
    assert not (tmp_path / "pwned").exists()


def test_a_truncated_checkpoint_is_a_clear_error(tmp_path):
    run = Run(RunConfig("ring8", "gaussian", run_id="cut"), tmp_path).run_sync()
    data = (run.path / "checkpoint.pt").read_bytes()
    (run.path / "checkpoint.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(TrainingError, match="could not be loaded safely"):
        load_generator(run.path)


# ---- run ids -----------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", BAD_IDS)
def test_bad_run_ids_are_refused_where_they_enter(bad, tmp_path, capsys):
    (tmp_path / "outside").mkdir()
    with pytest.raises(RunNotFoundError):
        JobManager(tmp_path / "runs").continue_run(bad)
    with pytest.raises(SynthLabError):
        Run(RunConfig("ring8", "gaussian", run_id=bad), tmp_path / "runs")
    assert cli(["continue", bad, "--out", str(tmp_path / "runs")]) == 2
    assert "not a valid run id" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_odd_folders_in_runs_are_not_listed(tmp_path):
    Run(RunConfig("ring8", "gaussian", run_id="ok"), tmp_path).run_sync()
    for name in ("bad name", ".hidden"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text(json.dumps({"generator": "gaussian", "dataset": "ring8"}))
    assert [r.run_id for r in iter_runs(tmp_path)] == ["ok"]


@pytest.mark.slow
def test_bad_run_id_in_the_url_of_the_train_page():
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["run"] = "../../etc/passwd"
    at.run()
    at.switch_page("pages/train.py").run()
    assert not at.exception, [e.message for e in at.exception]
    assert "run_id" not in at.session_state or at.session_state["run_id"] != "../../etc/passwd"


def test_config_error_is_not_a_traceback(capsys):
    assert cli(["continue", "no-such-run", "--out", "/nonexistent-synthlab-dir"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "No run 'no-such-run'" in err and "Traceback" not in err
