"""What CTGAN and TVAE share: the per-column output layout, training-by-sampling and the MLP blocks.

Both models (Xu et al. 2019, "Modeling Tabular Data using Conditional GAN", NeurIPS) work in an
*internal* row layout derived from the encoder's typed columns (``dataset.column_specs``):

* a one-hot block of a categorical/boolean column -> a **softmax** segment of the same width;
* the scalar of a mode-specific-normalised column (CTGAN's alpha) -> a **tanh** segment, and its
  mode indicators -> a softmax segment;
* a quantile-encoded numeric column (normal scores, unbounded) -> a **linear** segment;
* a 0/1 missing indicator -> a 2-wide softmax segment ([present, missing]);
* the label (``dataset.y``), when there is one -> a softmax segment at the end, so the label is
  modelled jointly with the features and can be conditioned on.

A dataset without spans (a plain numeric table) maps every column to a linear segment, and has no
discrete columns to condition on except its label. Nothing here draws from the global torch RNG:
every random number comes from a ``torch.Generator`` passed in, so runs are reproducible.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..data.base import Dataset
from ..data.table_columns import ColumnSpec
from ..errors import ConfigError

#: CTGAN clips alpha into the open interval of tanh so the targets are reachable
ALPHA_CLIP = 0.99


@dataclass
class Segment:
    """One slice of the internal row: ``kind`` is "linear", "tanh" or "softmax".

    ``model`` is the slice of the model-space row it comes from (None for the label);
    ``indicator`` marks a single 0/1 model column expanded to a 2-wide softmax.
    """

    kind: str
    start: int
    stop: int
    model: tuple[int, int] | None
    indicator: bool = False

    @property
    def width(self) -> int:
        return self.stop - self.start


@dataclass
class DiscreteColumn:
    """A column that can be conditioned on (a categorical/boolean feature or the label): the
    encoder's descriptor and the softmax segment it becomes."""

    spec: ColumnSpec
    seg: Segment

    @property
    def name(self) -> Any:
        return self.spec.name

    @property
    def levels(self) -> list[Any]:
        """Display values in block order (the missing level is None)."""
        return self.spec.level_values()

    @property
    def is_label(self) -> bool:
        return self.spec.is_label


