"""Dead-code elimination by marking: keep what the results, asserts and tapes depend on.

Roots are ``return`` values, asserts and tape operations (their order is the protocol between
the two sweeps). An operation is live when it defines a variable a live statement reads, or
writes into such an array; a region is live when something inside it is. Marking (rather than
"is this name read anywhere") also removes self-sustaining dead code such as an accumulator
loop whose total nobody returns, e.g. the primal loop of a gradient that only returns
derivatives.

Marking is by variable, so it keeps every assignment of a variable that is read somewhere. A
second phase removes the assignments no read can see (backward liveness over the structured
code, to a fixed point around loops): the reverse sweep's reset ``c_bar = zeros_like(c)`` after
``c_bar`` was last read, which otherwise keeps a pop of ``c`` (and its push) just for a shape.
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


def _vars(operands) -> set[ir.Var]:
    return {o for o in operands if isinstance(o, ir.Var)}


def _live_before(stmts: list[ir.Stmt], live: set[ir.Var], drop: set[int] | None) -> set[ir.Var]:
    """The variables live before ``stmts`` when ``live`` are live after them. With ``drop``
    (a set), also remove (in place) each pure assignment whose variable is not live after it,
    and add to ``drop`` the id of each pop whose value is not (a tape op stays: see
    ``eliminate_dead_code``)."""
    keep: list[ir.Stmt] = []
    for st in reversed(stmts):
        if isinstance(st, ir.Op):
            p = PRIMS[st.prim]
            if drop is not None and st.target is not None and st.target not in live:
                if st.prim == "pop":
                    drop.add(id(st))
                elif p.pure and st.prim not in TAPE_PRIMS:
                    continue
            if st.target is not None:
                live = live - {st.target}
            live = live | _vars(st.args)
        elif isinstance(st, ir.For):
            live = live | (_loop(st.body, live, drop) - {st.var}) | _vars([st.lo, st.hi, st.step])
        elif isinstance(st, ir.While):
            live = _while(st, live, drop)
        elif isinstance(st, ir.If):
            live = _live_before(st.then, live, drop) | _live_before(st.orelse, live, drop) | _vars([st.cond])
        else:
            live = live | _vars(ir.operands(st))
        keep.append(st)
    if drop is not None:
        stmts[:] = keep[::-1]
    return live


def _loop(body: list[ir.Stmt], after: set[ir.Var], drop: set[int] | None) -> set[ir.Var]:
    """Live on entry to a loop body that may run again or exit to ``after``."""
    entry: set[ir.Var] = set()
    while True:
        new = _live_before(body, after | entry, None)
        if new <= entry:
            break
        entry |= new
    return entry if drop is None else _live_before(body, after | entry, drop)


def _while(st: ir.While, after: set[ir.Var], drop: set[int] | None) -> set[ir.Var]:
    """Live before a while loop: its condition block runs first and before every exit."""
    entry: set[ir.Var] = set()
    while True:
        test = after | _vars([st.cond]) | _live_before(st.body, entry, None)
        new = _live_before(st.cond_body, test, None)
        if new <= entry:
            break
        entry |= new
    if drop is not None:
        _live_before(st.body, entry, drop)
        _live_before(st.cond_body, after | _vars([st.cond]) | _live_before(st.body, entry, None), drop)
    return entry


def eliminate_dead_code(fn: ir.Function) -> set[int]:
    """Remove dead code from ``fn``; returns the ids of the pops whose values no read sees.
    Those stay (a pop alone would unbalance its tape); ``ad/dead_restores.py`` removes them
    with their pushes."""
    live_vars: set[ir.Var] = set()
    live: set[int] = set()
    while _mark(fn.body, live_vars, live):
        pass
    fn.body = _sweep(fn.body, live)
    dead_pops: set[int] = set()
    _live_before(fn.body, set(), dead_pops)
    return dead_pops
