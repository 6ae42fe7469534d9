"""Latent views (synth_core.viz.latent) and the Latent space page on tiny runs."""
from __future__ import annotations


import numpy as np
import pytest
from scipy.stats import norm

from synth_core.generators import get_generator
from synth_core.train import Run, RunConfig
from synth_core.viz import latent

from .conftest import stat_seed, tiny_images, tiny_points



# ---- pure functions ---------------------------------------------------------------------------------
def test_lerp_and_slerp_hit_the_endpoints_exactly():
    z0, z1 = latent.endpoint_latents(16, seed=3)
    for method in ("linear", "slerp"):
        path = latent.interpolate(z0, z1, 9, method)
        assert path.shape == (9, 16) and path.dtype == np.float32
        np.testing.assert_array_equal(path[0], z0)
        np.testing.assert_array_equal(path[-1], z1)


def test_slerp_keeps_norms_and_lerp_does_not():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(64), rng.standard_normal(64)
    b = b / np.linalg.norm(b) * np.linalg.norm(a)  # equal norms: slerp stays on the sphere
    s = latent.interpolate(a, b, 11, "slerp")
    np.testing.assert_allclose(np.linalg.norm(s, axis=1), np.linalg.norm(a), rtol=1e-5)
    mid_lerp = np.linalg.norm(latent.interpolate(a, b, 11, "linear")[5])
    assert mid_lerp < 0.85 * np.linalg.norm(a)  # near-orthogonal 64-D vectors: the chord dips inward
    # unequal norms: the norm moves linearly between the two, never below the smaller one
    c = 2.5 * rng.standard_normal(64)
    t = np.linspace(0, 1, 7)
    norms = np.linalg.norm(latent.interpolate(a, c, 7, "slerp"), axis=1)
    np.testing.assert_allclose(norms, (1 - t) * np.linalg.norm(a) + t * np.linalg.norm(c), rtol=1e-5)
    # the direction follows the great circle: equal angular steps
    u = s / np.linalg.norm(s, axis=1, keepdims=True)
    angles = np.arccos(np.clip((u[:-1] * u[1:]).sum(1), -1, 1))
    np.testing.assert_allclose(angles, angles.mean(), rtol=1e-4)


def test_slerp_of_parallel_vectors_falls_back_to_a_line():
    a = np.ones(4, np.float32)
    np.testing.assert_allclose(latent.interpolate(a, 3 * a, 3, "slerp"), latent.interpolate(a, 3 * a, 3, "linear"))
    with pytest.raises(ValueError):
        latent.interpolate(a, a, 1)
    with pytest.raises(ValueError):
        latent.interpolate(a, a, 3, "cubic")


def test_traversal_grid_shape_and_axes():
    base = np.arange(5, dtype=np.float32) / 10
    z = latent.traversal_latents(base, (1, 3), k=2.0, n=5)
    assert z.shape == (5, 5, 5)
    np.testing.assert_allclose(z[:, :, 1], np.repeat(base[1] + np.linspace(-2, 2, 5)[:, None], 5, 1), rtol=1e-6)
    np.testing.assert_allclose(z[:, :, 3], np.repeat(base[3] + np.linspace(-2, 2, 5)[None, :], 5, 0), rtol=1e-6)
    for d in (0, 2, 4):  # untouched dimensions keep the base value
        np.testing.assert_array_equal(z[:, :, d], base[d])
    np.testing.assert_allclose(z[2, 2], base, atol=1e-7)  # the centre cell is the base code
    assert latent.traversal_latents(np.zeros(1), (0, 0), n=4).shape == (1, 4, 1)
    with pytest.raises(ValueError):
        latent.traversal_latents(base, (0, 5))


def test_latent_plane_is_an_inverse_cdf_grid_with_y_up():
    p = latent.latent_plane(4)
    assert p.shape == (4, 4, 2)
    q = norm.ppf((np.arange(4) + 0.5) / 4)
    np.testing.assert_allclose(p[0, :, 0], q, rtol=1e-5)        # z1 increases across the columns
    np.testing.assert_allclose(p[:, 0, 1], q[::-1], rtol=1e-5)  # z2 decreases down the rows
    np.testing.assert_allclose(latent.latent_plane(3, spacing="linear", extent=2)[0, :, 0], [-2, 0, 2])


# ---- on real (tiny) models --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def vae2():
    """A 2-D-latent MLP VAE trained a few steps on 8x8 digits."""
    gen = get_generator("vae")(z_dim=2, width=32, depth=1, batch_size=64, kl_warmup=0, lr=3e-3, arch="mlp")
    gen.setup(tiny_images(), seed=stat_seed(0))
    for _ in range(40):
        gen.train_step()
    return gen


def test_interpolation_endpoints_equal_decoded_endpoints(vae2):
    z0, z1 = latent.endpoint_latents(2, seed=7)
    for method in ("linear", "slerp"):
        x = latent.decode_batched(vae2.decode_latent, latent.interpolate(z0, z1, 6, method), batch=4)
        assert x.shape == (6, 1, 8, 8)
        np.testing.assert_allclose(x[0], vae2.decode_latent(z0[None])[0], atol=1e-6)
        np.testing.assert_allclose(x[-1], vae2.decode_latent(z1[None])[0], atol=1e-6)


