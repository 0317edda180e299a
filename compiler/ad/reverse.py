"""The reverse-mode transform: primal IR -> one IR function with a forward and a reverse sweep.

The generated function runs the primal code (the *forward sweep*), then walks the program
backwards (the *reverse sweep*), accumulating adjoints ``v_bar`` from the results to ``wrt``.

How values from the forward sweep reach the reverse sweep: the reverse sweep *rewinds* the
program state. When it reaches a statement, every variable it reads holds the value it had
right after that statement ran forwards. Overwrites are undone by popping the old value from a
tape, and only overwrites of variables the reverse sweep actually reads are taped (a
to-be-recorded analysis run after the reverse code is generated). Element writes ``y[i] = v``
tape the old element, not the array, and only when ``y``'s values are read in reverse.

Control flow: a ``for`` loop is reversed by running its range backwards (the trip count is
recomputed from the bounds); a ``while`` loop counts its iterations (taped when the loop is
itself inside a loop); an ``if`` re-reads its condition, which rewinding makes correct. A reversed
``for`` whose body only accumulates adjoints runs forwards, and then recomputes a cheap
recurrence (``mul *= t``) from its entry value instead of taping it.

Adjoints: a temporary or variable assigned once and read only in its own block keeps its adjoint
in a symbolic environment (JAX-style: an absent entry is an exact zero and emits nothing; the
first contribution is a binding, later ones add). Every other active variable has a home
``v_bar`` that is zero-initialised lazily and accumulated in place.
"""
from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass, field

from .. import ir
from ..passes import (add_outside_zeroed_slices, elide_adjoint_copies, eliminate_dead_code, fold_constants,
                      merge_deferred_accumulations, sum_fresh_accumulations)
from ..passes.analysis import defined_first, mentioned, mutated, substitute
from ..primitives import PRIMS
from ..types import BOOL, INT, Type
from .activity import active_vars
from .builder import Builder, const
from .in_place import accumulate_in_place
from .iteration_end_tapes import tape_at_iteration_end
from .dead_restores import drop_dead_restores
from .unread_tapes import drop_unread_tapes
from .rules import BROADCASTS, RULES, SCATTERS, Scatter
from .sum_products import sum_products_by_rows

# Scalar primitives cheap enough to recompute a recurrence with instead of taping it.
_CHEAP = frozenset({"id", "neg", "add", "sub", "mul", "div", "mod", "floordiv", "to_float", "to_int",
                    "index", "abs", "minimum", "maximum"})


# Array operations a loop body's reverse recomputes rather than tapes: one pass over memory, no
# transcendental functions, so replaying costs less than keeping every iteration's result alive
# until the reverse sweep (gmm's `xc = x - mu[j]`, 512 KB per component, 100 components: the
# live tape cost page faults and cold caches, 82 -> 74 ms for the whole gradient).
_RECOMPUTED = {"neg", "add", "sub", "mul", "div", "copy", "maximum", "minimum", "zeros", "ones", "full"}
# Those whose derivative rule does not read their result, so it may be filled in place after.
_FILLED = _RECOMPUTED - {"div"}


@dataclass(eq=False)
class _Restore:
    """Undoing one overwrite: a push before the forward statement, a pop in the reverse sweep."""

    var: ir.Var
    stmt: ir.Op
    element: bool                 # the statement writes part of an array (setindex/setrow/setslice)
    keep: bool = False
    renamed: dict = field(default_factory=dict)   # reverse-sweep names of recomputed index values
    ops: tuple | None = None      # (forward pushes, reverse pops), made once so the two pair up

    def index(self) -> list[ir.Operand]:
        """The element index as the reverse sweep names it."""
        return [self.renamed.get(o, o) if isinstance(o, ir.Var) else o for o in self.stmt.args[2:]]


@dataclass(eq=False)
class _RestoreMark(ir.Stmt):
    """Placeholder in the reverse code, replaced by the pop once we know it is needed."""

    restore: _Restore = None


@dataclass(eq=False)
class _ReplayExit(ir.Stmt):
    """After a reverse loop that replays a recurrence: ``op`` gives the variable back its value
    from before the loop (rewinding), emitted only if the reverse sweep reads that variable."""

    op: ir.Op = None


@dataclass
class _Local:
    value: ir.Operand
    owned: bool                   # a buffer nothing else refers to (may be updated in place)


@dataclass(eq=False)
class _ZeroMark(ir.Stmt):
    """Where a reset made ``var``'s adjoint zero; becomes its ``zeros_like`` if the adjoint must
    be materialised later in the block (there ``var`` still holds its value from the reset)."""

    var: ir.Var = None


@dataclass
class _Level:
    """What the reverse walk knows about home adjoints at its current point in one block.

    ``zero``: exactly zero here (their ``v_bar`` may not even be assigned), with ``marks`` where
    a reset in this block made them so; ``bound``: assigned earlier in this block's reverse code;
    ``touched``: read or updated here while neither, so the enclosing block must make them valid
    before this region runs. ``assume``: for a loop body, the variables whose adjoint is zero at
    the start of every reverse iteration (None for the function body and for branches, which
    inherit their enclosing block's knowledge).
    """

    zero: set
    assume: set | None = None
    bound: set = field(default_factory=set)
    touched: set = field(default_factory=set)
    marks: dict = field(default_factory=dict)      # zero adjoint -> (code list, _ZeroMark) of its reset here


@dataclass
class Gradient:
    """The adjoint IR function and what it returns."""

    fn: ir.Function
    wrt: list[str]
    n_results: int


