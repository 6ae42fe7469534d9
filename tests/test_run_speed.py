"""Steps/s, ETA and time trained: steps over *active* time in a window (time paused excluded), never
overstated, the same number on every front end; and the slow-training notice."""
from __future__ import annotations

import json
import time

import pytest

from .conftest import tiny_points
from synth_core.cli import ProgressBar
from synth_core.train import Run, RunConfig
from synth_core.train import speed
from synth_core.train.run import RATE_WINDOW_S
from synth_core.viz.text import format_progress, format_rate


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _driven_run(tmp_path, monkeypatch, steps=100_000) -> tuple[Run, FakeClock]:
    """A run whose worker we play by hand on a fake clock: exact, whatever the machine's load."""
    clock = FakeClock()
    monkeypatch.setattr(Run, "_clock", staticmethod(clock))
    run = Run(RunConfig(dataset="ring8", generator="gan", steps=steps), tmp_path)
    run.status = "running"
    run._set_active(True)
    run._restart_rate_window()
    return run, clock


def _steps(run: Run, clock: FakeClock, n: int, dt: float) -> None:
    """``n`` steps of ``dt`` active seconds each, as the worker books them (start, step, done)."""
    for _ in range(n):
        run._mark_step_start(run._active_now())
        clock.t += dt
        with run._lock:
            run.step += 1


def test_rate_and_eta_are_steps_over_active_time_across_a_pause(tmp_path, monkeypatch):
    run, clock = _driven_run(tmp_path, monkeypatch, steps=1000)
    _steps(run, clock, 30, 0.1)                          # 10 steps/s
    assert run.steps_per_s() == pytest.approx(10.0)
    # a 5 s pause: not active time, so it neither lowers the rate nor raises the ETA (the bug: 4.41)
    run.status = "paused"
    run._set_active(False)
    assert run.steps_per_s() == 0.0 and run.snapshot().eta_s is None
    clock.t += 5.0
    run.status = "running"
    run._set_active(True)
    _steps(run, clock, 10, 0.1)
    snap = run.snapshot()
    assert snap.steps_per_s == pytest.approx(10.0)
    assert snap.eta_s == pytest.approx((1000 - 40) / 10.0)
    assert snap.elapsed_s == pytest.approx(4.0)          # 40 steps x 0.1 s; the pause is not "trained"
    # a step in progress never raises it; a stalled one (longer than the window's mean step) lowers it
    clock.t += 0.05
    assert run.steps_per_s() <= 10.0
    clock.t += 1.0
    assert run.steps_per_s() < 8.0
    _steps(run, clock, 300, 0.02)                        # faster now: 50 steps/s for 6 s
    assert run.steps_per_s() == pytest.approx(50.0, rel=0.01)  # the old, slower steps left the window
    assert RATE_WINDOW_S <= 10


def test_a_fast_run_counts_its_slow_per_second_work(tmp_path, monkeypatch):
    """The 2.5x overstatement: 2 ms steps plus a 0.6 s preview once every 250 steps. A 50-step window
    (0.1 s) mostly misses the preview and said ~500 steps/s; steps over active time say ~227."""
    run, clock = _driven_run(tmp_path, monkeypatch)
    for i in range(3000):
        _steps(run, clock, 1, 0.002 + (0.6 if i % 250 == 249 else 0.0))
    truth = 250 / (250 * 0.002 + 0.6)
    assert run.steps_per_s() == pytest.approx(truth, rel=0.12) and run.steps_per_s() < 1.15 * truth


def test_a_new_speed_limit_restarts_the_window_at_the_next_step(tmp_path, monkeypatch):
    run, clock = _driven_run(tmp_path, monkeypatch)
    _steps(run, clock, 100, 0.01)                        # 100 steps/s
    run.set_speed(2.0)
    _steps(run, clock, 1, 0.5)
    assert run.steps_per_s() == 0.0                      # nothing measured at the new speed yet
    _steps(run, clock, 4, 0.5)
    assert run.steps_per_s() == pytest.approx(2.0)


