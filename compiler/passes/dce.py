"""Dead-code elimination: drop pure operations whose results are never read, writes into arrays
nobody reads, and branches and loops left empty."""
from __future__ import annotations

from .. import ir
from ..primitives import PRIMS


def _reads(stmts: list[ir.Stmt]) -> set[ir.Var]:
    read: set[ir.Var] = set()
    for st in ir.walk(stmts):
        ops = ir.operands(st)
        if isinstance(st, ir.Op) and PRIMS[st.prim].mutates:
            ops = ops[1:]
        read.update(o for o in ops if isinstance(o, ir.Var))
    return read


def _sweep(stmts: list[ir.Stmt], read: set[ir.Var]) -> tuple[list[ir.Stmt], bool]:
    out, changed = [], False
    for st in stmts:
        if isinstance(st, ir.Op):
            p = PRIMS[st.prim]
            dead_target = st.target is not None and st.target not in read and p.pure
            dead_write = p.mutates and st.prim != "push" and st.args[0] not in read
            if dead_target or dead_write:
                changed = True
                continue
        else:
            for region in ir.regions(st):
                new, ch = _sweep(region, read)
                region[:] = new
                changed |= ch
            if isinstance(st, ir.If) and not st.then and not st.orelse:
                changed = True
                continue
            if isinstance(st, ir.For) and not st.body:
                changed = True
                continue
        out.append(st)
    return out, changed


def eliminate_dead_code(fn: ir.Function) -> None:
    changed = True
    while changed:
        fn.body, changed = _sweep(fn.body, _reads(fn.body))
