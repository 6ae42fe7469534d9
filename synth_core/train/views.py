"""Live teaching views of a 2-D run: which views a generator has, and their figures.

Each call evaluates the live model cheaply (a ~60x60 grid, a few hundred arrows) while holding the
run's ``model_lock``, so it never sees a half-done update. A view the generator lacks (or data
that is not 2-D) falls back to the samples view with a one-line caption saying why.
"""
from __future__ import annotations

import time
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go

from ..generators import Generator
from ..viz import views2d
from ..viz.views2d import Bounds
from .status import RunStatus

SAMPLES, SURFACE, ARROWS, DENSITY, TRACE = "Samples", "Decision surface", "Gradient arrows", "Density", "MCMC trace"
VIEWS = (SAMPLES, SURFACE, ARROWS, DENSITY, TRACE)
GRID = 60          # grid side for surfaces and contours (3,600 model evaluations)
MAX_ARROWS = 80    # generated points that get an arrow
TRACE_SHOWN = 60   # recent MCMC iterations drawn per chain (more turns into a scribble)


@dataclass
class View:
    """A figure to draw and, when the requested view could not be shown, a one-line reason."""

    name: str
    figure: go.Figure
    caption: str | None = None
    #: how to read the figure (markers, colours), shown under it
    guide: str | None = None


def available_views(gen: Generator | type[Generator]) -> list[str]:
    """The views a generator (class or instance) can show, in teaching order (from its declared
    capabilities); Samples always."""
    cls = gen if isinstance(gen, type) else type(gen)
    out = [SAMPLES]
    if cls.has_critic:
        out += [SURFACE, ARROWS]
    if cls.has_log_density:
        out.append(DENSITY)
    if cls.has_trace:
        out.append(TRACE)
    return out


def step_labels(gen: Generator | type[Generator]) -> tuple[str, ...]:
    """Buttons for step-by-step mode: one per update unit ("Step D"/"Step G" for adversarial models),
    else one "Step"."""
    cls = gen if isinstance(gen, type) else type(gen)
    units = cls.update_units
    return tuple(f"Step {u[0].upper()}" for u in units) if len(units) > 1 else ("Step",)


def next_update(gen: Generator | None) -> tuple[str, str] | None:
    """For adversarial models: (the next update, a caption like "next: discriminator update 2 of 5");
    None for models whose smallest unit is a whole step (or before the model exists)."""
    if gen is None or len(gen.update_units) < 2:
        return None
    what = gen.next_update()
    done, per = gen.step_progress()
    if what == "discriminator":
        return what, "next: discriminator update" + (f" {done + 1} of {per}" if per > 1 else "")
    return what, "next: generator update (completes the step)"


def describe_update(last: tuple[str, dict[str, float]] | None) -> str | None:
    """ "last: discriminator update, loss_d=1.386, D(x)=0.5" for the step-by-step caption."""
    if not last:
        return None
    what, losses = last
    label = {"discriminator": "discriminator update", "generator": "generator update (step complete)",
             "step": "step"}.get(what, what)
    vals = ", ".join(f"{k}={v:.4g}" for k, v in list(losses.items())[:4])
    return f"last: {label}" + (f", {vals}" if vals else "")


SPEEDS: tuple[int | str, ...] = (1, 2, 5, 10, 20, 50, 100, "max")


def speed_value(max_steps_per_s: float | None) -> int | str:
    """The speed slider's option for a run's limit (the nearest option; "max" = no limit)."""
    if max_steps_per_s is None:
        return "max"
    nums = [s for s in SPEEDS if isinstance(s, int)]
    return min(nums, key=lambda s: abs(s - max_steps_per_s))


def speed_limit(option: int | str | None) -> float | None:
    """The slider option as ``Run.set_speed``'s argument."""
    return None if option in (None, "max") else float(option)


