"""A count of equal elements rides along an elementwise loop that already reads the vector.

The derivative of ``max`` and ``min`` shares the seed among the elements equal to the extremum
(``count_eq(x, m)``, see ``ad/rules.py``): one more pass over ``x``, after a loop that read all
of ``x`` anyway (lse's gradient: ``exp(x - m)``). A count of integers is exact in any order, so
the emitter adds it up inside that earlier loop instead, one pass over ``x`` fewer.
"""
from __future__ import annotations

from . import fusion, ir
from .piecewise import leaves


def plan(stmts: list[ir.Stmt], fused: dict[ir.Var, ir.Op],
         owners: dict[ir.Var, set[ir.Var]]) -> dict[int, list[ir.Op]]:
    """For each elementwise loop of ``stmts`` (by id), the ``count_eq`` ops later in the block
    that may count inside it: the loop reads their vector (through its fused tree), and nothing
    from the loop to the count assigns the extremum or writes memory the vector shares."""
    rides: dict[int, list[ir.Op]] = {}
    for k, st in enumerate(stmts):
        if not (isinstance(st, ir.Op) and st.prim == "count_eq"):
            continue
        v, m = st.args
        if not (isinstance(v, ir.Var) and v.type.rank == 1):
            continue
        memory = owners.get(v, {v})
        for before in reversed(stmts[:k]):
            written = ir.vars_written([before])
            if m in written or any(owners.get(w, {w}) & memory for w in written):
                break
            if _reads_whole(before, v, fused):
                rides.setdefault(id(before), []).append(st)
                break
    return rides


def _reads_whole(st: ir.Stmt, v: ir.Var, fused: dict[ir.Var, ir.Op]) -> bool:
    """Whether ``st`` is a loop computing a new vector from an expression tree that reads ``v``."""
    if not (fusion.is_loop_op(st) and st.prim not in fusion.WRITES and st.target.type.rank == 1):
        return False
    return any(v in leaves(a, fused) for a in st.args)
