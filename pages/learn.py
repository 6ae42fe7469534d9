"""Learn page: each generator family in a few sentences, its objective in LaTeX, and "Try it" buttons
that open the Train page with that generator on a dataset that shows it off. Content: synth_core.learn."""
from __future__ import annotations

import streamlit as st

from synth_core.data import dataset_info
from synth_core.learn import demo_dataset, demo_params, family_generators, lessons
from synth_core.ui import session
from synth_core.ui.widgets import set_values

st.title("Learn")
st.caption("How each family of generators works, what it optimises, and what to watch while it trains. "
           "Press **Try it** to train one live.")

items = lessons()
tabs = st.tabs([lesson.title for lesson in items])
for tab, lesson in zip(tabs, items):
    with tab:
        st.subheader(lesson.heading)
        st.markdown(f"{lesson.what} {lesson.training}")
        st.markdown(f"**What to watch.** {lesson.watch}")
        st.markdown(f"**Typical failure.** {lesson.failure}")
        for formula in lesson.formulas:
            st.markdown(formula.caption)
            st.latex(formula.latex)
        gens = family_generators(lesson.family)
        if gens:
            st.markdown("**Generators in this family**")
        for gen in gens:
            ds_name = demo_dataset(gen)
            text, button = st.columns([5, 1], vertical_alignment="center")
            text.markdown(f"**{gen.label}** (`{gen.name}`) · {gen.paper}  \n"
                          f":gray[Try it on {dataset_info(ds_name).label}]")
            if button.button("Try it", key=f"try_{gen.name}", width="stretch",
                             help=f"Open the Train page with {gen.label} on {dataset_info(ds_name).label}"):
                if session.set_dataset(ds_name):  # shows why on failure and keeps the old dataset
                    st.session_state["train_gen"] = gen.name
                    # the Train page's selectbox must start from train_gen, not from a stale widget value
                    st.session_state.pop("train_gen_select", None)
                    set_values(gen.name, demo_params(gen))  # e.g. the VAE's 2-D latent for its latent map
                    st.switch_page("pages/train.py")
