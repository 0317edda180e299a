"""Facts about an IR function that several passes need: definition counts and mutated arrays."""
from __future__ import annotations

from collections import Counter

from .. import ir
from ..primitives import PRIMS


def def_counts(fn: ir.Function) -> Counter:
    """How many statements assign or mutate each variable (parameters count once)."""
    counts: Counter = Counter(fn.params)
    for st in ir.walk(fn.body):
        for v in ir.defined(st):
            counts[v] += 1
    return counts


def mutated(stmts: list[ir.Stmt]) -> set[ir.Var]:
    """Arrays written in place (element, row or slice writes)."""
    return {st.args[0] for st in ir.walk(stmts)
            if isinstance(st, ir.Op) and PRIMS[st.prim].mutates and isinstance(st.args[0], ir.Var)}


def substitute(stmts: list[ir.Stmt], mapping: dict[ir.Var, ir.Operand]) -> None:
    """Replace reads of variables by other operands, everywhere in ``stmts``."""
    if not mapping:
        return
    get = lambda o: mapping.get(o, o) if isinstance(o, ir.Var) else o  # noqa: E731
    for st in ir.walk(stmts):
        if isinstance(st, ir.Op):
            first = 1 if PRIMS[st.prim].mutates else 0
            st.args = st.args[:first] + [get(a) for a in st.args[first:]]
        elif isinstance(st, ir.For):
            st.lo, st.hi, st.step = get(st.lo), get(st.hi), get(st.step)
        elif isinstance(st, (ir.While, ir.If, ir.Assert)):
            st.cond = get(st.cond)
        elif isinstance(st, ir.Return):
            st.values = [get(v) for v in st.values]
