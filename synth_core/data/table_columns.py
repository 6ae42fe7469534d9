"""Typed descriptors of an encoded table's columns: what every model and sampler needs to know.

:class:`ColumnSpec` says, for one column of the user's table, its kind, its levels, which slice
of the encoded matrix it occupies, whether it has missing values, and the user's own name and
dtype. The encoder (:mod:`.table_encoder`) makes them; CTGAN/TVAE's layout and the conditional
sampler read them, instead of each parsing the encoder's plain-data state. Matching a value a
person gives ("yes", 2, "High", None) to a level has exactly one rule: :meth:`ColumnSpec.level_index`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

from ..errors import ConfigError
from .vocab import DISCRETE_TYPES, FALSE_WORDS, MISSING, MISSING_WORDS, NUMERIC_TYPES, TRUE_WORDS


@dataclass(frozen=True)
class ColumnSpec:
    """One column of the user's table as the encoder laid it out.

    ``start``/``stop`` bound its block of the encoded matrix (``span``); both are None for the
    label, whose values are the class codes ``y``. ``levels`` are the observed levels of a
    categorical/boolean column in block order; the missing level, when ``has_missing``, comes
    after them (a numeric column's missing flag is the block's last column).
    """

    name: Any
    kind: str  # one of vocab.COLUMN_TYPES
    dtype: str = ""  # the original pandas dtype
    levels: tuple[Any, ...] = ()
    has_missing: bool = False
    start: int | None = None
    stop: int | None = None
    encoding: str = "onehot"  # numeric columns: "quantile" | "mode"
    n_modes: int = 0  # "mode" encoding: how many mode indicators follow the scalar

    # -- reading -------------------------------------------------------------------------------
    @property
    def span(self) -> slice | None:
        """The columns of the encoded matrix this column occupies (None for the label)."""
        return None if self.start is None else slice(self.start, self.stop)

    @property
    def width(self) -> int:
        """Encoded columns (features), or classes (the label)."""
        return self.n_levels if self.start is None else int(self.stop) - int(self.start)  # type: ignore[arg-type]

    @property
    def is_label(self) -> bool:
        return self.start is None

    @property
    def is_discrete(self) -> bool:
        """Categorical or boolean: a one-hot block (or the label's class codes)."""
        return self.kind in DISCRETE_TYPES

    @property
    def is_numeric(self) -> bool:
        return self.kind in NUMERIC_TYPES

    @property
    def n_levels(self) -> int:
        """Levels including the missing one."""
        return len(self.levels) + int(self.has_missing)

    def level_values(self) -> list[Any]:
        """The levels in block order, the missing level as None."""
        return list(self.levels) + ([None] if self.has_missing else [])

    def levels_text(self, k: int = 30) -> str:
        out = [str(v) for v in self.levels] + ([MISSING] if self.has_missing else [])
        return ", ".join(out[:k]) + (f", ... ({len(out)} in all)" if len(out) > k else "")

    # -- matching a person's value to a level ---------------------------------------------------
    def level_index(self, value: Any) -> int:
        """Position of ``value`` in the one-hot block / class codes; the missing level is last.

        The one rule for every caller (typed conditions, text a person typed):
        None/NaN, or a missing word ("<missing>", "", "nan", "none", "null", "na") when the
        column has missing values, is the missing level; a boolean column reads true/false,
        yes/no, t/f, y/n and 0/1; otherwise the first level equal in value and type, else equal as
        text, else equal as text ignoring case (when only one is), else equal as a number ("2"
        or 2 for the level 2.0). Anything else raises :class:`ConfigError` naming the levels.
        """
        if _is_missing(value) or (isinstance(value, str) and self.has_missing
                                  and value.strip().lower() in MISSING_WORDS):
            if self.has_missing:
                return len(self.levels)
            raise ConfigError(f"column {self.name!r} has no missing values; levels: {self.levels_text()}")
        levels = self.levels
        if self.kind == "boolean":
            b = _as_bool(value)
            for k, lv in enumerate(levels):
                if b is not None and isinstance(lv, bool) and lv == b:
                    return k
            raise self._no_level(value)
        for k, lv in enumerate(levels):
            if type(lv) is type(value) and lv == value:
                return k
        text = str(value)
        for k, lv in enumerate(levels):
            if str(lv) == text:
                return k
        folded = [k for k, lv in enumerate(levels) if str(lv).strip().lower() == text.strip().lower()]
        if len(folded) == 1:
            return folded[0]
        num = _as_number(value)
        if num is not None:
            for k, lv in enumerate(levels):
                if isinstance(lv, (int, float)) and _as_number(lv) == num:  # numeric levels only
                    return k
        raise self._no_level(value)

    def level(self, value: Any) -> Any:
        """The level ``value`` names, typed as in the data (None = the missing level)."""
        k = self.level_index(value)
        return self.levels[k] if k < len(self.levels) else None

    def _no_level(self, value: Any) -> ConfigError:
        return ConfigError(f"column {self.name!r} has no level {value!r}; levels: {self.levels_text()}")

    # -- from the encoder's plain-data state -----------------------------------------------------
    @classmethod
    def from_state(cls, col_state: Mapping[str, Any], start: int | None = None, stop: int | None = None) -> "ColumnSpec":
        """A descriptor from one entry of the encoder's saved ``columns`` (or its ``label``)."""
        kind = col_state["type"]
        if kind in NUMERIC_TYPES:
            enc = col_state.get("encoding", "quantile")
            n_modes = len(col_state["modes"]["w"]) if enc == "mode" else 0
            return cls(col_state["name"], kind, str(col_state.get("dtype", "")), (), bool(col_state["missing"]), start, stop, enc, n_modes)
        return cls(col_state["name"], kind, str(col_state.get("dtype", "")), tuple(col_state["levels"]), bool(col_state["missing"]), start, stop)


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return bool(value)
    if isinstance(value, str):
        low = value.strip().lower()
        return True if low in TRUE_WORDS else False if low in FALSE_WORDS else None
    num = _as_number(value)
    return bool(num) if num in (0.0, 1.0) else None


def _as_number(value: Any) -> float | None:
    """A number (or text that reads as one) as float; booleans are not numbers here."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return None
    try:
        num = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(num) else num
