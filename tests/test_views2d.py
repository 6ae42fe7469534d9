"""The 2-D teaching views: figure builders (pure) and the arrays they are computed from (live models)."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from synth_core.generators import get_generator
from synth_core.train import views
from synth_core.viz import views2d
from synth_core.viz.grid import data_bounds

from .conftest import tiny_points, tiny_tabular, trace_names

BOUNDS = (-3.0, 3.0, -2.0, 2.0)


def _fitted(name: str, **params):
    g = get_generator(name)(**params).setup(tiny_points(400), seed=0)
    g.train_step()
    return g


def _check_frame(fig):
    lay = fig.layout
    assert list(lay.xaxis.range) == [-3.0, 3.0] and list(lay.yaxis.range) == [-2.0, 2.0]
    assert lay.yaxis.scaleanchor == "x" and lay.yaxis.scaleratio == 1  # equal aspect
    assert lay.uirevision  # zoom survives the 1 s polling


def test_grid_covers_bounds_row_major():
    xs, ys, pts = views.grid(BOUNDS, 5)
    assert pts.shape == (25, 2) and pts.dtype == np.float32
    assert np.allclose(pts[:5, 1], -2.0) and np.allclose(pts[:5, 0], xs)  # first row: lowest y
    assert (xs[0], xs[-1], ys[0], ys[-1]) == (-3.0, 3.0, -2.0, 2.0)


def test_arrow_segments_geometry():
    o = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
    d = np.array([[3.0, 0.0], [0.0, -0.5], [0.0, 0.0]])  # the zero direction gets no arrow
    sx, sy, hx, hy = views2d.arrow_segments(o, d, 0.5)
    assert len(sx) == 6 and np.isnan(sx[2]) and np.isnan(sx[5])
    assert (sx[1], sy[1]) == (0.5, 0.0) and (sx[4], sy[4]) == (1.0, 0.5)  # unit direction x length
    assert len(hx) == 8 and (hx[1], hy[1]) == (0.5, 0.0)  # the head's apex is the tip
    assert hx[0] < 0.5 and hx[2] < 0.5 and hy[0] * hy[2] < 0  # both strokes go back, either side


def test_samples_and_surface_figures():
    real, fake = np.random.default_rng(0).normal(size=(50, 2)), np.random.default_rng(1).normal(size=(40, 2))
    fig = views2d.samples_view(real, fake, BOUNDS)
    _check_frame(fig)
    assert [t.name for t in fig.data] == ["real", "generated"] and len(fig.data[1].x) == 40
    xs, ys = np.linspace(-3, 3, 7), np.linspace(-2, 2, 5)
    z = np.random.default_rng(2).uniform(size=(5, 7))
    fig = views2d.decision_surface_view(xs, ys, z, real, fake, BOUNDS)
    _check_frame(fig)
    assert trace_names(fig) == ["D surface", "real", "generated"]
    assert fig.data[0].type == "heatmap" and (fig.data[0].zmin, fig.data[0].zmax) == (0.0, 1.0)
    wfig = views2d.decision_surface_view(xs, ys, 50 * z - 10, real, fake, BOUNDS, probability=False)
    assert wfig.data[0].zmin < np.median(50 * z - 10) < wfig.data[0].zmax


def test_density_and_trace_figures():
    xs, ys = np.linspace(-3, 3, 6), np.linspace(-2, 2, 4)
    lp = -np.add.outer(ys**2, xs**2)
    lp[0, 0] = -np.inf
    fig = views2d.density_view(xs, ys, lp, None, None, BOUNDS, floor=5.0)
    _check_frame(fig)
    z = np.asarray(fig.data[0].z)
    assert fig.data[0].type == "contour" and np.isfinite(z).all() and z.min() >= z.max() - 5.0
    t, c = 6, 2
    prop = np.random.default_rng(0).normal(size=(t, c, 2))
    acc = np.array([[True, False]] * t)
    fig = views2d.mcmc_trace_view(prop, prop, acc, np.zeros((3, 2)), BOUNDS)
    _check_frame(fig)
    names = trace_names(fig)
    assert names.count("chain") == 2 and names.count("accepted") == 2 and names.count("rejected") == 2
    rejected = [tr for tr in fig.data if tr.name == "rejected"]
    assert len(rejected[0].x) == 0 and len(rejected[1].x) == t and "x" in rejected[1].marker.symbol


@pytest.mark.parametrize("name,params", [("gan", dict(width=16)), ("wgan_gp", dict(width=16, n_critic=2))])
def test_gan_views_from_live_model(name, params):
    g = _fitted(name, **params)
    b = data_bounds(g.dataset_.x)
    xs, ys, z = views.surface_values(g, b)
    assert z.shape == (views.GRID, views.GRID) and np.isfinite(z).all() and z.std() > 0
    if name == "gan":
        assert ((z > 0) & (z < 1)).all()
    fake = g.sample(300, seed=1)
    o, d = views.arrow_values(g, fake)
    assert o.shape == d.shape == (views.MAX_ARROWS, 2) and np.isfinite(d).all()
    lock = threading.Lock()
    v = views.build_view(g, views.ARROWS, g.dataset_.x, fake, b, lock=lock)
    assert v.name == views.ARROWS and v.caption is None and not lock.locked()
    assert trace_names(v.figure) == ["D surface", "real", "generated", "G gradient", "arrow heads"]
    v = views.build_view(g, views.DENSITY, g.dataset_.x, fake, b)
    assert v.name == views.SAMPLES and "no density" in v.caption  # degrades with a one-line reason


@pytest.mark.parametrize("name,params", [("gmm", {}), ("kde", {}), ("realnvp", {}),
                                         ("mcmc", dict(n_chains=8, burn_in=5, iters_per_step=5))])
def test_density_from_live_model(name, params):
    g = _fitted(name, **params)
    xs, ys, lp = views.density_values(g, BOUNDS, n=20)
    assert lp.shape == (20, 20) and np.isfinite(lp).all()
    if name != "realnvp":  # fitted densities (a flow after one step has not learnt the ring yet)
        # higher density on the ring (radius 2) than at its centre
        row = np.argmin(abs(ys))
        assert lp[row, np.argmin(abs(xs - 2.0))] > lp[row, np.argmin(abs(xs))] + 1.0
    v = views.build_view(g, views.DENSITY, g.dataset_.x, g.sample(100, seed=0), BOUNDS)
    assert v.name == views.DENSITY and v.figure.data[0].type == "contour"
    assert views.build_view(g, views.SURFACE, g.dataset_.x, None, BOUNDS).caption


def test_mcmc_trace_from_live_model():
    g = _fitted("mcmc", n_chains=8, burn_in=5, iters_per_step=7)
    v = views.build_view(g, views.TRACE, g.dataset_.x, None, BOUNDS)
    assert v.name == views.TRACE and v.caption is None
    chains = [t for t in v.figure.data if t.name == "chain"]
    assert len(chains) == 4 and all(len(t.x) == 7 for t in chains)
    acc = sum(len(t.x) for t in v.figure.data if t.name == "accepted")
    rej = sum(len(t.x) for t in v.figure.data if t.name == "rejected")
    assert acc + rej == 4 * 7


def test_views_degrade_on_data_that_is_not_2d():
    g = get_generator("gmm")(n_components=2).setup(tiny_tabular(), seed=0)
    g.train_step()
    v = views.build_view(g, views.DENSITY, g.dataset_.x, g.sample(50, seed=0), BOUNDS)
    assert v.name == views.SAMPLES and "2-D" in v.caption


def test_available_views_step_labels_and_update_caption():
    assert views.available_views(get_generator("wgan_gp")) == [views.SAMPLES, views.SURFACE, views.ARROWS]
    assert views.available_views(get_generator("mcmc")) == [views.SAMPLES, views.DENSITY, views.TRACE]
    assert views.available_views(get_generator("gaussian")) == [views.SAMPLES]
    assert views.step_labels(get_generator("cgan")) == ("Step D", "Step G")
    assert views.step_labels(get_generator("kde")) == ("Step",)
    assert views.describe_update(("discriminator", {"loss_d": 1.3862944})) == "last: discriminator update, loss_d=1.386"
    assert views.describe_update(None) is None
    g = _fitted("wgan_gp", width=16, n_critic=3)
    assert views.next_update(g) == ("discriminator", "next: discriminator update 1 of 3")
    g.train_update()
    assert views.next_update(g)[1] == "next: discriminator update 2 of 3"
    assert views.next_update(_fitted("kde")) is None
    assert views.speed_value(None) == "max" and views.speed_value(4.0) == 5
    assert views.speed_limit("max") is None and views.speed_limit(20) == 20.0


def test_run_view_rebuilds_only_for_a_new_preview():
    """A paused run keeps its preview array: polling the page must not re-evaluate the model."""
    g = _fitted("gan", width=16)
    run = type("FakeRun", (), {"id": "r1", "generator": g, "model_lock": threading.Lock()})()
    b = data_bounds(g.dataset_.x)
    fake = g.sample(200, seed=1)
    first = views.run_view(run, views.SURFACE, g.dataset_.x, fake, b)
    assert views.run_view(run, views.SURFACE, g.dataset_.x, fake, b) is first
    g.train_step()
    newer = g.sample(200, seed=1)  # the run's next preview is a new array
    assert views.run_view(run, views.SURFACE, g.dataset_.x, newer, b) is not first
    assert views.run_view(run, views.ARROWS, g.dataset_.x, newer, b).name == views.ARROWS