def test_2d_latent_map_of_a_vae(vae2):
    ds = vae2.dataset_
    views = latent.latent_views(vae2, ds)
    assert views.size == 2 and views.plane and views.traversal and not views.conditional
    z = latent.latent_plane(10)
    x = latent.decode_batched(vae2.decode_latent, z, batch=32)
    assert x.shape == (100, 1, 8, 8) and np.isfinite(x).all() and x.min() >= -1 and x.max() <= 1
    # after training the decoder uses z: corners of the map differ (an untrained/collapsed one would not)
    corners = x.reshape(10, 10, -1)[[0, 0, -1, -1], [0, -1, 0, -1]]
    assert np.abs(corners[:, None] - corners[None]).mean() > 0.05
    img = latent.image_mosaic(ds, x, ncol=10, target_px=400, pad=0)
    assert img.width == img.height and img.width >= 80


def test_points_gan_path_and_grid_figures():
    gen = get_generator("gan")(z_dim=2, width=16, batch_size=64).setup(tiny_points(), seed=0)
    for _ in range(3):
        gen.train_step()
    ds = gen.dataset_
    views = latent.latent_views(gen, ds)
    assert views.size == 2 and views.plane
    z0, z1 = latent.endpoint_latents(2, seed=1)
    path = latent.decode_batched(gen.decode_latent, latent.interpolate(z0, z1, 8, "slerp"))
    fig = latent.path_figure(ds.x, path)
    assert len(fig.data[1].x) == 8
    np.testing.assert_allclose(np.asarray(fig.data[1].x, float), path[:, 0], rtol=1e-6)
    grid = latent.decode_batched(gen.decode_latent, latent.latent_plane(5)).reshape(5, 5, 2)
    fig = latent.warped_grid_figure(ds.x, grid)
    assert sum(v is None for v in fig.data[1].x) == 10  # 5 rows + 5 columns, each ended by a gap


def test_models_without_latent_space_say_why():
    gen = get_generator("gaussian")().setup(tiny_points(), seed=0)
    gen.train_step()
    views = latent.latent_views(gen, gen.dataset_)
    assert views.size is None and not (views.interpolation or views.traversal or views.plane)
    msg = latent.no_latent_message("Multivariate Gaussian", "probabilistic")
    assert "no latent space" in msg and "density" in msg


def test_conditional_vae_reports_a_class_selector():
    gen = get_generator("cvae")(z_dim=3, width=16, depth=1, arch="mlp").setup(tiny_images(64), seed=0)
    views = latent.latent_views(gen, gen.dataset_)
    assert views.conditional and views.size == 3 and not views.plane
    a = gen.decode_latent(np.zeros((1, 3), np.float32), condition=1)
    b = gen.decode_latent(np.zeros((1, 3), np.float32), condition=7)
    assert a.shape == (1, 1, 8, 8) and not np.allclose(a, b)  # the label reaches the decoder


# ---- the page ---------------------------------------------------------------------------------------
def _finished(generator: str, params: dict, steps: int, dataset: str = "digits") -> str:
    run = Run(RunConfig(dataset, generator, params, steps=steps, seed=0)).run_sync()
    assert run.status == "finished", run.error
    return run.id


def test_explore_page_shows_latent_views_for_a_finished_vae(app):
    _finished("vae", {"z_dim": 2, "width": 32, "depth": 1, "batch_size": 32, "arch": "mlp"}, steps=5)
    at = app.run()
    at.switch_page("pages/explore.py").run()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert [s.value for s in at.subheader] == ["Interpolation", "Latent traversal", "2-D latent map"]
    assert len(at.get("image")) == 3  # strip, traversal grid, latent map
    at.radio(key="explore_method").set_value("slerp").run()
    at.slider(key="explore_map_n").set_value(8).run()
    assert not at.exception and len(at.get("image")) == 3


def test_explore_page_conditional_run_has_a_class_selector(app):
    _finished("cvae", {"z_dim": 3, "width": 16, "depth": 1, "batch_size": 32, "arch": "mlp"}, steps=3)
    at = app.run()
    at.switch_page("pages/explore.py").run()
    assert not at.exception, [e.message for e in at.exception]
    at.selectbox(key="explore_class").set_value(7).run()
    assert not at.exception and not at.error
    assert len(at.get("image")) == 2  # strip + traversal; a 3-D latent has no plane
    assert any("needs a 2-D latent" in c.value for c in at.caption)


def test_explore_page_explains_a_model_without_latent_space(app):
    _finished("gaussian", {}, steps=1, dataset="ring8")
    at = app.run()
    at.switch_page("pages/explore.py").run()
    assert not at.exception, [e.message for e in at.exception]
    assert any("no latent space" in i.value for i in at.info)
    assert not at.get("image") and not at.subheader


def test_explore_page_without_runs_points_to_train(app):
    at = app.run()
    at.switch_page("pages/explore.py").run()
    assert not at.exception
    assert any("No trained runs" in i.value for i in at.info)


def test_explore_page_draws_paths_on_2d_points(app):
    _finished("gan", {"z_dim": 2, "width": 16, "batch_size": 64}, steps=3, dataset="ring8")
    at = app.run()
    at.switch_page("pages/explore.py").run()
    assert not at.exception, [e.message for e in at.exception]
    charts = at.get("plotly_chart")
    assert len(charts) == 3 and not at.get("image")  # path, traversal mesh, latent-plane mesh
