"""The one place that maps a :class:`~synth_core.params.Param` to a Streamlit widget.

Values live under our own ``session_state`` keys (``_params/<generator>``), not only in widget
state: Streamlit drops a page's widget state when the user switches pages, and a user who tuned
a learning rate, looked at the Data page and came back must find their value still there.
"""
from __future__ import annotations

import math
from typing import Any

import streamlit as st

from ..params import Param


_DEFAULTS = "__defaults__"  # in an owner's store: the defaults its values were last shown with


def _store(owner: str) -> dict[str, Any]:
    return st.session_state.setdefault(f"_params/{owner}", {})


def _widget_key(owner: str, name: str) -> str:
    return f"w/{owner}/{name}"


def param_widget(p: Param, owner: str, container=st) -> Any:
    """Render one widget for ``p`` and return its (validated) value."""
    store = _store(owner)
    value = store.get(p.name, p.default)
    key = _widget_key(owner, p.name)
    label = p.display
    if p.type == "bool":
        out = container.toggle(label, value=bool(value), help=p.help, key=key)
    elif p.type == "choice":
        options = list(p.choices or ())
        out = container.selectbox(label, options, index=options.index(value) if value in options else 0,
                                  help=p.help, key=key)
    elif p.type == "int":
        out = container.number_input(label, min_value=int(p.low) if p.low is not None else None,
                                     max_value=int(p.high) if p.high is not None else None,
                                     value=int(value), step=1, help=p.help, key=key)
    elif p.type == "float":
        if p.log:
            # log-scale floats: show 1e-4 style, step by the value's own order of magnitude
            step = 10 ** math.floor(math.log10(abs(value))) if value else 1e-4
            out = container.number_input(label, min_value=float(p.low), max_value=float(p.high) if p.high else None,
                                         value=float(value), step=float(step), format="%.1e", help=p.help, key=key)
        else:
            span = (p.high - p.low) if (p.low is not None and p.high is not None) else 1.0
            out = container.number_input(label, min_value=float(p.low) if p.low is not None else None,
                                         max_value=float(p.high) if p.high is not None else None,
                                         value=float(value), step=float(span / 100 if span else 0.01),
                                         format="%.3g" if span < 10 else "%.2f", help=p.help, key=key)
    elif p.type == "text":
        out = container.text_area(label, value=str(value), help=p.help, key=key,
                                  max_chars=int(p.high) if p.high else None)
    else:  # pragma: no cover - Param validates its type
        raise ValueError(p.type)
    store[p.name] = out
    return out


def _follow_defaults(params: tuple[Param, ...], owner: str) -> None:
    """When the defaults change (a generator whose defaults depend on the data kind, after the user
    switched dataset), values the user never changed move to the new defaults; tuned ones stay."""
    store = _store(owner)
    now = {p.name: p.default for p in params}
    before = store.get(_DEFAULTS, now)
    for name, default in now.items():
        if name in store and before.get(name) != default and store[name] == before.get(name):
            store[name] = default
            st.session_state.pop(_widget_key(owner, name), None)  # the widget re-reads its value
    store[_DEFAULTS] = now


def param_form(params: tuple[Param, ...], owner: str, *, run_params: tuple[Param, ...] = (),
               run_owner: str | None = None) -> dict[str, Any]:
    """All of a generator's params: main ones first, ``advanced`` ones in an expander. Pass the
    generator's ``params_for(kind)``: untouched values follow its data-kind defaults.

    ``run_params`` (stored under ``run_owner``): run settings that are not the generator's, such as
    the holdout fraction, shown in the same Advanced expander; their values are in the result too."""
    _follow_defaults(params, owner)
    if run_params:
        _follow_defaults(run_params, run_owner or f"run/{owner}")
    values: dict[str, Any] = {}
    main = [p for p in params if not p.advanced]
    adv = [(p, owner) for p in params if p.advanced] + [(p, run_owner or f"run/{owner}") for p in run_params]
    cols = st.columns(2)
    for i, p in enumerate(main):
        values[p.name] = param_widget(p, owner, cols[i % 2])
    if adv:
        with st.expander("Advanced"):
            acols = st.columns(2)
            for i, (p, who) in enumerate(adv):
                values[p.name] = param_widget(p, who, acols[i % 2])
    return values


def set_values(owner: str, values: dict[str, Any]) -> None:
    """Set an owner's form values from outside the form (a run's config after a refresh, a Learn demo):
    the widgets show them the next time they are drawn."""
    store = _store(owner)
    for name, value in values.items():
        store[name] = value
        st.session_state.pop(_widget_key(owner, name), None)


def reset_params(owner: str) -> None:
    st.session_state.pop(f"_params/{owner}", None)
    for k in [k for k in st.session_state if isinstance(k, str) and k.startswith(_widget_key(owner, ""))]:
        del st.session_state[k]
