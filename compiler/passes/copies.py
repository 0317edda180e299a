"""Value semantics: insert array copies exactly where an alias could be observed.

Arrays are values in .ad, but copying on every assignment would be slow. An assignment or a
view (``b = a``, ``r = A[i]``, ``x[lo:hi]``, ``A.T``, ``reshape``) only needs a copy when either
side is later written in place; a parameter written in place is copied on entry, so no call
ever changes its caller's arrays.
"""
from __future__ import annotations

from .. import ir
from ..primitives import PRIMS
from .analysis import mutated


def insert_copies(fn: ir.Function) -> None:
    written = mutated(fn.body)

    def visit(stmts: list[ir.Stmt]) -> list[ir.Stmt]:
        out: list[ir.Stmt] = []
        for st in stmts:
            for region in ir.regions(st):
                region[:] = visit(region)
            out.append(st)
            if not (isinstance(st, ir.Op) and st.target is not None and PRIMS[st.prim].view
                    and st.target.type.rank > 0):
                continue
            src = st.args[0]
            if st.target in written or (isinstance(src, ir.Var) and src in written):
                if st.prim == "id":
                    st.prim = "copy"
                else:
                    target = st.target
                    st.target = ir.Var(fn.fresh(target.name + "_view"), target.type)
                    out.append(ir.Op(st.line, target, "copy", [st.target], st.nograd))
        return out

    entry = [ir.Op(0, p, "copy", [p]) for p in fn.params if p in written]
    fn.body = entry + visit(fn.body)
