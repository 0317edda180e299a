"""Which arrays built in two pieces the emitter computes inside their one reader's loop.

``z = x * 1.0`` then ``z[1:n] = x[1:n] * y[0:n-1]`` is an array built in two pieces (the ode
eval's right-hand side, inlined). Stored, it costs a pass for the whole and one for the slice,
and its reader a third. When the only reader is an elementwise loop (``t = y + h * z / 2``, where
the reverse sweep recomputes an RK4 stage), that loop is split at the slice instead: outside it
each element of ``z`` is the whole's expression, inside it the slice's, and ``z`` is never
stored. One pass instead of three.

Conditions, in one block: the whole is an elementwise loop making a rank-1 array, assigned once
and written in place only by the next statement that mentions it, a slice write of a value that
is not the array itself; then plain aliases (``k1 = z``), each read once; then exactly one read,
by an elementwise operation whose loop (it may be fused into a later one) makes a new rank-1
array. Nothing in between may write what the two pieces or the slice bounds read, since they
are computed where the reader stands.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import fusion, ir
from .passes.analysis import mentioned


@dataclass(eq=False)
class Piecewise:
    whole: ir.Op                 # z = elementwise(...)
    part: ir.Op                  # z[lo:hi] = value
    absorbed: list[ir.Stmt]      # whole, part and the aliases: computed in the reader, not emitted
    reader: ir.Op | None = None  # the loop computing it (one piecewise array per loop)


def plan(stmts: list[ir.Stmt], uses: dict[ir.Var, int], defs, owners: dict[ir.Var, set[ir.Var]],
         fused: dict[ir.Var, ir.Op]) -> dict[ir.Var, Piecewise]:
    """The arrays of ``stmts`` built in pieces and computed in their reader's loop, by the
    variable that reader reads (``z`` or its last alias)."""
    found: dict[ir.Var, Piecewise] = {}
    for j, st in enumerate(stmts):
        if (fusion.is_loop_op(st) and st.prim not in fusion.WRITES and st.target.type.rank == 1
                and st.target not in fused and defs[st.target] == 2):
            hit = _at(stmts, j, uses, defs, owners, fused, found)
            if hit is not None:
                found[hit[0]] = hit[1]
    return found


def leaves(o: ir.Operand, fused: dict[ir.Var, ir.Op]) -> set[ir.Var]:
    """The variables an operand's fused expression tree reads."""
    if not isinstance(o, ir.Var):
        return set()
    if o not in fused:
        return {o}
    return set().union(*(leaves(a, fused) for a in fused[o].args))


def _at(stmts, j, uses, defs, owners, fused, found):
    whole = stmts[j]
    names = [whole.target]
    part, absorbed = None, [whole]
    for m in range(j + 1, len(stmts)):
        st = stmts[m]
        if not mentioned(st) & set(names):
            continue
        if part is None:
            z = whole.target
            if not (isinstance(st, ir.Op) and st.prim == "setslice" and st.args[0] is z
                    and z not in st.args[1:] and uses.get(z) == 2 and st.args[1].type.rank <= 1):
                return None
            part = st
        elif (isinstance(st, ir.Op) and st.prim == "id" and st.args[0] is names[-1]
              and uses.get(st.target) == 1 and defs[st.target] == 1):
            names.append(st.target)
        elif isinstance(st, ir.Op) and fusion.is_loop_op(st) and st.prim not in fusion.WRITES:
            return _reader(stmts, j, m, names[-1], Piecewise(whole, part, absorbed), owners, fused, found)
        else:
            return None
        absorbed.append(st)
    return None


def _reader(stmts, j, m, read, piece: Piecewise, owners, fused, found):
    """``piece`` if ``stmts[m]``, reading it, is (or is fused into) a loop that makes a new rank-1
    array and nothing between the whole and that loop changes what the pieces read."""
    root = m
    while stmts[root].target in fused:
        made = stmts[root].target
        root = next((k for k in range(root + 1, len(stmts)) if made in ir.operands(stmts[k])), None)
        if root is None:
            return None
    loop = stmts[root]
    if not (fusion.is_loop_op(loop) and loop.prim not in fusion.WRITES and loop.target.type.rank == 1):
        return None
    bounds = {o for o in piece.part.args[2:] if isinstance(o, ir.Var)}
    whole_in = leaves(piece.whole.target, {piece.whole.target: piece.whole, **fused})
    part_in = leaves(piece.part.args[1], fused) | bounds
    reads = set().union(*(leaves(a, fused) for a in loop.args))
    if ((whole_in | part_in) & set(found) or loop.target in whole_in | part_in | reads
            or any(other.reader is loop for other in found.values())):
        return None
    start = stmts.index(piece.part)
    for k in range(j + 1, root):
        if stmts[k] not in piece.absorbed and _changes(stmts[k], whole_in | (part_in if k > start else set()), owners):
            return None
    piece.reader = loop
    return read, piece


def _changes(st: ir.Stmt, inputs: set[ir.Var], owners: dict[ir.Var, set[ir.Var]]) -> bool:
    """Whether ``st`` rebinds one of ``inputs`` or writes into memory one of them may share."""
    memory = set().union(*(owners.get(v, {v}) for v in inputs))
    for s in ir.walk([st]):
        if isinstance(s, ir.Op) and s.target is None:
            if any(owners.get(w, {w}) & memory for w in ir.defined(s)):
                return True
        elif inputs & set(ir.defined(s)):
            return True
    return False
