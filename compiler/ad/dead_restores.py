"""Drop a restore whose popped value no read can see: its pop and the push it pairs with.

To-be-recorded analysis is flow-insensitive: it keeps the restore of a variable if the reverse
sweep reads that variable anywhere. Newton's iteration ``r = ak`` per element restores ``r``
because the reverse of the inner ``while`` reads ``r``; but each of those reads follows a pop
of the inner loop's own, so the value restored at the top of the element is overwritten before
any read (one push and one pop in six of the whole tape traffic). A variable saved around a
loop is the same (llsq's ``inner``, whose restore after the inner loop's reverse is overwritten
by the next pop). Backward liveness over the
finished adjoint (``eliminate_dead_code``) finds such pops; this pass removes each with its
push, which keeps the two sweeps' tape protocol balanced.
"""
from __future__ import annotations

from .. import ir


def drop_dead_restores(fn: ir.Function, pairs: list[tuple[ir.Op, ir.Op]], dead_pops: set[int]) -> bool:
    """Remove each (push, pop) of ``pairs`` whose pop is in ``dead_pops`` and both of which are
    still in ``fn``; returns whether any was removed."""
    present = {id(st) for st in ir.walk(fn.body)}
    doomed = {id(op) for push, pop in pairs
              if id(pop) in dead_pops and id(push) in present and id(pop) in present
              for op in (push, pop)}
    if doomed:
        _remove(fn.body, doomed)
    return bool(doomed)


def _remove(stmts: list[ir.Stmt], doomed: set[int]) -> None:
    stmts[:] = [st for st in stmts if id(st) not in doomed]
    for st in stmts:
        for region in ir.regions(st):
            _remove(region, doomed)
