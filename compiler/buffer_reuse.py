"""Which arrays made inside a loop may take their memory from a buffer that outlives the iteration.

An RK4 step makes eight arrays of the state's size and drops seven of them before the next step.
Allocating each anew costs more than the arithmetic once they are large: ode's 800 KB arrays
came from the kernel as fresh pages on every step whenever the allocator had just given memory
back, and then took 3x the time of the whole primal. The emitter instead keeps a few buffers per
loop (``slots``) and hands each such array one whose last holder is dead, allocating only when
the shape differs; an array that dies early passes its buffer, still in cache, to the next one.

An array qualifies when, at the start of every iteration of its innermost loop, nothing can
still refer to the one the previous iteration made: a temporary ``t`` assigned once (an element
or row write changes values, not the buffer), by a statement that allocates, when every variable
that may share its memory (``storage_owners``: itself, its aliases and views) is mentioned only
inside that loop, is read there only after it was assigned in the same iteration, and is never
taped by reference or returned. Its lifetime runs from its assignment to the last statement of
the loop body that mentions one of those variables (a statement holding a nested loop counts
whole), in the body's top-level statements.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import ir
from .passes.analysis import (assignment_counts, escaping, mention_counts, mentioned, mutated, read_before_assigned,
                              sharers, use_counts)
from .primitives import PRIMS


@dataclass(frozen=True)
class Lifetime:
    """Where a reusable array lives: its loop, and the first and last top-level statements of
    the loop's iteration (the condition's, then the body's) that hold it."""

    loop: int              # id of the innermost enclosing loop
    start: int
    end: int


def reusable(fn: ir.Function, owners: dict[ir.Var, set[ir.Var]], allocates) -> dict[ir.Var, Lifetime]:
    """The array temporaries of ``fn`` that may take a buffer from their loop's slots, with their
    lifetimes; ``allocates(op)`` says whether the emitter gives ``op``'s result a new buffer."""
    counts = assignment_counts(fn)
    kept = escaping(fn.body, views=False)
    uses = use_counts(fn.body)
    everywhere = mention_counts(fn.body)
    sharing = sharers(owners)
    found: dict[ir.Var, Lifetime] = {}
    for loop in (st for st in ir.walk(fn.body) if isinstance(st, (ir.For, ir.While))):
        iteration = (loop.cond_body + loop.body) if isinstance(loop, ir.While) else loop.body
        inside = mention_counts(iteration)
        carried = read_before_assigned(iteration, set())
        mentions = [mentioned(st) for st in iteration]
        for start, st in enumerate(iteration):
            for op in _made_here(st):
                t = op.target
                if t.type.rank == 0 or counts[t] != 1 or t in fn.params or not allocates(op):
                    continue
                group = sharing.get(t, set()) | {t}
                if all(v not in kept and v not in fn.params and inside[v] == everywhere[v] and v not in carried
                       for v in group):
                    read = _read_through(group, iteration, uses)
                    end = max(k for k, seen in enumerate(mentions) if seen & read)
                    found[t] = Lifetime(id(loop), start, end)
    return found


def _read_through(group: set[ir.Var], iteration: list[ir.Stmt], uses: dict[ir.Var, int]) -> set[ir.Var]:
    """``group`` and what the emitter may compute from it later than where it stands: single-use
    values (fused into their reader's loop, ``fusion``; aliases) and arrays written in place
    (built in pieces inside their reader's loop, ``piecewise``). The group is read there too."""
    read = set(group)
    written = mutated(iteration)
    for st in ir.walk(iteration):
        if not (isinstance(st, ir.Op) and read & set(ir.operands(st))):
            continue
        if st.target is None and PRIMS[st.prim].mutates:
            read.add(st.args[0])
        elif st.target is not None and (uses.get(st.target) == 1 or st.target in written):
            read.add(st.target)
    return read


def _made_here(st: ir.Stmt):
    """The ops with a target in ``st`` outside any loop nested in it (their innermost loop is
    the one ``st`` is a statement of)."""
    if isinstance(st, ir.Op):
        if st.target is not None:
            yield st
    elif isinstance(st, ir.If):
        for region in ir.regions(st):
            for inner in region:
                yield from _made_here(inner)
