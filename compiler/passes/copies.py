"""Value semantics: insert array copies exactly where an alias could be observed.

Arrays are values in .ad, but copying on every assignment would be slow. An assignment or a
view (``b = a``, ``r = A[i]``, ``x[lo:hi]``, ``A.T``, ``reshape``) only needs a copy when either
side is later written in place; a parameter written in place is copied on entry, so no call
ever changes its caller's arrays. Results are copied when they may share memory with an argument
or with another result, since the caller can write into what it gets back.
"""
from __future__ import annotations

from .. import ir
from ..primitives import PRIMS
from .analysis import mutated, storage_owners


def insert_copies(fn: ir.Function) -> None:
    written = mutated(fn.body)

    def visit(stmts: list[ir.Stmt], path: list[tuple[list[ir.Stmt], int, ir.Stmt]]) -> list[ir.Stmt]:
        out: list[ir.Stmt] = []
        for k, st in enumerate(list(stmts)):
            for region in ir.regions(st):
                region[:] = visit(region, path + [(stmts, k, st)])
            out.append(st)
            if not (isinstance(st, ir.Op) and st.target is not None and PRIMS[st.prim].view
                    and st.target.type.rank > 0):
                continue
            src = st.args[0]
            if st.target not in written and _rebound_before_written(src, path + [(stmts, k, st)]):
                continue
            if st.target in written or (isinstance(src, ir.Var) and src in written):
                if st.prim == "id":
                    st.prim = "copy"
                else:
                    target = st.target
                    st.target = ir.Var(fn.fresh(target.name + "_view"), target.type)
                    out.append(ir.Op(st.line, target, "copy", [st.target], st.nograd))
        return out

    entry = [ir.Op(0, p, "copy", [p]) for p in fn.params if p in written]
    fn.body = entry + visit(fn.body, [])
    _copy_shared_results(fn, written)


def _rebound_before_written(src: ir.Operand, path: list[tuple[list[ir.Stmt], int, ir.Stmt]]) -> bool:
    """Whether ``src``, after the statement at the end of ``path`` aliases it, is always given a
    new value (a whole assignment, which binds a new buffer) before anything writes it in place.
    Then the alias never sees a write and needs no copy: the result of an inlined call whose
    local array was built in place (``k = rhs(x, y)``) is moved, not copied. ``path`` holds
    (block, position, statement) from the function body inwards; a statement inside a loop body
    also reaches the body's start on the next iteration and the code after the loop."""
    if not isinstance(src, ir.Var):
        return False

    def scan(stmts: list[ir.Stmt]) -> bool | None:
        """True: rebound first; False: may be written first; None: neither, falls through."""
        for st in stmts:
            if isinstance(st, ir.Op) and st.target is src and not PRIMS[st.prim].mutates:
                return True
            if src in mutated([st]):
                return False
        return None

    for depth in range(len(path) - 1, -1, -1):
        block, k, _ = path[depth]
        found = scan(block[k + 1:])
        if found is not None:
            return found
        if depth:
            outer = path[depth - 1][2]
            if isinstance(outer, (ir.For, ir.While)):
                again = ([] if isinstance(outer, ir.For) else outer.cond_body) + block[:k + 1]
                if scan(again) is not True:
                    return False
    return True


def _copy_shared_results(fn: ir.Function, written: set[ir.Var]) -> None:
    ret = fn.body[-1]
    assert isinstance(ret, ir.Return)
    owners = storage_owners(fn, written)
    taken = {p for p in fn.params if p not in written}
    values = []
    for v in ret.values:
        if isinstance(v, ir.Var) and v.type.rank > 0:
            mine = owners.get(v, {v})
            if mine & taken:
                out = ir.Var(fn.fresh(v.name + "_out"), v.type)
                fn.body.insert(len(fn.body) - 1, ir.Op(ret.line, out, "copy", [v]))
                v = out
            taken |= mine
        values.append(v)
    ret.values = values
