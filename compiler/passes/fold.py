"""Constant folding: operations on constants become constants; branches on constants go away;
``1.0 * x`` is ``x`` (exact in IEEE arithmetic, for every x). The reverse sweep's seed is 1.0,
so without the last rule adjoints start as ``diff_bar = 1.0 * diff + 1.0 * diff``."""
from __future__ import annotations

import math
import operator

from .. import ir
from ..types import BOOL, FLOAT, INT
from .analysis import def_counts, substitute

_SCALAR = {
    "neg": operator.neg, "add": operator.add, "sub": operator.sub, "mul": operator.mul,
    "div": operator.truediv, "pow": operator.pow, "mod": operator.mod, "floordiv": operator.floordiv,
    "lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge, "eq": operator.eq,
    "ne": operator.ne, "not": operator.not_, "and": lambda a, b: a and b, "or": lambda a, b: a or b,
    "to_float": float, "to_int": int, "id": lambda a: a, "stop_gradient": lambda a: a,
    "sqrt": math.sqrt, "exp": math.exp, "log": math.log, "sin": math.sin, "cos": math.cos,
    "abs": abs, "maximum": max, "minimum": min,
}


def _const(value, like: ir.Var) -> ir.Const:
    if like.type == BOOL:
        return ir.Const(bool(value), BOOL)
    if like.type == INT:
        return ir.Const(int(value), INT)
    return ir.Const(float(value), FLOAT)


def _times_one(st: ir.Op, single: set[ir.Var], stable: set[ir.Var]) -> ir.Var | None:
    """``x`` when ``st`` is a scalar temporary ``1.0 * x`` (either order) of ``x``'s own type,
    with ``x`` assigned at most once (so it still holds that value wherever the temporary is read)."""
    if st.prim != "mul" or st.target not in single or st.target.kind != "temp" or st.target.type.rank:
        return None
    for one, x in (st.args, st.args[::-1]):
        if (isinstance(one, ir.Const) and one.type == FLOAT and one.value == 1.0
                and isinstance(x, ir.Var) and x.type == st.target.type and x in stable):
            return x
    return None


def _fold_block(stmts: list[ir.Stmt], single: set[ir.Var], found: dict, stable: set[ir.Var]) -> list[ir.Stmt]:
    out: list[ir.Stmt] = []
    for st in stmts:
        if isinstance(st, ir.Op):
            st.args = [found.get(a, a) if isinstance(a, ir.Var) else a for a in st.args]
            same = _times_one(st, single, stable)
            if same is not None:
                found[st.target] = same
                continue
            if (st.target in single and st.target.type.rank == 0 and st.prim in _SCALAR
                    and all(isinstance(a, ir.Const) for a in st.args)):
                try:
                    value = _SCALAR[st.prim](*(a.value for a in st.args))
                except (ArithmeticError, ValueError):
                    out.append(st)
                    continue
                if isinstance(value, complex) or (isinstance(value, float) and not math.isfinite(value)):
                    out.append(st)
                    continue
                found[st.target] = _const(value, st.target)
                continue
        elif isinstance(st, ir.If):
            if isinstance(st.cond, ir.Var) and st.cond in found:
                st.cond = found[st.cond]
            st.then = _fold_block(st.then, single, found, stable)
            st.orelse = _fold_block(st.orelse, single, found, stable)
            if isinstance(st.cond, ir.Const):
                out.extend(st.then if st.cond.value else st.orelse)
                continue
        else:
            for region in ir.regions(st):
                region[:] = _fold_block(region, single, found, stable)
        out.append(st)
    return out


def fold_constants(fn: ir.Function) -> None:
    """Fold scalar operations whose operands are all constants (single-assignment targets only)."""
    counts = def_counts(fn)
    single = {v for v, c in counts.items() if c == 1 and v not in fn.params}
    stable = single | {p for p in fn.params if counts[p] == 1}   # parameters count once
    found: dict[ir.Var, ir.Operand] = {}
    fn.body = _fold_block(fn.body, single, found, stable)
    substitute(fn.body, found)
