"""Declarative hyperparameter specs.

A generator declares each hyperparameter once as a :class:`Param`; the Streamlit widgets
(``synth_core.ui.widgets``), the CLI flags (``synth_core.cli``) and the run config
(``config.json``) are all derived from it, so they cannot drift apart.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Iterable, Sequence

from .errors import ConfigError

PARAM_TYPES = ("int", "float", "bool", "choice", "text")


@dataclass(frozen=True)
class Param:
    """One hyperparameter: its type, default, allowed range or choices and a help line."""

    name: str
    type: str
    default: Any
    help: str = ""
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] | None = None
    log: bool = False
    label: str | None = None
    advanced: bool = False

    def __post_init__(self) -> None:
        if self.type not in PARAM_TYPES:
            raise ValueError(f"Param {self.name!r}: type must be one of {PARAM_TYPES}")
        if self.type == "choice" and not self.choices:
            raise ValueError(f"Param {self.name!r}: a choice param needs choices")
        if self.log and (self.low is None or self.low <= 0):
            raise ValueError(f"Param {self.name!r}: a log-scale param needs low > 0")
        # A default outside the declared space is a bug in the generator, not the user's fault.
        self.validate(self.default)

    @property
    def display(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()

    def validate(self, value: Any) -> Any:
        """Coerce ``value`` to this param's type and check it lies in the declared space."""
        try:
            if self.type == "int":
                if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                    raise TypeError
                value = int(value)
            elif self.type == "float":
                if isinstance(value, bool):
                    raise TypeError
                value = float(value)
                if not math.isfinite(value):
                    raise ValueError
            elif self.type == "bool":
                if isinstance(value, str):
                    low = value.strip().lower()
                    if low not in ("true", "false", "1", "0", "yes", "no"):
                        raise ValueError
                    value = low in ("true", "1", "yes")
                else:
                    value = bool(value)
            elif self.type == "text":
                if not isinstance(value, str):
                    raise TypeError
                if self.high is not None and len(value) > self.high:
                    raise ConfigError(f"{self.name} is limited to {int(self.high)} characters")
                return value
            elif self.type == "choice":
                matches = [c for c in self.choices or () if c == value or str(c) == str(value)]
                if not matches:
                    raise ConfigError(
                        f"{self.name} must be one of {', '.join(map(str, self.choices or ()))}; got {value!r}"
                    )
                value = matches[0]
        except ConfigError:
            raise
        except (TypeError, ValueError):
            raise ConfigError(f"{self.name} must be a {self.type}; got {value!r}") from None
        if self.type in ("int", "float"):
            if self.low is not None and value < self.low:
                raise ConfigError(f"{self.name} must be >= {self.low}; got {value}")
            if self.high is not None and value > self.high:
                raise ConfigError(f"{self.name} must be <= {self.high}; got {value}")
        return value

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if d["choices"] is not None:
            d["choices"] = list(d["choices"])
        return d


def resolve_params(specs: Sequence[Param], values: dict[str, Any] | None = None) -> dict[str, Any]:
    """Defaults overlaid with ``values``, each validated. Unknown names raise ``ConfigError``."""
    values = dict(values or {})
    known = {p.name for p in specs}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(
            f"Unknown parameter(s) {', '.join(unknown)}; valid ones: {', '.join(sorted(known)) or 'none'}"
        )
    return {p.name: p.validate(values.get(p.name, p.default)) for p in specs}


def param_table(specs: Iterable[Param]) -> list[dict[str, Any]]:
    """Rows describing params, for docs, ``--help`` and the UI."""
    rows = []
    for p in specs:
        if p.type == "choice":
            space = " | ".join(map(str, p.choices or ()))
        elif p.type in ("int", "float"):
            space = f"[{p.low if p.low is not None else '-inf'}, {p.high if p.high is not None else 'inf'}]"
            if p.log:
                space += " log"
        elif p.type == "text":
            space = "text"
        else:
            space = "true | false"
        rows.append({"name": p.name, "type": p.type, "default": p.default, "space": space, "help": p.help})
    return rows

