"""``report(real, synth)``: every metric, a 0-100 overall quality score, and the data for the plots.

Each group score is the mean of its metrics' 0-1 scores. The overall score (0-100) is the
**weighted geometric mean** of the group scores (each floored at 0.02):

    ===============  ======  ==================================================================
    group            weight  metrics
    ===============  ======  ==================================================================
    marginals        0.15    KS / TV complement, Wasserstein-1, (images) pixel-intensity TV
    pairs            0.10    correlation similarity, contingency similarity
    fidelity         0.15    precision, density, (labels) judge confidence
    diversity        0.20    recall, coverage, (labels) class coverage
    distance         0.15    Fréchet distance, MMD
    detection        0.15    classifier two-sample test
    utility          0.10    TSTR / TRTR (labels only)
    ===============  ======  ==================================================================

Why geometric: an arithmetic mean lets easy groups average away a failure - Gaussian noise keeps
decent marginals and pair trends and would score ~40/100 - while a geometric mean makes a
generator good on *every* axis to score high (the floor keeps one zero from forcing the total to
zero). Why these weights: diversity gets the most because mode collapse is the commonest failure
of the generators SynthLab teaches and the metrics that catch it (recall, coverage, class
coverage) are otherwise outvoted by fidelity metrics that a collapsed generator aces; marginals
and pairs together (0.25) follow SDMetrics' quality report. A group with no applicable metric
(no labels -> no utility) is dropped and the remaining weights are renormalised.

Privacy (near-copies, DCR) is reported as its own 0-100 score and is **not** in the overall
quality: a generator that returns its training set is perfect on every quality metric and zero on
privacy, and folding the two together would hide exactly that.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..data.base import KINDS, Dataset
from ..errors import ConfigError, DataError
from . import dependence, detection, distance, features, fidelity, prdc as prdc_mod, privacy, utility
from .modes import mode_coverage
from ._common import (Progress, Score, as_2d, clip01, knn_distances, one_thread, standardizer, subsample,
                      to_jsonable)
from .judge import Judge, get_judge

GROUPS: dict[str, tuple[str, float]] = {
    "marginals": ("Column shapes", 0.15),
    "pairs": ("Pair trends", 0.10),
    "fidelity": ("Fidelity", 0.15),
    "diversity": ("Diversity", 0.20),
    "distance": ("Distribution distance", 0.15),
    "detection": ("Detection", 0.15),
    "utility": ("Utility", 0.10),
    "privacy": ("Privacy (not in overall)", 0.0),
}

INFO: dict[str, tuple[str, str, str]] = {
    **fidelity.INFO, **dependence.INFO, **distance.INFO, **prdc_mod.INFO, **detection.INFO,
    **utility.INFO, **privacy.INFO, **features.INFO,
    "modes_covered": (
        "Modes covered",
        "Share of the mixture's modes that receive at least a quarter of their fair share of the synthetic "
        "samples lying within 3 standard deviations of a mode (toy mixtures with known modes only).",
        "Srivastava et al. 2017 (VEEGAN); Metz et al. 2017 (Unrolled GANs)."),
    "high_quality": (
        "High-quality samples",
        "Share of synthetic samples within 3 standard deviations of their nearest mode, relative to the "
        "same share for real samples (toy mixtures with known modes only).",
        "Srivastava et al. 2017 (VEEGAN); Metz et al. 2017 (Unrolled GANs)."),
}

GROUP_FLOOR = 0.02    # smallest group score the geometric mean sees
N_NEIGHBOURS = 8      # synthetic samples shown with their nearest real record (random + closest)
N_PCA_POINTS = 1000   # per set in the 2-D PCA scatter
MAX_MMD = 2000        # MMD builds dense kernel matrices: cap the rows per set


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

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types only (NaN/inf -> None, arrays -> lists)."""
        return to_jsonable({
            "kind": self.kind, "dataset": self.dataset, "n_real": self.n_real, "n_synth": self.n_synth,
            "feature_space": self.feature_space, "overall": self.overall, "privacy": self.privacy,
            "groups": self.groups, "weights": self.weights,
            "group_labels": {g: GROUPS[g][0] for g in GROUPS},
            "scores": [s.to_dict() for s in self.scores], "notes": self.notes,
            "figures": self.figures, "timings": self.timings, "meta": self.meta,
        })

    def to_text(self) -> str:
        """A terminal table: one row per metric, then the group scores and notes."""
        from .render import to_text

        return to_text(self)

    def to_html(self) -> str:
        """A self-contained HTML page (inline CSS/SVG, every string escaped)."""
        from .render import to_html

        return to_html(self)


