"""Unroll-and-jam: run several iterations of a loop side by side through its inner loop.

A loop whose inner loop accumulates a scalar (k-means' search: for each centroid ``j``, ``dist +=
delta * delta`` over the coordinates) is bound by that chain: each addition waits for the one
before it, and LLVM may not reassociate floating-point sums to break it. Running ``JAM``
iterations of the outer loop together, with their inner loops fused into one, gives ``JAM``
independent chains, each summed in its original order, so results are bit for bit the same
(``LANE_JAM`` iterations when ``lane_layout.py`` will have them read a transposed copy):

    for j in range(lo, end, JAM * s):          # end: lo plus the whole groups of JAM iterations
        j_1 = j + s; ...                       # each copy's counter
        P (once for values every copy shares), then P of copy 0, 1, ...
        for e in ...: body of copy 0, copy 1, ...   (shared values once)
        S of copy 0, S of copy 1, ...          # in the original order
    for j in range(end, hi, s): the original body  # the rest

The outer loop's body must be ``P``, one inner ``for`` whose body is plain operations, then
``S``; every statement assigns scalars (no array is made, nor written but as below), and ``S``
holds only operations and ``if``\\ s. Legal because the copies of ``P`` and the inner loop only
write values local to their iteration (renamed per copy: assigned before any read in the body
and read nowhere outside the loop) and read nothing ``S`` writes, so moving them ahead of the
earlier copies' ``S`` changes no value. Nothing that can raise is reordered except index reads,
so when several indices are out of range another one may be reported, as with the checks the
emitter hoists out of loops. Only done where it pays: the inner loop carries a float recurrence
through a per-iteration local.

Two things a gradient's loops add (llsq's, once ``ad/iteration_end_tapes.py`` has made the
taped residual local to each iteration). Scalar pushes and pops in ``P`` or in ``S``: the
copies' ``P`` (and ``S``) run in the original order, so a tape used by only one of them sees
its operations in the original order. And additions of scalars into a vector at the inner
counter (``x_bar[e] += v``), when nothing else in the loop mentions the vector or an array that
may share its memory: at step ``e`` the copies add into element ``e`` in the original order of
their iterations, and no other step adds into it, so each element's sum is the same. (A push
that grows its tape may raise ``MemoryError`` after later copies have added into the vector:
the function's own arrays, which then die unread.)

The pass runs on a copy, just before emission: listings of the IR and the reverse transform see
the loop as written.
"""
from __future__ import annotations

import copy
from collections import Counter
from dataclasses import replace

from .. import ir
from ..primitives import UNARY_MATH
from ..types import INT
from .analysis import defined_first, mutated, read_before_assigned, storage_owners
from .lane_layout import LANE_JAM, lane_loops

JAM = 4

# Scalar operations that cannot raise (index reads raise only IndexError, see above).
_SAFE = {"id", "copy", "neg", "add", "sub", "mul", "div", "maximum", "minimum", "lt", "le", "gt", "ge",
         "eq", "ne", "not", "or", "and", "to_float", "index", "dim", "size", "stop_gradient",
         *UNARY_MATH}


def unroll_and_jam(fn: ir.Function) -> ir.Function:
    """``fn`` with every loop that qualifies jammed (a new function), or ``fn`` itself."""
    owners = storage_owners(fn, mutated(fn.body))
    if not any(_plan(fn, st, owners) for st in ir.walk(fn.body) if isinstance(st, ir.For)):
        return fn
    fn = replace(copy.deepcopy(fn), taken=set(fn.taken))
    owners = storage_owners(fn, mutated(fn.body))
    vector = lane_loops(fn)
    for block in list(ir.blocks(fn.body)):
        k = 0
        while k < len(block):
            st = block[k]
            plan = _plan(fn, st, owners) if isinstance(st, ir.For) else None
            if plan is None:
                k += 1
                continue
            new = _jam(fn, st, *plan, width=LANE_JAM if id(st) in vector else JAM)
            block[k:k + 1] = new
            k += len(new)
    return fn


def _safe(st: ir.Op) -> bool:
    """Cannot raise: ``_SAFE``, or the trip count of a range with a constant step (a reversed
    inner loop's bounds)."""
    return st.prim in _SAFE or (st.prim == "trip_count" and isinstance(st.args[2], ir.Const)
                                and st.args[2].value != 0)


