"""Evaluate a trained run: the one path every front end uses (the Compare page, the Runs page's
"Compute missing reports" and ``synthlab evaluate``), so one run and one seed give one set of numbers
wherever they are computed, and they land in one comparison table.

The steps: rebuild the run's seeded train/holdout split from its config, draw
:func:`eval_sample_size` synthetic samples (the one sample-size rule, shown in the report), score
them with :func:`synth_core.metrics.report` against the training rows (TSTR tested on the holdout,
privacy against the holdout baseline), record the run facts in ``report.meta`` and save
``report.json`` beside the run.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..data import Dataset, load_dataset
from ..errors import ConfigError
from ..metrics import Progress, Report, report
from . import store
from .reports import save_report
from .export import LabelledSampler, draw_labelled
from .run import RunConfig, load_generator

EVAL_MIN_SAMPLES = 500
EVAL_MAX_SAMPLES = 5000
SAMPLE_RULE = (f"as many synthetic samples as the run has training rows, at least {EVAL_MIN_SAMPLES:,} "
               f"and at most {EVAL_MAX_SAMPLES:,}")


def eval_sample_size(n_train: int) -> int:
    """How many synthetic samples a run's report scores (see :data:`SAMPLE_RULE`)."""
    return int(min(max(int(n_train), EVAL_MIN_SAMPLES), EVAL_MAX_SAMPLES))


class LoadedModel(LabelledSampler, Protocol):
    """An already-loaded model to score (the Compare page's live or checkpointed model): it samples
    with labels and knows its step."""

    step: int


def draw_for_report(source: LabelledSampler, n: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray | None]:
    """``n`` samples and their label codes (or None) for a report, through the one sampling path
    (:func:`~synth_core.train.export.draw_labelled`): a generator, a live Run or a page's model. The
    model gives the labels (a table's label column, a conditional model's classes in the training
    rows' proportions)."""
    if n < 10:
        raise ConfigError("evaluate at least 10 samples")
    return draw_labelled(source, n, seed=seed + 1)


def run_config(run_dir: Path | str) -> RunConfig:
    """The run's stored config (a config from before holdouts reads as holdout 0)."""
    return RunConfig.from_dict(store.read_json(Path(run_dir) / "config.json"))


def evaluate_run(run_dir: Path | str, *, seed: int = 0, model: LoadedModel | None = None, device: str = "cpu",
                 progress: Progress | None = None, tsne: bool = False, save: bool = True,
                 **kwargs: Any) -> Report:
    """Score a trained run and (``save``) write ``report.json`` beside it.

    ``model``: an already-loaded model to sample from instead of the checkpoint - anything with
    ``sample_with_labels(n, condition=, seed=)`` and ``step`` (the Compare page passes a live run's
    model). Extra keyword arguments go to :func:`synth_core.metrics.report`.
    """
    run_dir = Path(run_dir)
    if model is None:
        gen, config, dataset = load_generator(run_dir, device=device)
        source, step = gen, gen.step_
    else:
        config = run_config(run_dir)
        dataset = load_dataset(config.dataset)
        source, step = model, int(model.step)
    train, holdout = config.split(dataset)
    n = eval_sample_size(len(train))
    synth, synth_labels = draw_for_report(source, n, seed=seed)
    rep = report(train, synth, synth_labels=synth_labels, holdout=holdout, seed=seed, tsne=tsne,
                 progress=progress, **kwargs)
    rep.meta.update({"run_id": run_dir.name, "generator": config.generator, "step": step, "n_sampled": n,
                     "sample_rule": SAMPLE_RULE, "holdout_fraction": config.holdout or 0.0,
                     "n_train": len(train), "n_holdout": 0 if holdout is None else len(holdout)})
    lead = [f"Scored {n:,} synthetic samples ({SAMPLE_RULE}; sampling seed {seed}) against the run's "
            f"{len(train):,} training rows."]
    if holdout is None:
        lead.append("No holdout: scored on training data (this run kept no real rows back - it predates "
                    "holdouts, its dataset is small, or it was trained with holdout 0).")
    else:
        lead.append(f"Holdout: {len(holdout):,} real rows ({config.holdout:.0%}, split seed {config.holdout_seed}) "
                    f"the generator never saw.")
    rep.notes[:0] = lead
    if save:
        save_report(run_dir, rep)  # the Runs page's comparison table shows it from now on
    return rep


__all__ = ["EVAL_MAX_SAMPLES", "EVAL_MIN_SAMPLES", "SAMPLE_RULE", "draw_for_report", "eval_sample_size",
           "evaluate_run", "run_config"]
