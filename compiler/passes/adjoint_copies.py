"""Drop copies in the generated adjoint whose source does not change while the copy is read.

The reverse transform copies an adjoint whenever it cannot see that the value will be consumed
before its buffer is updated: a snapshot of a home adjoint (``y_adj = copy(y_bar)``, read by the
next statement before ``y_bar += ...``), or the slice of ``a_bar`` that the reverse of a slice
write ``a[lo:hi] = v`` hands to ``v``, copied because the next statement zeroes that slice (those
elements of the old ``a`` were overwritten). Each copy is an allocation and a pass over memory.

``c = copy(p)`` is dropped, its readers reading ``p``, when nothing writes ``p``'s memory from
the copy to the last reader of ``c``, of a view of it, or of a single-use value made from them
(the emitter may compute those inside a later loop); ``c`` and its views must be read in this
block only and never written, taped or returned (the adjoint of an RK4 stage read through the
slice a slice write hands on: ``k4_bar``'s copy in the ode eval). A zeroing of ``p``'s slice or row right after the copy moves behind
those readers when nothing in between touches that memory at all (the RK4 stages of the ode
eval: one slice write per stage; the LSTM's state rows: two per cell).
"""
from __future__ import annotations

from collections import Counter

from .. import ir
from .analysis import escaping, mention_counts, mentioned, mutated, storage_owners, substitute, use_counts


def elide_adjoint_copies(fn: ir.Function) -> None:
    owners = storage_owners(fn, mutated(fn.body))
    mentions = mention_counts(fn.body)
    kept = escaping(fn.body, views=False) | mutated(fn.body)
    uses = use_counts(fn.body)

    def visit(block: list[ir.Stmt]) -> None:
        for st in block:
            for region in ir.regions(st):
                visit(region)
        k = 0
        while k < len(block):
            if not _elide(block, k, owners, mentions, uses, kept):
                k += 1

    visit(fn.body)


def _elide(block: list[ir.Stmt], k: int, owners, mentions: Counter, uses: dict, kept: set[ir.Var]) -> bool:
    """Drop the copy at ``block[k]`` if it may go; whether it did."""
    take = block[k]
    if not (isinstance(take, ir.Op) and take.prim == "copy" and isinstance(take.args[0], ir.Var)
            and take.target not in kept and take.target.kind in ("temp", "adjoint")):
        return False
    c, p = take.target, take.args[0]
    reads = sum(o is c for st in ir.walk(block[k + 1:]) for o in ir.operands(st))
    if reads == 0 or reads != mentions[c] - 1 or c in ir.vars_written(block[k + 1:]):
        return False                 # c is read elsewhere too, or reassigned
    # Once c is p, everything sharing c's memory (its views and aliases, flow-insensitively)
    # shares p's: none may be written in place, taped, returned or mentioned outside this block.
    sharing = {v for v, memory in owners.items() if c in memory and v is not c}
    inside = mention_counts(block[k + 1:])
    if any(v in kept or inside[v] != mentions[v] for v in sharing):
        return False
    # The last statement that may read p once c is p: a single-use value computed from it may be
    # computed inside its reader's loop (fusion), so follow those.
    derived, last = {c} | sharing, k
    for m in range(k + 1, len(block)):
        st = block[m]
        if {o for s in ir.walk([st]) for o in ir.operands(s) if isinstance(o, ir.Var)} & derived:
            last = m
            if isinstance(st, ir.Op) and st.target is not None and uses.get(st.target) == 1:
                derived.add(st.target)
    memory = owners.get(p, {p})
    zero = block[k + 1] if _zeroes_slice(block, k + 1, p) else None
    for m in range(k + 1 if zero is None else k + 2, last + 1):
        touched = ir.vars_written([block[m]]) if zero is None else mentioned(block[m])
        if any(owners.get(v, {v}) & memory for v in touched):
            return False
        if zero is not None and set(_bounds(zero)) & ir.vars_written([block[m]]):
            return False
    substitute(block, {c: p})
    if zero is not None:
        block.insert(last + 1, zero)
        del block[k + 1]
    del block[k]
    return True


_ZEROED_VIEW = {"setslice": "slice", "setrow": "row"}     # a zeroing write -> the view it zeroes


def _zeroes_slice(block: list[ir.Stmt], j: int, p: ir.Var) -> bool:
    """Whether ``block[j]`` is ``a[lo:hi] = 0.0`` (or ``a[i] = 0.0``) where ``p`` is the view
    ``a[lo:hi]`` (``a[i]``: an LSTM state row's adjoint)."""
    if j >= len(block):
        return False
    zero = block[j]
    if not (isinstance(zero, ir.Op) and zero.prim in _ZEROED_VIEW and isinstance(zero.args[1], ir.Const)
            and zero.args[1].value == 0):
        return False
    view = next((st for st in reversed(block[:j]) if isinstance(st, ir.Op) and st.target is p), None)
    return (view is not None and view.prim == _ZEROED_VIEW[zero.prim] and view.args[0] is zero.args[0]
            and len(view.args) == len(zero.args) - 1
            and all(_same(x, y) for x, y in zip(view.args[1:], zero.args[2:])))


def _bounds(zero: ir.Op) -> list[ir.Var]:
    return [o for o in zero.args[2:] if isinstance(o, ir.Var)]


def _same(x: ir.Operand, y: ir.Operand) -> bool:
    if isinstance(x, ir.Const) and isinstance(y, ir.Const):
        return x.value == y.value and x.type == y.type
    return x is y