@dataclass
class TabularLayout:
    """Model-space rows (plus labels) <-> internal rows; see the module docstring."""

    n_model: int
    segments: list[Segment]
    discrete: list[DiscreteColumn]
    label_seg: Segment | None
    has_spans: bool
    dim: int = field(init=False)

    def __post_init__(self) -> None:
        self.dim = self.segments[-1].stop if self.segments else 0

    # ---- construction ----------------------------------------------------------------------
    @classmethod
    def from_dataset(cls, dataset: Dataset) -> "TabularLayout":
        """Build the layout from the encoder's column descriptors; degrade to all-linear columns without them."""
        specs = dataset.column_specs
        segs: list[Segment] = []
        disc: list[DiscreteColumn] = []
        pos = 0

        def add(kind: str, m0: int, m1: int, width: int | None = None, indicator: bool = False) -> Segment:
            nonlocal pos
            w = width if width is not None else m1 - m0
            seg = Segment(kind, pos, pos + w, (m0, m1), indicator)
            pos += w
            segs.append(seg)
            return seg

        d = dataset.n_features
        usable = bool(specs) and specs[-1].stop == d
        if usable:
            for spec in specs:
                a, b = int(spec.start), int(spec.stop)  # type: ignore[arg-type]
                if spec.is_discrete:
                    disc.append(DiscreteColumn(spec, add("softmax", a, b)))
                    continue
                # numeric: [value | alpha, mode one-hot...] then an optional missing indicator
                if spec.encoding == "mode":
                    k = spec.n_modes
                    add("tanh", a, a + 1)
                    add("softmax", a + 1, a + 1 + k)
                    nxt = a + 1 + k
                else:
                    add("linear", a, a + 1)
                    nxt = a + 1
                if spec.has_missing:
                    add("softmax", nxt, nxt + 1, width=2, indicator=True)
        else:
            for j in range(d):
                add("linear", j, j + 1)
        label_seg = None
        if dataset.y is not None and dataset.n_classes >= 2:
            label_seg = Segment("softmax", pos, pos + dataset.n_classes, None)
            segs.append(label_seg)
            lab = dataset.label_spec
            if lab is None or lab.n_levels != dataset.n_classes:  # no named label: its classes are the levels
                lab = ColumnSpec("label" if lab is None else lab.name, "categorical", levels=tuple(dataset.classes))
            disc.append(DiscreteColumn(lab, label_seg))
        return cls(d, segs, disc, label_seg, usable)

    # ---- conversions ---------------------------------------------------------------------------
    def to_internal(self, x: np.ndarray, y: np.ndarray | None) -> np.ndarray:
        """Model-space rows (N x n_model) and label codes -> internal rows (N x dim), float32."""
        x = np.asarray(x, dtype=np.float32).reshape(len(x), -1)
        out = np.zeros((len(x), self.dim), dtype=np.float32)
        for s in self.segments:
            if s.model is None:
                assert y is not None
                out[np.arange(len(x)), s.start + np.asarray(y, dtype=np.int64)] = 1.0
            elif s.indicator:
                v = (x[:, s.model[0]] > 0.5).astype(np.float32)
                out[:, s.start], out[:, s.start + 1] = 1.0 - v, v
            elif s.kind == "tanh":
                out[:, s.start] = np.clip(x[:, s.model[0]], -ALPHA_CLIP, ALPHA_CLIP)
            else:
                out[:, s.start:s.stop] = x[:, s.model[0]:s.model[1]]
        return out

    def to_model(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Internal rows (activated) -> (model-space rows, label codes or None)."""
        x = h.new_zeros((len(h), self.n_model))
        for s in self.segments:
            if s.model is None:
                continue
            if s.indicator:
                x[:, s.model[0]] = h[:, s.start + 1]
            else:
                x[:, s.model[0]:s.model[1]] = h[:, s.start:s.stop]
        y = h[:, self.label_seg.start:self.label_seg.stop].argmax(1) if self.label_seg is not None else None
        return x, y

    def activate(self, raw: torch.Tensor, gen: torch.Generator, *, tau: float = 0.2, hard: bool = False
                 ) -> torch.Tensor:
        """CTGAN's output heads: tanh / identity on scalars, Gumbel-softmax on every softmax segment
        (``hard``: a one-hot of the Gumbel-max sample, i.e. an exact draw from softmax(logits))."""
        parts = []
        for s in self.segments:
            r = raw[:, s.start:s.stop]
            if s.kind == "tanh":
                parts.append(torch.tanh(r))
            elif s.kind == "linear":
                parts.append(r)
            else:
                parts.append(gumbel_softmax(r, gen, tau=tau, hard=hard))
        return torch.cat(parts, 1)

    # ---- conditions ----------------------------------------------------------------------------
    @property
    def cond_dim(self) -> int:
        return sum(c.seg.width for c in self.discrete)

    def cond_offsets(self) -> list[int]:
        out, pos = [], 0
        for c in self.discrete:
            out.append(pos)
            pos += c.seg.width
        return out

    def find(self, column: Any) -> int:
        """Index into ``discrete`` of a column by name (str-compared); ConfigError naming the choices."""
        for i, c in enumerate(self.discrete):
            if c.name == column or str(c.name) == str(column):
                return i
        choices = ", ".join(str(c.name) for c in self.discrete) or "none (this table has no categorical columns)"
        raise ConfigError(f"cannot condition on {column!r}: it is not a categorical/boolean column or the label. "
                          f"Conditionable columns: {choices}")

    def level_index(self, i: int, value: Any) -> int:
        """Position of ``value`` among discrete column ``i``'s levels (None/NaN = the missing level):
        the encoder's one matching rule, :meth:`ColumnSpec.level_index`."""
        return self.discrete[i].spec.level_index(value)


class LabelledSamples:
    """Mixin for generators that model the label jointly with the features (CTGAN, TVAE).

    ``sample`` returns model-space rows as every generator does; ``sample_with_labels`` also
    returns the label codes the model generated, from the same random stream (same seed -> the
    same rows). Subclasses implement ``_draw(n, condition, gen) -> (x, y or None)``.
    """

    def _sample(self, n: int, condition: Any, gen: torch.Generator) -> torch.Tensor:
        return self._draw(n, condition, gen)[0]  # type: ignore[attr-defined]

    def _sample_labelled(self, n: int, condition: Any, gen: torch.Generator
                         ) -> tuple[torch.Tensor, torch.Tensor | None]:
        return self._draw(n, condition, gen)  # type: ignore[attr-defined]

    layout_: TabularLayout | None = None  # set in ``_setup``

    @property
    def produces_labels(self) -> bool:
        """The label head exists whenever the table has a label."""
        return self.layout_ is not None and self.layout_.label_seg is not None


def gumbel_softmax(logits: torch.Tensor, gen: torch.Generator, *, tau: float = 0.2, hard: bool = False
                   ) -> torch.Tensor:
    """Jang et al. 2017: softmax((logits + Gumbel noise) / tau), noise drawn from ``gen``."""
    u = torch.rand(logits.shape, generator=gen).to(logits.device)
    g = -torch.log(-torch.log(u.clamp(1e-10, 1.0 - 1e-7)))
    y = F.softmax((logits + g) / tau, dim=1)
    if hard:
        return F.one_hot(y.argmax(1), logits.shape[1]).to(logits.dtype)
    return y


class CondSampler:
    """CTGAN's training-by-sampling (Xu et al. 2019, sec. 4.3).

    Per row: pick a discrete column uniformly, a category with probability proportional to
    log(1 + frequency), build the one-hot condition vector, and pick a real row that has that
    category (so the critic sees real rows matching the condition). Everything is vectorised and
    draws only from the given ``torch.Generator``.
    """

    def __init__(self, layout: TabularLayout, internal: np.ndarray) -> None:
        self.layout = layout
        self.n_cols = len(layout.discrete)
        self.offsets = torch.tensor(layout.cond_offsets(), dtype=torch.int64)
        self.width = torch.tensor([c.seg.width for c in layout.discrete], dtype=torch.int64)
        kmax = int(self.width.max()) if self.n_cols else 1
        n = len(internal)
        codes = np.zeros((self.n_cols, n), dtype=np.int64)
        logp = np.zeros((self.n_cols, kmax))
        freq = np.zeros((self.n_cols, kmax))
        starts = np.zeros((self.n_cols, kmax), dtype=np.int64)
        counts = np.zeros((self.n_cols, kmax), dtype=np.int64)
        for j, c in enumerate(layout.discrete):
            codes[j] = internal[:, c.seg.start:c.seg.stop].argmax(1)
            cnt = np.bincount(codes[j], minlength=c.seg.width)
            counts[j, :c.seg.width] = cnt
            starts[j, :c.seg.width] = np.concatenate([[0], np.cumsum(cnt)[:-1]])
            lf = np.log1p(cnt)
            logp[j, :c.seg.width] = lf / lf.sum()
            freq[j, :c.seg.width] = cnt / cnt.sum()
        self.codes = torch.from_numpy(codes)
        self.order = torch.from_numpy(np.argsort(codes, axis=1, kind="stable"))  # rows grouped by category
        self.starts, self.counts = torch.from_numpy(starts), torch.from_numpy(counts)
        self.logp, self.freq = torch.from_numpy(logp), torch.from_numpy(freq)

    def sample_train(self, b: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor,
                                                                   torch.Tensor]:
        """(cond (b, cond_dim), column mask (b, n_cols), chosen category (b,), real row index (b,))."""
        col = torch.randint(self.n_cols, (b,), generator=gen)
        cat = torch.multinomial(self.logp[col], 1, generator=gen).squeeze(1)
        u = torch.rand(b, generator=gen)
        k = (u * self.counts[col, cat]).long().clamp(max=self.counts[col, cat] - 1)
        rows = self.order[col, self.starts[col, cat] + k]
        return self.onehot(col, cat), F.one_hot(col, self.n_cols).float(), cat, rows

    def sample_original(self, b: int, gen: torch.Generator) -> torch.Tensor:
        """Condition vectors for unconditional sampling: a random column, a category by its real frequency."""
        col = torch.randint(self.n_cols, (b,), generator=gen)
        cat = torch.multinomial(self.freq[col], 1, generator=gen).squeeze(1)
        return self.onehot(col, cat)

    def onehot(self, col: torch.Tensor, cat: torch.Tensor) -> torch.Tensor:
        cond = torch.zeros((len(col), int(self.width.sum())))
        cond[torch.arange(len(col)), self.offsets[col] + cat] = 1.0
        return cond


def conditional_loss(raw: torch.Tensor, layout: TabularLayout, mask: torch.Tensor, cat: torch.Tensor) -> torch.Tensor:
    """CTGAN's generator penalty: cross-entropy between the conditioned column's logits and the
    category asked for, counted only for that column (``mask``), averaged over the batch."""
    if not layout.discrete:
        return raw.new_zeros(())
    losses = []
    for j, c in enumerate(layout.discrete):
        logits = raw[:, c.seg.start:c.seg.stop]
        target = cat.clamp(max=c.seg.width - 1)  # rows conditioned on another column: masked out below
        losses.append(F.cross_entropy(logits, target, reduction="none"))
    return (torch.stack(losses, 1) * mask).sum(1).mean()


# ---- nets (CTGAN's reference architecture) ------------------------------------------------------
class Residual(nn.Module):
    """CTGAN's generator block: h -> cat[ReLU(BN(Linear(h))), h] (the input is passed on, widening the row)."""

    def __init__(self, i: int, o: int) -> None:
        super().__init__()
        self.fc, self.bn = nn.Linear(i, o), nn.BatchNorm1d(o)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return torch.cat([F.relu(self.bn(self.fc(h))), h], dim=1)


class TabularGenerator(nn.Module):
    """(z, cond) -> residual blocks -> Linear -> raw outputs (heads applied by the layout)."""

    def __init__(self, in_dim: int, out_dim: int, width: int, depth: int) -> None:
        super().__init__()
        blocks, d = [], in_dim
        for _ in range(depth):
            blocks.append(Residual(d, width))
            d += width
        self.blocks = nn.Sequential(*blocks)
        self.out = nn.Linear(d, out_dim)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.out(self.blocks(h))


class PacCritic(nn.Module):
    """PacGAN critic (Lin et al. 2018): ``pac`` rows concatenated into one input, then
    [Linear -> LeakyReLU(0.2) -> Dropout(0.5)] x depth -> Linear -> score. Dropout masks come from
    a passed ``torch.Generator`` (never the global RNG); without one the critic is deterministic."""

    def __init__(self, in_dim: int, width: int, depth: int, pac: int, dropout: float = 0.5) -> None:
        super().__init__()
        self.pac, self.in_dim, self.p = pac, in_dim, dropout
        dims = [in_dim * pac] + [width] * depth
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.out = nn.Linear(dims[-1], 1)

    def forward(self, x: torch.Tensor, gen: torch.Generator | None = None) -> torch.Tensor:
        h = x.reshape(-1, self.in_dim * self.pac)
        for layer in self.layers:
            h = F.leaky_relu(layer(h), 0.2)
            if gen is not None and self.p > 0:
                keep = (torch.rand(h.shape, generator=gen) >= self.p).to(h.device, h.dtype)
                h = h * keep / (1 - self.p)
        return self.out(h).squeeze(1)


def mlp(in_dim: int, out_dim: int, width: int, depth: int) -> nn.Sequential:
    """[Linear -> ReLU] x depth -> Linear (TVAE's encoder and decoder)."""
    layers: list[nn.Module] = []
    d = in_dim
    for _ in range(depth):
        layers += [nn.Linear(d, width), nn.ReLU()]
        d = width
    layers.append(nn.Linear(d, out_dim))
    return nn.Sequential(*layers)
