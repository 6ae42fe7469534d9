"""The frequency view of a table: every one-hot block becomes one continuous column.

Generators that treat each input column as a continuous number (copula, marginals, Gaussian, GMM,
KDE, MCMC, flows, diffusion, plain GANs and VAEs) cannot sample a one-hot block: each 0/1 column
comes out on its own and the decoder's argmax over them does not give the level frequencies of
the data (a Gaussian copula on the one-hot columns of ``day`` made a rare ``Fri`` three times too
common). SDV's GaussianCopula avoids this with a *frequency encoding* (Patki et al. 2016, The
Synthetic Data Vault; SDV's ``UniformEncoder``), used here for every such model:

* each level of a discrete block owns an interval of [0, 1] as wide as its share of the rows
  (in block order), and a row's level maps to a uniformly random point u inside its interval
  (seeded), then to the normal score z = Phi^-1(u) - the scale of the encoder's quantile-encoded
  numbers;
* a sampled z goes back through u = Phi(z) to the level whose interval holds u, emitted as an exact
  one-hot. A model that gets the marginal of z right (N(0, 1)) gets the level shares right.

Discrete blocks are taken from :class:`~.tabular_nets.TabularLayout` (one parser of the encoder's
spans for every model): categorical/boolean columns, the mode indicators of CTGAN-style numeric
columns, 0/1 missing-value flags, and - for unconditional models - the label, which is then modelled
jointly with the features and split back out as label codes, so every sample has the label column.
Numeric values (quantile normal scores, mode-relative scalars) pass through unchanged.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import torch
from scipy.special import ndtr, ndtri

from ..data.base import Dataset
from .tabular_nets import Segment, TabularLayout

#: u is kept in [EPS, 1 - EPS] (|z| <= 5.2), as the encoder's quantile transform does
EPS = 1e-7
#: bump when the view's layout changes: checkpoints record it (older ones trained without a view)
VERSION = 1
#: mixed into the spread's seed (any constant; changing it changes every view)
SPREAD_SALT = 0x5EED_F1E7


@dataclass
class FrequencyView:
    """Model-space rows (+ label codes) <-> view rows: one column per numeric value or discrete block."""

    layout: TabularLayout
    #: per kept internal segment: its position in the view and, for discrete blocks, the upper ends of
    #: the levels' intervals (cumulative shares; a level nobody has gets an empty interval)
    parts: list[tuple[Segment, np.ndarray | None]]
    names: list[str]
    joint_label: bool

    @classmethod
    def fit(cls, dataset: Dataset, *, joint_label: bool) -> "FrequencyView":
        """Level shares from ``dataset``; ``joint_label``: put the label in the view (unconditional models)."""
        layout = TabularLayout.from_dataset(dataset)
        internal = layout.to_internal(dataset.x, dataset.y)
        parts: list[tuple[Segment, np.ndarray | None]] = []
        names: list[str] = []
        feature_names = list(dataset.feature_names or [f"x{i}" for i in range(dataset.n_features)])
        disc = {id(c.seg): c for c in layout.discrete}
        for s in layout.segments:
            if s.model is None and not joint_label:
                continue  # the label stays y: a conditional model is given it
            if s.kind == "softmax":
                counts = np.bincount(internal[:, s.start:s.stop].argmax(1), minlength=s.width).astype(np.float64)
                parts.append((s, np.cumsum(counts) / max(counts.sum(), 1.0)))
                col = disc.get(id(s))
                if col is not None:
                    names.append(str(col.name))
                elif s.indicator:
                    names.append(feature_names[s.model[0]])
                else:  # mode indicators of a numeric column: "<col>.mode0", ... -> "<col>.mode"
                    names.append(re.sub(r"\d+$", "", feature_names[s.model[0]]))
            else:
                parts.append((s, None))
                names.append(feature_names[s.model[0]] if s.model else f"x{s.start}")
        return cls(layout, parts, names, joint_label and layout.label_seg is not None)

    # ---- conversions -----------------------------------------------------------------------------
    @property
    def dim(self) -> int:
        return len(self.parts)

    def encode(self, x: np.ndarray, y: np.ndarray | None, seed: int) -> np.ndarray:
        """Model-space rows and label codes -> view rows (N x dim, float32); a level's rows are spread
        uniformly (seeded) over its interval."""
        if self.layout.label_seg is not None and not self.joint_label:
            y = np.zeros(len(x), dtype=np.int64)  # the label block is not in the view: any code will do
        internal = self.layout.to_internal(x, y)
        # salted: a plain default_rng(0) would replay the stream that made many a demo table (and
        # correlate the spread with the data it encodes)
        rng = np.random.default_rng(np.random.SeedSequence([SPREAD_SALT, int(seed)]))
        out = np.zeros((len(internal), self.dim), dtype=np.float64)
        for j, (s, cum) in enumerate(self.parts):
            block = internal[:, s.start:s.stop]
            if cum is None:
                out[:, j] = block[:, 0]
                continue
            k = block.argmax(1)
            lo = np.concatenate([[0.0], cum[:-1]])[k]
            u = lo + rng.random(len(k)) * (cum[k] - lo)
            out[:, j] = ndtri(np.clip(u, EPS, 1 - EPS))
        return out.astype(np.float32)

    def decode(self, v: np.ndarray | torch.Tensor) -> tuple[np.ndarray, np.ndarray | None]:
        """View rows -> (model-space rows with exact one-hot blocks, label codes or None)."""
        v = v.detach().cpu().double().numpy() if isinstance(v, torch.Tensor) else np.asarray(v, dtype=np.float64)
        v = np.nan_to_num(v.reshape(len(v), -1), nan=0.0, posinf=1e6, neginf=-1e6)
        h = np.zeros((len(v), self.layout.dim), dtype=np.float32)
        for j, (s, cum) in enumerate(self.parts):
            if cum is None:
                h[:, s.start] = v[:, j]
                continue
            k = np.searchsorted(cum, ndtr(v[:, j]), side="right").clip(0, s.width - 1)
            h[np.arange(len(v)), s.start + k] = 1.0
        x, y = self.layout.to_model(torch.from_numpy(h))
        if not self.joint_label:
            y = None
        return x.numpy(), None if y is None else y.numpy().astype(np.int64)

    def dataset(self, dataset: Dataset, seed: int = 0) -> Dataset:
        """The table as the model sees it: view rows; the label stays ``y`` only when it is not in the view.

        The within-level spread is part of the encoding, like the encoder's own seed: a fixed ``seed``
        (not the run's) makes the view a function of the data, so a checkpoint restores on any seed."""
        keep_y = not self.joint_label
        return Dataset(name=dataset.name, kind=dataset.kind, x=self.encode(dataset.x, dataset.y, seed),
                       y=dataset.y if keep_y else None, classes=dataset.classes if keep_y else None,
                       description=dataset.description, source=dataset.source, feature_names=list(self.names),
                       meta={"view": "frequency", "view_of": dataset.name}, discrete=tuple(self.discrete))

    @property
    def discrete(self) -> list[int]:
        """View columns that stand for a discrete block (a level per interval), not a number."""
        return [j for j, (_s, cum) in enumerate(self.parts) if cum is not None]


def class_shares(y: np.ndarray, n_classes: int) -> np.ndarray:
    """The real data's class proportions (what a conditional model's unconditioned samples follow)."""
    counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=n_classes).astype(np.float64)
    return counts / max(counts.sum(), 1.0)

