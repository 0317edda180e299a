"""Drop a tape none of whose popped values is read: its pushes, pops and creation.

To-be-recorded analysis keeps a restore when the reverse sweep reads the variable, and it runs
before dead-code elimination has removed reverse code that does nothing: the reversed branches
of a ``with no_grad`` search loop (k-means' nearest centroid) read their conditions, so each
condition was taped per iteration, only to be popped by reverse loops that are otherwise empty.
Once DCE has emptied those branches, nothing reads the popped values; without their tape the
reverse loops are empty too, and a second DCE removes them.

Tape ops are DCE roots (their order is the protocol between the sweeps), which is why this is a
pass of its own: a tape is removed whole, so the pushes and pops that remain still pair up.
"""
from __future__ import annotations

from .. import ir
from ..primitives import TAPE_PRIMS


def drop_unread_tapes(fn: ir.Function) -> bool:
    """Remove every tape of ``fn`` whose popped values nothing reads; returns whether any was."""
    tapes = [st.target for st in fn.body if isinstance(st, ir.Op) and st.prim == "new_tape"]
    unread = {t for t in tapes if not _popped_values_read(fn.body, t)}
    if unread:
        _remove(fn.body, unread)
    return bool(unread)


def _popped_values_read(body: list[ir.Stmt], tape: ir.Var) -> bool:
    """Whether code at or after the first pop of ``tape`` (the reverse sweep) reads a value
    popped from it. Reads in the forward sweep, which runs before any pop, do not count."""
    first = next((k for k, st in enumerate(body) if any(_pops(s, tape) for s in ir.walk([st]))), None)
    if first is None:
        return False
    popped = {s.target for s in ir.walk(body) if _pops(s, tape)}
    return any(o in popped for s in ir.walk(body[first:]) for o in ir.operands(s))


def _pops(st: ir.Stmt, tape: ir.Var) -> bool:
    return isinstance(st, ir.Op) and st.prim == "pop" and st.args[0] is tape


def _remove(stmts: list[ir.Stmt], tapes: set[ir.Var]) -> None:
    def on_tape(st: ir.Stmt) -> bool:
        if not (isinstance(st, ir.Op) and st.prim in TAPE_PRIMS):
            return False
        return (st.target if st.prim == "new_tape" else st.args[0]) in tapes
    stmts[:] = [st for st in stmts if not on_tape(st)]
    for st in stmts:
        for region in ir.regions(st):
            _remove(region, tapes)