def _scalar_op(st: ir.Stmt) -> bool:
    return isinstance(st, ir.Op) and _safe(st) and st.target is not None and st.target.type.rank == 0


def _tape_op(st: ir.Stmt) -> bool:
    """A push or pop of a scalar (the reverse sweep's tape protocol)."""
    if not (isinstance(st, ir.Op) and st.prim in ("push", "push_reserved", "pop")):
        return False
    value = st.target if st.prim == "pop" else st.args[1]
    return isinstance(value, ir.Var) and value.type.rank == 0


def _accumulation(st: ir.Stmt, inner: ir.For) -> bool:
    """``a[e] += v`` of a scalar into a vector at the inner loop's counter ``e``."""
    return (isinstance(st, ir.Op) and st.prim == "addindex" and len(st.args) == 3 and st.args[2] is inner.var
            and isinstance(st.args[0], ir.Var) and st.args[0].type.rank == 1 and st.args[1].type.rank == 0)


def _tapes(stmts: list[ir.Stmt]) -> set[ir.Var]:
    return {st.args[0] for st in ir.walk(stmts) if _tape_op(st)}


def _plan(fn: ir.Function, loop: ir.For, owners: dict[ir.Var, set[ir.Var]]):
    """(P, inner loop, S, per-copy locals, shared ops) when ``loop`` qualifies, else None."""
    if not (isinstance(loop.step, ir.Const) and loop.step.value != 0):
        return None
    inner_at = [k for k, st in enumerate(loop.body) if not isinstance(st, ir.Op)]
    if not inner_at or not isinstance(loop.body[inner_at[0]], ir.For):
        return None
    k = inner_at[0]
    pre, inner, post = loop.body[:k], loop.body[k], loop.body[k + 1:]
    if not (all(_scalar_op(s) or _tape_op(s) for s in pre) and inner.body
            and all(_scalar_op(s) or _accumulation(s, inner) for s in inner.body)
            and all(_scalar_op(s) or _tape_op(s) or isinstance(s, ir.If) for s in ir.walk(post))):
        return None
    if _tapes(pre) & _tapes(post):
        return None                   # the copies' heads would pop ahead of earlier copies' tails
    accumulated = {st.args[0] for st in inner.body if _accumulation(st, inner)}
    if not _only_accumulated(loop, inner, accumulated, owners):
        return None
    outside = _read_outside(fn.body, loop)
    written = ir.vars_written(loop.body)
    if loop.var in written or loop.var in outside:
        return None
    local = written - read_before_assigned(loop.body, set()) - outside
    first = pre + [inner]
    first_written = ir.vars_written(first) - accumulated
    if not first_written <= local or first_written & ir.vars_written(post):
        return None
    if ir.vars_read(first) & ir.vars_written(post):
        return None
    carried = read_before_assigned(inner.body, {inner.var}) & first_written
    if not any(v.type.dtype == "float" for v in carried):
        return None                   # no recurrence in the inner loop: nothing to overlap
    shared = _shared(pre + inner.body, loop, inner)
    varying = {o for o in (inner.lo, inner.hi, inner.step) if isinstance(o, ir.Var)}
    if varying & (written - shared):
        return None
    return pre, inner, post, local - shared - {inner.var}, shared


def _only_accumulated(loop: ir.For, inner: ir.For, accumulated: set[ir.Var],
                      owners: dict[ir.Var, set[ir.Var]]) -> bool:
    """Whether the loop touches the arrays its inner loop accumulates into only by those
    accumulations, and reads no array that may share their memory. Then at each inner step the
    copies add into element ``e`` in the original iterations' order, and no element is added to
    at any other step, so every element sees its additions in the original order."""
    if not accumulated:
        return True
    memory = set().union(*(owners.get(a, {a}) for a in accumulated))
    for st in ir.walk(loop.body):
        if _accumulation(st, inner):
            if any(isinstance(o, ir.Var) and o in accumulated for o in st.args[1:]):
                return False
            continue
        arrays = [o for o in ir.operands(st) + ir.defined(st) if isinstance(o, ir.Var) and o.type.rank > 0]
        if any(a in accumulated or owners.get(a, {a}) & memory for a in arrays):
            return False
    return not any(a is not b and owners.get(a, {a}) & owners.get(b, {b})
                   for a in accumulated for b in accumulated)


