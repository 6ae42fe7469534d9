"""Train page: pick a generator, tune it, start it, and watch it learn live.

The training loop runs in a background worker owned by the process-wide JobManager; this page
only starts/pauses/stops it and polls a snapshot about once a second (``st.fragment(run_every)``).
For 2-D points it also shows the teaching views (decision surface, gradient arrows, density, MCMC
trace: ``synth_core.train.views``), a step-by-step mode, and a "draw your own data" panel.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from synth_core.data import dataset_info
from synth_core.data import drawn
from synth_core.data.holdout import holdout_param
from synth_core.errors import SynthLabError
from synth_core.generators import get_generator, list_generators
from synth_core.params import Param
from synth_core.train import Run, RunConfig, RunStatus
from synth_core.train.run import MAX_STEPS
from synth_core.train import views
from synth_core.train.speed import machine_load, slowdown_notice
from synth_core.metrics.modes import coverage_note
from synth_core.ui import session
from synth_core.ui.widgets import param_form, param_widget, reset_params
from synth_core.viz.figures import loss_figure
from synth_core.viz.marginals import column_marginals_figure, real_rows
from synth_core.viz import views2d
from synth_core.viz.grid import data_bounds
from synth_core.viz.text import escape_markdown, format_progress, where_it_trains

STATUS_BADGE = {RunStatus.QUEUED: ":orange-badge[queued]", RunStatus.RUNNING: ":blue-badge[running]",
                RunStatus.PAUSED: ":violet-badge[paused]", RunStatus.FINISHED: ":green-badge[finished]",
                RunStatus.STOPPED: ":gray-badge[stopped]", RunStatus.FAILED: ":red-badge[failed]",
                RunStatus.CREATED: ":gray-badge[starting]"}


LIVE_CHART_POINTS = 600

st.title("Train")
try:
    drawn.register_saved_drawings()  # drawings saved before a restart stay selectable
except SynthLabError as exc:
    st.error(str(exc))
ds = session.current_dataset()
mgr = session.manager()
run = session.current_run()

gens = list_generators(ds.kind)
gen_names = [g.name for g in gens]
# the classic demos: a DCGAN on images, a WGAN-GP on 2-D points, a Gaussian copula on tables
preferred = {"image": "dcgan", "points": "wgan_gp", "tabular": "copula"}.get(ds.kind, gen_names[0])
gen_name = st.session_state.get("train_gen", preferred)
if gen_name not in gen_names:
    gen_name = preferred if preferred in gen_names else gen_names[0]

DEFAULT_BLOBS = pd.DataFrame({"x": [-1.0, 1.0, 0.0], "y": [-0.5, -0.5, 1.2], "spread": [0.25, 0.25, 0.15],
                              "weight": [1.0, 1.0, 0.5]})


def _add_selection() -> None:
    """Canvas selection callback: add the lasso/box-selected grid points to the drawing."""
    sel = st.session_state.get("draw_canvas")
    picked = {int(p["point_index"]) for p in (sel.selection.points if sel else [])
              if p.get("curve_number", 0) == 0 and "point_index" in p}
    st.session_state["draw_points"] = sorted(set(st.session_state.get("draw_points", [])) | picked)


def _draw_panel() -> None:
    """Blobs in a table plus points selected on a grid -> preview -> a new points dataset."""
    st.caption("Lasso or box-select points on the grid (each becomes a small blob), and/or edit the "
               "blob table (x, y, spread = std, weight). Then use it as the training data.")
    grid_pts = drawn.candidate_grid()
    chosen = [i for i in st.session_state.get("draw_points", []) if 0 <= i < len(grid_pts)]
    st.plotly_chart(views2d.draw_canvas_figure(grid_pts, chosen, drawn.CANVAS), key="draw_canvas",
                    on_select=_add_selection, selection_mode=("lasso", "box"), width="stretch")
    if chosen and st.button(f"Clear {len(chosen)} selected points", key="draw_clear"):
        st.session_state["draw_points"] = []
        st.rerun()
    table = st.data_editor(DEFAULT_BLOBS, num_rows="dynamic", key="draw_blobs", width="stretch",
                           column_config={"spread": st.column_config.NumberColumn(min_value=0.001),
                                          "weight": st.column_config.NumberColumn(min_value=0.0)})
    c1, c2 = st.columns(2)
    n = int(c1.number_input("Samples", min_value=drawn.MIN_SAMPLES, max_value=drawn.MAX_SAMPLES, value=5000,
                            step=500, key="draw_n"))
    seed = int(c2.number_input("Seed", min_value=0, max_value=2**31 - 1, value=0, key="draw_seed"))
    try:
        comps = drawn.components(drawn.parse_blobs(table.to_dict("records")), grid_pts[chosen])
        preview = drawn.sample_components(comps, min(n, 2000), seed)
    except SynthLabError as exc:
        st.warning(str(exc))
        return
    st.plotly_chart(views2d.samples_view(None, preview, drawn.CANVAS, height=300), key="draw_preview",
                    width="stretch")
    if st.button("Use this distribution", type="primary", key="draw_use"):
        try:
            name = drawn.save_drawing(drawn.make_drawn_dataset(comps, n, seed))
        except SynthLabError as exc:
            st.error(str(exc))
        else:
            session.remember_own_dataset(name)
            if session.set_dataset(name):
                st.rerun()


controls, live_col = st.columns([2, 3], gap="large")

with controls:
    st.markdown(f"Data: **{escape_markdown(dataset_info(ds.name).label)}** · {len(ds):,} samples "
                f":gray[(change it on the Data page)]")
    gen_name = st.selectbox("Generator", gen_names, index=gen_names.index(gen_name), key="train_gen_select",
                            format_func=lambda n: f"{get_generator(n).label}  ·  {get_generator(n).family}")
    st.session_state["train_gen"] = gen_name
    gen_cls = get_generator(gen_name)
    st.caption(gen_cls.summary())

    run_params = (
        Param("steps", "int", gen_cls.default_steps, low=1, high=MAX_STEPS,
              help="Generator updates to run (closed-form models need 1)."),
        Param("seed", "int", 0, low=0, high=2**31 - 1, help="Same seed + same config -> same result on CPU."),
    )
    c1, c2 = st.columns(2)
    steps = param_widget(run_params[0], f"run/{gen_name}", c1)
    seed = param_widget(run_params[1], f"run/{gen_name}", c2)
    st.markdown("**Hyperparameters**")
    holdout_p = holdout_param(ds.kind, len(ds))  # the one declared default, for this dataset's kind and size
    values = param_form(gen_cls.params_for(ds.kind), gen_name, run_params=(holdout_p,), run_owner=f"run/{gen_name}")
    holdout = values.pop(holdout_p.name)

    b1, b2 = st.columns([3, 2])
    start = b1.button("Start training", type="primary", width="stretch", key="start")
    if b2.button("Reset defaults", width="stretch", key="reset"):
        reset_params(gen_name)
        reset_params(f"run/{gen_name}")
        st.rerun()
    if start:
        try:
            new = mgr.submit(RunConfig(dataset=ds.name, generator=gen_name, params=values, steps=int(steps),
                                       seed=int(seed), holdout=float(holdout)))
        except SynthLabError as exc:
            st.error(str(exc))
        else:
            session.follow(new)
            st.rerun()  # the whole app, so the sidebar follows the new run at once
    if ds.kind == "points":
        with st.expander("Draw your own data", icon=":material/draw:"):
            _draw_panel()
    busy = [r for r in mgr.active() if run is None or r.id != run.id]
    if busy:
        st.caption(f"{len(busy)} other run(s) active on this server; runs train one at a time on CPU "
                   f"(limit {mgr.max_concurrent}) and the rest wait in a queue.")


def _controls(r: Run, status: RunStatus) -> None:
    c1, c2, c3 = st.columns(3)
    if status == RunStatus.PAUSED:
        c1.button("Resume", on_click=r.resume, width="stretch", key="resume", icon=":material/play_arrow:")
    else:
        c1.button("Pause", on_click=r.pause, width="stretch", key="pause", icon=":material/pause:",
                  disabled=not status.can_pause)
    c2.button("Stop", on_click=r.stop, width="stretch", key="stop", icon=":material/stop:",
              disabled=not status.in_progress)
    c3.page_link("pages/compare.py", label="Compare", icon=":material/compare:")


with live_col:
    if run is None:
        st.info("No run yet: pick a generator and press **Start training**. Loss curves and samples appear "
                "here and update about once a second while it trains.")
    else:
        first = run.snapshot()
        st.markdown(f"**{get_generator(first.generator).label}** on **{first.dataset}** · `{first.run_id}`")
        run_ds = session.load_dataset(first.dataset) if first.dataset != ds.name else ds
        # once per page run, not on every poll of the fragment below
        bounds = data_bounds(run_ds.x) if run_ds.kind == "points" else None
        # a table is shown column by column against these real rows (its encoded features mean nothing)
        real_tab = real_rows(run_ds) if run_ds.kind == "tabular" else None
        closed = get_generator(first.generator).closed_form  # fitted in one step: no loss curve

        view_options = (views.available_views(get_generator(first.generator))
                        if run_ds.kind == "points" and run_ds.x.shape[1] == 2 else [])
        if view_options and st.session_state.get("train_view") not in view_options:
            st.session_state["train_view"] = views.SAMPLES

        def step_row(snap) -> None:
            """Step-by-step mode: single updates (D or G for GANs), ten whole steps, a speed limit."""
            # while it runs, a click pauses between whole steps: the next update is always D's
            nxt = run.next_update() if snap.status == RunStatus.PAUSED else None
            ready = run.model_ready
            next_what = nxt[0] if nxt else "discriminator"
            cols = st.columns([1, 1, 1, 3])
            if len(views.step_labels(get_generator(snap.generator))) == 2:
                cols[0].button("Step D", key="step_d", on_click=views.step_and_wait, args=(run, "update", 1),
                               disabled=not ready or next_what != "discriminator", width="stretch",
                               help="Pause and do one discriminator (critic) update.")
                cols[1].button("Step G", key="step_g", on_click=views.step_and_wait, args=(run, "update", 1),
                               disabled=not ready or next_what != "generator", width="stretch",
                               help="Pause and do the generator update that completes the step.")
            else:
                cols[0].button("Step", key="step_one", on_click=views.step_and_wait, args=(run, "update", 1),
                               disabled=not ready, width="stretch", help="Pause and do one training step.")
            cols[2].button("Step ×10", key="step_10", on_click=views.step_and_wait, args=(run, "step", 10),
                           disabled=not ready, width="stretch", help="Pause and do ten whole steps.")
            # the slider shows the run's real limit (widget state is dropped on a page switch, the run's is not)
            if st.session_state.get("train_speed") != views.speed_value(snap.max_steps_per_s):
                st.session_state["train_speed"] = views.speed_value(snap.max_steps_per_s)
            cols[3].select_slider("Speed (steps/s)", options=views.SPEEDS, key="train_speed",
                                  on_change=lambda: run.set_speed(views.speed_limit(st.session_state["train_speed"])),
                                  help="Slow training down to watch it learn; max = as fast as the machine goes.")
            notes = [t for t in (views.describe_update(snap.last_update), nxt[1] if nxt else None) if t]
            if notes:
                st.caption(" · ".join(notes))

        @st.fragment(run_every=1.0 if first.active else None)
        def live_view() -> None:
            snap = run.snapshot()
            if snap.active != first.active:
                st.rerun(scope="app")  # finished, stopped or failed: polling stops, the page shows the outcome
            # the buttons live in the fragment, so a pause, a resume or a step click redraws only this part:
            # no whole-app rerun in the middle of a click (one click is one update)
            _controls(run, snap.status)
            if snap.active:  # the worker writes where it trains (host, pid, Ray node) once it has started
                where_key = (run.id, snap.status)  # read status.json when the status moves, not on every poll
                if st.session_state.get("_where_key") != where_key:
                    placed = run.folder.read_status() or {}
                    st.session_state["_where"] = where_it_trains(placed)
                    # keep the reading only once the worker has written its host (it may not have yet)
                    st.session_state["_where_key"] = where_key if placed.get("host") else None
                st.caption(st.session_state["_where"])
            text = f"{STATUS_BADGE.get(snap.status, snap.status)} {format_progress(snap)}"
            st.progress(min(1.0, snap.step / max(snap.total, 1)), text=text)
            slow = slowdown_notice(snap, len([r for r in mgr.active() if r.id != run.id and r.status == RunStatus.RUNNING]),
                                   machine_load())
            if slow:
                st.warning(slow, icon=":material/speed:")
            if snap.active:
                step_row(snap)
            if snap.status == RunStatus.QUEUED:
                st.info(f"Waiting for a free training slot (position {snap.queue_position} in the queue).")
            elif snap.status == RunStatus.FAILED:
                st.error(f"The run failed: {snap.error}")
            elif snap.status == RunStatus.FINISHED:
                st.success("Training finished. Open **Compare** to see real vs synthetic side by side.")
            if view_options:
                view = st.segmented_control("View", view_options, key="train_view") or views.SAMPLES
            if run_ds.kind == "image":
                chart, samples = st.columns([1, 1])
            else:  # 2-D views need room: the view on top, the losses under it
                samples, chart = st.container(), st.container()
            with chart:
                st.markdown("**Fit**" if closed else "**Losses**")
                if closed:  # one closed-form step: nothing to plot over time, so the fit's result
                    st.caption("Fitted in one closed-form step" + "".join(f" · {k} = {v:.4g}" for k, v in
                                                                       snap.last_losses.items())
                               if snap.history["step"] else "Fitting...")
                elif snap.history["step"]:
                    # redrawn every second next to a training run: 600 points per curve are plenty for a
                    # chart this size and cost the server and the browser less (bench/overhead.py)
                    st.plotly_chart(loss_figure(snap.history, height=360 if run_ds.kind == "image" else 280,
                                                max_points=LIVE_CHART_POINTS),
                                    key="loss_chart", width="stretch")
                else:
                    st.caption("Waiting for the first step...")
            with samples:
                if run_ds.kind == "image" and snap.preview_png:
                    st.markdown(f"**Samples** · step {max(snap.preview_step, 0):,}")
                    st.image(snap.preview_png, caption="The same fixed noise every snapshot", width="stretch")
                elif real_tab is not None and snap.preview_points is not None:
                    st.markdown(f"**Columns: real vs synthetic** · step {max(snap.preview_step, 0):,}")
                    synth_tab = run_ds.decode(snap.preview_points, snap.preview_labels)
                    st.plotly_chart(column_marginals_figure(real_tab, synth_tab), key="table_marginals",
                                    width="stretch")
                    st.caption(f"Each column of the table: real rows (grey) and {len(synth_tab):,} synthetic rows "
                               f"from the live model (blue). Numbers: share of rows per bin; categories: share "
                               f"per level.")
                elif snap.preview_points is not None:
                    try:
                        shown = run.view(view if view_options else views.SAMPLES, run_ds.x[:2000],
                                         snap.preview_points, bounds, height=460)
                    except SynthLabError as exc:
                        st.error(str(exc))
                    else:
                        st.markdown(f"**{shown.name}** · step {max(snap.preview_step, 0):,}")
                        modes = coverage_note(snap.preview_points, run_ds.modes, snap.preview_step)
                        if modes and modes[1]:
                            st.warning(modes[0], icon=":material/warning:")
                        elif modes:
                            st.caption(modes[0])
                        st.plotly_chart(shown.figure, key="sample_scatter", width="stretch")
                        if shown.caption:
                            st.caption(shown.caption)
                        if shown.guide:
                            st.caption(shown.guide)
                else:
                    st.markdown("**Samples**")
                    st.caption("Samples appear after the first step.")

        live_view()