class _Reverse:
    def __init__(self, fn: ir.Function, wrt: list[ir.Var], seeds: list[ir.Operand]):
        self.fn = fn
        self.wrt = wrt
        self.seeds = seeds
        self.active = active_vars(fn, wrt)
        counts = Counter(fn.params)
        for st in ir.walk(fn.body):
            for v in ir.defined(st):
                counts[v] += 1
        self.counts = counts
        self.mutated = mutated(fn.body)
        self.local = self._locals()
        self.home: dict[ir.Var, ir.Var] = {}
        self.env: dict[ir.Var, _Local] = {}
        self.levels: list[_Level] = [_Level(set())]
        self.restores: dict[int, list[_Restore]] = {}
        self.before: dict[int, list[ir.Stmt]] = {}
        self.after: dict[int, list[ir.Stmt]] = {}
        self.body_tail: dict[int, list[ir.Stmt]] = {}
        self.tapes: dict[tuple[str, int], ir.Var] = {}
        self.fixed: set[ir.Var] = set()         # assigned once, outside loops, never written in place
        self.first_defs = self._first_defs()
        self.alias_of = self._aliases()
        self.recomputed: set[int] = set()
        self.made: set[ir.Var] = set()          # values created by the reverse sweep itself
        self.loop_pairs: dict[int, ir.For] = {}  # forward loop -> the loop that reverses it
        self.loop_saves: dict[int, list[ir.Op]] = {}    # forward loop -> pushes of the variables saved around it
        self.loop_loads: dict[int, list[ir.Op]] = {}    # reverse loop -> their pops, after it
        self.bounds: dict[int, ir.Op] = {}      # forward loop -> the reverse sweep's trip count of it
        self.replayed: set[int] = set()          # reverse loops that replay a recurrence (run forwards)
        self.reverse_reads: set[ir.Var] = set()  # primal variables the reverse sweep reads (prune)

    # ---- analyses -------------------------------------------------------------------------
    def _locals(self) -> set[ir.Var]:
        """Active variables assigned once and read only in the block that assigns them."""
        def_block: dict[ir.Var, int] = {}
        read_blocks: dict[ir.Var, set[int]] = {}

        def visit(stmts: list[ir.Stmt]):
            for st in stmts:
                for o in ir.operands(st):
                    if isinstance(o, ir.Var):
                        read_blocks.setdefault(o, set()).add(id(stmts))
                for v in ir.defined(st):
                    def_block[v] = id(stmts)
                for region in ir.regions(st):
                    visit(region)

        visit(self.fn.body)
        return {v for v in self.active
                if v.kind in ("temp", "user") and self.counts[v] == 1 and v not in self.mutated
                and v in def_block and read_blocks.get(v, set()) <= {def_block[v]}}

    def _first_defs(self) -> set[int]:
        """Statements (outside loops) that assign a variable for the first time: nothing before
        them can read the old value, so they never need taping."""
        seen: set[ir.Var] = set(self.fn.params)
        first: set[int] = set()

        def visit(stmts, in_loop):
            for st in stmts:
                if isinstance(st, ir.Op) and st.target is not None and not PRIMS[st.prim].mutates:
                    if not in_loop and st.target not in seen:
                        first.add(id(st))
                        if self.counts[st.target] == 1 and st.target not in self.mutated:
                            self.fixed.add(st.target)
                for v in ir.defined(st):
                    seen.add(v)
                for region in ir.regions(st):
                    visit(region, in_loop or isinstance(st, (ir.For, ir.While)))

        visit(self.fn.body, False)
        return first

    def _aliases(self) -> dict[ir.Var, ir.Var]:
        """Locals that are plain copies ``v = src`` of a value that cannot change while ``v``
        is live (a parameter, a value assigned once outside loops, or one assigned earlier in
        ``v``'s block). Their adjoint is ``src``'s: contributions go straight to ``src``, so an
        inlined call's parameter (``rhs_x = x``) adds into ``x_bar`` instead of a zeroed local
        that is added once more at the end."""
        aliases: dict[ir.Var, ir.Var] = {}

        def visit(stmts: list[ir.Stmt]):
            before: set[ir.Var] = set()
            for st in stmts:
                if (isinstance(st, ir.Op) and st.prim == "id" and st.target in self.local and not st.nograd
                        and isinstance(st.args[0], ir.Var)):
                    src = st.args[0]
                    if (src in self.active and src.type == st.target.type and self.counts[src] == 1
                            and src not in self.mutated
                            and (src in self.fn.params or src in self.fixed or src in before)):
                        aliases[st.target] = aliases.get(src, src)
                before.update(ir.defined(st))
                for region in ir.regions(st):
                    visit(region)

        visit(self.fn.body)
        return aliases

    # ---- adjoint storage ------------------------------------------------------------------
    @property
    def zero(self) -> set[ir.Var]:
        """Home adjoints known to be exactly zero at the current point of the reverse walk."""
        return self.levels[-1].zero

    def bar(self, v: ir.Var) -> ir.Var:
        if v not in self.home:
            self.home[v] = ir.Var(self.fn.fresh(v.name + "_bar"), Type(v.type.dtype, v.type.rank), "adjoint")
            for level in self.levels:
                if level.assume is not None and v not in level.assume:
                    break
                level.zero.add(v)
        return self.home[v]

    def _touch(self, b: Builder, v: ir.Var) -> ir.Var:
        """The home adjoint of ``v``, made valid: materialised here if it is still a symbolic
        zero, else recorded so the enclosing block makes it valid before this region."""
        vb = self.bar(v)
        level = self.levels[-1]
        if v in level.zero:
            self._init(b, v)
        elif v not in level.bound:
            level.touched.add(v)
        return vb

    def _init(self, b: Builder, v: ir.Var, level: _Level | None = None, like: ir.Var | None = None) -> None:
        vb = self.bar(v)
        if v.type.rank:
            b.emit("zeros_like", [like or v], None, target=vb)
        else:
            b.emit("id", [const(0.0)], None, target=vb)
        self._assigned(v, level)

    def _assigned(self, v: ir.Var, level: _Level | None = None) -> None:
        """``v_bar`` was just given a value in ``level``'s block (the current one by default)."""
        level = level or self.levels[-1]
        level.zero.discard(v)
        level.bound.add(v)
        level.marks.pop(v, None)

    def _is_zero(self, v: ir.Var) -> bool:
        """Whether ``v``'s home adjoint is exactly zero here (making the home first, so a new one
        gets the zero state its blocks assume)."""
        self.bar(v)
        return v in self.zero

    def _materialise(self, tail: Builder, v: ir.Var, level: _Level) -> None:
        """Give the zero adjoint of ``v`` a value that stays valid past the end of this block:
        at the reset that zeroed it when that was in this block (``v``'s shape there needs no
        more rewinding), else at the end (``tail``)."""
        if v not in level.marks:
            self._init(tail, v, level)
            return
        code, mark = level.marks[v]
        at = Builder(self.fn, [], mark.line, self.made)
        self._init(at, v, level, like=mark.var)          # mark.var: v as replay renamed it there
        code[code.index(mark)] = at.out[0]

    def take(self, b: Builder, v: ir.Var, resets: bool, op: ir.Op) -> tuple[ir.Operand | None, bool]:
        """The adjoint of ``v`` at its definition by ``op`` (None when it is exactly zero), and
        whether nothing else refers to its buffer: a fresh local value, or a home adjoint just
        reset (the home is rebound before it is next written). A local's adjoint kept broadcast
        (lower rank) is expanded unless ``op``'s rule takes it as it is: a scatter, or an
        elementwise rule whose active arguments all have ``v``'s shape (one that broadcast an
        argument must sum the full adjoint for it)."""
        if v in self.local:
            entry = self.env.pop(v, None)
            if entry is None:
                return None, False
            takes_broadcast = op.prim in SCATTERS or op.prim in BROADCASTS and all(
                a.type.rank == v.type.rank for a in op.args if isinstance(a, ir.Var) and a in self.active)
            if entry.value.type.rank < v.type.rank and not takes_broadcast:
                return b.emit("expand", [entry.value, v], v.type), True
            return entry.value, entry.owned
        if self._is_zero(v):
            return None, False
        vb = self._touch(b, v)
        if resets:
            return b.emit("id", [vb], vb.type, name=v.name + "_adj"), v.type.rank > 0
        return vb, False

    def reset(self, b: Builder, v: ir.Var) -> None:
        """``v`` was just (re)defined: its adjoint before this point is zero. Kept symbolic, so
        the next contribution binds a fresh value instead of adding into zeros."""
        if v in self.local or v not in self.home:
            return
        self.zero.add(v)
        mark = _ZeroMark(b.line, v)
        b.out.append(mark)
        self.levels[-1].marks[v] = (b.out, mark)

    def accumulate(self, b: Builder, arg: ir.Operand, c, created: set[ir.Var]) -> None:
        if not isinstance(arg, ir.Var) or arg not in self.active:
            return
        arg = self.alias_of.get(arg, arg)
        if isinstance(c, Scatter):
            self._scatter(b, arg, c)
            return
        while c.type.rank > arg.type.rank:
            c = self._reduce(b, c, arg.type.rank)
            created.add(c)
        if arg in self.local:
            entry = self.env.get(arg)
            if entry is None:
                if isinstance(c, ir.Var) and c not in self.made and c not in self.fixed:
                    # A primal value or a home adjoint: either may change (a pop, an in-place
                    # add) before this binding is consumed, so keep a snapshot.
                    c = b.emit("copy" if c.type.rank else "id", [c], c.type)
                    created.add(c)
                if c.type.rank < arg.type.rank:
                    self.env[arg] = _Local(c, False)     # broadcast, expanded when taken
                elif arg.kind == "user" and isinstance(c, ir.Var):
                    named = ir.Var(self.fn.fresh(arg.name + "_bar"), arg.type, "adjoint")
                    self.made.add(named)
                    maker = _defining_op(b.out, c) if c in created else None
                    if maker is not None:
                        maker.target = named         # name the value where it is computed
                    else:
                        b.emit("id", [c], None, target=named)
                    self.env[arg] = _Local(named, c in created)
                else:
                    self.env[arg] = _Local(c, c in created)
            elif arg.type.rank and entry.owned:
                b.emit("addto", [entry.value, c], None)
            else:
                total = b.add(entry.value, c)
                self.env[arg] = _Local(total, total.type.rank == arg.type.rank)
            return
        vb = self.bar(arg)
        if arg in self.zero:
            if arg.type.rank == 0:
                b.emit("id", [c], None, target=vb)
            elif c.type.rank < arg.type.rank:
                b.emit("expand", [c, arg], None, target=vb)
            else:
                b.emit("id" if c in created else "copy", [c], None, target=vb)
            self._assigned(arg)
            return
        vb = self._touch(b, arg)
        if arg.type.rank:
            b.emit("addto", [vb, c], None)
        else:
            b.emit("add", [vb, c], None, target=vb)

    @staticmethod
    def _reduce(b: Builder, c: ir.Operand, rank: int) -> ir.Var:
        """``c`` summed over its leading axis (to a scalar for ``rank`` 0), for an argument the op
        broadcast. A negation just made for this sum is applied to the sum instead:
        ``-sum(g)``, one pass over ``g`` instead of two (the subtrahend of ``x - a``)."""
        maker = _defining_op(b.out, c) if isinstance(c, ir.Var) else None
        if maker is not None and maker.prim == "neg" and maker.args[0].type.rank == c.type.rank:
            return b.neg(_Reverse._reduce(b, maker.args[0], rank))
        return b.call("sum" if rank == 0 else "sum_to_row", c, rank=max(rank, c.type.rank - 1) if rank else 0)

    def _scatter(self, b: Builder, arg: ir.Var, c: Scatter) -> None:
        if arg in self.local:
            entry = self.env.get(arg)
            if entry is None:
                target = b.emit("zeros_like", [arg], arg.type, name=arg.name + "_bar")
            elif not entry.owned:
                broadcast = entry.value.type.rank < arg.type.rank
                target = b.emit("expand" if broadcast else "copy", [entry.value, arg][:1 + broadcast], arg.type,
                                name=arg.name + "_bar")
            else:
                target = entry.value
            self.env[arg] = _Local(target, True)
        else:
            target = self._touch(b, arg)
        b.emit(c.prim, [target, c.value, *c.index], None)

    # ---- tapes ------------------------------------------------------------------------------
    def tape(self, t: Type) -> ir.Var:
        key = (t.dtype, t.rank)
        if key not in self.tapes:
            suffix = {"float": "f", "int": "i", "bool": "b"}[t.dtype] + (str(t.rank) if t.rank else "")
            kind = "tape_list" if t.rank else "tape"
            self.tapes[key] = ir.Var(self.fn.fresh("tape_" + suffix), Type(t.dtype, t.rank + 1), kind)
        return self.tapes[key]

    def _restore(self, st: ir.Op, v: ir.Var, element: bool) -> _Restore:
        r = _Restore(v, st, element)
        self.restores.setdefault(id(st), []).append(r)
        return r

    # ---- the reverse walk -------------------------------------------------------------------
    def block(self, stmts: list[ir.Stmt], in_loop: bool, loop_body: bool = False) -> list[ir.Stmt]:
        out: list[ir.Stmt] = []
        plan = self._recompute_plan(stmts) if loop_body else {}
        self.recomputed.update(id(op) for ops in plan.values() for op in ops)
        done_at: dict[int, int] = {len(stmts): 0}
        for pos in range(len(stmts) - 1, -1, -1):
            st = stmts[pos]
            if isinstance(st, ir.Op):
                self.op(st, out, in_loop)
            elif isinstance(st, (ir.For, ir.While, ir.If)):
                self.region(st, out, in_loop, (stmts, pos, plan))
            done_at[pos] = len(out)
        for slot in sorted(plan, key=lambda s: done_at[s], reverse=True):
            at = done_at[slot]
            out[at:at] = self._replay(plan[slot], out[at:])
        return out

    def _replay(self, redo: list[ir.Op], rev: list[ir.Stmt]) -> list[ir.Stmt]:
        """Copies of the recomputable ops whose results the reverse body reads (transitively,
        counting the indices of element restores, whose pops are decided later), writing fresh
        names, so the forward copies stay dead unless the forward needs them."""
        wanted = ir.vars_read(rev) | {o for mark in ir.walk(rev) if isinstance(mark, _RestoreMark)
                                      and mark.restore.element for o in mark.restore.index()
                                      if isinstance(o, ir.Var)}
        keep = []
        for op in reversed(redo):
            if ir.defined(op)[0] in wanted:
                keep.append(ir.Op(op.line, op.target, op.prim, list(op.args)))
                wanted.update(a for a in op.args if isinstance(a, ir.Var))
        keep.reverse()
        renamed = {op.target: ir.Var(self.fn.fresh(op.target.name), op.target.type, "temp")
                   for op in keep if op.target is not None}
        for op in keep:
            if op.target is None:
                op.args[0] = renamed[op.args[0]]         # an in-place write filling a replayed array
            else:
                op.target = renamed[op.target]
        substitute(keep + rev, renamed)
        for mark in ir.walk(rev):
            if isinstance(mark, _RestoreMark):
                mark.restore.renamed.update(renamed)
            elif isinstance(mark, _ZeroMark):
                mark.var = renamed.get(mark.var, mark.var)
            elif isinstance(mark, _ReplayExit):
                substitute([mark.op], renamed)
        return keep

    def _recompute_plan(self, body: list[ir.Stmt]) -> dict[int, list[ir.Op]]:
        """Values of a loop body that the reverse sweep recomputes instead of taping.

        Rewinding makes the state, after the reverse code of body position ``w``, equal to the
        state before ``w`` ran forwards. So an operation at ``j`` can be replayed right after the
        reverse code of the first later position that writes one of its inputs (or at the top of
        the reverse iteration if none does), provided all its uses lie before that position.
        Candidates: scalar operations, views, and cheap elementwise array operations
        (``_RECOMPUTED``), assigned once and never written in place except by the in-place
        writes that fill them (``_fills``), which are replayed with them. A use at that very
        position is fine when its reverse reads no values (``r = r - q``: the adjoint passes
        through a sum). Typical numeric loops then tape only their loop-carried state.

        Arrays are worth it: a taped array stays alive until its pop, so every iteration's copy
        is fresh memory, one page fault per 512 doubles, which costs several times a pass of
        arithmetic over them (the stage arguments of an RK4 step, ``y + h * k1 / 2``; gmm's
        ``x - mu[j]``). But not from an array written in place that is not replayed itself: that
        would keep its element or slice restores (taped copies) for the reverse sweep.
        """
        n = len(body)
        writes = [set(ir.defined(st)) | {v for r in ir.regions(st) for v in ir.vars_written(r)} for st in body]
        reads = [{o for o in ir.operands(st) if isinstance(o, ir.Var)}
                 | {v for r in ir.regions(st) for v in ir.vars_read(r)} for st in body]
        fills = self._fills(body, reads)
        slot: dict[ir.Var, int] = {}
        chosen: dict[int, int] = {}         # body position -> the slot its op is replayed at
        roots: dict[ir.Var, set[ir.Var]] = {}       # replayed value -> the stored values it reads

        def replay_slot(j: int, made: ir.Var, inputs: set[ir.Var]) -> int | None:
            at = min([w for w in range(j + 1, n) if writes[w] & inputs] + [slot[a] for a in inputs if a in slot],
                     default=n)
            last_use = max([u for u in range(j + 1, n) if made in reads[u]], default=j)
            return at if at > last_use or at == last_use and _reads_no_values(body[at]) else None

        for j, st in enumerate(body):
            if not isinstance(st, ir.Op):
                continue
            if PRIMS[st.prim].mutates:
                a = st.args[0]
                if a not in slot or a not in fills:
                    continue
                at = replay_slot(j, a, {o for o in st.args[1:] if isinstance(o, ir.Var)} - {a})
                building = [k for k in chosen if a in ir.defined(body[k])]
                if at is None:
                    del slot[a]
                    roots[a] = roots[a] | {a}
                    for k in building:
                        del chosen[k]
                    continue
                slot[a] = min(at, slot[a])
                roots[a] = roots[a] - {a} | set().union(*(roots.get(o, {o}) for o in st.args[1:]
                                                           if isinstance(o, ir.Var)))
                for k in building + [j]:
                    chosen[k] = slot[a]
                continue
            if not (st.target is not None and st.target.kind in ("temp", "user")
                    and (self.counts[st.target] == 1 and st.target not in self.mutated or st.target in fills)
                    and PRIMS[st.prim].pure
                    and (st.target.type.rank == 0 or PRIMS[st.prim].view or st.prim in _RECOMPUTED)):
                continue
            inputs = {a for a in st.args if isinstance(a, ir.Var)}
            read = set().union(*(roots.get(a, {a}) for a in inputs))
            if st.target.type.rank and not PRIMS[st.prim].view and read & self.mutated:
                continue
            at = replay_slot(j, st.target, inputs)
            if at is not None:
                slot[st.target] = at
                chosen[j] = at
                roots[st.target] = read | ({st.target} if st.target in fills else set())
        plan: dict[int, list[ir.Op]] = {}
        for j in sorted(chosen):
            plan.setdefault(chosen[j], []).append(body[j])
        return plan

    def _fills(self, body: list[ir.Stmt], reads: list[set[ir.Var]]) -> dict[ir.Var, list[int]]:
        """Arrays of this body made by a recomputable operation whose reverse does not read its
        result, then written in place only by statements of this body at its top level, with
        nothing but those writes reading them in between (``z = x * 1.0; z[1:n] = ...``, an
        inlined function building its result). Replaying the operation and the writes rebuilds
        the final value, and no reverse code reads an intermediate one. Returns the positions
        of each such array's writes."""
        writers: dict[ir.Var, list[int]] = {}
        for j, st in enumerate(body):
            if isinstance(st, ir.Op) and PRIMS[st.prim].mutates and isinstance(st.args[0], ir.Var):
                writers.setdefault(st.args[0], []).append(j)
        fills: dict[ir.Var, list[int]] = {}
        for j, st in enumerate(body):
            if not (isinstance(st, ir.Op) and st.prim in _FILLED and st.target in writers):
                continue
            at = writers[st.target]
            if (self.counts[st.target] == 1 + len(at) and at[0] > j
                    and all(st.target not in reads[u] for u in range(j + 1, at[-1]) if u not in at)):
                fills[st.target] = at
        return fills

    def op(self, st: ir.Op, out: list[ir.Stmt], in_loop: bool) -> None:
        b = Builder(self.fn, out, st.line, self.made)
        p = PRIMS[st.prim]
        if p.mutates:
            self.write(st, b, in_loop)
            return
        v = st.target
        overwrite = in_loop or id(st) not in self.first_defs
        if self._running_sum(st):
            self._accumulator(st, b, out, overwrite)
            return
        active = v in self.active and not st.nograd and st.prim in RULES
        g, owned = self.take(b, v, overwrite, st) if v in self.active else (None, False)
        contribs, created = {}, set()
        if active and g is not None:
            start = len(out)
            contribs = RULES[st.prim](b, st, g)
            contribs = {k: c for k, c in contribs.items() if st.args[k] in self.active}
            out[start:] = _needed_by(out[start:], contribs.values())
            created = {o.target for o in out[start:] if isinstance(o, ir.Op) and o.target is not None}
        if overwrite:
            if id(st) not in self.recomputed:
                out.append(_RestoreMark(st.line, self._restore(st, v, False)))
            if v in self.active:
                self.reset(b, v)
        pairs = _by_argument(b, st, contribs, created)
        if owned:
            created |= _movable(g, pairs, out)
        for arg, c in pairs:
            self.accumulate(b, arg, c, created)

    def _running_sum(self, st: ir.Op) -> bool:
        """``v = v + e`` or ``v = v - e`` on a variable with a home adjoint."""
        v = st.target
        return (st.prim in ("add", "sub") and st.args[0] is v and v in self.active and not st.nograd
                and v not in self.local and v.type.rank == st.args[1].type.rank)

    def _accumulator(self, st: ir.Op, b: Builder, out: list[ir.Stmt], overwrite: bool) -> None:
        """The adjoint of ``v`` passes through ``v = v + e`` unchanged: only ``e`` gets one. So
        running sums cost nothing in the reverse sweep and their adjoint stays loop-invariant."""
        v, e = st.target, st.args[1]
        if overwrite and id(st) not in self.recomputed:
            out.append(_RestoreMark(st.line, self._restore(st, v, False)))
        if self._is_zero(v):
            return
        g = self._touch(b, v)
        if e in self.local:
            g = b.emit("copy" if v.type.rank else "id", [g], v.type, name=v.name + "_adj")
        self.accumulate(b, e, g if st.prim == "add" else b.neg(g), set())

    def write(self, st: ir.Op, b: Builder, in_loop: bool) -> None:
        a, val, *idx = st.args
        c = None
        if a in self.active:
            ab = None if self._is_zero(a) else self._touch(b, a)
            if ab is not None:
                if val in self.active:
                    read = {"setindex": "index", "setrow": "row", "setslice": "slice"}[st.prim]
                    part = b.emit(read, [ab, *idx], Type("float", a.type.rank - len(idx)) if read == "index"
                                  else Type("float", a.type.rank - 1 if read == "row" else 1))
                    c = b.emit("copy", [part], part.type) if part.type.rank else part
                b.emit(st.prim, [ab, const(0.0), *idx], None)
        if id(st) not in self.recomputed:
            b.out.append(_RestoreMark(st.line, self._restore(st, a, True)))
        if c is not None:
            self.accumulate(b, val, c, {c})

    def region(self, st: ir.Stmt, out: list[ir.Stmt], in_loop: bool, where: tuple | None = None) -> None:
        """The reverse of a loop or branch ``st``; ``where`` is (its block, its position there,
        that block's recompute plan)."""
        b = Builder(self.fn, out, st.line, self.made)
        if isinstance(st, ir.For):
            body = self.loop_body(st, b)
            made: list[ir.Stmt] = []
            hb = Builder(self.fn, made, st.line, self.made)
            trips = hb.emit("trip_count", [st.lo, st.hi, st.step], INT, name="trips")
            self.bounds[id(st)] = made[-1]
            last = _int_op(hb, "sub", trips, ir.Const(1, INT))
            start = _int_op(hb, "add", st.lo, _int_op(hb, "mul", last, st.step))
            stop = _int_op(hb, "sub", st.lo, st.step)
            rev = [ir.For(st.line, st.var, start, stop, _int_op(hb, "neg", st.step), body)]
            self.loop_pairs[id(st)] = rev[0]
            entry, leave = self._replay_recurrences(st, body, where, in_loop)
            if entry:
                self.replayed.add(id(rev[0]))
                made.extend(entry)
                rev.extend(leave)
        elif isinstance(st, ir.While):
            body = self.loop_body(st, b)
            made = []
            counter = ir.Var(self.fn.fresh("iterations"), INT, "user")
            self.before[id(st)] = [ir.Op(st.line, counter, "id", [ir.Const(0, INT)])]
            self.body_tail[id(st)] = [ir.Op(st.line, counter, "add", [counter, ir.Const(1, INT)])]
            count = counter
            if in_loop:
                tape = self.tape(INT)
                self.after[id(st)] = [ir.Op(st.line, None, "push", [tape, counter, ir.Const(st.line, INT)])]
                count = ir.Var(self.fn.fresh("iterations"), INT, "user")
                made.append(ir.Op(st.line, count, "pop", [tape]))
            k = ir.Var(self.fn.fresh("k"), INT, "user")
            rev = [ir.For(st.line, k, ir.Const(0, INT), count, ir.Const(1, INT), body)]
            self.loop_pairs[id(st)] = rev[0]
        else:
            then, orelse = self.branches(st, in_loop, b)
            made = []
            rev_tail: list[ir.Stmt] = []
            cond = st.cond
            inner_defs = ir.vars_written(st.then) | ir.vars_written(st.orelse)
            if isinstance(cond, ir.Var) and (self.counts[cond] != 1 or cond in inner_defs or cond in self.fn.params):
                decided = ir.Var(self.fn.fresh("took"), BOOL, "temp")
                op = ir.Op(st.line, decided, "id", [cond])
                self.before[id(st)] = [op]
                cond = decided
                if in_loop:
                    rev_tail = [_RestoreMark(st.line, self._restore(op, decided, False))]
            rev = [ir.If(st.line, cond, then, orelse)] + rev_tail
        out.extend(made)
        out.extend(rev)

    def loop_body(self, st: ir.For | ir.While, b: Builder) -> list[ir.Stmt]:
        """The reverse of a loop body. Adjoints of variables each iteration defines before
        reading (``defined_first``), or that only inner loops mention, each defining them before
        reading them, stay symbolic across iterations when they are zero on entry:
        every reverse iteration ends with them reset to zero. Others the body resets are
        materialised at its end, so the next iteration finds a valid zero."""
        outer = self.levels[-1]
        fresh = defined_first(st.body) | _defined_first_in_inner_loops(st.body)
        level = _Level(outer.zero & fresh, fresh)
        self.levels.append(level)
        body = self.block(st.body, True, True)
        start = outer.zero & fresh          # including adjoints first made inside the body
        assert start <= level.zero, "loop-invariant zero adjoints were left non-zero"
        tail = Builder(self.fn, body, st.line, self.made)
        for v in sorted(level.zero - start, key=lambda v: v.name):
            self._materialise(tail, v, level)
        self.levels.pop()
        self.make_valid(b, level.touched)
        return body

    def branches(self, st: ir.If, in_loop: bool, b: Builder) -> tuple[list[ir.Stmt], list[ir.Stmt]]:
        """The reverses of both branches, each starting from what is known before the ``if``;
        an adjoint left symbolic in one branch only is materialised at that branch's end."""
        outer = self.levels[-1]
        done = []
        for stmts in (st.then, st.orelse):
            before_walk = set(self.home)
            level = _Level(set(outer.zero))
            self.levels.append(level)
            done.append((self.block(stmts, in_loop), level))
            self.levels.pop()
        (then, then_level), (orelse, else_level) = done
        then_level.zero |= (set(self.home) - before_walk) & outer.zero    # homes the else walk made
        both = then_level.zero & else_level.zero
        for code, level in done:
            tail = Builder(self.fn, code, st.line, self.made)
            for v in sorted(level.zero - both, key=lambda v: v.name):
                self._materialise(tail, v, level)
        self.make_valid(b, then_level.touched | else_level.touched)
        changed = then_level.bound | else_level.bound | set(then_level.marks) | set(else_level.marks)
        outer.marks = {v: m for v, m in outer.marks.items() if v in both and v not in changed}
        outer.zero.clear()
        outer.zero.update(both)
        outer.bound.update(then_level.bound & else_level.bound)
        return then, orelse

    # ---- recurrences replayed in a forward-running reverse loop ------------------------------
    def _replay_recurrences(self, loop: ir.For, body: list[ir.Stmt], where: tuple | None,
                            in_loop: bool) -> tuple[list[ir.Stmt], list[ir.Stmt]]:
        """Replay the loop-carried scalars of ``loop`` that a cheap recurrence updates
        (``mul *= t``) in its reverse loop instead of popping them at every iteration.

        Decided here, while the reverse loop is built, so that the enclosing block's recompute
        plan and the taping analysis see what the replay reads (a recomputed ``t``, the entry
        value). Only when the reverse loop will run forwards (``run_forwards_where_possible``):
        it accumulates adjoints only, and every other restore inside is of a variable the body
        does not read (never kept, or moved around the loop by ``save_around_loops``); then
        iteration ``j`` of the reverse loop meets the values of forward iteration ``j`` in order.
        A replayed ``v`` becomes a fresh ``r``: set to ``v``'s value on entry to the loop before
        the reverse loop; in the body, the reverse code of statements after ``v``'s update reads
        the updated value (computed at the top, when it reads any), the rest reads ``r``, and
        the body ends with the update. The pop of ``v`` goes away. Returns the statements to
        put before the reverse loop and after it.
        """
        read = ir.vars_read(body)
        marks = {m.restore.stmt: m for m in body if isinstance(m, _RestoreMark)}
        chains = {v: ops for v, ops in self._recurrences(loop).items() if v in read and ops[-1] in marks}
        if not chains or not self._commutes(body, set(chains)):
            return [], []
        entry: list[ir.Stmt] = []
        exits: list[ir.Stmt] = []
        tails: list[ir.Stmt] = []
        for v, chain in chains.items():
            update = chain[-1]
            mark = marks[update]
            self.restores[id(update)].remove(mark.restore)
            k = body.index(mark)
            later, earlier = body[:k], body[k + 1:]      # reverse code of the statements after/before it
            r = ir.Var(self.fn.fresh(v.name), v.type, "user")
            if v in ir.vars_read(later):
                nxt = ir.Var(self.fn.fresh(v.name), v.type, "user")
                substitute(later, {v: nxt})
                substitute(earlier, {v: r})
                body[:] = (self._copy_chain(chain, v, r, nxt) + later + earlier
                           + [ir.Op(update.line, r, "id", [nxt])])
            else:
                substitute(earlier, {v: r})
                body[:] = later + earlier + self._copy_chain(chain, v, r, r)
            prim, args, line, tail = self._entry_value(v, loop, where, in_loop)
            entry.append(ir.Op(line, r, prim, list(args)))
            exits.append(_ReplayExit(line, ir.Op(line, v, prim, list(args))))
            tails.extend(tail)
        return entry, exits + tails

    def _recurrences(self, loop: ir.For) -> dict[ir.Var, list[ir.Op]]:
        """The inactive scalar variables that ``loop``'s body updates once, at its top level, by
        cheap arithmetic on their own value, constants, the loop index, values the body does not
        write and temporaries computed before the update the same way; each with the ops that
        compute its new value (temporaries first, the update last)."""
        body = loop.body
        writes = Counter(v for st in ir.walk(body) for v in ir.defined(st))
        first_write = {}
        for pos, st in enumerate(body):
            for v in ir.defined(st):
                first_write.setdefault(v, pos)
        made: dict[ir.Var, tuple[ir.Op, set]] = {}    # temporary -> (its op, carried values it reads)
        found: dict[ir.Var, list[ir.Op]] = {}
        for pos, st in enumerate(body):
            if not (isinstance(st, ir.Op) and st.target is not None and st.prim in _CHEAP
                    and st.target.type.rank == 0 and st.target not in self.active and writes[st.target] == 1):
                continue
            carried: set[ir.Var] = set()
            ok = True
            for a in st.args:
                if not isinstance(a, ir.Var) or a not in writes:
                    continue                          # a constant, the loop index, a loop invariant
                if a in made:
                    carried |= made[a][1]
                elif writes[a] == 1 and first_write.get(a, -1) >= pos and a.type.rank == 0:
                    carried.add(a)                    # its value from the start of the iteration
                else:
                    ok = False
            if not ok:
                continue
            t = st.target
            if t.kind == "temp" and self.counts[t] == 1:
                made[t] = (st, carried)
            elif t.kind in ("user", "param") and carried == {t}:
                needed = {a for a in st.args if isinstance(a, ir.Var) and a in made}
                chain = [st]
                for prev in reversed(body[:pos]):
                    if isinstance(prev, ir.Op) and prev.target in needed:
                        chain.append(prev)
                        needed |= {a for a in prev.args if isinstance(a, ir.Var) and a in made}
                found[t] = chain[::-1]
        return found

    def _commutes(self, body: list[ir.Stmt], replayed: set[ir.Var]) -> bool:
        """Whether the reverse loop body ``body``, once ``replayed`` no longer needs pops, runs
        forwards: no pop stays inside (every restore left is of a variable the body does not
        read, and is dropped or moved around the loop) and adjoints are only accumulated."""
        stmts = list(ir.walk(body))
        read = ir.vars_read(body) - replayed
        written = {v for st in stmts for v in ir.defined(st) if v.kind == "adjoint"}
        for st in stmts:
            if isinstance(st, _RestoreMark):
                if st.restore.element or st.restore.var in read:
                    return False
            elif isinstance(st, ir.Op) and st.prim == "pop" or not self._only_accumulates(st, written):
                return False
        return True

    def _copy_chain(self, chain: list[ir.Op], v: ir.Var, src: ir.Var, dst: ir.Var) -> list[ir.Op]:
        """The recurrence ``chain`` again, reading ``src`` for ``v`` and writing ``dst``."""
        renamed: dict[ir.Var, ir.Var] = {v: src}
        ops = []
        for op in chain:
            target = dst if op is chain[-1] else ir.Var(self.fn.fresh(op.target.name), op.target.type, "temp")
            ops.append(ir.Op(op.line, target, op.prim,
                             [renamed.get(a, a) if isinstance(a, ir.Var) else a for a in op.args]))
            renamed[op.target] = target
        return ops

    def _entry_value(self, v: ir.Var, loop: ir.For, where: tuple | None,
                     in_loop: bool) -> tuple[str, list[ir.Operand], int, list[ir.Stmt]]:
        """How the reverse sweep gets ``v``'s value on entry to ``loop``: (prim, args, line) of an
        op computing it, and reverse statements to put after the loop's reverse.

        The op that last assigned ``v`` before the loop in its block, when it is cheap, does not
        read ``v`` and its inputs keep their values up to the loop's end (rewinding gives them
        back there) and, if recomputed, are recomputed in time (``mul = 1.0``: nothing to save).
        Otherwise a copy ``v_0 = v`` made just before the loop, taped like any value when in a
        loop (once per iteration of the enclosing loop).
        """
        if where is not None:
            stmts, pos, plan = where
            slot = {op.target: s for s, ops in plan.items() for op in ops}
            for q in range(pos - 1, -1, -1):
                st = stmts[q]
                if v in ir.defined(st) or any(v in ir.vars_written(r) for r in ir.regions(st)):
                    break
            else:
                st = None
            if (isinstance(st, ir.Op) and st.target is v and st.prim in _CHEAP and v not in st.args):
                between = {w for s in stmts[q + 1:pos + 1] for w in ir.defined(s)}
                between |= {w for s in stmts[q + 1:pos + 1] for r in ir.regions(s) for w in ir.vars_written(r)}
                if all(not isinstance(a, ir.Var) or a not in between and slot.get(a, len(stmts)) > pos
                       for a in st.args):
                    return st.prim, list(st.args), st.line, []
        saved = ir.Var(self.fn.fresh(v.name + "_0"), v.type, "user")
        op = ir.Op(loop.line, saved, "id", [v])
        self.before.setdefault(id(loop), []).append(op)
        tail = [_RestoreMark(loop.line, self._restore(op, saved, False))] if in_loop else []
        return "id", [saved], loop.line, tail

    def make_valid(self, b: Builder, touched: set[ir.Var]) -> None:
        """A region read or updated these home adjoints without assigning them first: assign
        zeros before its code where they are still zero here, else pass the need outwards."""
        level = self.levels[-1]
        for v in sorted(touched, key=lambda v: v.name):
            if v in level.zero:
                self._init(b, v)
            elif v not in level.bound:
                level.touched.add(v)

    # ---- pruning and assembly ---------------------------------------------------------------
    def prune(self, rev: list[ir.Stmt]) -> None:
        """Keep the restores whose values the reverse sweep reads (to-be-recorded analysis)."""
        values, shapes = set(), set()

        def scan(stmts):
            for st in ir.walk(stmts):
                if isinstance(st, _RestoreMark):
                    continue
                if isinstance(st, ir.Op) and st.prim in ("zeros_like", "expand", "reshape_like"):
                    shape_arg = st.args[0] if st.prim == "zeros_like" else st.args[1]
                    shapes.add(shape_arg)
                    rest = [a for a in st.args if a is not shape_arg]
                else:
                    rest = ir.operands(st)
                    if isinstance(st, ir.Op) and PRIMS[st.prim].mutates:
                        rest = rest[1:]
                values.update(o for o in rest if isinstance(o, ir.Var))

        scan(rev)
        restores = [r for rs in self.restores.values() for r in rs]
        changed = True
        while changed:
            changed = False
            for r in restores:
                if r.keep:
                    continue
                wanted = r.var in values or (not r.element and r.var in shapes and r.var.type.rank > 0)
                if wanted:
                    r.keep = True
                    changed = True
                    if r.element:
                        shapes.add(r.var)
                        values.update(o for o in r.index() if isinstance(o, ir.Var))
        self.reverse_reads = values
        self.drop_dead_restores(rev)

    def drop_dead_restores(self, rev: list[ir.Stmt]) -> None:
        """Drop the kept restores of whole variables whose popped value the reverse sweep
        overwrites before reading it. Keeping a restore because the variable is read somewhere
        is flow-insensitive: an LSTM cell pops its old hidden and cell state, which the previous
        cell's reverse then pops again before reading, so the first pops (and their pushes, which
        keep a fresh array alive per cell) are dead. Liveness runs over the reverse sweep with the
        kept restores' pops as definitions; fewer definitions make more values live, so the set
        grows back until every restore it leaves out is dead with the ones it keeps."""
        candidates = [r for rs in self.restores.values() for r in rs if r.keep and not r.element]
        kept = _live_restores(rev, candidates, {id(r) for r in candidates})
        while not (needed := _live_restores(rev, candidates, kept)) <= kept:
            kept |= needed
        for r in candidates:
            r.keep = id(r) in kept

    def restore_ops(self, r: _Restore) -> tuple[list[ir.Stmt], list[ir.Stmt]]:
        """(forward ops pushing the old value, reverse ops popping it back), the same objects on
        every call, so that a dead pop can find its push."""
        if r.ops is None:
            r.ops = self._make_restore_ops(r)
        return r.ops

    def scalar_restore_pairs(self) -> list[tuple[ir.Op, ir.Op]]:
        """(push, pop) of each scalar restore placed in the sweeps, and of each variable saved
        around a loop."""
        pairs = [(r.ops[0][0], r.ops[1][0]) for rs in self.restores.values() for r in rs
                 if r.ops is not None and not r.element]
        for fwd_id, rev in self.loop_pairs.items():
            saves = self.loop_saves.get(fwd_id, [])
            pairs.extend(zip(saves, reversed(self.loop_loads.get(id(rev), []))))
        return pairs

    def _make_restore_ops(self, r: _Restore) -> tuple[list[ir.Stmt], list[ir.Stmt]]:
        st, line = r.stmt, r.stmt.line
        if not r.element:
            v = r.var
            tape = self.tape(v.type)
            return [ir.Op(line, None, "push", [tape, v])], [ir.Op(line, v, "pop", [tape])]
        a, _, *idx = st.args
        read = {"setindex": "index", "setrow": "row", "setslice": "slice"}[st.prim]
        part_t = Type(a.type.dtype, 0 if read == "index" else (a.type.rank - 1 if read == "row" else 1))
        old = ir.Var(self.fn.fresh("old"), part_t)
        fwd: list[ir.Stmt] = [ir.Op(line, old, read, [a, *idx])]
        if part_t.rank:
            kept = ir.Var(self.fn.fresh("old"), part_t)
            fwd.append(ir.Op(line, kept, "copy", [old]))
            old = kept
        tape = self.tape(part_t)
        fwd.append(ir.Op(line, None, "push", [tape, old]))
        back = ir.Var(self.fn.fresh("old"), part_t)
        return fwd, [ir.Op(line, back, "pop", [tape]), ir.Op(line, None, st.prim, [a, back, *r.index()])]

    def save_around_loops(self) -> None:
        """Tape a variable once per loop instead of once per overwrite, where the reverse of
        the loop never reads it: push it before the loop, pop it after the loop's reverse.

        Rewinding restores every overwrite, but inside a loop whose reverse sweep does not read
        ``v`` only ``v``'s value from before the loop matters (``inner`` in a least-squares
        residual rewritten by an inner loop, read only after it). Outer loops come first, so a
        variable saved around an outer loop needs nothing inside it.
        """
        for fwd in ir.walk(self.fn.body):
            rev = self.loop_pairs.get(id(fwd))
            if rev is None:
                continue
            inside = [r for st in ir.walk(fwd.body) for op in self.before.get(id(st), []) + [st]
                      for r in self.restores.get(id(op), []) if r.keep and not r.element]
            if not inside:
                continue
            read = _reverse_reads(rev.body)
            for v in dict.fromkeys(r.var for r in inside):
                if v in read:
                    continue
                for r in inside:
                    if r.var is v:
                        r.keep = False
                tape = self.tape(v.type)
                self.loop_saves.setdefault(id(fwd), []).append(
                    ir.Op(fwd.line, None, "push", [tape, v, ir.Const(fwd.line, INT)]))
                self.loop_loads.setdefault(id(rev), []).insert(0, ir.Op(rev.line, v, "pop", [tape]))

    def finish_reverse(self, stmts: list[ir.Stmt]) -> list[ir.Stmt]:
        out = []
        for st in stmts:
            if isinstance(st, _ZeroMark):
                continue
            if isinstance(st, _ReplayExit):
                if st.op.target in self.reverse_reads:
                    out.append(st.op)
                continue
            if isinstance(st, _RestoreMark):
                if st.restore.keep:
                    out.extend(self.restore_ops(st.restore)[1])
                continue
            for region in ir.regions(st):
                region[:] = self.finish_reverse(region)
            out.append(st)
            out.extend(self.loop_loads.get(id(st), []))
        return out

    def run_forwards_where_possible(self) -> None:
        """Run a reversed loop in its forward order when its iterations commute: no tape pops
        inside, and every adjoint it writes is only ever accumulated into (``+=``), never read.
        Backward traversal is a cost on some CPUs (store-to-load chains), and a forward order
        also leaves the loop open to Numba's optimisations."""
        for fwd in ir.walk(self.fn.body):
            if not isinstance(fwd, ir.For) or id(fwd) not in self.loop_pairs:
                continue
            rev = self.loop_pairs[id(fwd)]
            body = list(ir.walk(rev.body))
            written = {v for s in body for v in ir.defined(s) if v.kind == "adjoint"}
            if (not any(isinstance(s, ir.Op) and s.prim == "pop" for s in body)
                    and all(self._only_accumulates(s, written) for s in body)):
                rev.lo, rev.hi, rev.step = self.bounds[id(fwd)].args     # as the reverse sweep names them
                rev.body[:] = _flip_scatter_runs(rev.body)
            elif id(rev) in self.replayed:
                raise AssertionError(f"line {fwd.line}: a loop replaying a recurrence must run forwards")

    @staticmethod
    def _only_accumulates(st: ir.Stmt, written: set[ir.Var]) -> bool:
        reads = [o for o in ir.operands(st) if isinstance(o, ir.Var) and o in written]
        if not reads:
            return not (isinstance(st, ir.Op) and st.target in written and st.prim != "add")
        if isinstance(st, ir.Op) and PRIMS[st.prim].mutates and st.prim.startswith("add"):
            return st.args[0] in written and st.args[0] not in st.args[1:]
        return (isinstance(st, ir.Op) and st.prim == "add" and st.target is st.args[0]
                and st.args[1] is not st.target and st.args[1] not in written)

    def forward(self, stmts: list[ir.Stmt], loop_line: int = 0) -> list[ir.Stmt]:
        """The primal statements with the kept pushes, loop counters and decision copies.
        Pushes carry the line of their innermost loop, which a tape overflow names."""
        out = []
        for st in stmts:
            if isinstance(st, ir.Return):
                continue
            for op in self.before.get(id(st), []):
                out.extend(self._pushes(op, loop_line))
                out.append(op)
            out.extend(self._pushes(st, loop_line))
            inner_line = st.line if isinstance(st, (ir.For, ir.While)) else loop_line
            for region in ir.regions(st):
                region[:] = self.forward(region, inner_line)
            if isinstance(st, ir.While):
                st.body.extend(self.body_tail.get(id(st), []))
            out.extend(self.loop_saves.get(id(st), []))
            if isinstance(st, ir.For):
                out.extend(self._reserve(st))
            out.append(st)
            out.extend(self.after.get(id(st), []))
        return out

    def _reserve(self, loop: ir.For) -> list[ir.Stmt]:
        """Size the scalar tapes a counted loop pushes to once, before it runs (its trip count is
        known at entry), so the pushes inside need no capacity check. Pushes inside nested loops
        cannot be counted; a tape with any keeps its checks."""
        per_trip: Counter = Counter()
        uncounted: set[ir.Var] = set()

        def count(stmts, nested):
            for st in stmts:
                if isinstance(st, ir.Op) and st.prim == "push" and st.args[0].kind == "tape":
                    (uncounted.add(st.args[0]) if nested else per_trip.update([st.args[0]]))
                for region in ir.regions(st):
                    count(region, nested or isinstance(st, (ir.For, ir.While)))

        count(loop.body, False)
        tapes = {t for t in per_trip if t not in uncounted}
        if not tapes:
            return []
        for st in ir.walk(loop.body):
            if isinstance(st, ir.Op) and st.prim == "push" and st.args[0] in tapes:
                st.prim = "push_reserved"
        made: list[ir.Stmt] = []
        b = Builder(self.fn, made, loop.line, self.made)
        trips = b.emit("trip_count", [loop.lo, loop.hi, loop.step], INT, name="trips")
        for tape in sorted(tapes, key=lambda t: t.name):
            need = _int_op(b, "mul", trips, ir.Const(per_trip[tape], INT))
            made.append(ir.Op(loop.line, None, "reserve", [tape, need]))
        return made

    def _pushes(self, st: ir.Stmt, loop_line: int) -> list[ir.Stmt]:
        ops = [op for r in self.restores.get(id(st), []) if r.keep for op in self.restore_ops(r)[0]]
        for op in ops:
            if op.prim == "push":
                op.args.append(ir.Const(loop_line or op.line, INT))
        return ops