def test_early_rate_and_the_slowdown_notice(tmp_path, monkeypatch):
    run, clock = _driven_run(tmp_path, monkeypatch)
    _steps(run, clock, int(RATE_WINDOW_S / 0.01) + 10, 0.01)  # 100 steps/s for a full window
    snap = run.snapshot()
    assert snap.early_steps_per_s == pytest.approx(100.0, rel=0.01) and snap.rate_unthrottled
    assert speed.slowdown_notice(snap) is None
    _steps(run, clock, int(RATE_WINDOW_S / 0.05) + 5, 0.05)  # another program takes the CPU: 20 steps/s
    snap = run.snapshot()
    assert snap.steps_per_s == pytest.approx(20.0, rel=0.01)
    text = speed.slowdown_notice(snap, other_active_runs=1, load=(0.5, 2))
    assert "20.0 steps/s" in text and "100.0" in text and "1 other run(s) are active" in text
    assert "load average 3.0 on 2" in speed.slowdown_notice(snap, load=(3.0, 2))
    assert "No other run" in speed.slowdown_notice(snap, load=(0.5, 2))
    # a speed limit the user chose is not a slowdown
    run.set_speed(5.0)
    _steps(run, clock, 40, 0.2)
    assert run.snapshot().steps_per_s == pytest.approx(5.0) and speed.slowdown_notice(run.snapshot()) is None


def test_every_front_end_shows_the_runs_number(tmp_path, monkeypatch):
    import io

    run, clock = _driven_run(tmp_path, monkeypatch, steps=500)
    _steps(run, clock, 50, 0.25)                         # 4 steps/s
    snap = run.snapshot()
    assert format_rate(snap.steps_per_s) == "4.0 steps/s" and "4.0 steps/s · ETA 1:52" in format_progress(snap)
    out = io.StringIO()
    ProgressBar(500, stream=out).update(50, {"loss": 1.0}, force=True, speed=run.speed())
    assert "4.0 steps/s ETA 1:52" in out.getvalue()
    assert format_rate(112.3) == "112 steps/s" and format_rate(0.25) == "0.25 steps/s" and format_rate(0) == "-- steps/s"


def _wait(pred, timeout=60.0):
    t = time.time()
    while time.time() - t < timeout:
        if pred():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def _active_rate(rows, pauses, step, window=RATE_WINDOW_S):
    """Independent: steps over active wall time in the ``window`` s before ``step``'s row, from
    metrics.jsonl's wall-clock ``t`` minus the time paused (from the run's status events)."""
    def active(t):
        return t - sum(max(0.0, min(t, b) - a) for a, b in pauses)
    end = next(r for r in rows if r["step"] == step)
    older = [r for r in rows if r["step"] < step and active(end["t"]) - active(r["t"]) >= window]
    ref = older[-1] if older else rows[0]
    return (step - ref["step"]) / (active(end["t"]) - active(ref["t"]))


@pytest.mark.slow
def test_known_rate_across_a_real_pause(tmp_path):
    """A real worker at a speed limit (a known rate): the shown rate is never above the limit and agrees
    with steps over active wall time computed independently from metrics.jsonl, before and just after a
    pause (the old 50-step window counted the pause: 10 steps after a 5 s pause at 10 steps/s it showed
    4.41). Whatever the machine's load: if it cannot keep up with the limit, both measures drop together."""
    limit = 2.0
    statuses: list[tuple[str, float]] = []
    run = Run(RunConfig(dataset="ring8", generator="gan", params={"batch_size": 32, "width": 16},
                        steps=10_000, seed=0), tmp_path, dataset=tiny_points(256))
    run.add_listener(lambda ev: statuses.append((ev.data["status"], ev.time)) if ev.type == "status" else None)
    run.set_speed(limit)
    run.start()
    shown = []
    try:
        _wait(lambda: run.step >= 12, timeout=120)
        shown.append(run.snapshot())
        run.pause()
        _wait(lambda: run.status == "paused")
        time.sleep(6.0)
        paused_at = run.step
        run.resume()
        _wait(lambda: run.step >= paused_at + 6, timeout=120)
        shown.append(run.snapshot())
    finally:
        run.stop()
        run.join(30)
    rows = [json.loads(x) for x in (run.path / "metrics.jsonl").read_text().splitlines()]
    t0 = json.loads((run.path / "status.json").read_text())["t0_epoch"]
    p_start = next(t for s, t in statuses if s == "paused") - t0
    p_end = next(t for s, t in statuses if s == "running" and t - t0 > p_start) - t0
    for snap in shown:
        assert 0 < snap.steps_per_s <= 1.05 * limit, snap.steps_per_s
        independent = _active_rate(rows, [(p_start, p_end)], snap.step)
        assert snap.steps_per_s == pytest.approx(independent, rel=0.25), (snap.step, snap.steps_per_s, independent)
        assert snap.eta_s == pytest.approx((snap.total - snap.step) / snap.steps_per_s)
    # time paused is not "trained" (give or take the step the worker was in when the pause came)
    elapsed = json.loads((run.path / "status.json").read_text())["elapsed_s"]
    wall = next(t for s, t in statuses if s == "stopped") - t0
    assert wall - (p_end - p_start) - 2.0 <= elapsed <= wall - (p_end - p_start) + 1.0, (elapsed, wall)
