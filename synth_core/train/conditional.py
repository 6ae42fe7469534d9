"""Conditional sampling for tables: "generate rows where sex = F, smoker = yes".

:func:`parse_where` turns the text a person types into ``{column: level}`` checked against the
table's schema; :func:`sample_where` returns exactly ``n`` rows (model space) that decode to those
values. It uses a generator's own conditioning where it has one - CTGAN conditions on any
categorical column, conditional generators (cGAN, CVAE, CTGAN) on the label - and filters samples
(rejection sampling) for the rest, failing with a clear message when the generator produces the
requested values too rarely.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..data.base import Dataset
from ..data.table_columns import ColumnSpec
from ..data.vocab import MISSING
from ..errors import ConfigError

#: default budget of samples drawn by rejection sampling before giving up
MAX_TRIES = 100_000


def _require_table(dataset: Dataset) -> None:
    """ConfigError for data without named columns (images, points, a plain matrix)."""
    if dataset.kind != "tabular" or not dataset.column_specs:
        raise ConfigError(f"conditions need a table with named columns; {dataset.name} ({dataset.kind}) has none. "
                          f"Load a CSV or one of the built-in tables (iris, wine, patients...).")


def condition_columns(dataset: Dataset) -> dict[str, ColumnSpec]:
    """Columns that can appear in a condition, by name (as text): categorical/boolean features and the
    label, as the encoder describes them (:class:`~synth_core.data.table_columns.ColumnSpec`)."""
    _require_table(dataset)
    out = {str(c.name): c for c in dataset.column_specs if c.is_discrete}
    lab = dataset.label_spec
    if lab is not None:
        out[str(lab.name)] = lab
    return out


# ----------------------------------------------------------------------------------------------
# Parsing
# ----------------------------------------------------------------------------------------------
def _split(text: str) -> list[str]:
    """Split on commas, gluing back pieces without '=' (a level that contains a comma)."""
    parts: list[str] = []
    for piece in text.split(","):
        if "=" in piece or not parts:
            parts.append(piece)
        else:
            parts[-1] += "," + piece
    return [p for p in (s.strip() for s in parts) if p]


def _unquote(s: str) -> str:
    s = s.strip()
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "\"'":
        return s[1:-1]
    return s


def parse_where(text: str, dataset: Dataset) -> dict[Any, Any]:
    """``"sex = F, smoker=yes"`` -> ``{"sex": "F", "smoker": True}``, each value typed as in the data.

    Only categorical/boolean columns and the label can be named; anything else raises
    :class:`ConfigError` naming the valid choices.
    """
    if not isinstance(text, str) or not text.strip():
        raise ConfigError('write a condition as column=value, e.g. "sex=F" or "sex=F, smoker=yes".')
    cols = condition_columns(dataset)
    schema = {str(c.name): c for c in dataset.schema.columns}  # type: ignore[union-attr]  # a table
    choices = ", ".join(map(str, cols)) or "none (this table has no categorical columns)"
    out: dict[Any, Any] = {}
    for part in _split(text):
        name, eq, value = part.partition("=")
        if not eq:
            raise ConfigError(f"cannot read {part!r}: write column=value (e.g. \"sex=F\").")
        name, value = _unquote(name.rstrip("=").strip()), _unquote(value.lstrip("=").strip())
        key = name if name in cols else next((k for k in cols if k.lower() == name.lower()), None)
        if key is None:
            if name in schema:
                c = schema[name]
                why = ("is left out of the model" if not c.include else
                       f"is {c.type}: conditions need a categorical or boolean column (or the label)")
                raise ConfigError(f"column {name!r} {why}. Columns you can condition on: {choices}")
            raise ConfigError(f"no column {name!r} in {dataset.name}. Columns you can condition on: {choices} "
                              f"(all columns: {', '.join(schema)})")
        col = cols[key]
        level = col.level(value)  # the encoder's one rule for naming a level
        if col.name in out and out[col.name] != level:
            raise ConfigError(f"column {col.name!r} appears twice with different values; a row has one value.")
        out[col.name] = level
    return out


def describe_where(where: dict[Any, Any]) -> str:
    """``{"sex": "F"}`` -> ``sex=F`` (for messages and file names)."""
    return ", ".join(f"{k}={MISSING if v is None else v}" for k, v in where.items())


# ----------------------------------------------------------------------------------------------
# Sampling
# ----------------------------------------------------------------------------------------------
def matches(x: np.ndarray, y: np.ndarray | None, dataset: Dataset, where: dict[Any, Any]) -> np.ndarray:
    """Boolean mask of rows (model space, with label codes ``y``) that decode to every value in ``where``."""
    cols = condition_columns(dataset)
    x = np.asarray(x).reshape(len(x), -1)
    mask = np.ones(len(x), dtype=bool)
    for name, value in where.items():
        col = cols[str(name)]
        k = col.level_index(value)
        if col.is_label:
            if y is None:
                raise ConfigError(f"this generator does not produce the label {col.name!r}, so rows cannot be "
                                  f"filtered by it; use a conditional generator (cgan, cvae, ctgan) or tvae.")
            mask &= np.asarray(y) == k
        else:
            mask &= x[:, col.span].argmax(1) == k  # exactly how the encoder decodes a one-hot block
    return mask


def _plan(gen: Any, dataset: Dataset, where: dict[Any, Any]) -> tuple[Any, dict[Any, Any], int | None]:
    """(native condition for ``gen.sample``, conditions left to rejection, fixed label code or None)."""
    cols = condition_columns(dataset)
    label = next((k for k in where if cols[str(k)].is_label), None)
    native_cols = list(gen.condition_columns())
    if native_cols:
        usable = [k for k in where if any(str(k) == str(c) for c in native_cols)]
        if usable:
            # the label first (it cannot be filtered otherwise), else the rarest value: rejection does the rest
            pick = label if label in usable else min(usable, key=lambda k: _real_share(dataset, {k: where[k]}))
            rest = {k: v for k, v in where.items() if k != pick}
            code = cols[str(pick)].level_index(where[pick]) if pick == label else None
            return {pick: where[pick]}, rest, code
    if label is not None and gen.conditional:
        code = cols[str(label)].level_index(where[label])
        return code, {k: v for k, v in where.items() if k != label}, code
    if label is not None and not gen.produces_labels:
        raise ConfigError(f"{gen.label or gen.name} does not generate the label column "
                          f"{label!r}: condition on a feature column, or train a conditional generator "
                          f"(cgan, cvae, ctgan) or tvae.")
    return None, dict(where), None


def _real_share(dataset: Dataset, where: dict[Any, Any]) -> float:
    return float(matches(dataset.x, dataset.y, dataset, where).mean()) if len(dataset) else 0.0


def sample_where_labelled(gen: Any, dataset: Dataset, n: int, where: dict[Any, Any] | str, *, seed: int = 0,
                          max_tries: int = MAX_TRIES) -> tuple[np.ndarray, np.ndarray | None]:
    """Like :func:`sample_where`, also returning label codes when they are known (else None)."""
    if isinstance(where, str):
        where = parse_where(where, dataset)
    if not where:
        raise ConfigError("no condition given: write column=value, e.g. \"sex=F\".")
    n = int(n)
    if n < 1:
        raise ConfigError("ask for at least one row")
    cols = condition_columns(dataset)
    for k, v in where.items():  # validate names and levels up front
        if str(k) not in cols:
            raise ConfigError(f"cannot condition on {k!r}; columns you can condition on: {', '.join(map(str, cols))}")
        cols[str(k)].level_index(v)
    native, rest, code = _plan(gen, dataset, where)

    def draw(m: int, s: int) -> tuple[np.ndarray, np.ndarray | None]:
        x, y = gen.sample_with_labels(m, condition=native, seed=s)
        if code is not None and y is None:
            y = np.full(m, code, dtype=np.int64)
        return x, y

    xs, ys, got, total, i = [], [], 0, 0, 0
    while got < n:
        if not rest:  # native conditioning alone is exact: one draw
            x, y = draw(n, seed)
            return x, y
        remaining = max_tries - total
        rate = got / total if total else None
        if total:
            bound = rate if got else 0.5 / total  # with no hit yet, at most half a hit so far
            if (n - got) / bound > 2 * remaining or remaining <= 0:
                break
        want = math.ceil(1.2 * (n - got) / rate) if rate else 2 * n
        m = int(min(remaining, max(1000, want)))
        x, y = draw(m, seed + i)
        i += 1
        total += m
        keep = matches(x, y, dataset, rest)
        xs.append(x[keep])
        ys.append(None if y is None else y[keep])
        got += int(keep.sum())
    if got < n:
        how = " (the rest conditioned natively)" if native is not None else ""
        tip = ("" if gen.condition_columns() else
               ", or use ctgan, which conditions on a categorical column directly")
        raise ConfigError(
            f"only {got:,} of {total:,} samples had {describe_where(rest)}{how}; {n:,} were asked for. The model "
            f"rarely produces these values: ask for fewer rows or fewer conditions, train longer{tip}.")
    x = np.concatenate(xs)[:n]
    y = None if any(v is None for v in ys) else np.concatenate(ys)[:n]  # type: ignore[arg-type]
    return x, y


def sample_where(gen: Any, dataset: Dataset, n: int, where: dict[Any, Any] | str, *, seed: int = 0,
                 max_tries: int = MAX_TRIES) -> np.ndarray:
    """``n`` rows (model space) from ``gen`` that all decode to the values in ``where``.

    Native conditioning is used where the generator has it (CTGAN: any categorical column;
    conditional generators: the label); the remaining conditions are met by rejection sampling in
    batches, drawing at most ``max_tries`` samples. Raises :class:`ConfigError` when too few
    samples match ("only 3 of 20,000 samples had sex=F; ...").
    """
    return sample_where_labelled(gen, dataset, n, where, seed=seed, max_tries=max_tries)[0]
