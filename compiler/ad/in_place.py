"""Accumulate a part's adjoint straight into the whole's: ``w_bar = zeros_like(w)``, additions
into ``w_bar``, then ``p_bar[i] += w_bar`` becomes ``w_bar = p_bar[i]`` (a view) and the same
additions. One pass over the finished adjoint function.

The reverse sweep gives a row ``w = p[i]`` (an LSTM layer's weights, an embedding) an adjoint
of its own, and adds it into ``p_bar``'s row where ``w`` was taken. Per loop iteration that is an
allocation, a zero fill and a pass over the row; through a view it is none of them. Addition
commutes, so the sums are the same (up to the order of rounding) provided nothing reads the
whole's adjoint, or memory it shares, while the part's additions are in flight.
"""
from __future__ import annotations

from collections import Counter

from .. import ir
from ..passes.analysis import storage_owners, use_counts

ADDS = {"addto", "addrow", "addslice", "addindex"}     # args[0] += ...: writes that only add
PART = {"addrow": "row", "addslice": "slice"}          # the closing add -> the view it becomes


def accumulate_in_place(fn: ir.Function) -> None:
    """Rewrite every such part adjoint of ``fn`` into a view of its whole's adjoint, in place."""
    owners = storage_owners(fn, set())
    uses = use_counts(fn.body)
    assigned = Counter(st.target for st in ir.walk(fn.body) if isinstance(st, ir.Op) and st.target is not None)
    once = {v for v, n in assigned.items() if n == 1}
    for block in ir.blocks(fn.body):
        _rewrite(block, owners, uses, once)


def _rewrite(block: list[ir.Stmt], owners: dict, uses: dict, once: set) -> None:
    k = 0
    while k < len(block):
        st = block[k]
        end = _closing_add(block, k, uses) if _fresh_zeros(st) and st.target in once else None
        if end is not None and _quiet_between(block[k + 1:end], block[end], owners):
            close = block.pop(end)
            block[k] = ir.Op(st.line, st.target, PART[close.prim], [close.args[0], *close.args[2:]])
        k += 1


def _fresh_zeros(st: ir.Stmt) -> bool:
    return isinstance(st, ir.Op) and st.prim == "zeros_like" and st.target.type.rank > 0


def _closing_add(block: list[ir.Stmt], k: int, uses: dict) -> int | None:
    """The index of ``p_bar[i] += v`` (or ``[lo:hi]``) when every other use of ``v``, the
    target of ``block[k]``, is as the destination of an addition before it in this block."""
    v = block[k].target
    seen = 0
    for j in range(k + 1, len(block)):
        st = block[j]
        if isinstance(st, ir.Op) and st.prim in PART and st.args[1] is v and st.args[0] is not v:
            return j if seen + 1 == uses.get(v) else None
        for inner in ir.walk([st]):
            for o in ir.operands(inner):
                if o is not v:
                    continue
                if not (isinstance(inner, ir.Op) and inner.prim in ADDS and inner.args[0] is v
                        and v not in inner.args[1:]):
                    return None
                seen += 1
    return None


def _quiet_between(between: list[ir.Stmt], close: ir.Op, owners: dict) -> bool:
    """Whether the whole's adjoint (and all memory it may share) is only added to between the
    part's zeros and its closing add, and the closing add's index operands keep their values."""
    whole = close.args[0]
    shared = owners.get(whole, {whole})
    index = {o for o in close.args[2:] if isinstance(o, ir.Var)}
    for st in ir.walk(between):
        if index & set(ir.defined(st)):
            return False
        touches = [o for o in ir.operands(st) + ir.defined(st)
                   if isinstance(o, ir.Var) and o.type.rank and owners.get(o, {o}) & shared]
        if not touches:
            continue
        adds = isinstance(st, ir.Op) and st.prim in ADDS and st.target is None
        if not adds or any(o is not st.args[0] for o in touches) or st.args.count(st.args[0]) > 1:
            return False
    return True
