"""Which arrays a loop reassigns without changing their extents.

``x = hidden`` at the end of an LSTM layer, where ``hidden`` is computed elementwise from ``x``:
every iteration's ``x`` has the extents the loop started with. The emitter's shape facts forget
everything about a variable a loop assigns (``shape_facts``); for these arrays they may keep the
extents, so the loop body does not check shapes the facts before the loop already settle.

An array qualifies when each assignment to it in the loop's iteration is a top-level statement
(not inside a branch or an inner loop) whose result has, through a chain of the iteration's
top-level statements that keep extents (none reading an array that a branch or an inner loop
assigns), the extents the array had when the iteration began. Statements
that keep extents: an elementwise loop (its array operands of the result's rank must match it
exactly; the emitter checks that), an alias, a copy, a ``zeros_like``. By induction over the
iterations, the array then has its entry extents throughout the loop and after it.
"""
from __future__ import annotations

from . import fusion, ir

# Primitives whose array result has its first operand's extents (the emitter's shape facts use them too).
SAME_EXTENTS = ("id", "stop_gradient", "copy", "zeros_like")


def kept_extents(loop: ir.For | ir.While) -> set[ir.Var]:
    """The arrays ``loop`` assigns whose extents stay those they had before it."""
    iteration = (loop.cond_body + loop.body) if isinstance(loop, ir.While) else loop.body
    nested = set().union(*(ir.vars_written(region) for st in iteration for region in ir.regions(st)))
    parent: dict = {}

    def find(x):
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    current: dict[ir.Var, object] = {}
    for st in iteration:
        if not (isinstance(st, ir.Op) and st.target is not None):
            continue
        made = ("made", id(st))
        if st.prim in SAME_EXTENTS or (fusion.is_loop_op(st) and st.prim not in fusion.WRITES):
            for a in st.args:         # an array a branch or inner loop assigns has unknown extents
                if isinstance(a, ir.Var) and a.type.rank == st.target.type.rank > 0 and a not in nested:
                    parent[find(made)] = find(current.get(a, ("entry", a)))
        current[st.target] = made
    return {v for v, node in current.items()
            if v.type.rank > 0 and v not in nested and find(node) == find(("entry", v))}