def _score(key: str, group: str, value: float, score: float | None, *, higher_is_better: bool = True,
           **details: Any) -> Score:
    name, definition, reference = INFO[key]
    return Score(key, name, group, float(value), None if score is None else clip01(score), definition, reference,
                 higher_is_better, details)


def _categorical_columns(real: np.ndarray, kind: str, categorical: Sequence[int | str] | None,
                         names: list[str], meta: dict[str, Any]) -> set[int]:
    """Explicit list (indices or names) > ``dataset.meta["categorical"]`` > auto-detection for
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


class _Stages:
    """Progress over a fixed list of stages, plus per-stage timings."""

    def __init__(self, progress: Progress | None, stages: list[str], judge_share: float) -> None:
        self.progress = progress
        self.stages = stages
        self.judge_share = judge_share
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


def report(real: np.ndarray | Dataset, synth: np.ndarray, kind: str | None = None, *,
           labels: np.ndarray | None = None, synth_labels: np.ndarray | None = None,
           holdout: np.ndarray | None = None, feature_names: list[str] | None = None,
           class_names: list[str] | None = None, categorical: Sequence[int | str] | None = None,
           dataset_name: str | None = None, judge: Judge | None = None, judge_epochs: int | None = None,
           cache_dir: str | Path | None = None, k: int = 5, max_n: int = 5000, seed: int = 0,
           tsne: bool = False, progress: Progress | None = None) -> Report:
    """Compare synthetic samples with real data; every score, an overall 0-100, and plot data.

    ``real``: real samples in model space (N x D, or N x C x H x W images in [-1, 1]) - or a
    :class:`Dataset`, which supplies ``kind``, ``labels``, names and the judge's cache key.
    ``synth``: generated samples in the same layout. ``labels``: real class labels (enable the
    judge classifier, utility and class coverage). ``synth_labels``: the labels a conditional
    generator was asked for (else synthetic samples are labelled by a real-trained classifier).
    ``holdout``: real samples the generator never saw (privacy baseline; else leave-one-out).
    ``judge``: a ready image judge (else trained on ``real`` or loaded from the cache).
    ``max_n``: rows per set used by the multivariate metrics (a random subset, fixed by ``seed``).
    ``tsne``: also embed both sets with t-SNE (van der Maaten & Hinton 2008; slower than PCA).
    ``progress(stage, fraction)`` is called as the report goes.
    """
    t_start = time.perf_counter()
    meta: dict[str, Any] = {}
    if isinstance(real, Dataset):
        ds = real
        kind = kind or ds.kind
        labels = ds.y if labels is None else labels
        feature_names = feature_names or ds.feature_names
        class_names = class_names or ds.classes
        dataset_name = dataset_name or ds.name
        # dataset facts, minus bulky encoder state (a 500-column upload would bloat every report)
        meta.update({k: v for k, v in ds.meta.items() if k not in ('encoder', 'schema', 'spans')})
        real = ds.x
    if kind not in KINDS:
        raise ConfigError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
    real = np.asarray(real, dtype=np.float32 if kind == "image" else np.float64)
    sample_shape = real.shape[1:]
    synth = np.asarray(synth, dtype=real.dtype)
    if synth.size and synth.reshape(len(synth), -1).shape[1] != int(np.prod(sample_shape)):
        raise DataError(f"synthetic samples have shape {synth.shape[1:]} but real samples have {sample_shape}.")
    synth = synth.reshape((len(synth), *sample_shape))
    if len(real) < 10:
        raise DataError(f"Need at least 10 real samples to compare against; got {len(real)}.")
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
        if len(labels) != len(real):
            raise DataError("labels must have one entry per real sample.")
    n_classes = (len(class_names) if class_names else int(labels.max()) + 1) if labels is not None else 0

    rng = np.random.default_rng(seed)
    r_idx = subsample(len(real), max_n, rng)
    s_idx = subsample(len(synth), max_n, rng)
    real_s, synth_s = real[r_idx], synth[s_idx]
    labels_s = labels[r_idx] if labels is not None else None

    # ---- (0) image judge: cached per dataset, trained here on first use ------------------------
    need_judge = kind == "image" and judge is None
    stage_names = ["features", "marginals", "pairs", "distance", "prdc", "detection", "utility", "privacy", "figures"]
    st = _Stages(progress, stage_names, 0.5 if need_judge else 0.0)
    if need_judge:
        t0 = time.perf_counter()
        st.judge("loading judge", 0.0)
        judge = get_judge(real, labels, name=dataset_name or "data", n_classes=n_classes or None,
                          cache_root=cache_dir, epochs=judge_epochs, seed=seed, progress=st.judge)
        st.timings["judge"] = round(time.perf_counter() - t0, 4)
        st._t = time.perf_counter()
    if judge is not None:
        meta["judge"] = {"kind": judge.kind, "accuracy": judge.accuracy, "heldout_mse": judge.heldout_mse,
                         "n_train": judge.n_train, "from_cache": judge.from_cache,
                         "train_seconds": judge.train_seconds, "path": str(judge.path) if judge.path else None}

    # ---- (1) feature space -----------------------------------------------------------------------
    st.start("features")
    if kind == "image":
        assert judge is not None
        fs = features.judge_space(real_s, synth_s, judge)
    else:
        fs = features.tabular_space(real_s, synth_s, feature_names)
    names = fs.feature_names if kind == "image" else (list(feature_names) if feature_names else fs.feature_names)
    st.done("features")

    scores: list[Score] = []
    figures: dict[str, Any] = {"feature_names": names[:64]}

    # ---- (2) marginals: column shapes on raw features (images: judge features + pixel intensities)
    st.start("marginals")
    cols_r = fs.real if kind == "image" else as_2d(real_s)
    cols_s = fs.synth if kind == "image" else as_2d(synth_s)
    cat = _categorical_columns(cols_r, kind, categorical, names, meta) if kind != "image" else set()
    shapes = fidelity.column_shapes(cols_r, cols_s, cat)
    num = ~shapes["is_categorical"]
    if num.any():
        ks = shapes["shape"][num]
        scores.append(_score("ks_complement", "marginals", ks.mean(), ks.mean(), per_feature=ks, worst=float(ks.min())))
        wd = shapes["wasserstein"][num]
        scores.append(_score("wasserstein", "marginals", wd.mean(), float(np.exp(-wd).mean()),
                             higher_is_better=False, per_feature=wd))
    if (~num).any():
        tv = shapes["shape"][~num]
        scores.append(_score("tv_complement", "marginals", tv.mean(), tv.mean(), per_feature=tv))
    figures["per_feature"] = [
        {"feature": names[j], "categorical": bool(shapes["is_categorical"][j]), "shape_score": shapes["shape"][j],
         "wasserstein": shapes["wasserstein"][j]} for j in range(len(names))][:64]
    if kind == "image":
        tv_px, pix_hist = fidelity.intensity_tv_complement(real_s, synth_s)
        scores.append(_score("intensity_tv_complement", "marginals", tv_px, tv_px))
        figures["pixel_histogram"] = pix_hist
        figures["mean_image"] = {"real": real_s.mean(0)[0].round(4), "synth": synth_s.mean(0)[0].round(4)}
    else:
        figures["histograms"] = {names[j]: fidelity.histogram(cols_r[:, j], cols_s[:, j], categorical=j in cat)
                                 for j in range(min(len(names), 12))}
    st.done("marginals")

    # ---- (3) pair trends -------------------------------------------------------------------------
    st.start("pairs")
    numeric = [j for j in range(cols_r.shape[1]) if j not in cat]
    corr, mats = dependence.correlation_similarity(cols_r, cols_s, numeric)
    if corr is not None:
        scores.append(_score("correlation_similarity", "pairs", corr, corr))
        m = min(len(numeric), 20 if kind != "image" else 16)
        figures["correlation"] = {"features": [names[j] for j in numeric[:m]],
                                  "real": mats["real"][:m, :m].round(4), "synth": mats["synth"][:m, :m].round(4)}
    cont = dependence.contingency_similarity(cols_r, cols_s, cat)
    if cont is not None:
        scores.append(_score("contingency_similarity", "pairs", cont, cont))
    st.done("pairs")

    # ---- (4) distribution distances in the feature space ------------------------------------------
    st.start("distance")
    fd, fd_rel = distance.frechet(fs.real, fs.synth)
    scores.append(_score("frechet", "distance", fd, math.exp(-4.0 * fd_rel), higher_is_better=False,
                         relative=fd_rel))
    mi_r = subsample(len(fs.real), MAX_MMD, rng)
    mi_s = subsample(len(fs.synth), MAX_MMD, rng)
    mmd2, mmd_norm = distance.mmd_rbf(fs.real[mi_r], fs.synth[mi_s])
    scores.append(_score("mmd", "distance", mmd2, 1.0 - math.sqrt(clip01(mmd_norm)), higher_is_better=False,
                         normalised=mmd_norm))
    st.done("distance")

    # ---- (5) precision / recall / density / coverage --------------------------------------------
    st.start("prdc")
    k_eff = max(1, min(k, len(fs.real) - 1, len(fs.synth) - 1))
    radii = knn_distances(fs.real, k_eff)[:, -1]
    pr = prdc_mod.prdc(fs.real, fs.synth, k=k_eff, real_radii=radii)
    scores.append(_score("precision", "fidelity", pr["precision"], pr["precision"], k=k_eff))
    scores.append(_score("density", "fidelity", pr["density"], min(pr["density"], 1.0), k=k_eff))
    scores.append(_score("recall", "diversity", pr["recall"], pr["recall"], k=k_eff))
    scores.append(_score("coverage", "diversity", pr["coverage"], pr["coverage"], k=k_eff))
    if kind == "points" and "modes" in meta and "mode_std" in meta:
        # toy mixtures know their modes: the classic mode-collapse numbers (modes.py)
        modes, std = np.asarray(meta["modes"], dtype=np.float64), float(meta["mode_std"])
        mc_s, mc_r = mode_coverage(synth_s, modes, std), mode_coverage(real_s, modes, std)
        scores.append(_score("modes_covered", "diversity", mc_s.modes_covered, mc_s.modes_covered / mc_s.n_modes,
                             n_modes=mc_s.n_modes, per_mode=mc_s.per_mode))
        scores.append(_score("high_quality", "fidelity", mc_s.high_quality,
                             mc_s.high_quality / mc_r.high_quality if mc_r.high_quality > 0 else 0.0,
                             real=mc_r.high_quality))
    st.done("prdc")

    # ---- (6) detection -----------------------------------------------------------------------------
    st.start("detection")
    det = detection.c2st(fs.real, fs.synth, seed=seed)
    scores.append(_score("detection_auc", "detection", det["auc"], det["score"], n_per_class=det["n"],
                         higher_is_better=False))
    st.done("detection")

    # ---- (7) utility and judge class metrics (labels only) ---------------------------------------
    st.start("utility")
    if labels_s is not None and len(np.unique(labels_s)) >= 2:
        with one_thread():
            _utility_and_classes(kind, real_s, synth_s, fs, labels_s, synth_labels, s_idx, judge, n_classes,
                                 class_names, seed, scores, figures, notes)
    else:
        notes.append("No real labels: utility (TSTR) and the judge's class metrics were skipped.")
    st.done("utility")

    # ---- (8) privacy: distance to closest record -------------------------------------------------
    st.start("privacy")
    if kind == "image":
        # near-copies are a pixel-space notion; float32 halves the cost of the big matrix products
        p_train, p_syn = real.reshape(len(real), -1), synth_s.reshape(len(synth_s), -1)
        p_hold = None if holdout is None else np.asarray(holdout, np.float32).reshape(len(holdout), -1)
        space = "pixels"
    else:
        mu, sd = standardizer(as_2d(real))
        p_train, p_syn = (as_2d(real) - mu) / sd, (as_2d(synth_s) - mu) / sd
        p_hold = None if holdout is None else (as_2d(holdout) - mu) / sd
        space = "standardised features"
    pv = privacy.dcr(p_train, p_syn, holdout=p_hold, seed=seed)
    scores.append(_score("near_copies", "privacy", pv["near_copy_share"],
                         privacy.near_copy_score(pv["near_copy_share"], pv["expected_share"]),
                         higher_is_better=False, expected=pv["expected_share"], threshold=pv["threshold"],
                         exact_copies=pv["exact_copy_share"], baseline=pv["baseline"], space=space))
    scores.append(_score("dcr_ratio", "privacy", pv["dcr_ratio"], min(pv["dcr_ratio"], 1.0)
                         if math.isfinite(pv["dcr_ratio"]) else 0.0, baseline=pv["baseline"], space=space))
    if pv["baseline"] == "leave-one-out":
        notes.append("Privacy baseline: leave-one-out distances within the real data (no held-out real set was "
                     "given; SynthLab generators train on the whole dataset).")
    if pv["exact_copy_share"] > 0:
        notes.append(f"{100 * pv['exact_copy_share']:.1f}% of synthetic samples are exact copies of a training record.")
    st.done("privacy")

    # ---- (9) figures -------------------------------------------------------------------------------
    st.start("figures")
    figures["pca"] = _pca_figure(fs, rng)
    if tsne:
        figures["tsne"] = _tsne_figure(fs, seed)
    edges = np.linspace(0.0, float(np.quantile(np.r_[pv["baseline_dcr"], pv["synth_dcr"]], 0.99)) or 1.0, 31)
    figures["dcr"] = {"edges": edges, "space": space, "threshold": pv["threshold"],
                      "synth": np.histogram(pv["synth_dcr"], edges)[0] / max(len(pv["synth_dcr"]), 1),
                      "baseline": np.histogram(pv["baseline_dcr"], edges)[0] / max(len(pv["baseline_dcr"]), 1)}
    figures["neighbours"] = _neighbours(pv, s_idx, synth_orig_idx, rng)
    st.done("figures")

    groups, overall, privacy_score, weights = _aggregate(scores)
    meta.update({"seed": seed, "k": k_eff, "max_n": max_n, "categorical": sorted(cat)})
    meta.pop("modes", None)  # toy-set mode lists are dataset facts, not report facts
    st.timings["total"] = round(time.perf_counter() - t_start, 4)
    st.finish()
    return Report(kind=kind, dataset=dataset_name, n_real=len(real_s), n_synth=len(synth_s),
                  feature_space=fs.description, scores=scores, groups=groups, overall=overall,
                  privacy=privacy_score, weights=weights, notes=notes, figures=figures, timings=st.timings,
                  meta={k_: v for k_, v in meta.items() if k_ not in ("mode_std",)})


def _utility_and_classes(kind: str, real_s: np.ndarray, synth_s: np.ndarray, fs: features.FeatureSpace,
                         labels_s: np.ndarray, synth_labels: np.ndarray | None, s_idx: np.ndarray,
                         judge: Judge | None, n_classes: int, class_names: list[str] | None, seed: int,
                         scores: list[Score], figures: dict, notes: list[str]) -> None:
    """TSTR vs TRTR on a 70/30 split of the real rows, plus the judge's confidence and class coverage."""
    rng = np.random.default_rng(seed + 1)
    perm = rng.permutation(len(real_s))
    n_test = max(1, int(0.3 * len(perm)))
    te, tr = perm[:n_test], perm[n_test:]
    if kind == "image":
        pca = utility.pca_features(real_s[tr], seed=seed)
        xr = pca.transform(real_s.reshape(len(real_s), -1).astype(np.float64))
        xs = pca.transform(synth_s.reshape(len(synth_s), -1).astype(np.float64))
        model = "logreg"
    else:
        xr, xs = fs.real, fs.synth
        model = "hgb"
    trtr_clf = utility.fit(xr[tr], labels_s[tr], model, seed)
    trtr_acc = float((trtr_clf.predict(xr[te]) == labels_s[te]).mean())
    # class probabilities: the CNN judge for images, the TRTR classifier for points/tabular
    if kind == "image" and judge is not None and judge.kind == "classifier":
        p_real, p_syn = judge.predict_proba(real_s[te]), judge.predict_proba(synth_s)
        prob_classes = np.arange(p_syn.shape[1])
        labeller = "the CNN judge"
    elif hasattr(trtr_clf, "predict_proba"):
        p_real, p_syn = trtr_clf.predict_proba(xr[te]), trtr_clf.predict_proba(xs)
        prob_classes = np.asarray(trtr_clf.classes_)  # sklearn: only classes seen in training
        labeller = f"a {model} classifier trained on real data"
    else:
        p_real = p_syn = None
        prob_classes = np.arange(max(n_classes, 1))
        labeller = "a constant classifier"
    if synth_labels is not None:
        y_syn = synth_labels[s_idx]
        source = "the generator's conditioning labels"
    elif p_syn is not None:
        y_syn = prob_classes[p_syn.argmax(1)]
        source = labeller
    else:
        y_syn = trtr_clf.predict(xs)
        source = labeller
    ut = utility.tstr(xs, y_syn, xr[te], labels_s[te], trtr_accuracy=trtr_acc, model=model, seed=seed)
    scores.append(_score("tstr", "utility", ut["tstr_accuracy"], ut["score"], trtr=ut["trtr_accuracy"],
                         majority=ut["majority_accuracy"], classifier=model, synth_labels=source))
    notes.append(f"Utility: synthetic samples were labelled by {source}; classifier: "
                 f"{'logistic regression on 50 PCA components of the pixels' if model == 'logreg' else 'histogram gradient boosting'}.")
    if p_real is not None and p_syn is not None:
        jm = features.judge_metrics(p_real, p_syn)
        scores.append(_score("confidence", "fidelity", jm["confidence_synth"], jm["confidence_score"],
                             real=jm["confidence_real"], judge=labeller))
        scores.append(_score("class_coverage", "diversity", jm["entropy_synth"], jm["entropy_score"],
                             real=jm["entropy_real"], judge=labeller))
        cls = [class_names[int(c)] if class_names and int(c) < len(class_names) else str(int(c))
               for c in prob_classes]
        figures["class_histogram"] = {"classes": cls, "real": jm["counts_real"] / max(jm["counts_real"].sum(), 1),
                                      "synth": jm["counts_synth"] / max(jm["counts_synth"].sum(), 1),
                                      "judge": labeller}


