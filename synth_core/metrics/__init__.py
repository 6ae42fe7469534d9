"""Quality metrics: real vs synthetic.

``report(real, synth)`` runs every metric stage (column shapes and pair trends of the decoded table,
Fréchet/MMD, PRDC, detection, utility, privacy) and returns a :class:`Report`. Evaluating a trained
*run* (drawing its samples, its holdout) is ``synth_core.train.evaluate``: metrics never import
train. ``mode_coverage`` is the toy-set mode metric used during training.
"""
from ._common import Progress, Score
from .modes import ModeCoverage, mode_coverage
from .report import GROUP_ORDER, GROUPS, INFO, WEIGHTS, Report, report

__all__ = ["GROUP_ORDER", "GROUPS", "INFO", "WEIGHTS", "ModeCoverage", "Progress", "Report", "Score", "mode_coverage",
           "report"]
