"""Independent marginals + user rules: the rule-based baseline every synthesiser should beat.

Each feature is sampled on its own from its empirical distribution (inverse empirical CDF through
sorted quantiles, or a histogram; integer-valued columns with few distinct values are sampled by
their category frequencies), so all marginals match and every dependence between features is lost.
Users add domain knowledge as rules, one per line::

    age in [18, 90]          # range: sample from the truncated marginal (or clip)
    children in {0, 1, 2}    # choices: restrict the column to these values
    total = price * qty + 2  # formula over other columns, by feature name

The rule language (``rules.py``) is parsed with :mod:`ast` against a strict whitelist and
*interpreted* (never ``eval``/``exec``). References: the "independent marginals" baseline of
synthpop (Nowok et al. 2016, J. Stat. Softw. 74(11)) and SDV's constraints (Patki et al. 2016,
IEEE DSAA).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..data.base import Dataset
from ..params import Param
from ..stats import ks_statistic
from .base import Generator, register_generator
from .rules import Rule, eval_expr, parse_rules, rule_ok


# ---- marginals: shared with the Gaussian copula ------------------------------------------------
def fit_marginal(col: np.ndarray, *, method: str = "quantile", bins: int = 50,
                 max_categories: int = 20, max_levels: int = 1000) -> dict[str, Any]:
    """Fit one column's marginal as a monotone piecewise-linear CDF ``levels -> values``.

    Categorical columns (integer-valued, <= ``max_categories`` distinct values) keep their
    values and frequencies instead. Everything is a float64 tensor so it survives
    ``torch.load(weights_only=True)``.
    """
    col = np.asarray(col, dtype=np.float64)
    uniq, counts = np.unique(col, return_counts=True)
    if len(uniq) <= max_categories and np.all(uniq == np.round(uniq)):
        return {"kind": "categorical", "values": torch.from_numpy(uniq),
                "probs": torch.from_numpy(counts / counts.sum())}
    if method == "histogram":
        counts, edges = np.histogram(col, bins=bins)
        levels = np.concatenate([[0.0], np.cumsum(counts) / counts.sum()])
        values = edges
    else:
        # Order statistics at (up to) max_levels evenly spaced probabilities, ends included.
        levels = np.linspace(0.0, 1.0, min(len(col), max_levels))
        values = np.quantile(col, levels)
    return {"kind": "continuous", "levels": torch.from_numpy(levels), "values": torch.from_numpy(values)}


def _interp(x: torch.Tensor, xp: torch.Tensor, fp: torch.Tensor) -> torch.Tensor:
    """``np.interp`` for nondecreasing ``xp`` (flat stretches are fine)."""
    i = torch.searchsorted(xp, x.contiguous(), right=True).clamp(1, len(xp) - 1)
    x0, x1, f0, f1 = xp[i - 1], xp[i], fp[i - 1], fp[i]
    w = torch.where(x1 > x0, (x - x0) / (x1 - x0).clamp_min(1e-300), torch.zeros_like(x))
    return f0 + w.clamp(0, 1) * (f1 - f0)


def marginal_icdf(m: dict[str, Any], u: torch.Tensor) -> torch.Tensor:
    """Inverse CDF: uniforms in [0, 1] -> values of this column (float64)."""
    if m["kind"] == "categorical":
        cum = torch.cumsum(m["probs"], 0)
        idx = torch.searchsorted(cum, u.contiguous() * cum[-1], right=True).clamp(max=len(cum) - 1)
        return m["values"][idx]
    return _interp(u, m["levels"], m["values"])


def marginal_cdf(m: dict[str, Any], x: torch.Tensor) -> torch.Tensor:
    """CDF of a continuous marginal (used to truncate it to a range)."""
    return _interp(x, m["values"], m["levels"])


def _nearest(values: np.ndarray, choices: tuple[float, ...]) -> np.ndarray:
    c = np.asarray(choices)
    return c[np.abs(values[:, None] - c[None, :]).argmin(1)]


def _restrict(m: dict[str, Any], rule: Rule) -> dict[str, Any]:
    """The marginal conditioned on a range/choice rule (truncated CDF or renormalised categories)."""
    m = dict(m)
    if rule.kind == "choices":
        c = torch.tensor(rule.choices, dtype=torch.float64)
        if m["kind"] == "categorical":
            hit = (m["values"][None, :] == c[:, None]).double() @ m["probs"]
        else:
            hit = torch.zeros(len(c), dtype=torch.float64)
        # Observed frequencies where the data has the value; uniform over the choices otherwise.
        probs = hit / hit.sum() if hit.sum() > 0 else torch.full((len(c),), 1.0 / len(c), dtype=torch.float64)
        return {"kind": "categorical", "values": c, "probs": probs}
    if m["kind"] == "categorical":
        keep = (m["values"] >= rule.low) & (m["values"] <= rule.high)
        if keep.any():
            return {"kind": "categorical", "values": m["values"][keep], "probs": m["probs"][keep] / m["probs"][keep].sum()}
        return {"kind": "continuous", "levels": torch.tensor([0.0, 1.0], dtype=torch.float64),
                "values": torch.tensor([rule.low, rule.high], dtype=torch.float64)}
    bounds = marginal_cdf(m, torch.tensor([rule.low, rule.high], dtype=torch.float64))
    if bounds[1] <= bounds[0]:  # no data mass in the range: uniform over it
        return {"kind": "continuous", "levels": torch.tensor([0.0, 1.0], dtype=torch.float64),
                "values": torch.tensor([rule.low, rule.high], dtype=torch.float64)}
    m["u_range"] = bounds
    return m


@register_generator
class MarginalsGenerator(Generator):
    name = "marginals"
    label = "Independent marginals + rules"
    family = "rule-based"
    supports = frozenset({"points", "tabular", "image"})
    closed_form = True
    default_steps = 1
    paper = ("Nowok, Raab & Dibben 2016, synthpop: bespoke creation of synthetic data in R (J. Stat. Softw.); "
             "Patki, Wedge & Veeramachaneni 2016, The Synthetic Data Vault (IEEE DSAA)")
    params = (
        Param("method", "choice", "quantile", choices=("quantile", "histogram"),
              help="quantile: interpolate the empirical quantiles (exact marginals); "
                   "histogram: sample uniformly inside histogram bins (smoother, coarser)."),
        Param("bins", "int", 50, low=2, high=1000, help="Histogram bins per feature (histogram method only)."),
        Param("max_categories", "int", 20, low=0, high=1000,
              help="Integer-valued columns with at most this many distinct values are sampled by their "
                   "category frequencies."),
        Param("rules", "text", "", high=20_000,
              help="One rule per line, e.g. `a in [0, 10]`, `b in {1, 2, 3}`, `c = a * 2 + b`. "
                   "Expressions may use numbers, column names, + - * / **, abs/min/max/log/exp/sqrt/clip."),
        Param("range_mode", "choice", "resample", choices=("resample", "clip"),
              help="How range rules are enforced: resample from the truncated distribution, or clip."),
    )

    def _setup(self, dataset: Dataset) -> None:
        self.names_ = list(dataset.feature_names or [f"x{i}" for i in range(dataset.n_features)])
        # Parse now so a bad rule fails at setup, before any training.
        self.rules_ = parse_rules(self.hparams["rules"], self.names_)
        self.marginals_: list[dict[str, Any]] | None = None

    def _train_step(self) -> dict[str, float]:
        x = self.dataset_.x.reshape(len(self.dataset_), -1).astype(np.float64)
        hp = self.hparams
        self.marginals_ = [fit_marginal(x[:, j], method=hp["method"], bins=hp["bins"],
                                        max_categories=hp["max_categories"]) for j in range(x.shape[1])]
        # Losses: how well one sample's marginals match (mean Kolmogorov-Smirnov distance), and how
        # many *real* rows already break the user's rules (a sanity check on the rules themselves).
        # (in the space the marginals were fitted in: a table's frequency view, not its one-hot columns)
        gen = torch.Generator(device="cpu").manual_seed(self.seed_)
        s = np.asarray(self._sample(min(len(x), 2000), None, gen), dtype=np.float64).reshape(-1, x.shape[1])
        ks = float(np.mean([ks_statistic(x[:, j], s[:, j]) for j in range(x.shape[1])]))
        bad = np.zeros(len(x), dtype=bool)
        for r in self.rules_:
            if r.kind != "formula":
                bad |= ~rule_ok(r, x[:, r.column])
        return {"mean_ks": ks, "real_rows_breaking_rules": float(bad.mean())}

    # ---- sampling ------------------------------------------------------------------------------
    def _draw(self, n: int, gen: torch.Generator, margs: list[dict[str, Any]], early: list[Rule],
              formulas: list[Rule]) -> np.ndarray:
        """Independent draws per column, source ranges enforced, then the formulas in rule order."""
        cols = []
        for m in margs:
            u = torch.rand(n, generator=gen, dtype=torch.float64)
            if "u_range" in m:  # truncated marginal: uniforms restricted to [F(low), F(high)]
                lo, hi = m["u_range"]
                u = lo + u * (hi - lo)
            cols.append(marginal_icdf(m, u))
        x = torch.stack(cols, 1).numpy()
        # Clip mode clips here; in resample mode this only removes float round-off at the bounds.
        # Either way it happens *before* the formulas so they see the values the user will see.
        for r in early:
            x[:, r.column] = np.clip(x[:, r.column], r.low, r.high)
        return self._apply(x, formulas)

    def _sample(self, n: int, condition: Any, gen: torch.Generator) -> np.ndarray:
        if self.marginals_ is None:
            raise RuntimeError("the marginals have not been fitted yet: run one training step first")
        formulas = [r for r in self.rules_ if r.kind == "formula"]
        targets = {r.column for r in formulas}
        margs = list(self.marginals_)
        early = [r for r in self.rules_ if r.kind == "range" and r.column not in targets]
        late = [r for r in self.rules_ if r.kind != "formula" and r.column in targets]
        for r in self.rules_:
            if r.kind != "formula" and r.column not in targets:
                if r.kind == "choices" or self.hparams["range_mode"] == "resample":
                    margs[r.column] = _restrict(margs[r.column], r)
        x = self._draw(n, gen, margs, early, formulas)
        # Rows whose formula output breaks a constraint (or is not finite) are redrawn a few times.
        for _ in range(20 if formulas else 0):
            bad = self._bad_rows(x, late)
            if not bad.any():
                break
            x[bad] = self._draw(int(bad.sum()), gen, margs, early, formulas)
        # Final guarantee: clip ranges / snap to the nearest choice, so every rule holds on every row.
        for r in late:
            if r.kind == "range":
                x[:, r.column] = np.clip(x[:, r.column], r.low, r.high)
            else:
                x[:, r.column] = _nearest(x[:, r.column], r.choices)
        return np.nan_to_num(x, nan=0.0, posinf=np.finfo(np.float32).max, neginf=np.finfo(np.float32).min)

    @staticmethod
    def _apply(x: np.ndarray, formulas: list[Rule]) -> np.ndarray:
        with np.errstate(all="ignore"):
            for r in formulas:
                cols = {j: x[:, j] for j in r.uses}
                x[:, r.column] = np.broadcast_to(eval_expr(r.expr, cols), (len(x),))
        return x

    @staticmethod
    def _bad_rows(x: np.ndarray, late: list[Rule]) -> np.ndarray:
        bad = ~np.isfinite(x).all(1)
        for r in late:
            bad |= ~rule_ok(r, x[:, r.column])
        return bad

    # ---- persistence ---------------------------------------------------------------------------
    def _state_dict(self) -> dict[str, Any]:
        return {"marginals": self.marginals_}

    def _load_state_dict(self, state: dict[str, Any]) -> None:
        self.marginals_ = state["marginals"]

