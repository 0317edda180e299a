"""Accumulations into one array that nothing reads in between become one accumulation.

The reverse of each RK4 stage ``t = y + h * k / 2`` adds ``t_bar`` into ``y_bar``: four passes
over ``y_bar`` per step (the ode eval), each reading and writing it, with nothing reading
``y_bar`` in between. ``y_bar += a`` followed later by ``y_bar += b`` becomes ``y_bar += a + b``
at the second place, which the emitter writes as one loop; a chain of them becomes one sum.

Conditions, in one block: both are whole-array additions ``addto`` of arrays (or scalars) into
the same array; no statement in between mentions it or anything that may share its memory;
nothing in between writes ``a`` or memory ``a`` may share, nor what the single-use temporaries
``a`` is made of read (it is read later now, and they may be computed there).
"""
from __future__ import annotations

from .. import ir
from ..types import Type
from .analysis import fusable_leaves, mentioned, mutated, storage_owners, use_counts


def merge_deferred_accumulations(fn: ir.Function) -> None:
    owners = storage_owners(fn, mutated(fn.body))
    uses = use_counts(fn.body)
    for block in ir.blocks(fn.body):
        k = 0
        while k < len(block):
            if not _defer(fn, block, k, owners, uses):
                k += 1


def _defer(fn: ir.Function, block: list[ir.Stmt], k: int, owners, uses) -> bool:
    """Move the accumulation at ``block[k]`` into the next one into the same array; whether it did."""
    first = block[k]
    if not (isinstance(first, ir.Op) and first.prim == "addto" and first.args[0].type.rank > 0):
        return False
    dest, value = first.args
    target = owners.get(dest, {dest})
    addends = fusable_leaves(block[:k], first, uses) - {dest}   # computed where the sum stands
    source = set().union(*(owners.get(a, {a}) for a in addends))
    for m in range(k + 1, len(block)):
        st = block[m]
        if (isinstance(st, ir.Op) and st.prim == "addto" and st.args[0] is dest and dest not in st.args[1:]
                and value not in mutated([st])):
            total = ir.Var(fn.fresh(dest.name + "_sum"),
                           Type(dest.type.dtype, max(value.type.rank, st.args[1].type.rank)))
            block[m:m + 1] = [ir.Op(st.line, total, "add", [value, st.args[1]], st.nograd and first.nograd),
                              ir.Op(st.line, None, "addto", [dest, total], st.nograd and first.nograd)]
            del block[k]
            return True
        touched = {o for s in ir.walk([st]) for o in ir.operands(s) if isinstance(o, ir.Var)} | ir.vars_written([st])
        if any(owners.get(v, {v}) & target for v in touched) or dest in mentioned(st):
            return False
        written = {w for s in ir.walk([st]) for w in ir.defined(s)}
        if value in written or any(owners.get(w, {w}) & source for w in mutated([st])):
            return False             # (a rebound leaf only stops the emitter fusing its temporary)
    return False
