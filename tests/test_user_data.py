"""Saved uploads: save -> register -> reload by name (runs, CLI, a restarted server), and the
chunked download builders."""
from __future__ import annotations

import io
import json
import logging
import zipfile

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from synth_core.cli import main
from synth_core.data import base, dataset_info, load_dataset
from synth_core.data.tabular import Schema
from synth_core.data.uploads import UploadOptions
from synth_core.data.user_data import (content_hash, options_from_dict, options_to_dict, preview_table,
                                       register_saved_uploads, save_upload, save_upload_file, saved_uploads,
                                       schema_editor_frame, schema_from_editor, uploads_root)
from synth_core.errors import ConfigError, DataError
from synth_core.train import Run, RunConfig, load_generator
from synth_core.train.export import (build_csv, build_download, build_npz, build_png_zip, chunk_seed,
                                     generator_sampler, png_name)
from tests.bad_inputs import _good_pngs, _zip


@pytest.fixture(autouse=True)
def _forget_uploads():
    """Uploads registered by one test must not leak into the next (the registry is per process)."""
    yield
    for info in base.list_datasets():
        if base.is_upload(info.name):
            base.unregister_dataset(info.name)


def people_csv(n: int = 160, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "age": rng.integers(18, 90, n),
        "income": np.round(rng.lognormal(10, 0.5, n), 2),
        "smoker": rng.choice(["yes", "no"], n),
        "city": rng.choice(["Oslo", "Lima", "Pune"], n),
    })
    df.loc[::17, "income"] = np.nan  # some missing cells
    return df.to_csv(index=False).encode()


def test_save_and_reload_round_trip(tmp_path):
    data = people_csv()
    info = save_upload("people 2024.csv", data, {"label": "smoker"})
    assert info.name.startswith("upload-people-2024-") and len(info.name.rsplit("-", 1)[1]) == 8
    assert info.kind == "tabular" and info.label == "people 2024.csv (uploaded)"
    folder = uploads_root() / content_hash("people 2024.csv", data, {"label": "smoker"})
    assert folder.parent == tmp_path / "data" / "uploads"  # conftest's SYNTHLAB_DATA_DIR
    assert (folder / "data.bin").read_bytes() == data
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["name"] == info.name and meta["options"]["label"] == "smoker"
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".tmp")]  # atomic: no leftovers
    first = load_dataset(info.name)
    base.unregister_dataset(info.name)  # forget it: the loader must re-parse from disk
    again = load_dataset(info.name)
    assert again is not first and again.name == info.name
    np.testing.assert_array_equal(again.x, first.x)
    np.testing.assert_array_equal(again.y, first.y)
    assert again.classes == ["no", "yes"] and list(again.frame().columns) == ["age", "income", "smoker", "city"]


def test_options_json_round_trip_with_schema():
    pv = preview_table("p.csv", people_csv())
    schema = pv.schema.set_type("age", "continuous").drop("city")
    opts = UploadOptions(schema=schema, image_side=32, delimiter=",")
    d = options_to_dict(opts)
    json.dumps(d)  # plain JSON
    back = options_from_dict(d)
    assert isinstance(back.schema, Schema) and back.schema.to_dict() == schema.to_dict()
    assert back.image_side == 32 and back.delimiter == ","
    with pytest.raises(ConfigError, match="unknown upload option"):
        options_from_dict({**d, "colour": "rgb"})


def test_same_file_is_idempotent_and_edited_schema_is_new():
    data = people_csv()
    a = save_upload("p.csv", data)
    b = save_upload("p.csv", data)
    assert a == b and len(list(uploads_root().iterdir())) == 1
    pv = preview_table("p.csv", data)
    frame = schema_editor_frame(pv.schema)
    assert list(frame.columns) == ["column", "type", "include", "missing", "distinct", "note"]
    assert frame.set_index("column").loc["income", "missing"] == 10  # rows 0, 17, ..., 153
    frame.loc[frame["column"] == "city", "include"] = False
    frame.loc[frame["column"] == "age", "type"] = "continuous"
    edited = schema_from_editor(pv.schema, frame, label="smoker")
    c = save_upload("p.csv", data, {"schema": edited})
    assert c.name != a.name and len(list(uploads_root().iterdir())) == 2
    ds = load_dataset(c.name)
    assert ds.schema["age"].type == "continuous" and not ds.schema["city"].include and ds.classes == ["no", "yes"]
    with pytest.raises(ConfigError, match="must be discrete"):
        schema_from_editor(pv.schema, schema_editor_frame(pv.schema), label="income")


def test_parse_errors_propagate_and_write_nothing():
    with pytest.raises(DataError, match="line 3 has 3 fields"):
        save_upload("bad.csv", b"a,b\n1,2\n3,4,5\n")
    assert not uploads_root().exists() or not list(uploads_root().iterdir())


