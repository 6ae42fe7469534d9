"""The 2-D live views explain themselves: real points visible above the surface, colour bars that say what
the colours mean, a guide line per view, and "mode collapse: k of n modes covered" on the toy mixtures."""
from __future__ import annotations

import numpy as np

from synth_core.data import load_dataset
from synth_core.data.toy2d import ring_modes
from synth_core.metrics.modes import coverage_note
from synth_core.train import views
from synth_core.viz import views2d

from .conftest import trace_names

BOUNDS = (-3.0, 3.0, -3.0, 3.0)


def _surface(probability: bool):
    xs = ys = np.linspace(-3, 3, 5)
    z = np.linspace(0, 1, 25).reshape(5, 5) if probability else np.linspace(-5, -1, 25).reshape(5, 5)
    real = ring_modes() + 0.02
    return views2d.decision_surface_view(xs, ys, z, real, real * 0.5, BOUNDS, probability=probability)


def test_real_points_stand_out_above_the_surface_with_a_legend():
    fig = _surface(True)
    names = trace_names(fig)
    assert names == ["D surface", "real", "generated"]           # points drawn after (above) the heatmap
    real = fig.data[1]
    assert real.marker.size >= 6 and real.marker.color == "#111827" and real.marker.line.color == "white"
    assert fig.data[2].marker.symbol == "diamond" and fig.data[2].marker.color != real.marker.color
    assert fig.layout.showlegend and real.showlegend and not fig.data[0].showlegend
    assert fig.data[0].opacity <= 0.6


def test_colour_bars_say_what_the_colours_mean():
    prob = _surface(True).data[0].colorbar
    assert "P(real)" in prob.title.text and list(prob.ticktext) == ["0 fake", "0.5", "1 real"]
    critic = _surface(False).data[0].colorbar
    assert "critic score" in critic.title.text and "higher = looks real" in critic.title.text
    dens = views2d.density_view(np.linspace(-3, 3, 4), np.linspace(-3, 3, 4), np.zeros((4, 4)), None, None, BOUNDS)
    assert "higher = more likely" in dens.data[0].colorbar.title.text


def test_every_view_has_a_guide_line():
    for v in views.VIEWS:
        assert views.guide(v)
    assert "P(real)" in views.guide(views.SURFACE, True) and "Black dots: real data" in views.guide(views.SURFACE)
    assert "only differences matter" in views.guide(views.SURFACE, False)


def test_mode_collapse_note_on_the_ring():
    known = load_dataset("ring8").modes
    rng = np.random.default_rng(0)
    modes, std = known.centres, known.std
    # all 8 modes: covered, no collapse
    pts = modes[rng.integers(8, size=1000)] + std * rng.standard_normal((1000, 2))
    text, collapsed = coverage_note(pts, known)
    assert not collapsed and text.startswith("8 of 8 modes covered")
    # samples on 3 modes only: collapse, said so
    pts = modes[rng.integers(3, size=1000)] + std * rng.standard_normal((1000, 2))
    text, collapsed = coverage_note(pts, known)
    assert collapsed and text.startswith("mode collapse: 3 of 8 modes covered")
    # ...but not in the first steps: a fresh generator starts with every sample near the origin
    assert coverage_note(pts, known, step=5)[1] is False and coverage_note(pts, known, step=500)[1] is True
    # an untrained generator spread everywhere is not "collapse", just not there yet
    text, collapsed = coverage_note(rng.normal(0, 1.5, (1000, 2)), known)
    assert not collapsed and "of 8 modes covered" in text
    # data without known modes: nothing to say
    assert coverage_note(pts, load_dataset("moons").modes) is None