def _by_argument(b: Builder, st: ir.Op, contribs: dict, created: set[ir.Var]) -> list[tuple]:
    """(argument, contribution) pairs, one per argument variable: ``x / x`` gives ``x`` the sum
    of both contributions (one fused loop) instead of two separate additions into its adjoint.
    The sums made here join ``created``. Scatters stay separate."""
    pairs: list[tuple] = []
    for k, c in contribs.items():
        arg = st.args[k]
        same = next((j for j, (a, d) in enumerate(pairs) if a is arg and not isinstance(d, Scatter)), None)
        if same is not None and not isinstance(c, Scatter):
            total = b.add(pairs[same][1], c)
            if isinstance(total, ir.Var):
                created.add(total)
            pairs[same] = (arg, total)
        else:
            pairs.append((arg, c))
    return pairs




def _reads_no_values(st: ir.Stmt) -> bool:
    """Whether the reverse of ``st`` reads none of its operands' values (a sum or difference)."""
    return isinstance(st, ir.Op) and st.prim in ("add", "sub")


def _movable(g: ir.Operand, pairs: list[tuple], out: list[ir.Stmt]) -> set[ir.Var]:
    """``{g}`` when the adjoint ``g``, whose buffer nothing else refers to, is passed on whole to
    exactly one argument and no other contribution is a view of it: that argument may then take
    the buffer instead of a copy (``child_bar = partial_adj``, not ``copy(partial_adj)``)."""
    views = {g}
    for st in out:
        if isinstance(st, ir.Op) and st.target is not None and PRIMS[st.prim].view and st.args and st.args[0] in views:
            views.add(st.target)
    values = [c.value if isinstance(c, Scatter) else c for _, c in pairs]
    whole = [c for c in values if c is g]
    if len(whole) != 1 or any(c in views for c in values if c is not g):
        return set()
    return {g}


