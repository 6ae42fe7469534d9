"""Figures (plotly) and image grids. No Streamlit imports."""