def _pca_figure(fs: features.FeatureSpace, rng: np.random.Generator) -> dict[str, Any]:
    """2-D PCA of the feature space, fitted on the real features, applied to both sets."""
    r = fs.real[subsample(len(fs.real), N_PCA_POINTS, rng)]
    s = fs.synth[subsample(len(fs.synth), N_PCA_POINTS, rng)]
    mu = fs.real.mean(0)
    # eigen-decomposition of the d x d covariance: cheaper than an SVD of the N x d data
    w, v = np.linalg.eigh(np.atleast_2d(np.cov(fs.real, rowvar=False)))
    order = np.argsort(w)[::-1]
    comps = v[:, order[:2]].T
    if comps.shape[0] < 2:  # one feature: pad with a zero axis so the plot stays 2-D
        comps = np.vstack([comps, np.zeros_like(comps)])
    var = np.clip(w[order], 0, None)
    ratio = (var[:2] / var.sum()) if var.sum() > 0 else np.zeros(2)
    return {"real": ((r - mu) @ comps.T).round(4), "synth": ((s - mu) @ comps.T).round(4),
            "explained_variance_ratio": ratio, "space": fs.name}


def _tsne_figure(fs: features.FeatureSpace, seed: int, n: int = 800) -> dict[str, Any]:
    """2-D t-SNE of real and synthetic features embedded *together* (t-SNE has no transform for
    new points), ``n`` of each; PCA initialisation makes it deterministic for a seed."""
    from sklearn.manifold import TSNE

    rng = np.random.default_rng(seed)
    r = fs.real[subsample(len(fs.real), n, rng)]
    s = fs.synth[subsample(len(fs.synth), n, rng)]
    both = np.concatenate([r, s]).astype(np.float64)
    emb = TSNE(n_components=2, init="pca", perplexity=min(30.0, max(5.0, len(both) / 10)),
               random_state=seed).fit_transform(both)
    return {"real": emb[:len(r)].round(4), "synth": emb[len(r):].round(4), "space": fs.name, "method": "t-SNE"}


