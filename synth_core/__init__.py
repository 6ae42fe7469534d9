"""SynthLab core: datasets, generators, the training runner, metrics and figures.

Importable without Streamlit; the app (``app.py`` + ``pages/``) and the CLI are thin front ends.
"""
from .errors import ConfigError, DataError, DataUnavailableError, RunNotFoundError, SynthLabError, TrainingError

__version__ = "0.1.0"
__all__ = ["ConfigError", "DataError", "DataUnavailableError", "RunNotFoundError", "SynthLabError",
           "TrainingError", "__version__"]