def step_and_wait(run: Any, unit: str = "update", n: int = 1, timeout: float = 5.0) -> bool:
    """``run.step_once(unit, n)``, then wait (up to ``timeout`` s) until the worker has done it, so a
    page redrawn right after the click shows the new state. True if it finished in time."""
    before = run.snapshot()
    run.step_once(unit, n)
    deadline = time.time() + timeout
    while time.time() < deadline:
        snap = run.snapshot()  # a worker-process run answers from its latest copy, refreshed several times a second
        if not RunStatus.parse(snap.status).live:
            return False
        if unit == "update" and snap.updates_done > before.updates_done:
            return True
        if unit == "step" and snap.step >= min(before.step + n, snap.total):
            return True
        time.sleep(0.02)
    return False


def grid(bounds: Bounds, n: int = GRID) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(xs, ys, points): ``n`` x ``n`` grid over ``bounds``; points is n² x 2 float32, row-major in y."""
    xs = np.linspace(bounds[0], bounds[1], n)
    ys = np.linspace(bounds[2], bounds[3], n)
    gx, gy = np.meshgrid(xs, ys)
    return xs, ys, np.stack([gx.ravel(), gy.ravel()], 1).astype(np.float32)


def surface_values(gen: Generator, bounds: Bounds, n: int = GRID) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(xs, ys, D values n x n) or None when the model has no critic."""
    xs, ys, pts = grid(bounds, n)
    out = gen.critic(pts)
    if out is None:
        return None
    return xs, ys, np.asarray(out[0], dtype=np.float64).reshape(n, n)


