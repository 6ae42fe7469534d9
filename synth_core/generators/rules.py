"""The rule language of the rule-based sampler (``marginals.py``): one rule per line::

    age in [18, 90]          # range
    children in {0, 1, 2}    # choices
    total = price * qty + 2  # formula over other columns, by feature name

Rules are parsed with :mod:`ast` against a strict whitelist and *interpreted* (never ``eval``/
``exec``); a rule outside the grammar raises ConfigError naming its line and the problem.
"""
from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..errors import ConfigError

MAX_RULES = 100
MAX_RULE_CHARS = 500
_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide, ast.Pow: np.power,
}
# name -> (min args, max args, implementation). All work elementwise on float64 arrays.
_FUNCS: dict[str, tuple[int, int, Callable[..., Any]]] = {
    "abs": (1, 1, np.abs), "log": (1, 1, np.log), "exp": (1, 1, np.exp), "sqrt": (1, 1, np.sqrt),
    "min": (2, 8, lambda *a: np.minimum.reduce(np.broadcast_arrays(*a))),
    "max": (2, 8, lambda *a: np.maximum.reduce(np.broadcast_arrays(*a))),
    "clip": (3, 3, np.clip),
}
_ALLOWED = "numbers, column names, + - * / **, unary minus and abs/min/max/log/exp/sqrt/clip"


# ---- rules: parsed with ast, interpreted against a whitelist ------------------------------------
@dataclass(frozen=True)
class Rule:
    """One parsed rule. ``kind`` is "range", "choices" or "formula"."""

    line: int
    text: str
    kind: str
    column: int
    low: float = -math.inf
    high: float = math.inf
    choices: tuple[float, ...] = ()
    expr: ast.AST | None = None
    uses: tuple[int, ...] = ()


def rule_names(feature_names: list[str]) -> dict[str, int]:
    """Identifier used in rules -> column index (non-identifier characters become ``_``)."""
    out: dict[str, int] = {}
    for i, name in enumerate(feature_names):
        ident = re.sub(r"\W+", "_", name).strip("_") or f"x{i}"
        if ident[0].isdigit():
            ident = "_" + ident
        out.setdefault(ident, i)
    return out


def _check_expr(node: ast.AST, names: dict[str, int], where: str, allow_names: bool = True) -> set[int]:
    """Raise ConfigError unless ``node`` only uses whitelisted syntax; return the columns it reads."""
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ConfigError(f"{where}: {node.value!r} is not a number (allowed: {_ALLOWED}).")
        return set()
    if isinstance(node, ast.Name):
        if not allow_names:
            raise ConfigError(f"{where}: bounds and choices must be numbers, not the name {node.id!r}.")
        if node.id not in names:
            raise ConfigError(f"{where}: unknown column {node.id!r}; columns are: {', '.join(names)}.")
        return {names[node.id]}
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return _check_expr(node.operand, names, where, allow_names)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        return _check_expr(node.left, names, where, allow_names) | _check_expr(node.right, names, where, allow_names)
    if isinstance(node, ast.Call):
        fn = node.func.id if isinstance(node.func, ast.Name) else None
        if fn not in _FUNCS or node.keywords:
            raise ConfigError(f"{where}: calling {ast.unparse(node.func)!r} is not allowed (allowed: {_ALLOWED}).")
        lo, hi, _ = _FUNCS[fn]
        if not lo <= len(node.args) <= hi:
            raise ConfigError(f"{where}: {fn}() takes {lo if lo == hi else f'{lo} to {hi}'} arguments.")
        used: set[int] = set()
        for a in node.args:
            used |= _check_expr(a, names, where, allow_names)
        return used
    raise ConfigError(f"{where}: `{ast.unparse(node)}` is not allowed (allowed: {_ALLOWED}).")


def eval_expr(node: ast.AST, cols: dict[int, np.ndarray] | None = None) -> Any:
    """Interpret an already-checked expression on float64 arrays (no eval, no exec)."""
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return cols[node.id]  # type: ignore[index]  # names were resolved to indices in parse_rules
    if isinstance(node, ast.UnaryOp):
        v = eval_expr(node.operand, cols)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp):
        return _BINOPS[type(node.op)](eval_expr(node.left, cols), eval_expr(node.right, cols))
    if isinstance(node, ast.Call):
        return _FUNCS[node.func.id][2](*(eval_expr(a, cols) for a in node.args))  # type: ignore[attr-defined]
    raise ConfigError(f"unexpected expression {ast.dump(node)}")  # unreachable after _check_expr


class _Resolve(ast.NodeTransformer):
    """Replace column identifiers by their index so evaluation does not depend on names."""

    def __init__(self, names: dict[str, int]) -> None:
        self.names = names

    def visit_Call(self, node: ast.Call) -> ast.AST:
        node.args = [self.visit(a) for a in node.args]  # the function name is not a column
        return node

    def visit_Name(self, node: ast.Name) -> ast.AST:
        return ast.copy_location(ast.Name(id=self.names[node.id], ctx=ast.Load()), node)  # type: ignore[arg-type]


