"""Quality metrics: real vs synthetic."""
from .modes import ModeCoverage, mode_coverage

__all__ = ["ModeCoverage", "mode_coverage"]
