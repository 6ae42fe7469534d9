"""Quality metrics: real vs synthetic.

``report(real, synth)`` runs every metric (fidelity, pair trends, Fréchet/MMD, PRDC, detection,
utility, privacy) and returns a :class:`Report`; ``evaluate_run(run_dir)`` does the same for a
trained run. ``mode_coverage`` is the toy-set mode metric used during training.
"""
from ._common import Score
from .modes import ModeCoverage, mode_coverage
from .report import GROUPS, INFO, Report, draw_for_report, evaluate_run, report

__all__ = ["GROUPS", "INFO", "ModeCoverage", "Report", "Score", "draw_for_report", "evaluate_run", "mode_coverage", "report"]
