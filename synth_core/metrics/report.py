"""``report(real, synth)``: every metric, a 0-100 overall quality score, and the data for the plots.

The work is done by the stages in ``stages.py`` (each returns its scores, figures and notes); this
module prepares their inputs, runs them and aggregates. Each group score is the mean of its
metrics' 0-1 scores. The overall score (0-100) is the **weighted geometric mean** of the group
scores (each floored at 0.02), with weights that depend on what is being judged:

    =========  =====  ======  =====  ===========================================================
    group      table  points  image  metrics
    =========  =====  ======  =====  ===========================================================
    marginals  0.20   0.15    -      column shapes of the decoded table (mean and worst column)
    pairs      0.10   0.10    -      column pair trends (correlation / contingency similarity)
    distance   0.15   0.15    0.20   Fréchet distance, MMD (images: in the judge's features)
    fidelity   0.15   0.15    0.20   precision, density, (labels) judge confidence
    diversity  0.15   0.20    0.25   recall, coverage, (labels) class coverage and class balance
    detection  0.15   0.15    0.20   classifier two-sample test
    utility    0.10   0.10    0.15   TSTR / TRTR on the holdout (labels only)
    pixels     -      -       0      pixel-intensity histogram, mean image: shown, not counted
    privacy    0      0       0      near-copies, DCR against the holdout: its own score
    =========  =====  ======  =====  ===========================================================

Tables give the decoded column shapes the most weight (they are what a person checks column by
column; SDMetrics' QualityReport is only column shapes and pair trends), and the worst column counts
as much as the mean, so one wrong column shows in the overall score.

Tables (and 2-D points) are scored on the *decoded* table, the columns the user sees, as SDMetrics'
QualityReport does (``table.py``); the multivariate metrics use the mixed encoding of
``features.MixedEncoder``. Images lead with what judges images - the judge's feature space (Fréchet,
PRDC, detection), its confidence and class balance; pixel statistics reward blurry blobs and only
appear as a secondary group.

Why geometric: an arithmetic mean lets easy groups average away a failure - Gaussian noise keeps
decent marginals and would score ~40/100 - while a geometric mean makes a generator good on *every*
axis to score high (the floor keeps one zero from forcing the total to zero). Diversity gets the most
weight because mode collapse is the commonest failure of the generators SynthLab teaches. A group
with no applicable metric (no labels -> no utility) is dropped and the other weights renormalised.

Privacy (near-copies, DCR) is reported as its own 0-100 score and is **not** in the overall
quality: a generator that returns its training set is perfect on every quality metric and zero on
privacy, and folding the two together would hide exactly that.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..data.base import KINDS, Dataset
from ..errors import ConfigError, DataError
from . import features, fidelity, table, utility
from ._common import Progress, Score, one_thread, subsample, to_jsonable
from .catalog import GROUPS, INFO
from .judge import Judge, get_judge
from .render import to_html, to_text
from .stages import STAGES, Inputs

#: overall-score weight of each group, per data kind (groups left out weigh 0: shown, not counted)
WEIGHTS: dict[str, dict[str, float]] = {
    "tabular": {"marginals": 0.20, "pairs": 0.10, "fidelity": 0.15, "diversity": 0.15, "distance": 0.15,
                "detection": 0.15, "utility": 0.10},
    "points": {"marginals": 0.15, "pairs": 0.10, "fidelity": 0.15, "diversity": 0.20, "distance": 0.15,
               "detection": 0.15, "utility": 0.10},
    "image": {"distance": 0.20, "fidelity": 0.20, "diversity": 0.25, "detection": 0.20, "utility": 0.15},
}
#: the order groups are shown in: images lead with the judge-based groups
GROUP_ORDER: dict[str, list[str]] = {
    "image": ["distance", "fidelity", "diversity", "detection", "utility", "pixels", "privacy"],
    "tabular": ["marginals", "pairs", "fidelity", "diversity", "distance", "detection", "utility", "privacy"],
    "points": ["marginals", "pairs", "fidelity", "diversity", "distance", "detection", "utility", "privacy"],
}

GROUP_FLOOR = 0.02    # smallest group score the geometric mean sees
#: below this fidelity (0-100) a privacy score is flagged as uninformative (see privacy_caveat)
UNREALISTIC_FIDELITY = 50.0


@dataclass
class Report:
    """The result of :func:`report`. ``overall``, ``groups`` and ``privacy`` are 0-100."""

    kind: str
    dataset: str | None
    n_real: int
    n_synth: int
    feature_space: str
    scores: list[Score]
    groups: dict[str, float | None]
    overall: float
    privacy: float | None
    weights: dict[str, float]
    notes: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    #: the synthetic array that was scored (``figures["neighbours"]`` indexes it); not serialised
    samples: np.ndarray | None = field(default=None, repr=False, compare=False)

    def __getitem__(self, key: str) -> Score:
        for s in self.scores:
            if s.key == key:
                return s
        raise KeyError(key)

    def get(self, key: str) -> Score | None:
        try:
            return self[key]
        except KeyError:
            return None

    @property
    def group_order(self) -> list[str]:
        return list(GROUP_ORDER.get(self.kind, list(GROUPS)))

    @property
    def privacy_caveat(self) -> str | None:
        """Why the privacy score says little here (unrealistic samples), or None."""
        return self.meta.get("privacy_caveat")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types only (NaN/inf -> None, arrays -> lists)."""
        return to_jsonable({
            "kind": self.kind, "dataset": self.dataset, "n_real": self.n_real, "n_synth": self.n_synth,
            "feature_space": self.feature_space, "overall": self.overall, "privacy": self.privacy,
            "groups": self.groups, "weights": self.weights, "group_labels": dict(GROUPS),
            "group_order": self.group_order, "scores": [s.to_dict() for s in self.scores], "notes": self.notes,
            "figures": self.figures, "timings": self.timings, "meta": self.meta,
        })

    def to_text(self) -> str:
        """A terminal table: one row per metric, then the group scores and notes."""
        return to_text(self)

    def to_html(self) -> str:
        """A self-contained HTML page (inline CSS/SVG, every string escaped)."""
        return to_html(self)