def test_register_saved_uploads_is_idempotent_and_skips_damaged(caplog):
    a = save_upload("p.csv", people_csv())
    z = save_upload("imgs.zip", _zip(_good_pngs(4)), {"image_side": 8})
    (uploads_root() / ("ab" * 32)).mkdir()
    (uploads_root() / ("ab" * 32) / "meta.json").write_text("{not json")
    (uploads_root() / ("cd" * 32)).mkdir()  # no meta.json at all
    for name in (a.name, z.name):
        base.unregister_dataset(name)
    with caplog.at_level(logging.WARNING, logger="synth_core.data.user_data"):
        names = register_saved_uploads()
        assert sorted(names) == sorted([a.name, z.name])
        assert register_saved_uploads() == names  # twice: no error, same result
    assert "abababab" in caplog.text
    assert dataset_info(z.name).kind == "image" and load_dataset(z.name).x.shape == (4, 1, 8, 8)
    assert [u.name for u in saved_uploads()] and {u.kind for u in saved_uploads()} == {"tabular", "image"}


def test_changed_file_on_disk_is_refused():
    info = save_upload("p.csv", people_csv())
    folder = next(p for p in uploads_root().iterdir() if p.name.startswith(info.name[-8:]))
    (folder / "data.bin").write_bytes(people_csv(seed=1))
    base.unregister_dataset(info.name)
    with pytest.raises(DataError, match="changed on disk"):
        load_dataset(info.name)


def test_run_trains_on_upload_and_reloads_after_restart(tmp_path):
    info = save_upload("p.csv", people_csv(), {"label": "smoker"})
    run = Run(RunConfig(dataset=info.name, generator="gaussian", steps=1), tmp_path / "runs")
    run.run_sync()
    assert run.status == "finished", run.error
    # "restart": the in-process registry and cache forget the upload; the run folder only has its name
    base.unregister_dataset(info.name)
    with pytest.raises(KeyError):
        base._REGISTRY[info.name]
    assert info.name in register_saved_uploads()
    gen, config, ds = load_generator(run.path)
    assert config.dataset == info.name and ds.name == info.name
    assert gen.sample(5, seed=0).shape == (5, ds.x.shape[1])
    # and without the explicit call: looking the name up finds it on disk
    base.unregister_dataset(info.name)
    gen, _, ds = load_generator(run.path)
    assert ds.name == info.name


def test_unknown_upload_name_says_so():
    with pytest.raises(ConfigError, match="upload the file again"):
        dataset_info("upload-gone-0123abcd")


def test_cli_train_with_data_then_sample_and_list(tmp_path, capsys):
    path = tmp_path / "people.csv"
    path.write_bytes(people_csv())
    rc = main(["train", "--data", str(path), "-g", "copula", "--label", "smoker", "--steps", "1"])
    assert rc == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out.strip().splitlines()[-1])
    assert out["status"] == "finished" and "-upload-people-" in out["run_id"]
    assert "dataset upload-people-" in captured.err
    base.unregister_dataset(next(u.name for u in saved_uploads()))  # a fresh CLI process knows nothing
    assert main(["sample", out["path"], "-n", "20", "-o", str(tmp_path / "s.csv")]) == 0
    frame = pd.read_csv(tmp_path / "s.csv")
    users = pd.read_csv(io.BytesIO(people_csv()))
    assert len(frame) == 20 and list(frame.columns) == list(users.columns)  # the label (smoker) too, in place
    assert set(frame["smoker"]) <= {"yes", "no"} and set(frame["city"]) <= {"Oslo", "Lima", "Pune"}
    capsys.readouterr()
    assert main(["datasets"]) == 0
    listing = capsys.readouterr().out
    assert "mnist" in listing and "uploads (" in listing and "people.csv" in listing


def test_cli_data_errors(tmp_path, capsys):
    assert main(["train", "--data", str(tmp_path / "missing.csv"), "-g", "gaussian"]) == 2
    assert capsys.readouterr().err.strip() == f"error: {str(tmp_path / 'missing.csv')!r} does not exist: check the path."
    (tmp_path / "p.csv").write_bytes(people_csv())
    assert main(["train", "--data", str(tmp_path / "p.csv"), "--dataset", "ring8"]) == 2
    assert "not both" in capsys.readouterr().err
    assert main(["train", "--dataset", "ring8", "--label", "y"]) == 2
    assert "--label goes with --data" in capsys.readouterr().err
    assert main(["train", "--data", str(tmp_path), "-g", "gaussian"]) == 2
    assert "is not a file" in capsys.readouterr().err


def test_save_upload_file_checks_size_before_reading(tmp_path):
    big = tmp_path / "big.csv"
    with open(big, "wb") as fh:
        fh.truncate(2048)  # sparse: the size is known without reading
    with pytest.raises(DataError, match="is 2,048 bytes; the upload limit is 1,024 bytes"):
        save_upload_file(big, {"max_bytes": 1024})


