"""Which consecutive elementwise loops the emitter writes as one loop.

Two statements of a block that each become a loop nest over the same extents (``a[_i0] = ...``,
then ``b[_i0] += ...``) run as one nest doing both bodies per element: Numba and LLVM compile
each loop nest separately (40-60 ms each), and the joined nest passes over memory once. The
second statement's set-up (views, shape checks, its result's allocation) moves before the
first loop; it only reads shapes, so it computes the same there.

Joining runs element i of the second body right after element i of the first instead of after
the whole first loop, which changes nothing when neither loop writes memory the other touches at
another index: the second writes nothing the first reads or writes, and reads nothing the first
writes, except the first's new result at the very element being computed (``d[_i0] = ...``
then ``g[_i0] = d[_i0] * y[_i0]``). Memory is compared through ``storage_owners``, so views and
aliases of one array count as that array. A shape check of the second loop now raises before
the first loop's writes instead of after them; so the first loop may not write a parameter's
memory, where the caller could see that difference.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from . import ir


@dataclass
class LoopNest:
    """One emitted loop nest that a following one may join: where its lines are, and the memory
    it touches."""

    start: int                    # index of its first ``for`` line in the emitter's lines
    end: int                      # index after its last body line
    dims: list[str]               # the extent of each loop, outermost first
    idx: list[str]                # its loop variables
    writes: set[ir.Var]           # storage owners it writes
    reads: set[ir.Var]            # storage owners it reads
    made: set[ir.Var]             # new arrays it fills, each element at its own index
    checks: list[str] = field(default_factory=list)  # conditions of the shape check right before it
    raised: str = ""              # ... and what that check raises


def storage(v: ir.Var, owners: dict[ir.Var, set[ir.Var]]) -> set[ir.Var]:
    """The arrays whose memory ``v`` may share (itself when it owns its own), so that a view and
    the array it views count as one place."""
    return owners.get(v, {v})


def may_join(first: LoopNest, second: LoopNest, leaves: list[tuple[ir.Var, list[str]]],
             owners: dict[ir.Var, set[ir.Var]], params: set[ir.Var]) -> bool:
    """Whether ``second`` (whose element expression reads ``leaves``: array, loop variables)
    computes the same run inside ``first``'s loop nest. Extents are compared by the caller."""
    if len(first.dims) != len(second.dims) or first.writes & params:
        return False
    if second.writes & (first.writes | first.reads):
        return False
    for v, axes in leaves:
        if v in first.made and axes == second.idx:
            continue
        if storage(v, owners) & first.writes:
            return False
    return True