def _neighbours(pv: dict, s_idx: np.ndarray, synth_orig_idx: np.ndarray, rng: np.random.Generator
                ) -> dict[str, list[dict[str, Any]]]:
    """A few synthetic samples with their nearest real record: random ones, and the closest ones
    (the likeliest copies). Indices refer to the ``real`` and ``synth`` arrays given to report()."""
    d, nn = pv["synth_dcr"], pv["synth_nn"]

    def rows(ii: np.ndarray) -> list[dict[str, Any]]:
        return [{"synth_index": int(synth_orig_idx[s_idx[i]]), "real_index": int(nn[i]), "distance": float(d[i]),
                 "near_copy": bool(d[i] < pv["threshold"])} for i in ii]

    rand = np.sort(rng.choice(len(d), min(N_NEIGHBOURS, len(d)), replace=False))
    return {"random": rows(rand), "closest": rows(np.argsort(d, kind="stable")[:N_NEIGHBOURS]),
            "baseline_median": float(np.median(pv["baseline_dcr"]))}


def _aggregate(scores: list[Score]) -> tuple[dict[str, float | None], float, float | None, dict[str, float]]:
    """Group means (0-100), the weighted overall quality and the separate privacy score."""
    groups: dict[str, float | None] = {}
    for g in GROUPS:
        vals = [s.score for s in scores if s.group == g and s.score is not None]
        groups[g] = round(100.0 * float(np.mean(vals)), 2) if vals else None
    present = {g: w for g, (_, w) in GROUPS.items() if w > 0 and groups[g] is not None}
    total = sum(present.values())
    weights = {g: round(w / total, 4) for g, w in present.items()}
    # weighted geometric mean in 0-1 units, floored per group (see the module docstring)
    log_mean = sum(w * math.log(max(groups[g] / 100.0, GROUP_FLOOR)) for g, w in weights.items())  # type: ignore[operator]
    overall = round(100.0 * math.exp(log_mean), 2) if weights else 0.0
    return groups, overall, groups.get("privacy"), weights