# ----------------------------------------------------------------------------------------------
# Export builders
# ----------------------------------------------------------------------------------------------
def _progress():
    seen: list[float] = []
    return seen, seen.append


def test_csv_builder_uses_the_users_columns_in_chunks():
    info = save_upload("p.csv", people_csv())
    ds = load_dataset(info.name)
    run_gen = _fitted(ds)
    seen, cb = _progress()
    data = build_csv(generator_sampler(run_gen, ds, seed=3), 1234, ds, chunk=500, progress=cb)
    frame = pd.read_csv(io.BytesIO(data))
    assert list(frame.columns) == ["age", "income", "smoker", "city"] and len(frame) == 1234
    assert set(frame["city"].dropna()) <= {"Oslo", "Lima", "Pune"}
    assert seen == sorted(seen) and len(seen) == 3 and seen[-1] == 1.0
    again = build_csv(generator_sampler(run_gen, ds, seed=3), 1234, ds, chunk=500)
    assert again == data  # chunk seeds are deterministic


def _fitted(ds):
    from synth_core.generators import get_generator

    gen = get_generator("gaussian")()
    gen.setup(ds, device="cpu", seed=0)
    gen.train_step()
    return gen


def test_png_zip_builder_gives_n_decodable_pngs():
    info = save_upload("imgs.zip", _zip(_good_pngs(6)), {"image_side": 12, "color": "rgb"})
    ds = load_dataset(info.name)
    gen = _fitted(ds)
    seen, cb = _progress()
    data = build_png_zip(generator_sampler(gen, ds), 23, ds, chunk=10, progress=cb)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        assert names == [f"samples/{i:05d}.png" for i in range(1, 24)]
        for n in names:
            img = Image.open(io.BytesIO(zf.read(n)))
            img.load()
            assert img.size == (12, 12) and img.mode == "RGB"
    assert seen == [10 / 23, 20 / 23, 1.0]
    assert png_name(99_999, 100_000) == "samples/100000.png" and png_name(0, 100_000) == "samples/000001.png"


def test_npz_builder_and_labels_from_a_conditional_generator():
    """A conditional generator's exports carry labels drawn in the real class proportions."""
    from synth_core.generators import get_generator

    ds = load_dataset("digits")
    gen = get_generator("cgan")().setup(ds, device="cpu", seed=0)  # untrained: the labels are what counts
    sampler = generator_sampler(gen, ds, seed=0)
    x, y = sampler(4000, 0)
    assert x.shape == (4000, *ds.sample_shape)
    share = np.bincount(y, minlength=10) / 4000
    assert np.abs(share - np.bincount(ds.y, minlength=10) / len(ds.y)).max() < 0.03
    seen, cb = _progress()
    data = build_npz(lambda k, i: (np.zeros((k, *ds.sample_shape), np.float32), np.full(k, i)), 12, ds,
                     chunk=5, progress=cb)
    arrays = np.load(io.BytesIO(data), allow_pickle=False)
    assert arrays["x"].shape == (12, 8, 8, 1) and arrays["x"].dtype == np.uint8
    assert arrays["y"].tolist() == [0] * 5 + [1] * 5 + [2] * 2
    assert seen[-1] == 1.0 and seen == sorted(seen)


def test_build_download_checks_format_and_count():
    ds = load_dataset("ring8")
    sampler = lambda k, i: np.zeros((k, 2), np.float32)  # noqa: E731
    with pytest.raises(ConfigError, match="PNG ZIP is not available for points"):
        build_download("png-zip", sampler, 5, ds)
    for n in (0, 100_001):
        with pytest.raises(ConfigError, match="between 1 and 100,000"):
            build_download("csv", sampler, n, ds)
    assert build_download("csv", sampler, 3, ds).decode().splitlines()[0] == "x,y"
    assert chunk_seed(0, 1) != chunk_seed(1, 0)


def _panel_script(run_dir: str) -> None:
    from synth_core.ui.downloads import download_panel

    download_panel(run_dir, key="t")


def test_download_panel_prepares_then_offers_the_file(tmp_path):
    from streamlit.testing.v1 import AppTest

    info = save_upload("p.csv", people_csv())
    run = Run(RunConfig(dataset=info.name, generator="gaussian", steps=1), tmp_path / "runs")
    run.run_sync()
    at = AppTest.from_function(_panel_script, args=(str(run.path),), default_timeout=60).run()
    assert not at.exception
    assert at.selectbox(key="t_fmt").options == ["CSV", "NPZ"]
    at.number_input(key="t_n").set_value(2500).run()
    at.button(key="t_prepare").click().run()
    assert not at.exception and not at.error
    buttons = at.get("download_button")
    assert len(buttons) == 1 and "2,500 samples (CSV" in buttons[0].proto.label
    at.selectbox(key="t_fmt").set_value("npz").run()
    assert not at.get("download_button") and any("Prepare again" in c.value for c in at.caption)
