"""A table's schema: its columns, their types, which are used, and the label.

:func:`~.table_infer.infer_schema` guesses one from a DataFrame; the Data page and the CLI edit it
(each edit returns a new :class:`Schema`); the encoder (:mod:`.table_encoder`) is fitted on it.
"""
from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass, fields
from typing import Any, Iterable

import numpy as np
import pandas as pd

from ..errors import ConfigError, DataError
from .vocab import COLUMN_TYPES, ENCODINGS, NUMERIC_TYPES

#: a label needs few classes: each is a condition for conditional generators and a utility class.
MAX_LABEL_CLASSES = 100


def plain_value(v: Any) -> Any:
    """numpy/pandas scalar -> a plain JSON-able Python value (NaN -> None)."""
    if v is None:
        return None
    if isinstance(v, (np.generic,)):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, (pd.Timestamp,)):
        return v.isoformat()
    if isinstance(v, (str, int, float, bool)):
        return v
    return str(v)


@dataclass
class Column:
    """One column of a table: its type, whether it is used, and what inference saw.

    ``levels``/``min``/``max``/``n_unique``/``n_missing`` describe the data at inference time (for
    display); the encoder recomputes everything it needs when it is fitted.
    """

    name: str
    type: str
    include: bool = True
    encoding: str = "quantile"  # numeric columns only: "quantile" | "mode"
    dtype: str = ""  # the original pandas dtype, restored on decode
    levels: list[Any] | None = None
    min: float | str | None = None  # numbers; ISO strings for datetimes
    max: float | str | None = None
    has_missing: bool = False
    n_missing: int = 0
    n_unique: int = 0
    note: str = ""

    def __post_init__(self) -> None:
        if self.type not in COLUMN_TYPES:
            raise ConfigError(f"column {self.name!r}: type must be one of {', '.join(COLUMN_TYPES)}; got {self.type!r}")
        if self.encoding not in ENCODINGS:
            raise ConfigError(f"column {self.name!r}: encoding must be one of {', '.join(ENCODINGS)}; "
                              f"got {self.encoding!r}")


@dataclass
class Schema:
    """Columns in table order plus the optional label (target) column.

    Editing methods return a *new* Schema (the old one stays valid, which suits UI state).
    """

    columns: list[Column]
    label: str | None = None

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        dup = sorted({str(n) for n in names if names.count(n) > 1})
        if dup:
            raise DataError(f"duplicate column names: {', '.join(dup)}. Rename them so every column is unique.")
        if self.label is not None and self.label not in names:
            raise ConfigError(f"label column {self.label!r} is not in the table; columns: {short_list(names)}")

    # -- reading ------------------------------------------------------------------------------
    @property
    def names(self) -> list[Any]:
        return [c.name for c in self.columns]

    @property
    def included(self) -> list[Column]:
        """Columns that go into the model matrix or the label."""
        return [c for c in self.columns if c.include]

    @property
    def features(self) -> list[Column]:
        """Included columns except the label: what the encoder turns into ``x``."""
        return [c for c in self.columns if c.include and c.name != self.label]

    def __getitem__(self, name: Any) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise ConfigError(f"no column {name!r}; columns: {short_list(self.names)}")

    def __contains__(self, name: Any) -> bool:
        return any(c.name == name for c in self.columns)

    # -- editing (each returns a new Schema) ---------------------------------------------------
    def _edit(self, name: Any, **changes: Any) -> "Schema":
        new = self.copy()
        col = new[name]
        for k, v in changes.items():
            setattr(col, k, v)
        col.__post_init__()  # re-validate type/encoding
        return new

    def set_type(self, name: Any, type: str) -> "Schema":
        """Change a column's type; the encoder re-reads the data when fitted, so stale stats are harmless."""
        if type not in COLUMN_TYPES:
            raise ConfigError(f"column {name!r}: type must be one of {', '.join(COLUMN_TYPES)}; got {type!r}")
        old = self[name]
        if old.type == type:
            return self.copy()
        levels = old.levels if type == "categorical" else ([False, True] if type == "boolean" else None)
        new = self._edit(name, type=type, levels=levels, note=f"type set to {type} (inferred {old.type})")
        if new.label == name:
            check_label_type(new[name])
        return new

    def set_encoding(self, name: Any, encoding: str) -> "Schema":
        """Numeric columns: "quantile" (normal scores) or "mode" (CTGAN mode-specific normalisation)."""
        if self[name].type not in NUMERIC_TYPES:
            raise ConfigError(f"column {name!r} is {self[name].type}: only numeric columns "
                              f"({', '.join(NUMERIC_TYPES)}) have an encoding choice")
        return self._edit(name, encoding=encoding)

    def drop(self, *names: Any) -> "Schema":
        """Leave columns out of the model (kept in the schema, so :meth:`keep` can bring them back)."""
        new = self.copy()
        for n in names:
            new[n].include = False
            if new.label == n:
                new.label = None
        return new

    def keep(self, *names: Any) -> "Schema":
        new = self.copy()
        for n in names:
            new[n].include = True
        return new

    def set_label(self, name: Any | None) -> "Schema":
        """Choose the label (target) column, or ``None`` for none. It must be discrete."""
        new = self.copy()
        if name is None:
            new.label = None
            return new
        col = new[name]
        check_label_type(col)
        col.include = True
        new.label = name
        return new

    def copy(self) -> "Schema":
        return copy.deepcopy(self)

    # -- plain data ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"columns": [asdict(c) for c in self.columns], "label": self.label}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Schema":
        known = {f.name for f in fields(Column)}
        try:
            cols = [Column(**{k: v for k, v in c.items() if k in known}) for c in d["columns"]]
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"not a valid schema: {exc}") from None
        return cls(cols, d.get("label"))

    def table(self) -> pd.DataFrame:
        """One row per column, for display."""
        return pd.DataFrame([{**asdict(c), "label": c.name == self.label} for c in self.columns])


def short_list(names: Iterable[Any], k: int = 12) -> str:
    """Names for a message: the first ``k``, then how many in all."""
    names = [str(n) for n in names]
    return ", ".join(names[:k]) + (f", ... ({len(names)} in all)" if len(names) > k else "")


def check_label_type(col: Column) -> None:
    """ConfigError unless ``col`` can be a label (discrete, with few classes)."""
    if col.type in ("continuous", "datetime"):
        raise ConfigError(
            f"label column {col.name!r} is {col.type}: a label must be discrete (categorical, boolean or an "
            f"integer with at most {MAX_LABEL_CLASSES} values). Choose another column, set its type to "
            f"categorical, or use no label.")
    if col.type == "integer" and col.n_unique > MAX_LABEL_CLASSES:
        raise ConfigError(f"label column {col.name!r} has {col.n_unique} distinct values; a label can have at "
                          f"most {MAX_LABEL_CLASSES}. Choose another column or use no label.")


def sorted_levels(values: Iterable[Any]) -> list[Any]:
    """Levels in a deterministic order (the encoder's block order)."""
    vals = list(values)
    try:
        return sorted(vals)
    except TypeError:  # mixed types (1 and "a"): sort by text, deterministic
        return sorted(vals, key=lambda v: (type(v).__name__, str(v)))
