"""Tape a loop's value at the end of each iteration, and pop it at the start of each reverse one.

The transform tapes a variable just before the statement that overwrites it, and pops it back
right after that statement's reverse. For a value each iteration makes and the reverse sweep
reads at the top of its iteration (llsq's residual ``inner``: the forward sweep pushes the
previous iteration's ``inner`` before ``inner = sign(ti)``; the reverse iteration reads
``inner``, then pops the previous one), every iteration then depends on its neighbour: the push
reads what the previous forward iteration left, and the reverse iteration reads what the
previous reverse iteration popped. Unroll-and-jam cannot run such iterations side by side.

Pushing the value at the end of the iteration instead, and popping it at the start of the
reverse iteration, makes it local to each iteration in both sweeps. The popped value is the one
rewinding requires there (the state at the end of that forward iteration); the pushes of one
iteration still pop in the mirror order (one push moves to the end, its pop to the start). What
is lost is the value before the overwrite, which the old pop gave the reverse code after it: so
the pop must be the last read of the variable in its reverse iteration, and nothing outside the
two loops may mention the variable (its values before the forward loop and after the reverse
loop are then never read).
"""
from __future__ import annotations

from .. import ir


def tape_at_iteration_end(fn: ir.Function, pairs: list[tuple[ir.Op, ir.Op]],
                          loop_pairs: dict[int, ir.Stmt]) -> bool:
    """Move each (push, pop) of ``pairs`` that qualifies: the push to the end of its forward
    ``for`` loop's body, the pop to the start of the reverse loop's (``loop_pairs``: forward loop
    id -> reverse loop); returns whether any moved."""
    loops = {id(st): st for st in ir.walk(fn.body) if isinstance(st, ir.For)}
    home = {id(st): loop for loop in loops.values() for st in loop.body}
    moved = False
    for push, pop in pairs:
        fwd = home.get(id(push))
        rev = loop_pairs.get(id(fwd)) if fwd is not None else None
        if rev is None or id(rev) not in loops or not any(st is pop for st in rev.body):
            continue
        v = pop.target
        at = next(k for k, st in enumerate(rev.body) if st is pop)
        if (fwd.body[-1] is push and rev.body[0] is pop) or v in ir.vars_read(rev.body[at + 1:]):
            continue
        if _mentioned_outside(fn.body, v, (fwd, rev)):
            continue
        fwd.body.remove(push)
        fwd.body.append(push)
        rev.body.remove(pop)
        rev.body.insert(0, pop)
        moved = True
    return moved


def _mentioned_outside(stmts: list[ir.Stmt], v: ir.Var, loops: tuple[ir.For, ir.For]) -> bool:
    """Whether a statement outside ``loops`` reads or writes ``v`` (its value before the forward
    loop or after the reverse loop would matter)."""
    for st in stmts:
        if any(st is loop for loop in loops):
            continue
        if v in ir.operands(st) or v in ir.defined(st):
            return True
        if any(_mentioned_outside(region, v, loops) for region in ir.regions(st)):
            return True
    return False
