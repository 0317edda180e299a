"""Dead-code elimination by marking: keep what the results, asserts and tapes depend on.

Roots are ``return`` values, asserts and tape operations (their order is the protocol between
the two sweeps). An operation is live when it defines a variable a live statement reads, or
writes into such an array; a region is live when something inside it is. Marking (rather than
"is this name read anywhere") also removes self-sustaining dead code such as an accumulator
loop whose total nobody returns, e.g. the primal loop of a gradient that only returns
derivatives.
"""
from __future__ import annotations

from .. import ir
from ..primitives import PRIMS, TAPE_PRIMS


def _mark(stmts: list[ir.Stmt], live_vars: set[ir.Var], live: set[int]) -> bool:
    """One marking sweep; returns whether anything new became live."""
    grew = False
    for st in stmts:
        inner = False
        for region in ir.regions(st):
            inner |= _mark(region, live_vars, live)
        grew |= inner
        if id(st) in live:
            continue
        if isinstance(st, ir.Op):
            p = PRIMS[st.prim]
            dest = st.args[0] if p.mutates else st.target
            is_live = st.prim in TAPE_PRIMS or (dest is not None and dest in live_vars)
        elif isinstance(st, (ir.Return, ir.Assert)):
            is_live = True
        else:
            is_live = any(id(s) in live for region in ir.regions(st) for s in region)
        if is_live:
            live.add(id(st))
            reads = ir.operands(st)
            if isinstance(st, ir.Op) and PRIMS[st.prim].mutates and st.prim not in TAPE_PRIMS:
                reads = reads[1:]
            live_vars.update(o for o in reads if isinstance(o, ir.Var))
            if isinstance(st, ir.Op) and PRIMS[st.prim].mutates and st.prim not in TAPE_PRIMS:
                live_vars.add(st.args[0])
            grew = True
    return grew


def _sweep(stmts: list[ir.Stmt], live: set[int]) -> list[ir.Stmt]:
    out = []
    for st in stmts:
        if id(st) not in live:
            continue
        for region in ir.regions(st):
            region[:] = _sweep(region, live)
        out.append(st)
    return out


def eliminate_dead_code(fn: ir.Function) -> None:
    live_vars: set[ir.Var] = set()
    live: set[int] = set()
    while _mark(fn.body, live_vars, live):
        pass
    fn.body = _sweep(fn.body, live)