def _read_outside(body: list[ir.Stmt], loop: ir.For) -> set[ir.Var]:
    """Variables that code other than ``loop``'s body may read while they hold a value it left:
    reads anywhere else, except inside another ``for``, not around ``loop``, that binds the
    variable first (as its counter, or at the top of its body before any mention)."""
    found: set[ir.Var] = set()

    def visit(stmts: list[ir.Stmt], rebound: set[ir.Var]) -> None:
        for st in stmts:
            found.update(o for o in ir.operands(st) if isinstance(o, ir.Var) and o not in rebound)
            if st is loop:
                continue
            inside = rebound
            if isinstance(st, ir.For) and not any(s is loop for s in ir.walk(st.body)):
                inside = rebound | {st.var} | defined_first(st.body)
            for region in ir.regions(st):
                visit(region, inside)

    visit(body, set())
    return found


def _shared(ops: list[ir.Stmt], loop: ir.For, inner: ir.For) -> set[ir.Var]:
    """Targets of ``ops`` that every copy computes alike: assigned once in the loop body, from
    constants, values the body does not write, the inner counter or shared values; never from
    the outer counter."""
    counts = Counter(v for st in ir.walk(loop.body) for v in ir.defined(st))
    written = set(counts)
    shared: set[ir.Var] = set()
    for st in ops:
        if _safe(st) and counts[st.target] == 1 and all(
                isinstance(a, ir.Const) or a is inner.var or a in shared or (a not in written and a is not loop.var)
                for a in st.args):
            shared.add(st.target)
    return shared


def _clone(stmts: list[ir.Stmt], mapping: dict[ir.Var, ir.Var]) -> list[ir.Stmt]:
    """Fresh statements with variables renamed by ``mapping`` (the others kept as they are)."""
    memo = {id(v): mapping.get(v, v) for st in ir.walk(stmts)
            for v in [*ir.operands(st), *ir.defined(st)] if isinstance(v, ir.Var)}
    return copy.deepcopy(stmts, memo)


def _jam(fn: ir.Function, loop: ir.For, pre, inner: ir.For, post, local: set[ir.Var],
         shared: set[ir.Var], width: int) -> list[ir.Stmt]:
    line, s = loop.line, loop.step.value

    def op(name: str, prim: str, args: list[ir.Operand]) -> tuple[ir.Var, ir.Op]:
        v = ir.Var(fn.fresh(name), INT)
        return v, ir.Op(line, v, prim, args)

    trips, count = op(loop.var.name + "_trips", "trip_count", [loop.lo, loop.hi, loop.step])
    groups, grouped = op(loop.var.name + "_groups", "floordiv", [trips, ir.Const(width, INT)])
    span, spanned = op(loop.var.name + "_span", "mul", [groups, ir.Const(width * s, INT)])
    end, ended = op(loop.var.name + "_end", "add", [loop.lo, span])
    body: list[ir.Stmt] = []
    renames: list[dict[ir.Var, ir.Var]] = [{}]
    for u in range(1, width):
        counter, made = op(f"{loop.var.name}_{u}", "add", [loop.var, ir.Const(u * s, INT)])
        body.append(made)
        renames.append({loop.var: counter, **{v: ir.Var(fn.fresh(f"{v.name}_{u}"), v.type, v.kind) for v in local}})
    body += _clone([st for st in pre if st.target in shared], {})
    for mapping in renames:
        body += _clone([st for st in pre if st.target not in shared], mapping)
    jammed = _clone([inner], {})[0]
    jammed.body = _clone([st for st in inner.body if st.target in shared], {})
    for mapping in renames:
        jammed.body += _clone([st for st in inner.body if st.target not in shared], mapping)
    body.append(jammed)
    for mapping in renames:
        body += _clone(post, mapping)
    main = ir.For(line, loop.var, loop.lo, end, ir.Const(width * s, INT), body)
    rest = ir.For(line, loop.var, end, loop.hi, loop.step, loop.body)
    return [count, grouped, spanned, ended, main, rest]
