"""Train page: pick a generator, tune it, start it, and watch it learn live.

The training loop runs in a background worker owned by the process-wide JobManager; this page
only starts/pauses/stops it and polls a snapshot about once a second (``st.fragment(run_every)``).
"""
from __future__ import annotations

import streamlit as st

from synth_core.data import dataset_info
from synth_core.errors import SynthLabError
from synth_core.generators import get_generator, list_generators
from synth_core.params import Param
from synth_core.train import Run, RunConfig
from synth_core.ui import session
from synth_core.ui.widgets import param_form, param_widget, reset_params
from synth_core.viz.figures import loss_figure, scatter_figure
from synth_core.viz.grid import data_bounds
from synth_core.viz.text import format_seconds

STATUS_BADGE = {"queued": ":orange-badge[queued]", "running": ":blue-badge[running]",
                "paused": ":violet-badge[paused]", "finished": ":green-badge[finished]",
                "stopped": ":gray-badge[stopped]", "failed": ":red-badge[failed]", "created": ":gray-badge[starting]"}


st.title("Train")
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

controls, live_col = st.columns([2, 3], gap="large")

with controls:
    st.markdown(f"Data: **{dataset_info(ds.name).label}** · {len(ds):,} samples "
                f"<span style='color:gray'>(change it on the Data page)</span>", unsafe_allow_html=True)
    gen_name = st.selectbox("Generator", gen_names, index=gen_names.index(gen_name), key="train_gen_select",
                            format_func=lambda n: f"{get_generator(n).label}  ·  {get_generator(n).family}")
    st.session_state["train_gen"] = gen_name
    gen_cls = get_generator(gen_name)
    st.caption(gen_cls.summary())

    run_params = (
        Param("steps", "int", gen_cls.default_steps, low=1, high=1_000_000,
              help="Generator updates to run (closed-form models need 1)."),
        Param("seed", "int", 0, low=0, high=2**31 - 1, help="Same seed + same config -> same result on CPU."),
    )
    c1, c2 = st.columns(2)
    steps = param_widget(run_params[0], f"run/{gen_name}", c1)
    seed = param_widget(run_params[1], f"run/{gen_name}", c2)
    st.markdown("**Hyperparameters**")
    values = param_form(gen_cls.params, gen_name)

    b1, b2 = st.columns([3, 2])
    start = b1.button("Start training", type="primary", width="stretch", key="start")
    if b2.button("Reset defaults", width="stretch", key="reset"):
        reset_params(gen_name)
        reset_params(f"run/{gen_name}")
        st.rerun()
    if start:
        try:
            new = mgr.submit(RunConfig(dataset=ds.name, generator=gen_name, params=values, steps=int(steps),
                                       seed=int(seed)))
        except SynthLabError as exc:
            st.error(str(exc))
        else:
            session.follow(new)
            run = new
    busy = [r for r in mgr.active() if run is None or r.id != run.id]
    if busy:
        st.caption(f"{len(busy)} other run(s) active on this server; runs train one at a time on CPU "
                   f"(limit {mgr.max_concurrent}) and the rest wait in a queue.")


def _controls(r: Run, status: str) -> None:
    c1, c2, c3 = st.columns(3)
    if status == "paused":
        c1.button("Resume", on_click=r.resume, width="stretch", key="resume", icon=":material/play_arrow:")
    else:
        c1.button("Pause", on_click=r.pause, width="stretch", key="pause", icon=":material/pause:",
                  disabled=status not in ("running", "queued"))
    c2.button("Stop", on_click=r.stop, width="stretch", key="stop", icon=":material/stop:",
              disabled=status not in ("running", "paused", "queued"))
    c3.page_link("pages/compare.py", label="Compare", icon=":material/compare:")


with live_col:
    if run is None:
        st.info("No run yet: pick a generator and press **Start training**. Loss curves and samples appear "
                "here and update about once a second while it trains.")
    else:
        first = run.snapshot()
        st.markdown(f"**{get_generator(first.generator).label}** on **{first.dataset}** · `{first.run_id}`")
        _controls(run, first.status)
        run_ds = session.load_dataset(first.dataset) if first.dataset != ds.name else ds
        # once per page run, not on every poll of the fragment below
        bounds = data_bounds(run_ds.x) if run_ds.kind != "image" else None

        @st.fragment(run_every=1.0 if first.active else None)
        def live_view() -> None:
            snap = run.snapshot()
            if snap.status != first.status:
                st.rerun(scope="app")  # buttons and polling follow the new status
            rate = f"{snap.steps_per_s:.1f} steps/s" if snap.steps_per_s else ""
            text = f"{STATUS_BADGE.get(snap.status, snap.status)} step {snap.step:,} / {snap.total:,}"
            if snap.status == "running":
                text += f" · {rate} · ETA {format_seconds(snap.eta_s)}"
            text += f" · {format_seconds(snap.elapsed_s)} trained"
            st.progress(min(1.0, snap.step / max(snap.total, 1)), text=text)
            if snap.status == "queued":
                st.info(f"Waiting for a free training slot (position {snap.queue_position} in the queue).")
            elif snap.status == "failed":
                st.error(f"The run failed: {snap.error}")
            elif snap.status == "finished":
                st.success("Training finished. Open **Compare** to see real vs synthetic side by side.")
            chart, samples = st.columns([1, 1])
            with chart:
                st.markdown("**Losses**")
                if snap.history["step"]:
                    st.plotly_chart(loss_figure(snap.history, height=360), key="loss_chart", width="stretch")
                else:
                    st.caption("Waiting for the first step...")
            with samples:
                st.markdown(f"**Samples** · step {max(snap.preview_step, 0):,}")
                if run_ds.kind == "image" and snap.preview_png:
                    st.image(snap.preview_png, caption="The same fixed noise every snapshot", width="stretch")
                elif snap.preview_points is not None:
                    st.plotly_chart(scatter_figure(run_ds.x[:2000], snap.preview_points, height=360,
                                                   bounds=bounds),
                                    key="sample_scatter", width="stretch")
                else:
                    st.caption("Samples appear after the first step.")

        live_view()