def _needed_by(ops: list[ir.Stmt], contributions) -> list[ir.Stmt]:
    """The ops a rule emitted that the kept contributions use. A rule computes every argument's
    contribution; those of inactive arguments would otherwise read primal values (forcing them
    onto the tape) only for the dead code to be removed later."""
    wanted: set[ir.Var] = set()
    for c in contributions:
        parts = [c.value, *c.index] if isinstance(c, Scatter) else [c]
        wanted.update(p for p in parts if isinstance(p, ir.Var))
    kept = []
    for op in reversed(ops):
        if isinstance(op, ir.Op) and op.target is not None and op.target not in wanted:
            continue
        kept.append(op)
        wanted.update(ir.operands(op))
    return kept[::-1]


def _reverse_reads(stmts: list[ir.Stmt]) -> set[ir.Var]:
    """Primal variables the reverse code ``stmts`` reads, counting the index of each kept
    element restore (and its array); a kept variable restore writes, it does not read."""
    read: set[ir.Var] = set()
    for st in ir.walk(stmts):
        if isinstance(st, _RestoreMark):
            if st.restore.keep and st.restore.element:
                read.add(st.restore.var)
                read.update(o for o in st.restore.index() if isinstance(o, ir.Var))
            continue
        read.update(o for o in ir.operands(st) if isinstance(o, ir.Var))
    return read


