"""Drop a restore whose popped value no read can see: its pop and the push it pairs with.

The transform keeps a restore when the reverse sweep reads its variable anywhere (to-be-recorded
analysis, flow-insensitive). Backward liveness over the finished adjoint (``eliminate_dead_code``
reports each pop whose value is dead) finds the restores whose popped value is overwritten before
any read: an LSTM cell's old state, which the cell before it pops again; reads by reverse code
that dead-code elimination removed, or of a shape that any popped value would give
(``cell_bar = zeros_like(cell)``), do not count (the k-means search, det's levels, seed 8's
vector programs). Each such pop goes with its push, which keeps the two sweeps' tape protocol
balanced.
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