def density_values(gen: Generator, bounds: Bounds, n: int = GRID) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(xs, ys, log-density n x n) or None for models without a likelihood."""
    xs, ys, pts = grid(bounds, n)
    lp = gen.log_density(pts)
    if lp is None:
        return None
    return xs, ys, np.asarray(lp, dtype=np.float64).reshape(n, n)


def arrow_values(gen: Generator, fake: np.ndarray, max_arrows: int = MAX_ARROWS) -> tuple[np.ndarray, np.ndarray] | None:
    """(origins, directions) at up to ``max_arrows`` generated points, or None without a critic."""
    pts = np.asarray(fake, dtype=np.float32)[:max_arrows]
    out = gen.critic(pts, grad=True)
    if out is None or out[1] is None:
        return None
    return pts, np.asarray(out[1], dtype=np.float64)


def _probability(gen: Generator) -> bool:
    return gen.loss_kind != "wgan-gp"


_POINTS_GUIDE = "Black dots: real data; amber diamonds: generated samples."


def guide(view: str, probability: bool = True) -> str:
    """One or two sentences on how to read ``view``: what the markers and the colours mean."""
    if view == SAMPLES:
        return "Grey: real data; blue: generated samples. They should overlap."
    if view in (SURFACE, ARROWS):
        if probability:
            colours = ("Colour: the discriminator's P(real) = D(x) at each point: blue = looks real, red = looks "
                       "generated, white = can't tell (0.5).")
        else:
            colours = ("Colour: the critic's score at each point, higher (blue) = looks more real, lower (red) = "
                       "looks generated; a WGAN critic is unbounded, so only differences matter, not the values.")
        extra = " Arrows: where the generator's update pushes each sample." if view == ARROWS else ""
        return f"{colours} {_POINTS_GUIDE}{extra}"
    if view == DENSITY:
        return f"Colour: the model's log-density (yellow = most likely). {_POINTS_GUIDE}"
    if view == TRACE:
        return ("Lines: each chain's recent path; dots: accepted proposals; crosses: rejected ones; "
                "stars: where each chain is now. Grey: real data.")
    return ""


def build_view(gen: Generator | None, view: str, real: np.ndarray, fake: np.ndarray | None, bounds: Bounds,
               *, lock: Any = None, height: int = 420) -> View:
    """The figure for ``view`` of a live generator. ``lock`` (a run's ``model_lock``) is held while the
    model is evaluated; plotting happens after it is released."""
    def fallback(reason: str) -> View:
        return View(SAMPLES, views2d.samples_view(real, fake, bounds, height=height), reason, guide(SAMPLES))

    if view == SAMPLES:
        return View(SAMPLES, views2d.samples_view(real, fake, bounds, height=height), guide=guide(SAMPLES))
    if gen is None:
        return fallback(f"{view} appears once the model is built (the run is starting).")
    if gen.dataset_ is None or gen.dataset_.kind != "points" or gen.dataset_.sample_shape != (2,):
        return fallback(f"{view} needs 2-D points; this data has {gen.dataset_.n_features if gen.dataset_ else '?'} "
                        f"features, so only samples are shown.")
    if view not in available_views(gen):
        return fallback(f"{gen.label} has no {view.lower()} to show: showing samples.")
    if view in (ARROWS,) and (fake is None or len(fake) == 0):
        return fallback("Gradient arrows appear once the generator has produced samples.")
    with lock if lock is not None else nullcontext():
        if view == SURFACE:
            data: Any = surface_values(gen, bounds)
        elif view == ARROWS:
            data = (arrow_values(gen, fake), surface_values(gen, bounds))
        elif view == DENSITY:
            data = None if (gen.closed_form and gen.step_ == 0) else density_values(gen, bounds)
        else:
            data = gen.trace()
            burn_in = bool(gen.in_burn_in)  # type: ignore[attr-defined]
    if view == SURFACE:
        if data is None:
            return fallback(f"{gen.label} has no discriminator: showing samples.")
        return View(view, views2d.decision_surface_view(*data, real, fake, bounds, probability=_probability(gen),
                                                        height=height), guide=guide(view, _probability(gen)))
    if view == ARROWS:
        arrows, surface = data
        if arrows is None:
            return fallback(f"{gen.label} has no generator gradient: showing samples.")
        return View(view, views2d.gradient_arrows_view(*arrows, real, fake, bounds, surface=surface,
                                                       probability=_probability(gen), height=height),
                    guide=guide(view, _probability(gen)))
    if view == DENSITY:
        if data is None:
            return fallback("The density appears after the model's first step.")
        return View(view, views2d.density_view(*data, real, fake, bounds, height=height), guide=guide(view))
    if len(data["states"]) == 0:
        return fallback("The chain trace appears after the first MCMC iterations.")
    recent = slice(-TRACE_SHOWN, None)
    return View(view, views2d.mcmc_trace_view(data["proposals"][recent], data["states"][recent],
                                              data["accepted"][recent], real, bounds, height=height),
                guide=guide(view) + (" Burn-in: no draw is kept as a sample yet." if burn_in else ""))


def run_view(run: Any, view: str, real: np.ndarray, fake: np.ndarray | None, bounds: Bounds, *,
             height: int = 420) -> View:
    """``build_view`` for a live :class:`~synth_core.train.Run` (its generator, under its ``model_lock``);
    ``fake`` is the snapshot's preview points. The run refreshes its preview after every change to the
    model (a step, or a single update in step-by-step mode), so a view is rebuilt only when the preview
    array is a new one: a paused run is not re-evaluated on every poll of the page."""
    key = (run.id, view, height, bounds)
    hit = _RUN_VIEWS.get(key)
    if hit is not None and fake is not None and hit[0] is fake and hit[1] is run.generator:
        return hit[2]
    shown = build_view(run.generator, view, real, fake, bounds, lock=run.model_lock, height=height)
    if len(_RUN_VIEWS) > 64:  # a few views of a few runs; never grows with training time
        _RUN_VIEWS.clear()
    _RUN_VIEWS[key] = (fake, run.generator, shown)
    return shown


#: (run id, view, height, bounds) -> (the preview array it was built from, the generator, the view)
_RUN_VIEWS: dict[tuple, tuple[Any, Any, View]] = {}