def _defining_op(stmts: list[ir.Stmt], v: ir.Var) -> ir.Op | None:
    """The op of ``stmts`` that makes ``v``, if nothing after it reads ``v``."""
    for k in range(len(stmts) - 1, -1, -1):
        st = stmts[k]
        if isinstance(st, ir.Op) and st.target is v:
            return st
        if v in ir.operands(st):
            return None
    return None


def _flip_scatter_runs(stmts: list[ir.Stmt]) -> list[ir.Stmt]:
    """Reverse each run of consecutive in-place accumulations. They commute; after a loop's
    direction is flipped, flipping them too keeps each iteration's last store away from the next
    iteration's first read of the same element (a store-to-load stall otherwise)."""
    out: list[ir.Stmt] = []
    run: list[ir.Stmt] = []
    for st in stmts + [None]:
        if isinstance(st, ir.Op) and st.prim in ("addto", "addindex", "addrow", "addslice"):
            run.append(st)
            continue
        out.extend(reversed(run))
        run = []
        if st is not None:
            out.append(st)
    return out


def _int_op(b: Builder, prim: str, x: ir.Operand, y: ir.Operand | None = None) -> ir.Operand:
    """Integer arithmetic for loop bounds, folding constants and identities."""
    if prim == "neg":
        return ir.Const(-x.value, INT) if isinstance(x, ir.Const) else b.emit("neg", [x], INT, name="t")
    if isinstance(x, ir.Const) and isinstance(y, ir.Const):
        return ir.Const({"add": x.value + y.value, "sub": x.value - y.value, "mul": x.value * y.value}[prim], INT)
    if prim == "mul" and isinstance(y, ir.Const) and y.value == 1:
        return x
    if prim == "add" and isinstance(x, ir.Const) and x.value == 0:
        return y
    if prim in ("add", "sub") and isinstance(y, ir.Const) and y.value == 0:
        return x
    return b.emit(prim, [x, y], INT, name="t")


