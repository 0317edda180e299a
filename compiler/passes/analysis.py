"""Facts about an IR function that several passes need: definition counts and mutated arrays."""
from __future__ import annotations

from collections import Counter

from .. import ir
from ..primitives import PRIMS


def def_counts(fn: ir.Function) -> Counter:
    """How many statements assign or mutate each variable (parameters count once)."""
    counts: Counter = Counter(fn.params)
    for st in ir.walk(fn.body):
        for v in ir.defined(st):
            counts[v] += 1
    return counts


def assignment_counts(fn: ir.Function) -> Counter:
    """How many statements give each variable a new value (parameters count once); an element,
    row or slice write changes an array's values, not which buffer it is, so it does not count."""
    counts = def_counts(fn)
    for st in ir.walk(fn.body):
        if isinstance(st, ir.Op) and st.target is None and PRIMS[st.prim].mutates:
            counts[st.args[0]] -= 1
    return counts


def mutated(stmts: list[ir.Stmt]) -> set[ir.Var]:
    """Arrays written in place (element, row or slice writes)."""
    return {st.args[0] for st in ir.walk(stmts)
            if isinstance(st, ir.Op) and PRIMS[st.prim].mutates and isinstance(st.args[0], ir.Var)}


def substitute(stmts: list[ir.Stmt], mapping: dict[ir.Var, ir.Operand]) -> None:
    """Replace reads of variables by other operands, everywhere in ``stmts``."""
    if not mapping:
        return
    get = lambda o: mapping.get(o, o) if isinstance(o, ir.Var) else o  # noqa: E731
    for st in ir.walk(stmts):
        if isinstance(st, ir.Op):
            first = 1 if PRIMS[st.prim].mutates else 0
            st.args = st.args[:first] + [get(a) for a in st.args[first:]]
        elif isinstance(st, ir.For):
            st.lo, st.hi, st.step = get(st.lo), get(st.hi), get(st.step)
        elif isinstance(st, (ir.While, ir.If, ir.Assert)):
            st.cond = get(st.cond)
        elif isinstance(st, ir.Return):
            st.values = [get(v) for v in st.values]


def use_counts(stmts: list[ir.Stmt]) -> dict[ir.Var, int]:
    """How many times each variable is read (by operands, anywhere in ``stmts``)."""
    counts: dict[ir.Var, int] = {}
    for st in ir.walk(stmts):
        for o in ir.operands(st):
            if isinstance(o, ir.Var):
                counts[o] = counts.get(o, 0) + 1
    return counts


def consumer(block: list[ir.Stmt], k: int, uses: dict[ir.Var, int],
             reads: set[ir.Var] | None = None) -> ir.Stmt | None:
    """The statement of ``block`` that reads the single-use value made by ``block[k]``, if that
    value can be computed right there instead: the reader is a later statement of the same block
    (not inside a region) and nothing in between writes any input of ``block[k]``. ``reads``
    overrides those inputs (callers that move whole expression trees pass all their leaves)."""
    st = block[k]
    if not (isinstance(st, ir.Op) and st.target is not None and st.target.kind == "temp"
            and PRIMS[st.prim].pure and uses.get(st.target) == 1):
        return None
    if reads is None:
        reads = {a for a in st.args if isinstance(a, ir.Var)}
    for later in block[k + 1:]:
        if st.target in ir.operands(later):
            return later if isinstance(later, (ir.Op, ir.Return, ir.Assert)) else None
        if any(v in reads for v in ir.defined(later)):
            return None
        for region in ir.regions(later):
            if st.target in ir.vars_read(region) or reads & ir.vars_written(region):
                return None
    return None


def storage_owners(fn: ir.Function, written: set[ir.Var]) -> dict[ir.Var, set[ir.Var]]:
    """For each array variable, the arrays whose memory it may share: a view shares its
    source's, anything else owns its own. Flow-insensitive, so a variable assigned twice gets
    the union. A parameter written in place was copied on entry and owns its memory."""
    owners: dict[ir.Var, set[ir.Var]] = {p: {p} for p in fn.params if p not in written}
    ops = [st for st in ir.walk(fn.body) if isinstance(st, ir.Op) and st.target is not None
           and st.target.type.rank > 0]
    changed = True
    while changed:
        changed = False
        for op in ops:
            src = op.args[0] if op.args and isinstance(op.args[0], ir.Var) else None
            new = owners.get(src, {src}) if PRIMS[op.prim].view and src is not None else {op.target}
            have = owners.setdefault(op.target, set())
            if not new <= have:
                have |= new
                changed = True
    return owners


