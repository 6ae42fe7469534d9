"""The bad-input corpus through every front door: save_upload, the CLI, and the Data page.

``.venv/bin/python -m pytest -q tests/test_bad_inputs.py -s -k table`` prints the
case | file | outcome | message table (also: ``bench/bad_inputs_table.py``).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from synth_core import errors
from synth_core.cli import main
from synth_core.data import base, load_dataset
from synth_core.data.user_data import save_upload
from synth_core.train import RunConfig, get_manager
from tests.bad_inputs import Case, cases, corpus

APP = str(Path(__file__).resolve().parents[1] / "app.py")
CASES = cases()
ERRORS = [c for c in CASES if c.outcome == "error"]
WARNINGS = [c for c in CASES if c.outcome == "warning"]


@pytest.fixture(autouse=True)
def _forget_uploads():
    yield
    for info in base.list_datasets():
        if base.is_upload(info.name):
            base.unregister_dataset(info.name)


def test_corpus_is_big_and_covers_the_brief():
    assert len(CASES) >= 30
    ids = {c.case_id for c in CASES}
    must = {"empty_file", "header_only", "non_utf8_latin1", "ragged_rows", "one_row", "columns_10000",
            "all_nan_column", "inf_values", "constant_column", "single_class_label", "extremely_long_string",
            "mixed_types_column", "duplicate_column_names", "images_mixed_sizes", "image_corrupt_png",
            "zip_non_image_file", "zip_path_traversal", "zip_bomb_ratio", "zip_nested_only", "npy_object_pickle",
            "npy_1d", "npy_5d", "over_size_limit"}
    assert must <= ids, must - ids
    assert WARNINGS and ERRORS
    rows = corpus()
    assert len(rows) == len(CASES) and all(isinstance(r[2], bytes) for r in rows)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.case_id)
def test_save_upload(case: Case):
    data = case.data()
    if case.outcome == "error":
        with pytest.raises(getattr(errors, case.error)) as exc_info:
            save_upload(case.filename, data, case.options)
        assert case.message in str(exc_info.value)
        assert "Traceback" not in str(exc_info.value)
    else:
        info = save_upload(case.filename, data, case.options)
        warnings = load_dataset(info.name).warnings
        assert any(case.message in w for w in warnings), warnings


def _cli(case: Case, tmp_path: Path, capsys) -> tuple[int, str]:
    path = tmp_path / case.filename
    path.write_bytes(case.data())
    rc = main(["train", "--data", str(path), "-g", "gaussian", "--steps", "1", *case.cli_flags()])
    return rc, capsys.readouterr().err


@pytest.mark.parametrize("case", ERRORS, ids=lambda c: c.case_id)
def test_cli_error_cases_exit_2_with_one_line(case: Case, tmp_path, capsys):
    rc, err = _cli(case, tmp_path, capsys)
    lines = err.strip().splitlines()
    assert rc == 2 and len(lines) == 1 and lines[0].startswith("error: "), err
    assert case.message in lines[0] and "Traceback" not in err


@pytest.mark.parametrize("case", WARNINGS, ids=lambda c: c.case_id)
def test_cli_warning_cases_train_and_say_why(case: Case, tmp_path, capsys):
    rc, err = _cli(case, tmp_path, capsys)
    assert rc == 0, err
    warnings = [ln for ln in err.splitlines() if ln.startswith("warning: ")]
    assert any(case.message in w for w in warnings), err
    assert "Traceback" not in err


@pytest.mark.slow
def test_cli_subprocess(tmp_path):
    """The real command in a fresh process (one case: each process pays the torch import)."""
    case = next(c for c in CASES if c.case_id == "zip_path_traversal")
    path = tmp_path / case.filename
    path.write_bytes(case.data())
    proc = subprocess.run([sys.executable, "-m", "synth_core.cli", "train", "--data", str(path), "-g", "gaussian"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()] and proc.stderr.startswith("error: ")
    assert case.message in proc.stderr and "Traceback" not in proc.stderr + proc.stdout


def test_table(request):
    """The markdown table for the closing note (run with -s to see it)."""
    from bench.bad_inputs_table import markdown_table

    table = markdown_table()
    if request.config.getoption("capture") == "no":
        print("\n" + table)
    assert "UNEXPECTED" not in table
    assert table.count("\n") == len(CASES) + 1 and "| zip_path_traversal |" in table


# ----------------------------------------------------------------------------------------------
# The Data page
# ----------------------------------------------------------------------------------------------
@pytest.fixture
def app():
    st.cache_resource.clear()
    st.cache_data.clear()
    yield lambda: AppTest.from_file(APP, default_timeout=120)
    get_manager().stop_all()


def _errors(at) -> list[str]:
    return [e.value for e in at.error]


def _upload(at, name: str, data: bytes, mime: str = "application/octet-stream"):
    at.file_uploader(key="upload_file").set_value((name, data, mime)).run()
    return at


@pytest.mark.slow
def test_data_page_bad_upload_keeps_dataset_and_run_then_good_upload_is_selected(app):
    at = app().run()
    assert not at.exception
    at.selectbox(key="data_select").set_value("ring8").run()
    assert at.session_state["dataset"] == "ring8"
    run = get_manager().submit(RunConfig("ring8", "gaussian", steps=1))
    assert run.join(60) and run.status == "finished"
    at.session_state["run_id"] = run.id
    # (1) a CSV that fails while it is read: the error shows at once, nothing changes
    bad = next(c for c in CASES if c.case_id == "ragged_rows")
    _upload(at, bad.filename, bad.data(), "text/csv")
    assert not at.exception and any(bad.message in e for e in _errors(at))
    assert at.session_state["dataset"] == "ring8" and at.selectbox(key="data_select").value == "ring8"
    # (2) an image ZIP that fails on "Use this data"
    bad = next(c for c in CASES if c.case_id == "zip_path_traversal")
    _upload(at, bad.filename, bad.data(), "application/zip")
    at.button(key="upload_use").click().run()
    assert not at.exception and any(bad.message in e for e in _errors(at))
    assert at.session_state["dataset"] == "ring8" and at.selectbox(key="data_select").value == "ring8"
    assert at.session_state["run_id"] == run.id and get_manager().get(run.id) is run and run.path.is_dir()
    assert not at.session_state["uploads"]
    # (3) a good CSV, with a warning and a label: it becomes the selected dataset
    csv = "a,b,k,y\n" + "".join(f"{i % 7},{i * 0.5},1,{'yn'[i % 2]}\n" for i in range(120))
    _upload(at, "mine.csv", csv.encode(), "text/csv")
    assert not _errors(at)
    label_box = next(s for s in at.selectbox if s.label == "Label (target) column")
    label_box.set_value("y").run()
    at.button(key="upload_use").click().run()
    assert not at.exception and not _errors(at)
    name = at.session_state["dataset"]
    assert name.startswith("upload-mine-") and at.selectbox(key="data_select").value == name
    assert at.session_state["uploads"] == [name]
    assert any("column 'k' has a single value" in w.value for w in at.warning)
    assert load_dataset(name).classes == ["n", "y"]
    assert at.session_state["run_id"] == run.id
    # the next full run keeps it selected (the selectbox does not snap back)
    at.run()
    assert at.session_state["dataset"] == name and at.selectbox(key="data_select").value == name


@pytest.mark.slow
def test_two_sessions_do_not_see_each_others_uploads(app):
    alice, bob = app().run(), app().run()
    csv = "a,b\n" + "".join(f"{i},{i % 5}\n" for i in range(50))
    _upload(alice, "alice.csv", csv.encode(), "text/csv")
    alice.button(key="upload_use").click().run()
    name = alice.session_state["dataset"]
    shown = "alice.csv (uploaded)"  # the picker's options are shown as labels
    assert name.startswith("upload-alice-") and any(shown in o for o in alice.selectbox(key="data_select").options)
    bob.run()
    assert not any(shown in o for o in bob.selectbox(key="data_select").options)
    assert bob.session_state["dataset"] == "mnist" and not bob.session_state["uploads"]
    assert any("MNIST" in o for o in alice.selectbox(key="data_select").options)  # built-ins are everyone's