def _categorical_columns(real: np.ndarray, kind: str, categorical: Sequence[int | str] | None,
                         names: list[str], meta: dict[str, Any]) -> set[int]:
    """Plain arrays: explicit list (indices or names) > ``meta["categorical"]`` > auto-detection for
    tabular data (a column whose real values are whole numbers with at most 20 levels)."""
    if categorical is None:
        categorical = meta.get("categorical")
    if categorical is not None:
        out = set()
        for c in categorical:
            if isinstance(c, str):
                if c not in names:
                    raise ConfigError(f"categorical column {c!r} is not one of the features: {', '.join(names)}")
                out.add(names.index(c))
            else:
                out.add(int(c))
        return out
    if kind != "tabular":
        return set()
    out = set()
    for j in range(real.shape[1]):
        col = real[:, j]
        if np.all(col == np.round(col)) and len(np.unique(col)) <= 20:
            out.add(j)
    return out


class _Progress:
    """Progress over a fixed list of stages (after an optional judge-training share), plus timings."""

    def __init__(self, progress: Progress | None, stages: list[str], judge_share: float) -> None:
        self.progress, self.stages, self.judge_share = progress, stages, judge_share
        self.timings: dict[str, float] = {}
        self._i = 0
        self._t = time.perf_counter()

    def start(self, name: str) -> None:
        if self.progress is not None:
            frac = self.judge_share + (1 - self.judge_share) * self._i / max(len(self.stages), 1)
            self.progress(name, min(frac, 1.0))

    def done(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round(now - self._t, 4)
        self._t = now
        self._i += 1

    def judge(self, stage: str, frac: float) -> None:
        if self.progress is not None:
            self.progress(stage, self.judge_share * frac)

    def finish(self) -> None:
        if self.progress is not None:
            self.progress("done", 1.0)


def _rows(x: Any, kind: str) -> np.ndarray:
    return np.asarray(x.x if isinstance(x, Dataset) else x, dtype=np.float32 if kind == "image" else np.float64)


def report(real: np.ndarray | Dataset, synth: np.ndarray, kind: str | None = None, *,
           labels: np.ndarray | None = None, synth_labels: np.ndarray | None = None,
           holdout: np.ndarray | Dataset | None = None, holdout_labels: np.ndarray | None = None,
           feature_names: list[str] | None = None, class_names: list[str] | None = None,
           categorical: Sequence[int | str] | None = None, dataset_name: str | None = None,
           judge: Judge | None = None, judge_epochs: int | None = None, cache_dir: str | Path | None = None,
           k: int = 5, max_n: int = 5000, seed: int = 0, tsne: bool = False,
           progress: Progress | None = None) -> Report:
    """Compare synthetic samples with real data; every score, an overall 0-100, and plot data.

    ``real``: the real rows the generator learned from, in model space (N x D, or N x C x H x W
    images in [-1, 1]) - or a :class:`Dataset`, which supplies ``kind``, ``labels``, names, the decoder
    (tables are scored decoded) and the judge's cache key. ``synth``: generated samples in the same
    layout. ``labels``: real class labels (enable the judge classifier, utility and class metrics).
    ``synth_labels``: the labels a conditional generator was asked for (else synthetic samples are
    labelled by a real-trained classifier, and the report says so). ``holdout`` (+ ``holdout_labels``,
    taken from a Dataset): real rows the generator never saw - TSTR is tested on them and they are the
    privacy baseline; without them both fall back to the training rows, said in the notes.
    ``judge``: a ready image judge (else trained on ``real`` or loaded from the cache). ``max_n``: rows
    per set used by the multivariate metrics (a random subset, fixed by ``seed``). ``tsne``: also embed
    both sets with t-SNE. ``progress(stage, fraction)`` is called as the report goes.
    """
    t_start = time.perf_counter()
    meta: dict[str, Any] = {}
    given = synth
    ds: Dataset | None = real if isinstance(real, Dataset) else None
    if ds is not None:
        kind = kind or ds.kind
        labels = ds.y if labels is None else labels
        feature_names = feature_names or ds.feature_names
        class_names = class_names or ds.classes
        dataset_name = dataset_name or ds.name
        # dataset facts, minus bulky encoder state (a 500-column upload would bloat every report)
        meta.update({k_: v for k_, v in ds.meta.items() if k_ not in ("encoder", "schema", "spans")})
    if kind not in KINDS:
        raise ConfigError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
    if isinstance(holdout, Dataset):
        holdout_labels = holdout.y if holdout_labels is None else holdout_labels
    train = _rows(real, kind)
    sample_shape = train.shape[1:]
    synth = np.asarray(synth, dtype=train.dtype)
    if synth.size and synth.reshape(len(synth), -1).shape[1] != int(np.prod(sample_shape)):
        raise DataError(f"synthetic samples have shape {synth.shape[1:]} but real samples have {sample_shape}.")
    synth = synth.reshape((len(synth), *sample_shape))
    hold = None if holdout is None else _rows(holdout, kind).reshape((-1, *sample_shape))
    if hold is not None and not len(hold):
        hold = None
    if len(train) < 10:
        raise DataError(f"Need at least 10 real samples to compare against; got {len(train)}.")
    notes: list[str] = []
    finite = np.isfinite(synth.reshape(len(synth), -1)).all(1)
    if not finite.all():
        notes.append(f"{int((~finite).sum()):,} of {len(synth):,} synthetic samples contained NaN/inf "
                     f"and were left out (the generator may have diverged).")
    synth_orig_idx = np.flatnonzero(finite)
    synth = synth[finite]
    if synth_labels is not None:
        synth_labels = np.asarray(synth_labels, dtype=np.int64)[finite]
    if len(synth) < 10:
        raise DataError(f"Need at least 10 finite synthetic samples; got {len(synth)}.")
    if labels is not None:
        labels = np.asarray(labels, dtype=np.int64)
        if len(labels) != len(train):
            raise DataError("labels must have one entry per real sample.")
    if hold is not None and holdout_labels is not None:
        holdout_labels = np.asarray(holdout_labels, dtype=np.int64)
    elif hold is not None and labels is not None:
        hold = None  # a holdout without labels cannot test TSTR; privacy alone would mix baselines
        notes.append("The holdout rows came without labels and were not used.")
    n_classes = (len(class_names) if class_names else int(labels.max()) + 1) if labels is not None else 0

    rng = np.random.default_rng(seed)
    r_idx = subsample(len(train), max_n, rng)
    s_idx = subsample(len(synth), max_n, rng)
    real_s, synth_s = train[r_idx], synth[s_idx]
    labels_s = labels[r_idx] if labels is not None else None
    synth_labels_s = synth_labels[s_idx] if synth_labels is not None else None

    # ---- image judge: cached per dataset, trained here on first use --------------------------------
    names = [st_[0] for st_ in STAGES if kind in st_[2]]
    need_judge = kind == "image" and judge is None
    pg = _Progress(progress, ["features", *names], 0.5 if need_judge else 0.0)
    if need_judge:
        t0 = time.perf_counter()
        pg.judge("loading judge", 0.0)
        judge = get_judge(train, labels, name=dataset_name or "data", n_classes=n_classes or None,
                          cache_root=cache_dir, epochs=judge_epochs, seed=seed, progress=pg.judge)
        pg.timings["judge"] = round(time.perf_counter() - t0, 4)
        pg._t = time.perf_counter()
    if judge is not None:
        meta["judge"] = {"kind": judge.kind, "accuracy": judge.accuracy, "heldout_mse": judge.heldout_mse,
                         "n_train": judge.n_train, "from_cache": judge.from_cache,
                         "train_seconds": judge.train_seconds, "path": str(judge.path) if judge.path else None}

    # ---- inputs: the feature space (and, for tables, the decoded tables) ---------------------------
    pg.start("features")
    inp = Inputs(kind=kind, real=real_s, synth=synth_s, train=train, holdout=hold, labels=labels_s,
                 holdout_labels=holdout_labels if hold is not None else None, synth_labels=synth_labels_s,
                 s_idx=s_idx, synth_orig_idx=synth_orig_idx, fs=None,  # type: ignore[arg-type]
                 seed=seed, k=k, judge=judge, n_classes=n_classes, class_names=class_names, meta=meta, tsne=tsne,
                 modes=ds.modes if ds is not None else None)
    if kind == "image":
        assert judge is not None
        inp.fs = features.judge_space(real_s, synth_s, judge)
    else:
        _prepare_table(inp, ds, labels, feature_names, categorical)
    pg.done("features")

    # ---- the stages ----------------------------------------------------------------------------------
    scores: list[Score] = []
    figures: dict[str, Any] = {}
    for name, fn, kinds in STAGES:
        if kind not in kinds:
            continue
        pg.start(name)
        res = fn(inp)
        scores += res.scores
        figures.update(res.figures)
        notes += res.notes
        pg.done(name)

    groups, overall, privacy_score, weights = _aggregate(scores, kind)
    fid = groups.get("fidelity")
    if privacy_score is not None and "privacy_caveat" not in meta and fid is not None and fid < UNREALISTIC_FIDELITY:
        # blurry blobs sit at ordinary distances from the training images (averages are close to
        # everything in pixel space), so DCR alone calls them private: say why that means nothing yet
        meta["privacy_caveat"] = (f"Privacy is uninformative here: the samples do not look like real data yet "
                                  f"(fidelity {fid:.0f}/100), so there is nothing to leak. It becomes "
                                  f"informative once quality is high.")
        notes.append(meta["privacy_caveat"])
    meta.update({"seed": seed, "max_n": max_n, "holdout": None if hold is None else int(len(hold)),
                 "categorical": sorted(str(c) for c, v in inp.kinds.items() if v in table.DISCRETE_KINDS)})
    pg.timings["total"] = round(time.perf_counter() - t_start, 4)
    pg.finish()
    return Report(kind=kind, dataset=dataset_name, n_real=len(real_s), n_synth=len(synth_s),
                  feature_space=inp.fs.description, scores=scores, groups=groups, overall=overall,
                  privacy=privacy_score, weights=weights, notes=notes, figures=figures, timings=pg.timings,
                  meta=meta, samples=given)


def _prepare_table(inp: Inputs, ds: Dataset | None, labels: np.ndarray | None, feature_names: list[str] | None,
                   categorical: Sequence[int | str] | None) -> None:
    """Decoded tables, column kinds, the mixed encoding and (labelled tables without synthetic labels)
    the label column of the synthetic rows, filled in by a classifier trained on the real rows."""
    schema = ds.schema if ds is not None else None  # a table read from a file knows its columns
    if schema is not None:
        decode = lambda x, y: ds.decode(x, y)  # type: ignore[union-attr]  # noqa: E731
        inp.label_column = schema.label if labels is not None else None
        kinds = {c.name: table.kind_of_type(c.type) for c in schema.included}
    else:
        d = inp.real.shape[1]
        names = list(feature_names) if feature_names and len(feature_names) == d else [f"x{i}" for i in range(d)]
        cat = _categorical_columns(inp.real, inp.kind, categorical, names, inp.meta)
        levels = {j: np.unique(inp.real[:, j]) for j in cat}

        def decode(x: np.ndarray, _y: Any) -> pd.DataFrame:
            x = np.array(x, dtype=np.float64)
            for j, lv in levels.items():  # a continuous generator's 0.93 for level 1 decodes to 1
                x[:, j] = fidelity.snap_to_levels(x[:, j], lv)
            return pd.DataFrame(x, columns=names)

        kinds = {n: ("categorical" if j in cat else "numerical") for j, n in enumerate(names)}
    with_y = inp.label_column is not None
    inp.real_df = decode(inp.real, inp.labels if with_y else None)
    inp.train_df = decode(inp.train, labels if with_y else None)
    if inp.holdout is not None:
        inp.holdout_df = decode(inp.holdout, inp.holdout_labels if with_y else None)
    if with_y and inp.synth_labels is None:
        feats = [c for c in inp.real_df.columns if c != inp.label_column]
        enc = features.MixedEncoder({c: kinds[c] for c in feats}).fit(inp.real_df[feats])
        x_syn = enc.transform(decode(inp.synth, None)[feats])
        with one_thread():
            clf = utility.fit(enc.transform(inp.real_df[feats]), inp.labels, "hgb", inp.seed)
        inp.synth_labels = np.asarray(clf.predict(x_syn), dtype=np.int64)
        inp.labeller = "a gradient-boosting classifier trained on the real rows"
    inp.synth_df = decode(inp.synth, inp.synth_labels if with_y else None)
    inp.kinds = {c: kinds.get(c) or table.column_kind(inp.real_df[c]) for c in inp.real_df.columns}
    # fitted on every training row: privacy compares against all of them
    inp.fs, inp.encoder = features.mixed_space(inp.real_df, inp.synth_df, inp.kinds, fit_on=inp.train_df)


def _aggregate(scores: list[Score], kind: str) -> tuple[dict[str, float | None], float, float | None, dict[str, float]]:
    """Group means (0-100), the weighted overall quality and the separate privacy score."""
    groups: dict[str, float | None] = {}
    for g in GROUP_ORDER.get(kind, list(GROUPS)):
        vals = [s.score for s in scores if s.group == g and s.score is not None]
        groups[g] = round(100.0 * float(np.mean(vals)), 2) if vals else None
    present = {g: w for g, w in WEIGHTS[kind].items() if w > 0 and groups.get(g) is not None}
    total = sum(present.values())
    weights = {g: round(w / total, 4) for g, w in present.items()}
    # weighted geometric mean in 0-1 units, floored per group (see the module docstring)
    log_mean = sum(w * math.log(max(groups[g] / 100.0, GROUP_FLOOR)) for g, w in weights.items())  # type: ignore[operator]
    overall = round(100.0 * math.exp(log_mean), 2) if weights else 0.0
    return groups, overall, groups.get("privacy"), weights


__all__ = ["GROUPS", "GROUP_ORDER", "INFO", "WEIGHTS", "Report", "report"]