def sharers(owners: dict[ir.Var, set[ir.Var]]) -> dict[ir.Var, set[ir.Var]]:
    """``storage_owners`` inverted: for each array, the variables that may share its memory."""
    out: dict[ir.Var, set[ir.Var]] = {}
    for v, memory in owners.items():
        for owner in memory:
            out.setdefault(owner, set()).add(v)
    return out


def maybe_unassigned_reads(fn: ir.Function) -> set[ir.Var]:
    """Variables some statement may read before any assignment to them has run: read after a
    loop that may run zero times or a branch that may not assign them, or read in a loop body
    before the body assigns them (the previous iteration's value, or none on the first). Only
    these need a value on entry to the function; a variable every read of which follows its
    assignment on every path needs none."""
    return read_before_assigned(fn.body, set(fn.params))


def read_before_assigned(stmts: list[ir.Stmt], assigned: set[ir.Var]) -> set[ir.Var]:
    """Variables ``stmts`` may read before assigning them, given ``assigned`` on entry (as
    ``maybe_unassigned_reads``); for a loop body, the values that may flow in from outside it
    or from the previous iteration."""
    found: set[ir.Var] = set()

    def reads(st: ir.Stmt, assigned: set[ir.Var]) -> None:
        found.update(o for o in ir.operands(st) if isinstance(o, ir.Var) and o not in assigned)

    def block(stmts: list[ir.Stmt], assigned: set[ir.Var]) -> set[ir.Var]:
        assigned = set(assigned)
        for st in stmts:
            reads(st, assigned)
            if isinstance(st, ir.Op) and st.target is not None:
                assigned.add(st.target)
            elif isinstance(st, ir.For):
                block(st.body, assigned | {st.var})
            elif isinstance(st, ir.While):
                assigned = block(st.cond_body, assigned)
                if st.cond not in assigned:
                    found.add(st.cond)
                block(st.body, assigned)
            elif isinstance(st, ir.If):
                assigned = block(st.then, assigned) & block(st.orelse, assigned)
        return assigned

    block(stmts, assigned)
    return found


def mentioned(st: ir.Stmt) -> set[ir.Var]:
    """Variables a statement (nested regions included) reads or writes."""
    return {o for s in ir.walk([st]) for o in ir.operands(s) if isinstance(o, ir.Var)} | ir.vars_written([st])


def mention_counts(stmts: list[ir.Stmt]) -> Counter:
    """How often each variable is read or written in ``stmts`` (nested regions included)."""
    return Counter(v for st in ir.walk(stmts)
                   for v in [o for o in ir.operands(st) if isinstance(o, ir.Var)] + ir.defined(st))


def defined_first(body: list[ir.Stmt]) -> set[ir.Var]:
    """Variables whose first mention in ``body`` (in order, nested regions included) is an
    unconditional whole-value definition at its top level: a loop body that is ``body``
    overwrites them each iteration before reading them, so no value (and no adjoint) flows
    between iterations through them."""
    seen: set[ir.Var] = set()
    first: set[ir.Var] = set()
    for st in body:
        seen.update(o for o in ir.operands(st) if isinstance(o, ir.Var))
        for region in ir.regions(st):
            seen.update(ir.vars_read(region) | ir.vars_written(region))
        if isinstance(st, ir.Op) and st.target is not None and st.target not in seen:
            first.add(st.target)
        seen.update(ir.defined(st))
    return first


def escaping(stmts: list[ir.Stmt], views: bool = True) -> set[ir.Operand]:
    """Arrays something else may go on referring to: viewed (unless ``views`` is false), taped
    by reference, or returned."""
    kept: set[ir.Operand] = set()
    for st in ir.walk(stmts):
        if isinstance(st, ir.Return):
            kept.update(st.values)
        elif isinstance(st, ir.Op) and st.prim in ("push", "push_reserved"):
            kept.update(st.args[1:2])
        elif views and isinstance(st, ir.Op) and PRIMS[st.prim].view:
            kept.update(a for a in st.args[:1] if isinstance(a, ir.Var))
    return kept


def fusable_leaves(before: list[ir.Stmt], op: ir.Op, uses: dict) -> set[ir.Var]:
    """What ``op`` reads, through the single-use temporaries made earlier in the block: the
    emitter may compute those inside ``op``'s loop, so they are read where ``op`` stands."""
    found: set[ir.Var] = set()
    for a in op.args:
        if not isinstance(a, ir.Var):
            continue
        found.add(a)
        maker = next((st for st in reversed(before) if isinstance(st, ir.Op) and st.target is a), None)
        if maker is not None and a.kind == "temp" and uses.get(a) == 1:
            found |= fusable_leaves(before[:before.index(maker)], maker, uses)
    return found
