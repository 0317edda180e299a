"""Drop a restore whose popped value no read can see: its pop and the push it pairs with.

The transform already drops a restore whose value the reverse sweep overwrites before reading
(``_Reverse.drop_dead_restores``), but it judges the reverse code before dead-code elimination:
reads by code that DCE then removes, and reads of a shape that any popped value would give
(``cell_bar = zeros_like(cell)``), still count there. Backward liveness over the finished
adjoint (``eliminate_dead_code`` reports each pop whose value is dead) catches the rest: the
k-means search, det's levels, seed 8's vector programs. Each such pop goes with its push, which
keeps the two sweeps' tape protocol balanced.
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
