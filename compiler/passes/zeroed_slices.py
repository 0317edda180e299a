"""Adjoints of slice writes: add an adjoint whose slice was zeroed only outside that slice.

The reverse of ``z[lo:hi] = v`` hands the slice of ``z_bar`` to ``v`` and zeroes it (those
elements of the old ``z`` were overwritten); the reverse of the statement that made ``z``, say
``z = x * 1.0``, then adds all of ``z_bar`` into ``x_bar``. When nothing else reads ``z_bar``
afterwards, the zeroing (a pass over the slice) and the addition of its zeros (most of another
pass, for ``z[1:n]``) are both wasted: ``x_bar += z_bar`` outside ``[lo:hi]`` (``addto_outside``)
gives the same sums. The RK4 stages of the ode eval build ``z`` exactly this way, once per stage.

Conditions, on the zeroing ``a[lo:hi] = 0.0`` in some block: the next statements touching
``a``'s memory (``storage_owners``) are plain aliases of ``a`` and then ``b += alias`` with ``b``
elsewhere; the bounds are not reassigned in between; and ``a``'s memory is dead after that
addition: nothing later in the block mentions it, nothing outside the block does, and in a loop
body each variable sharing it is defined before it is read (no value flows to the next iteration).
"""
from __future__ import annotations

from collections import Counter

from .. import ir
from .analysis import defined_first, mention_counts, mentioned, mutated, storage_owners


def add_outside_zeroed_slices(fn: ir.Function) -> None:
    owners = storage_owners(fn, mutated(fn.body))
    mentions = mention_counts(fn.body)

    def visit(block: list[ir.Stmt], loop_body: bool) -> None:
        for st in block:
            for region in ir.regions(st):
                visit(region, isinstance(st, (ir.For, ir.While)) and region is st.body)
        inside = mention_counts(block)
        first = defined_first(block) if loop_body else None
        k = 0
        while k < len(block):
            if not _rewrite(block, k, owners, mentions, inside, first):
                k += 1

    visit(fn.body, False)


def _rewrite(block, k, owners, mentions: Counter, inside: Counter, first: set[ir.Var] | None) -> bool:
    zero = block[k]
    if not (isinstance(zero, ir.Op) and zero.prim == "setslice" and isinstance(zero.args[1], ir.Const)
            and zero.args[1].value == 0):
        return False
    a, _, lo, hi = zero.args
    memory = owners.get(a, {a})
    shares = lambda v: bool(owners.get(v, {v}) & memory)  # noqa: E731
    sharing = {v for v in owners if shares(v)} | {a}
    if any(inside[v] != mentions[v] or first is not None and v not in first for v in sharing):
        return False                 # a's memory is mentioned outside this block, or loop-carried
    bounds = {o for o in (lo, hi) if isinstance(o, ir.Var)}
    aliases = {a}
    for m in range(k + 1, len(block)):
        st = block[m]
        if bounds & ir.vars_written([st]):
            return False
        touched = {o for s in ir.walk([st]) for o in ir.operands(s) if isinstance(o, ir.Var)} | ir.vars_written([st])
        if not any(shares(v) for v in touched):
            continue
        if isinstance(st, ir.Op) and st.prim == "id" and st.args[0] in aliases:
            aliases.add(st.target)
            continue
        if not (isinstance(st, ir.Op) and st.prim == "addto" and st.args[1] in aliases
                and not shares(st.args[0]) and a.type.rank == 1):
            return False
        if any(shares(v) for later in block[m + 1:] for v in mentioned(later)):
            return False
        block[m] = ir.Op(st.line, None, "addto_outside", [st.args[0], st.args[1], lo, hi], st.nograd)
        del block[k]
        return True
    return False
