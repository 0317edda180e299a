"""Reserve room on the scalar tapes a counted loop pushes to once, before it runs.

A ``for`` loop's trip count is known at entry, so a scalar tape its body pushes to a fixed number
of times per iteration is grown once, before the loop, by the trip count times that number, and
the pushes inside skip their capacity check (``push_reserved``). A push in a branch counts as if
it always ran (the reservation is an upper bound). Pushes inside a nested loop cannot be counted:
a tape with any keeps its checks in the enclosing loop (the inner loop's own reservation may
leave the tape exactly full for the outer loop's next push).

This runs on the finished adjoint, after ``dead_restores`` and ``unread_tapes`` have removed the
pushes no pop needs, so the reservations count only the pushes that remain, and a loop left with
none reserves nothing.
"""
from __future__ import annotations

from collections import Counter

from .. import ir
from ..types import INT
from .builder import Builder


def reserve_tapes(fn: ir.Function) -> None:
    """Put a reservation before every ``for`` loop of ``fn`` that pushes a countable number of
    times per iteration to a scalar tape, and mark those pushes ``push_reserved``."""
    fn.body[:] = _reserve_in(fn, fn.body)


def _reserve_in(fn: ir.Function, stmts: list[ir.Stmt]) -> list[ir.Stmt]:
    """``stmts`` with the reservations of their loops, inner loops first."""
    out: list[ir.Stmt] = []
    for st in stmts:
        for region in ir.regions(st):
            region[:] = _reserve_in(fn, region)
        if isinstance(st, ir.For):
            out.extend(_reservations(fn, st))
        out.append(st)
    return out


def _reservations(fn: ir.Function, loop: ir.For) -> list[ir.Stmt]:
    per_trip: Counter = Counter()
    uncounted: set[ir.Var] = set()

    def count(stmts: list[ir.Stmt], nested: bool) -> None:
        for st in stmts:
            if _pushes_scalar(st):
                (uncounted.add(st.args[0]) if nested else per_trip.update([st.args[0]]))
            for region in ir.regions(st):
                count(region, nested or isinstance(st, (ir.For, ir.While)))

    count(loop.body, False)
    tapes = {t for t in per_trip if t not in uncounted}
    if not tapes:
        return []
    for st in ir.walk(loop.body):
        if _pushes_scalar(st) and st.args[0] in tapes:
            st.prim = "push_reserved"
    made: list[ir.Stmt] = []
    b = Builder(fn, made, loop.line)
    trips = b.emit("trip_count", [loop.lo, loop.hi, loop.step], INT, name="trips")
    for tape in sorted(tapes, key=lambda t: t.name):
        need = trips if per_trip[tape] == 1 else b.emit("mul", [trips, ir.Const(per_trip[tape], INT)], INT, name="t")
        made.append(ir.Op(loop.line, None, "reserve", [tape, need]))
    return made


def _pushes_scalar(st: ir.Stmt) -> bool:
    return isinstance(st, ir.Op) and st.prim in ("push", "push_reserved") and st.args[0].kind == "tape"
