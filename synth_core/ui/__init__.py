"""Streamlit helpers shared by the pages. The only part of synth_core that imports Streamlit;
nothing else in synth_core imports this package."""