def draw_for_report(sample: Callable[..., np.ndarray], ds: Dataset, n: int | None = None, *, seed: int = 0,
                    conditional: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """Draw ``n`` samples (default: dataset size, at most 5,000) for a report.

    ``sample(n, condition=..., seed=...)`` is a generator's (or a live Run's) sample method. A
    conditional generator is asked for labels drawn from the real label frequencies, and those
    labels are returned for TSTR.
    """
    n = int(n or min(len(ds), 5000))
    if n < 10:
        raise ConfigError("evaluate at least 10 samples")
    if conditional and ds.y is not None:
        labels = ds.y[np.random.default_rng(seed).choice(len(ds.y), n)]
        return sample(n, condition=labels, seed=seed + 1), labels
    return sample(n, seed=seed + 1), None


def evaluate_run(run_dir: str | Path, n: int | None = None, *, seed: int = 0, device: str = "cpu",
                 progress: Progress | None = None, **kwargs: Any) -> Report:
    """Load a trained run, draw ``n`` samples (default: as many as the dataset, at most 5,000) and report.

    A conditional generator is asked for labels drawn from the real label frequencies, and those
    labels are used for TSTR; otherwise synthetic samples are labelled by a real-trained classifier.
    Extra keyword arguments go to :func:`report`.
    """
    from ..train.run import load_generator

    run_dir = Path(run_dir)
    gen, config, ds = load_generator(run_dir, device=device)
    synth, synth_labels = draw_for_report(gen.sample, ds, n, seed=seed, conditional=getattr(gen, "conditional", False))
    n = len(synth)
    rep = report(ds, synth, synth_labels=synth_labels, seed=seed, progress=progress, **kwargs)
    rep.meta.update({"run_id": run_dir.name, "generator": config.generator, "step": int(getattr(gen, "step_", 0)),
                     "n_sampled": n})
    return rep
