"""Common-subexpression elimination over single-assignment values.

Two pure operations with the same primitive and the same operands compute the same value when
every operand is assigned once; the later one is replaced by the earlier one if the earlier one
dominates it (same block or an enclosing block, earlier). ``no_grad`` is part of the key so that
merging never changes which values carry derivatives. Copies are never merged: each exists to be
an array of its own.
"""
from __future__ import annotations

from .. import ir
from ..primitives import PRIMS
from .analysis import def_counts, mutated, substitute


def _key(op: ir.Op):
    return (op.prim, op.nograd, tuple(("v", id(a)) if isinstance(a, ir.Var) else ("c", a.type.dtype, a.value)
                                      for a in op.args))


def eliminate_common_subexpressions(fn: ir.Function) -> None:
    counts = def_counts(fn)
    changed = mutated(fn.body)
    stable = {v for v, c in counts.items() if c == 1 and v not in changed}
    mapping: dict[ir.Var, ir.Var] = {}

    def visit(stmts: list[ir.Stmt], seen: dict) -> list[ir.Stmt]:
        out = []
        for st in stmts:
            if isinstance(st, ir.Op):
                st.args = [mapping.get(a, a) if isinstance(a, ir.Var) else a for a in st.args]
                p = PRIMS[st.prim]
                if (p.pure and st.prim != "copy" and st.target in stable and st.target.kind == "temp"
                        and all(isinstance(a, ir.Const) or a in stable for a in st.args)):
                    key = _key(st)
                    if key in seen:
                        mapping[st.target] = seen[key]
                        continue
                    seen[key] = st.target
            else:
                for region in ir.regions(st):
                    region[:] = visit(region, dict(seen))
            out.append(st)
        return out

    fn.body = visit(fn.body, {})
    substitute(fn.body, mapping)