def _const(node: ast.AST, where: str) -> float:
    _check_expr(node, {}, where, allow_names=False)
    with np.errstate(all="ignore"):
        v = float(eval_expr(node))
    if not math.isfinite(v):
        raise ConfigError(f"{where}: `{ast.unparse(node)}` is not a finite number.")
    return v


def parse_rules(text: str, feature_names: list[str]) -> list[Rule]:
    """Parse rule text (one rule per line, ``#`` comments) into :class:`Rule` objects.

    Raises ConfigError naming the line and the problem for anything outside the grammar.
    """
    names = rule_names(feature_names)
    rules: list[Rule] = []
    constrained: dict[int, int] = {}
    formula_line: dict[int, int] = {}
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"rule on line {lineno} (`{line[:60]}`)"
        if len(line) > MAX_RULE_CHARS:
            raise ConfigError(f"{where}: a rule is limited to {MAX_RULE_CHARS} characters.")
        if len(rules) >= MAX_RULES:
            raise ConfigError(f"At most {MAX_RULES} rules are allowed (line {lineno}).")
        try:
            tree = ast.parse(line, mode="exec")
        except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
            raise ConfigError(f"{where}: not a valid rule ({type(e).__name__}). Write `col in [lo, hi]`, "
                              f"`col in {{v1, v2}}` or `col = expression`.") from None
        if len(tree.body) != 1:
            raise ConfigError(f"{where}: write exactly one rule per line.")
        stmt = tree.body[0]
        if isinstance(stmt, ast.Assign):
            if len(stmt.targets) != 1 or not isinstance(stmt.targets[0], ast.Name):
                raise ConfigError(f"{where}: the left side of `=` must be one column name.")
            target = stmt.targets[0].id
            if target not in names:
                raise ConfigError(f"{where}: unknown column {target!r}; columns are: {', '.join(names)}.")
            col = names[target]
            uses = _check_expr(stmt.value, names, where)
            if col in uses:
                raise ConfigError(f"{where}: {target} cannot be defined in terms of itself.")
            if col in formula_line:
                raise ConfigError(f"{where}: {target} already has a formula on line {formula_line[col]}.")
            for r in rules:  # a formula must not read a column that a *later* formula will overwrite
                if r.kind == "formula" and col in r.uses:
                    raise ConfigError(f"rule on line {r.line}: it uses {target}, which is defined by a later "
                                      f"formula (line {lineno}); put the formula for {target} first.")
            formula_line[col] = lineno
            expr = _Resolve(names).visit(stmt.value)
            rules.append(Rule(lineno, line, "formula", col, expr=expr, uses=tuple(sorted(uses))))
            continue
        if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Compare)
                and len(stmt.value.ops) == 1 and isinstance(stmt.value.ops[0], ast.In)
                and isinstance(stmt.value.left, ast.Name)):
            raise ConfigError(f"{where}: not a rule. Write `col in [lo, hi]`, `col in {{v1, v2}}` or "
                              f"`col = expression` (allowed in expressions: {_ALLOWED}).")
        target = stmt.value.left.id
        if target not in names:
            raise ConfigError(f"{where}: unknown column {target!r}; columns are: {', '.join(names)}.")
        col = names[target]
        if col in constrained:
            raise ConfigError(f"{where}: {target} already has a range/choice rule on line {constrained[col]}.")
        rhs = stmt.value.comparators[0]
        if isinstance(rhs, ast.List):
            if len(rhs.elts) != 2:
                raise ConfigError(f"{where}: a range is `[low, high]` with exactly two numbers.")
            lo, hi = (_const(e, where) for e in rhs.elts)
            if lo > hi:
                raise ConfigError(f"{where}: the range is empty (low {lo} > high {hi}).")
            rules.append(Rule(lineno, line, "range", col, low=lo, high=hi))
        elif isinstance(rhs, ast.Set):
            choices = tuple(sorted({_const(e, where) for e in rhs.elts}))
            rules.append(Rule(lineno, line, "choices", col, choices=choices))
        else:
            raise ConfigError(f"{where}: after `in` write a range `[low, high]` or a set of choices `{{a, b, c}}`.")
        constrained[col] = lineno
    return rules


def rule_ok(rule: Rule, values: np.ndarray) -> np.ndarray:
    """Boolean mask: which values satisfy a range/choice rule (formulas always hold by construction)."""
    if rule.kind == "range":
        return (values >= rule.low) & (values <= rule.high)
    if rule.kind == "choices":
        return np.isin(values, np.asarray(rule.choices))
    return np.ones(len(values), dtype=bool)