def reverse(primal: ir.Function, wrt: list[str], vjp: bool, with_value: bool = True) -> Gradient:
    """The adjoint of ``primal`` w.r.t. the parameters ``wrt``.

    With ``vjp`` the function takes one seed per result (after the primal's parameters);
    otherwise the single scalar result is seeded with 1. It returns the primal results (unless
    ``with_value`` is false: then the forward sweep keeps only what the reverse sweep needs),
    then the adjoints of ``wrt`` in order.
    """
    fn = copy.deepcopy(primal)
    by_name = dict(zip(fn.source_params or [p.name for p in fn.params], fn.params))
    wrt_vars = [by_name[name] for name in wrt]
    ret = fn.body[-1]
    assert isinstance(ret, ir.Return)
    seeds: list[ir.Operand] = []
    seed_params: list[ir.Var] = []
    if vjp:
        for k, t in enumerate(fn.result_types):
            base = "seed" if len(fn.result_types) == 1 else f"seed{k}"
            s = ir.Var(fn.fresh(base), Type(t.dtype, t.rank), "param")
            seed_params.append(s)
            seeds.append(s)
    else:
        seeds = [const(1.0)]
    R = _Reverse(fn, wrt_vars, seeds)
    captures: list[ir.Stmt] = []
    keep = Builder(fn, captures, ret.line)
    outputs: list[ir.Operand] = []
    for v in ret.values:
        if isinstance(v, ir.Var):
            v = keep.emit("copy" if v.type.rank and v in R.mutated else "id", [v], v.type, name=v.name + "_out")
        outputs.append(v)
    top: list[ir.Stmt] = []
    b = Builder(fn, top, ret.line, R.made)
    for v, s in zip(ret.values, seeds):
        R.accumulate(b, v, s, set())
    top.extend(R.block(fn.body[:-1], False))
    grads: list[ir.Operand] = []
    for p in wrt_vars:
        if p in R.home and p not in R.zero:
            grads.append(R.home[p])
        else:
            grads.append(b.emit("zeros_like", [p], p.type, name=p.name + "_bar") if p.type.rank else const(0.0))
    R.prune(top)
    R.save_around_loops()
    reverse_sweep = R.finish_reverse(top)
    R.run_forwards_where_possible()
    forward_sweep = R.forward(fn.body)
    tapes = [ir.Op(0, t, "new_tape", []) for t in R.tapes.values()]
    if not with_value:
        captures, outputs = [], []
    body = tapes + forward_sweep + captures + reverse_sweep + [ir.Return(ret.line, outputs + grads)]
    value_types = list(fn.result_types) if with_value else []
    adj = ir.Function(f"{primal.name}_grad", fn.params + seed_params,
                      list(fn.param_types) + [Type(t.dtype, t.rank) for t in fn.result_types],
                      body, value_types + [p.type for p in wrt_vars], True, fn.filename,
                      taken=fn.taken)
    fold_constants(adj)
    if drop_dead_restores(adj, R.scalar_restore_pairs(), eliminate_dead_code(adj)):
        eliminate_dead_code(adj)
    if drop_unread_tapes(adj):
        eliminate_dead_code(adj)
    tape_at_iteration_end(adj, R.scalar_restore_pairs(), R.loop_pairs)
    sum_products_by_rows(adj)
    accumulate_in_place(adj)
    elide_adjoint_copies(adj)
    add_outside_zeroed_slices(adj)
    elide_adjoint_copies(adj)        # a copy kept only because the slice it held was zeroed
    sum_fresh_accumulations(adj)
    merge_deferred_accumulations(adj)
    return Gradient(adj, list(wrt), len(value_types))


