"""The report's stages: each takes the prepared :class:`Inputs` and returns its scores, figures and
notes (a :class:`StageResult`); ``report.report`` runs them in order and aggregates.

Stages, by data kind:

=============  ==================================================  =========================
stage          what it scores                                      kinds
=============  ==================================================  =========================
columns        column shapes + column pair trends, decoded table     tabular, points
pixels         pixel-intensity histogram, mean image (secondary)    image
distance       Fréchet distance, MMD in the feature space           all
prdc           precision / recall / density / coverage (+ modes)    all
detection      classifier two-sample test                           all
utility        TSTR vs TRTR on the holdout, judge class metrics     labelled data
privacy        distance to closest record vs the holdout baseline   all
embedding      2-D PCA (and t-SNE) of the feature space             all
=============  ==================================================  =========================
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..data.base import KnownModes
from . import detection, distance, features, fidelity, prdc as prdc_mod, privacy, table, utility
from ._common import Score, clip01, knn_distances, one_thread, subsample
from .catalog import INFO
from .judge import Judge
from .modes import mode_coverage

N_NEIGHBOURS = 8      # synthetic samples shown with their nearest real record (random + closest)
N_PCA_POINTS = 1000   # per set in the 2-D PCA scatter
MAX_MMD = 2000        # MMD builds dense kernel matrices: cap the rows per set
MAX_HISTOGRAMS = 24   # decoded columns drawn in the report's figures
#: privacy is uninformative when the synthetic samples sit this many times farther from the training
#: records than unseen real records do: they are not realistic yet, so there is nothing to leak
UNREALISTIC_DCR_RATIO = 1.5


@dataclass
class Inputs:
    """Everything the stages read, prepared once by ``report``. ``real``/``synth`` are the (subsampled)
    arrays in model space; ``train`` all real rows the generator learned from (privacy);
    ``holdout`` real rows it never saw (or None). Tables also come decoded (``*_df``)."""

    kind: str
    real: np.ndarray
    synth: np.ndarray
    train: np.ndarray
    holdout: np.ndarray | None
    labels: np.ndarray | None            # of ``real``
    holdout_labels: np.ndarray | None
    synth_labels: np.ndarray | None      # of ``synth``, from a conditional generator
    s_idx: np.ndarray                    # synth rows used, as indices into the finite synthetic rows
    synth_orig_idx: np.ndarray           # finite synthetic rows, as indices into the caller's array
    fs: features.FeatureSpace
    seed: int = 0
    k: int = 5
    judge: Judge | None = None
    n_classes: int = 0
    class_names: list[str] | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    modes: KnownModes | None = None      # a toy mixture's known modes (mode coverage)
    tsne: bool = False
    # decoded tables (tabular / points): real, synthetic, holdout, all training rows; column kinds
    real_df: pd.DataFrame | None = None
    synth_df: pd.DataFrame | None = None
    holdout_df: pd.DataFrame | None = None
    train_df: pd.DataFrame | None = None
    kinds: dict[Any, str] = field(default_factory=dict)
    label_column: Any = None
    encoder: features.MixedEncoder | None = None
    labeller: str | None = None          # who labelled the synthetic rows of the label column


@dataclass
class StageResult:
    scores: list[Score] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _info() -> dict[str, tuple[str, str, str]]:
    return INFO


def score(key: str, group: str, value: float, s: float | None, *, higher_is_better: bool = True,
          **details: Any) -> Score:
    name, definition, reference = _info()[key]
    return Score(key, name, group, float(value), None if s is None else clip01(s), definition, reference,
                 higher_is_better, details)


# ---- tables: column shapes and pair trends on the decoded table ------------------------------------
def columns_stage(inp: Inputs) -> StageResult:
    """SDMetrics-style Column Shapes and Column Pair Trends of the decoded table (``table.py``)."""
    out = StageResult()
    assert inp.real_df is not None and inp.synth_df is not None
    ts = table.score_table(inp.real_df, inp.synth_df, inp.kinds)
    worst = min(ts.columns, key=lambda c: c["score"])
    out.scores.append(score("column_shapes", "marginals", ts.shape_score, ts.shape_score,
                            per_column={str(c["column"]): c["score"] for c in ts.columns}))
    # the mean over columns dilutes one badly wrong column (1 of 10 columns 25 points off moves the
    # mean by 2.5): the worst column is scored too, so a wrong column shows in the overall score
    out.scores.append(score("worst_column_shape", "marginals", worst["score"], worst["score"],
                            column=str(worst["column"]), metric=worst["metric"]))
    if ts.pair_score is not None:
        pw = [p for p in ts.pairs if p["score"] is not None]
        wp = min(pw, key=lambda p: p["score"])
        out.scores.append(score("column_pair_trends", "pairs", ts.pair_score, ts.pair_score, n_pairs=len(pw),
                                worst_pair=f"{wp['a']} × {wp['b']}", worst=wp["score"]))
    out.figures["columns"] = [{**c, "column": str(c["column"])} for c in ts.columns]
    out.figures["pairs"] = {"columns": [str(c) for c in inp.real_df.columns],
                            "scores": [{"a": str(p["a"]), "b": str(p["b"]), "metric": p["metric"], "score": p["score"]}
                                       for p in ts.pairs]}
    names = list(inp.real_df.columns)
    out.figures["histograms"] = {str(c): table.marginal_plot(inp.real_df[c], inp.synth_df[c], inp.kinds[c])
                                 for c in names[:MAX_HISTOGRAMS]}
    numeric = [c for c in names if inp.kinds[c] in table.NUMERIC_KINDS][:20]
    if len(numeric) >= 2:
        def corr(df: pd.DataFrame) -> np.ndarray:
            m = np.eye(len(numeric))
            for i, a in enumerate(numeric):
                for j in range(i + 1, len(numeric)):
                    r = table.pearson(table.as_numbers(df[a]), table.as_numbers(df[numeric[j]]))
                    m[i, j] = m[j, i] = 0.0 if r is None else r
            return m.round(4)

        out.figures["correlation"] = {"features": [str(c) for c in numeric], "real": corr(inp.real_df),
                                      "synth": corr(inp.synth_df)}
    out.notes.append("Column shapes and pair trends score the decoded table (your columns"
                     + (f", the label {inp.label_column!r} included" if inp.label_column is not None else "")
                     + "): numbers/dates by KS complement and Pearson correlation similarity (missing values "
                       "dropped), categories/booleans by TV complement and contingency similarity (missing values "
                       "one more category; numbers cut into 10 equal-width bins for mixed pairs), as SDMetrics' "
                       "QualityReport does.")
    if inp.labeller:
        out.notes.append(f"The synthetic rows' {inp.label_column!r} column was filled in by {inp.labeller}: "
                         f"this generator does not produce labels.")
    return out


# ---- images: pixel statistics (secondary, not in the overall score) -------------------------------
def pixels_stage(inp: Inputs) -> StageResult:
    """Pixel-intensity histogram and mean image: cheap sanity checks that blurry blobs pass, so they are
    shown but kept out of the overall score."""
    out = StageResult()
    tv_px, pix_hist = fidelity.intensity_tv_complement(inp.real, inp.synth)
    out.scores.append(score("intensity_tv_complement", "pixels", tv_px, tv_px))
    mr, ms = inp.real.mean(0), inp.synth.mean(0)
    mean_sim = 1.0 - float(np.abs(mr - ms).mean()) / 2.0
    out.scores.append(score("mean_image", "pixels", mean_sim, mean_sim))
    out.figures["pixel_histogram"] = pix_hist
    out.figures["mean_image"] = {"real": mr[0].round(4), "synth": ms[0].round(4)}
    out.notes.append("Pixel statistics (intensity histogram, mean image) are shown for reference only and are not "
                     "in the overall score: blurry blobs match them well. Image quality is judged in the judge's "
                     "feature space (Fréchet distance, precision/recall/density/coverage, detection) and by the "
                     "judge's confidence and class balance.")
    return out


# ---- distribution distance in the feature space ---------------------------------------------------
def distance_stage(inp: Inputs) -> StageResult:
    out = StageResult()
    fs = inp.fs
    fd, fd_rel = distance.frechet(fs.real, fs.synth)
    out.scores.append(score("frechet", "distance", fd, math.exp(-4.0 * fd_rel), higher_is_better=False,
                            relative=fd_rel))
    rng = np.random.default_rng(inp.seed + 2)
    mi_r, mi_s = subsample(len(fs.real), MAX_MMD, rng), subsample(len(fs.synth), MAX_MMD, rng)
    mmd2, mmd_norm = distance.mmd_rbf(fs.real[mi_r], fs.synth[mi_s])
    out.scores.append(score("mmd", "distance", mmd2, 1.0 - math.sqrt(clip01(mmd_norm)), higher_is_better=False,
                            normalised=mmd_norm))
    return out


# ---- precision / recall / density / coverage ------------------------------------------------------
def prdc_stage(inp: Inputs) -> StageResult:
    out = StageResult()
    fs = inp.fs
    k_eff = max(1, min(inp.k, len(fs.real) - 1, len(fs.synth) - 1))
    radii = knn_distances(fs.real, k_eff)[:, -1]
    pr = prdc_mod.prdc(fs.real, fs.synth, k=k_eff, real_radii=radii)
    out.scores += [score("precision", "fidelity", pr["precision"], pr["precision"], k=k_eff),
                   score("density", "fidelity", pr["density"], min(pr["density"], 1.0), k=k_eff),
                   score("recall", "diversity", pr["recall"], pr["recall"], k=k_eff),
                   score("coverage", "diversity", pr["coverage"], pr["coverage"], k=k_eff)]
    inp.meta["k"] = k_eff
    if inp.kind == "points" and inp.modes is not None:
        # toy mixtures know their modes: the classic mode-collapse numbers (modes.py)
        modes, std = inp.modes.centres, inp.modes.std
        mc_s, mc_r = mode_coverage(inp.synth, modes, std), mode_coverage(inp.real, modes, std)
        out.scores.append(score("modes_covered", "diversity", mc_s.modes_covered, mc_s.modes_covered / mc_s.n_modes,
                                n_modes=mc_s.n_modes, per_mode=mc_s.per_mode))
        out.scores.append(score("high_quality", "fidelity", mc_s.high_quality,
                                mc_s.high_quality / mc_r.high_quality if mc_r.high_quality > 0 else 0.0,
                                real=mc_r.high_quality))
    return out


# ---- detection ------------------------------------------------------------------------------------
def detection_stage(inp: Inputs) -> StageResult:
    det = detection.c2st(inp.fs.real, inp.fs.synth, seed=inp.seed)
    return StageResult([score("detection_auc", "detection", det["auc"], det["score"], n_per_class=det["n"],
                              auc_boosting=det.get("auc_hgb"), auc_logistic=det.get("auc_logreg"),
                              higher_is_better=False)])


# ---- utility: TSTR on the holdout, and the judge's class metrics ----------------------------------
def _utility_inputs(inp: Inputs) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                          str, str]:
    """(x_train, y_train, x_test, y_test, x_synth, test rows in model space, classifier, test-set
    description) for TRTR / TSTR."""
    if inp.holdout is not None and inp.holdout_labels is not None and len(inp.holdout) >= 2:
        test_model, y_test, test_idx, train_idx = inp.holdout, inp.holdout_labels, None, None
        train_model, y_train = inp.real, inp.labels
        where = f"the {len(inp.holdout):,} holdout rows (real data the generator never saw)"
    else:
        rng = np.random.default_rng(inp.seed + 1)
        perm = rng.permutation(len(inp.real))
        n_test = max(1, int(0.3 * len(perm)))
        te, tr = perm[:n_test], perm[n_test:]
        test_model, y_test, test_idx, train_idx = inp.real[te], inp.labels[te], te, tr
        train_model, y_train = inp.real[tr], inp.labels[tr]
        where = ("30% of the real rows - rows the generator trained on (no holdout: scored on training data, "
                 "which flatters a generator that memorises)")
    if inp.kind == "image":
        pca = utility.pca_features(train_model, seed=inp.seed)
        flat = lambda a: pca.transform(a.reshape(len(a), -1).astype(np.float64))  # noqa: E731
        return flat(train_model), y_train, flat(test_model), y_test, flat(inp.synth), test_model, "logreg", where
    assert inp.encoder is not None and inp.real_df is not None and inp.synth_df is not None
    feats = [c for c in inp.real_df.columns if c != inp.label_column]
    enc = features.MixedEncoder({c: inp.kinds[c] for c in feats}).fit(inp.real_df[feats])
    if test_idx is None:
        assert inp.holdout_df is not None
        x_test = enc.transform(inp.holdout_df[feats])
        x_train = enc.transform(inp.real_df[feats])
    else:
        x_all = enc.transform(inp.real_df[feats])
        x_test, x_train = x_all[test_idx], x_all[train_idx]
    return x_train, y_train, x_test, y_test, enc.transform(inp.synth_df[feats]), test_model, "hgb", where


def utility_stage(inp: Inputs) -> StageResult:
    """TSTR vs TRTR tested on the holdout (else on 30% of the training rows, said so), plus the judge's
    confidence, class coverage and class balance on the synthetic samples."""
    out = StageResult()
    if inp.labels is None or len(np.unique(inp.labels)) < 2:
        out.notes.append("No real labels: utility (TSTR) and the class metrics were skipped.")
        return out
    with one_thread():
        x_tr, y_tr, x_te, y_te, x_syn, test_model, model, where = _utility_inputs(inp)
        trtr_clf = utility.fit(x_tr, y_tr, model, inp.seed)
        trtr_acc = float((trtr_clf.predict(x_te) == y_te).mean())
        if inp.kind == "image" and inp.judge is not None and inp.judge.kind == "classifier":
            p_real, p_syn = inp.judge.predict_proba(test_model), inp.judge.predict_proba(inp.synth)
            prob_classes = np.arange(p_syn.shape[1])
            labeller = "the CNN judge"
        elif hasattr(trtr_clf, "predict_proba"):
            p_real, p_syn = trtr_clf.predict_proba(x_te), trtr_clf.predict_proba(x_syn)
            prob_classes = np.asarray(trtr_clf.classes_)  # sklearn: only classes seen in training
            labeller = f"a {model} classifier trained on real data"
        else:
            p_real = p_syn = None
            prob_classes = np.arange(max(inp.n_classes, 1))
            labeller = "a constant classifier"
        if inp.synth_labels is not None:
            y_syn, source = inp.synth_labels, ("the generator (the labels it produced or was conditioned on)" if not inp.labeller
                                                else inp.labeller)
        elif p_syn is not None:
            y_syn, source = prob_classes[p_syn.argmax(1)], labeller
        else:
            y_syn, source = trtr_clf.predict(x_syn), labeller
        ut = utility.tstr(x_syn, y_syn, x_te, y_te, trtr_accuracy=trtr_acc, model=model, seed=inp.seed)
    out.scores.append(score("tstr", "utility", ut["tstr_accuracy"], ut["score"], trtr=ut["trtr_accuracy"],
                            majority=ut["majority_accuracy"], classifier=model, synth_labels=source,
                            test_set="holdout" if inp.holdout is not None else "training rows",
                            n_test=int(len(y_te))))
    out.notes.append(f"Utility: tested on {where}; synthetic samples labelled by {source}; classifier: "
                     f"{'logistic regression on 50 PCA components of the pixels' if model == 'logreg' else 'histogram gradient boosting on the mixed encoding of the other columns'}.")
    if p_real is not None and p_syn is not None:
        jm = features.judge_metrics(p_real, p_syn)
        out.scores.append(score("confidence", "fidelity", jm["confidence_synth"], jm["confidence_score"],
                                real=jm["confidence_real"], judge=labeller))
        out.scores.append(score("class_coverage", "diversity", jm["entropy_synth"], jm["entropy_score"],
                                real=jm["entropy_real"], judge=labeller))
        share_r = jm["counts_real"] / max(jm["counts_real"].sum(), 1)
        share_s = jm["counts_synth"] / max(jm["counts_synth"].sum(), 1)
        balance = 1.0 - 0.5 * float(np.abs(share_r - share_s).sum())
        out.scores.append(score("class_balance", "diversity", balance, balance, judge=labeller))
        cls = [inp.class_names[int(c)] if inp.class_names and int(c) < len(inp.class_names) else str(int(c))
               for c in prob_classes]
        out.figures["class_histogram"] = {"classes": cls, "real": share_r, "synth": share_s, "judge": labeller}
    return out


# ---- privacy: distance to closest record against the holdout baseline -----------------------------
def _privacy_space(inp: Inputs) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, str]:
    """(training rows, synthetic rows, holdout rows or None) in the space near-copies are judged in."""
    if inp.kind == "image":
        # near-copies are a pixel-space notion; float32 halves the cost of the big matrix products
        flat = lambda a: np.asarray(a, np.float32).reshape(len(a), -1)  # noqa: E731
        return flat(inp.train), flat(inp.synth), None if inp.holdout is None else flat(inp.holdout), "pixels"
    assert inp.encoder is not None and inp.train_df is not None and inp.synth_df is not None
    hold = None if inp.holdout_df is None else inp.encoder.transform(inp.holdout_df)
    return (inp.encoder.transform(inp.train_df), inp.encoder.transform(inp.synth_df), hold,
            "the mixed encoding (standardised numbers, one-hot categories)")


def privacy_stage(inp: Inputs) -> StageResult:
    """DCR: synthetic -> training distances against holdout -> training distances (without a holdout:
    leave-one-out within the training rows, said so), and a near-copy share; plus the closest pairs."""
    out = StageResult()
    p_train, p_syn, p_hold, space = _privacy_space(inp)
    pv = privacy.dcr(p_train, p_syn, holdout=p_hold, seed=inp.seed)
    out.scores.append(score("near_copies", "privacy", pv["near_copy_share"],
                            privacy.near_copy_score(pv["near_copy_share"], pv["expected_share"]),
                            higher_is_better=False, expected=pv["expected_share"], threshold=pv["threshold"],
                            exact_copies=pv["exact_copy_share"], baseline=pv["baseline"], space=space))
    out.scores.append(score("dcr_ratio", "privacy", pv["dcr_ratio"], min(pv["dcr_ratio"], 1.0)
                            if math.isfinite(pv["dcr_ratio"]) else 0.0, baseline=pv["baseline"], space=space))
    if pv["baseline"] == "leave-one-out":
        out.notes.append("No holdout: scored on training data. The privacy baseline is leave-one-out distances within "
                         "the training rows, which only approximates how close unseen real data gets.")
    else:
        out.notes.append(f"Privacy baseline: distances from {len(p_hold):,} holdout rows (real data the generator "
                         f"never saw) to the training rows.")
    if pv["exact_copy_share"] > 0:
        out.notes.append(f"{100 * pv['exact_copy_share']:.1f}% of synthetic samples are exact copies of a training record.")
    if math.isfinite(pv["dcr_ratio"]) and pv["dcr_ratio"] > UNREALISTIC_DCR_RATIO:
        caveat = (f"Privacy is high only because the samples are unrealistic: they lie {pv['dcr_ratio']:.1f}x "
                  f"farther from the training records than unseen real records do, so there is nothing to leak "
                  f"yet. It becomes informative once quality is high.")
        out.notes.append(caveat)
        inp.meta["privacy_caveat"] = caveat
    rng = np.random.default_rng(inp.seed + 3)
    edges = np.linspace(0.0, float(np.quantile(np.r_[pv["baseline_dcr"], pv["synth_dcr"]], 0.99)) or 1.0, 31)
    out.figures["dcr"] = {"edges": edges, "space": space, "threshold": pv["threshold"], "baseline_kind": pv["baseline"],
                          "synth": np.histogram(pv["synth_dcr"], edges)[0] / max(len(pv["synth_dcr"]), 1),
                          "baseline": np.histogram(pv["baseline_dcr"], edges)[0] / max(len(pv["baseline_dcr"]), 1)}
    out.figures["neighbours"] = _neighbours(pv, inp.s_idx, inp.synth_orig_idx, rng)
    return out


def _neighbours(pv: dict, s_idx: np.ndarray, synth_orig_idx: np.ndarray, rng: np.random.Generator
                ) -> dict[str, Any]:
    """A few synthetic samples with their nearest training record: random ones, and the closest ones
    (the likeliest copies). ``synth_index`` refers to the caller's synthetic array, ``real_index`` to
    the training rows."""
    d, nn = pv["synth_dcr"], pv["synth_nn"]

    def rows(ii: np.ndarray) -> list[dict[str, Any]]:
        return [{"synth_index": int(synth_orig_idx[s_idx[i]]), "real_index": int(nn[i]), "distance": float(d[i]),
                 "near_copy": bool(d[i] < pv["threshold"])} for i in ii]

    rand = np.sort(rng.choice(len(d), min(N_NEIGHBOURS, len(d)), replace=False))
    return {"random": rows(rand), "closest": rows(np.argsort(d, kind="stable")[:N_NEIGHBOURS]),
            "baseline_median": float(np.median(pv["baseline_dcr"]))}


# ---- embedding figures ----------------------------------------------------------------------------
def embedding_stage(inp: Inputs) -> StageResult:
    out = StageResult()
    out.figures["pca"] = _pca_figure(inp.fs, np.random.default_rng(inp.seed + 4))
    if inp.tsne:
        out.figures["tsne"] = _tsne_figure(inp.fs, inp.seed)
    return out


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


#: (name, function, kinds it runs for) in report order
STAGES: list[tuple[str, Callable[[Inputs], StageResult], tuple[str, ...]]] = [
    ("columns", columns_stage, ("tabular", "points")),
    ("pixels", pixels_stage, ("image",)),
    ("distance", distance_stage, ("image", "tabular", "points")),
    ("prdc", prdc_stage, ("image", "tabular", "points")),
    ("detection", detection_stage, ("image", "tabular", "points")),
    ("utility", utility_stage, ("image", "tabular", "points")),
    ("privacy", privacy_stage, ("image", "tabular", "points")),
    ("embedding", embedding_stage, ("image", "tabular", "points")),
]