def _defined_first_in_inner_loops(body: list[ir.Stmt]) -> set[ir.Var]:
    """Variables ``body`` mentions only inside the bodies of loops nested in it, each of which
    defines them before reading them (``defined_first``, or this again one level down): an LSTM
    layer's hidden state in the loop over characters. Their values may flow from one iteration of
    ``body`` to the next (an inner loop may run no times), but their adjoints do not: each inner
    reverse iteration ends with the adjoint reset to zero, so a zero one at the start of a reverse
    iteration of ``body`` is zero at its end."""
    inner: set[ir.Var] = set()
    elsewhere: set[ir.Var] = set()
    for st in body:
        if isinstance(st, (ir.For, ir.While)):
            first = defined_first(st.body) | _defined_first_in_inner_loops(st.body)
            inner |= first
            elsewhere |= ({v for s in st.body for v in mentioned(s)} - first) | set(ir.operands(st))
            if isinstance(st, ir.For):
                elsewhere.add(st.var)
            else:
                elsewhere |= {v for s in st.cond_body for v in mentioned(s)}
        else:
            elsewhere |= mentioned(st)
    return inner - elsewhere


def _live_restores(stmts: list[ir.Stmt], candidates: list, kills: set[int]) -> set[int]:
    """The ids of the whole-variable restores among ``candidates`` whose variable is live right
    after their pop in the reverse sweep ``stmts``, where the pops of ``kills`` (ids) define it."""
    live_after: set[int] = set()
    ids = {id(r) for r in candidates}

    def vars_of(operands) -> set[ir.Var]:
        return {o for o in operands if isinstance(o, ir.Var)}

    def before(block: list[ir.Stmt], live: set[ir.Var], record: bool) -> set[ir.Var]:
        for st in reversed(block):
            if isinstance(st, _RestoreMark):
                r = st.restore
                if r.element:
                    live = live | {r.var} | vars_of(r.index())
                elif id(r) in ids:
                    if record and r.var in live:
                        live_after.add(id(r))
                    if id(r) in kills:
                        live = live - {r.var}
            elif isinstance(st, _ReplayExit):
                live = live | vars_of(st.op.args)
            elif isinstance(st, ir.Op):
                if st.target is not None:
                    live = live - {st.target}
                live = live | vars_of(st.args)
            elif isinstance(st, (ir.For, ir.While)):
                live = loop(st, live, record)
            elif isinstance(st, ir.If):
                live = before(st.then, live, record) | before(st.orelse, live, record) | vars_of([st.cond])
            else:
                live = live | vars_of(ir.operands(st))
        return live

    def loop(st, after: set[ir.Var], record: bool) -> set[ir.Var]:
        heads = [st.body] if isinstance(st, ir.For) else [st.cond_body, st.body]
        entry: set[ir.Var] = set()
        while True:
            new = after | entry | vars_of(ir.operands(st))
            for region in reversed(heads):
                new = before(region, new, False)
            if new <= entry:
                break
            entry |= new
        if record:
            out = after | entry | vars_of(ir.operands(st))
            for region in reversed(heads):
                out = before(region, out, True)
        return entry | after | vars_of(ir.operands(st))

    before(stmts, set(), True)
    return live_after
