"""Emitter: IR function -> the Python module source that Numba compiles.

``emit_module(fn, ...)`` returns the module text, the name of its entry function and the modules
of the helpers it imports (``compiler/helpers.py``). The module needs only numpy, numba and those,
carries a ``# line N`` comment on every statement, and also runs as plain Python with
``NUMBA_DISABLE_JIT=1``.

Names in the generated code come from the IR, which only holds identifiers that passed the
grammar and were renamed away from Python keywords and builtins; every string taken from user
source (assert messages, file names) is written with ``repr``. So user source cannot inject code.
"""
from __future__ import annotations

import importlib.util
import math
import os
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from . import fusion, ir, piecewise, shared_loops, tie_counts
from .buffer_reuse import reusable
from .loop_shapes import SAME_EXTENTS, kept_extents
from .donation import Donors
from .helpers import NJIT_OPTIONS, VECTOR_NJIT_OPTIONS, definitions, helper_modules
from .passes.analysis import (def_counts, maybe_unassigned_reads, mentioned, mutated, sharers, storage_owners,
                              use_counts)
from .passes.lane_layout import transpose_lanes
from .passes.unroll_jam import unroll_and_jam
from .shape_facts import EXTENT, ShapeFacts, literal
from .types import Type

_NUMBA_SCALAR = {"float": "_nb.float64", "int": "_nb.int64", "bool": "_nb.boolean"}

def _num(value) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "_np.nan"
    if math.isinf(value):
        return "_np.inf" if value > 0 else "-_np.inf"
    return repr(float(value))


def numba_type(t: Type) -> str:
    base = _NUMBA_SCALAR[t.dtype]
    if t.rank == 0:
        return base
    return base + "[" + ", ".join([":"] * (t.rank - 1) + ["::1"]) + "]"


@dataclass
class EmitOptions:
    boundscheck: bool = True
    source_name: str = "<string>"
    join_loops: bool = True       # consecutive elementwise loops as one (``shared_loops``)


class _Emitter:
    def __init__(self, fn: ir.Function, options: EmitOptions):
        self.fn = fn
        self.opts = options
        self.lines: list[str] = []
        self.helpers: set[str] = set()
        self.hoisted: set[tuple[int, int]] = set()     # (op, axis) checked before its loop
        self.uses = use_counts(fn.body)
        self.owners = storage_owners(fn, mutated(fn.body))   # the arrays whose memory each may share
        self.fused: dict[ir.Var, ir.Op] = {}           # elementwise ops computed inside a later loop
        self.defs = def_counts(fn)
        self.pieces: dict[ir.Var, piecewise.Piecewise] = {}   # arrays built in pieces, computed in their reader
        self.piece_view: dict[ir.Var, tuple] = {}      # while emitting a split loop: which piece to read
        self.renamed: dict[ir.Var, str] = {}           # ... and the views its leaves are read through
        self.donors = Donors(fn, self.owners)
        self.sharers = sharers(self.owners)                # array -> the variables that may share its memory
        self.reusable = reusable(fn, self.owners, _allocates)
        self.slots: dict[int, list[_Slot]] = {}        # loop id -> the buffers its reusable arrays take
        self.slot_lines: list[tuple[int, str]] = []    # (line index, allocation) of each slot, before its loop
        self.slotted: set[ir.Var] = set()              # the arrays that took a slot
        self.counters: set[str] = set()                # counters of the loops around here that never go below 0
        self.takers: dict[ir.Var, ir.Var] = {}         # donor -> the result that takes its buffer
        self.filled: dict[int, ir.Op] = {}             # zeros op id -> the slice add that fills it (then a write)
        self.written: set[int] = set()                 # ids of slice adds emitted as writes
        self.ir_names = {v.name for v in fn.params} | {v.name for st in ir.walk(fn.body) for v in ir.defined(st)}
        top = [st.target for st in fn.body if isinstance(st, ir.Op) and st.target is not None]
        self.lasting_names = {v.name for v in fn.params + top if self.defs[v] == 1}
        self.tape_extents = _tapes_pushed_before_popped(fn)   # array tape -> per axis, its arrays' lasting extents
        self.loops: list[_Loop] = []                   # the loops around the statement being emitted
        self.donated: dict[int, ir.Var] = {}          # loop op id -> the dying input it writes into
        self.rides: dict[int, list[ir.Op]] = {}       # loop op id -> counts of equal elements it may make
        self.counted: dict[int, str] = {}              # count_eq op id -> the count its loop made
        self.facts = ShapeFacts()                      # extents and indices already checked here
        self.learn_parameters()
        self.open: shared_loops.LoopNest | None = None  # the loop nest just emitted, if another may join it
        self.params = set().union(*(shared_loops.storage(p, self.owners) for p in fn.params))
        self.tapes = lent_tapes(fn)                    # trailing parameters, returned after the results
        self.transposed = {st.target: st.args[0] for st in ir.walk(fn.body)   # lanes' copy -> matrix
                           if isinstance(st, ir.Op) and st.prim == "transposed_copy"}

    # ---- operands and expressions ------------------------------------------------------
    def o(self, x: ir.Operand) -> str:
        if isinstance(x, ir.Const):
            text = _num(x.value)
            return f"({text})" if text.startswith("-") else text
        return x.name

    def empty(self, dtype: str, shape: tuple[int, ...] | int) -> str:
        """A new uninitialised array of an element type and a constant shape (float64 through
        the allocator intrinsic)."""
        if dtype == "float" and shape != ():
            return f"{self.helper('_empty')}({shape})"
        numpy_dtype = {"float": "_np.float64", "int": "_np.int64", "bool": "_np.bool_"}[dtype]
        return f"_np.empty({shape}, dtype={numpy_dtype})"

    def helper(self, name: str) -> str:
        self.helpers.add(name)
        return name

    def expr(self, op: ir.Op) -> str:
        a = [self.o(x) for x in op.args]
        p = op.prim
        t = op.target.type if op.target is not None else None
        scalar = t is not None and t.rank == 0
        binary = {"add": "+", "sub": "-", "mul": "*", "div": "/", "mod": "%", "floordiv": "//",
                  "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!=",
                  "and": "and", "or": "or"}
        if p == "div" and scalar:
            # Plain Python raises on a zero divisor; numpy and the JIT give inf/nan.
            return f"_np.true_divide({a[0]}, {a[1]})"
        if p in binary:
            return f"{a[0]} {binary[p]} {a[1]}"
        if p in ("id", "stop_gradient"):
            return a[0]
        if p == "copy":
            return f"{a[0]}.copy()" if op.args[0].type.rank else a[0]
        if p == "neg":
            return f"-{a[0]}"
        if p == "not":
            return f"not {a[0]}"
        if p == "pow":
            ex = op.args[1]
            base = self.float_(op.args[0])
            if isinstance(ex, ir.Const) and ex.value == 2:
                return f"{base} * {base}"
            if isinstance(ex, ir.Const) and ex.value == 1:
                return base
            return f"_np.power({base}, {a[1]})"
        if p == "matmul":
            ranks = (op.args[0].type.rank, op.args[1].type.rank)
            helper = {(1, 1): "_dot", (1, 2): "_vecmat", (2, 1): "_matvec", (2, 2): "_matmul"}[ranks]
            return f"{self.helper(helper)}({a[0]}, {a[1]})"
        if p == "exp" and scalar:
            return f"{self.helper('_exp')}({self.float_(op.args[0])})"
        if p in ("sin", "cos", "tan", "exp", "log", "log1p", "expm1", "sqrt", "tanh", "floor", "sign"):
            return f"_np.{p}({self.float_(op.args[0])})"
        if p in ("asin", "acos", "atan"):
            return f"_np.arc{p[1:]}({self.float_(op.args[0])})"
        if p == "abs":
            return f"abs({a[0]})" if scalar else f"_np.abs({a[0]})"
        if p in ("sigmoid", "softplus"):      # elementwise on arrays is always a loop: scalars here
            return f"{self.helper('_' + p)}({a[0]})"
        if p == "relu":
            return f"max({a[0]}, 0.0)" if scalar else f"_np.maximum({a[0]}, 0.0)"
        if p in ("maximum", "minimum"):
            if scalar:
                return f"{'max' if p == 'maximum' else 'min'}({a[0]}, {a[1]})"
            return f"_np.{p}({a[0]}, {a[1]})"
        if p == "to_float":
            return f"float({a[0]})" if scalar else f"{a[0]}.astype(_np.float64)"
        if p == "to_int":
            return f"int({a[0]})"
        if p == "sum" and op.args[0].type.dtype == "float":
            return f"{self.helper('_sum')}({self.flat(op.args[0])})"
        if p in ("sum", "prod"):
            return f"_np.{p}({a[0]})"
        if p in ("amax", "amin") and op.args[0].type.dtype == "float":
            return f"{self.helper('_' + p)}({self.flat(op.args[0])})"
        if p in ("amax", "amin"):
            return f"_np.{p[1:]}({a[0]})"
        if p == "norm":
            return f"{self.helper('_norm')}({a[0]})"
        if p == "logsumexp":
            return f"{self.helper('_logsumexp')}({a[0]})"
        if p == "dot":
            return f"{self.helper('_dot')}({a[0]}, {a[1]})"
        if p == "transpose":
            return f"{a[0]}.T"
        if p == "reshape":
            return f"_np.ascontiguousarray({a[0]}).reshape(({', '.join(a[1:])},))"
        if p == "outer":
            return f"{self.helper('_outer')}({a[0]}, {a[1]})"
        if p == "index":
            return f"{a[0]}[{', '.join(a[1:])}]"
        if p == "row":
            return f"{a[0]}[{a[1]}]"
        if p == "slice":
            return f"{a[0]}[{a[1]}:{a[2]}]"
        if p == "dim":
            return f"{a[0]}.shape[{a[1]}]"
        if p == "size":
            return f"{a[0]}.size"
        if p in ("zeros", "ones"):
            return f"{self.helper('_' + p)}(({', '.join(a)},))"
        if p == "full":
            return f"_np.full(({', '.join(a[:-1])},), {a[-1]})"
        if p == "eye":
            return f"_np.eye({a[0]}, {a[1]})"
        if p == "arange":
            return f"_np.arange({a[0]}).astype(_np.float64)"
        if p == "pack":
            return f"_np.array([{', '.join(a)}])"
        if p == "range_cond":
            return self.in_range(a[0], a[1], op.args[2])
        if p == "trip_count":
            return self.trip_count(a[0], a[1], op.args[2])
        if p == "zeros_like":
            if op.args[0].type.rank == 0:
                return "0.0"
            return f"{self.helper('_zeros')}({a[0]}.shape)"
        if p == "prod_others":
            return f"{self.helper('_prod_others')}({a[0]})"
        if p == "count_eq" and id(op) in self.counted:
            return f"float({self.counted[id(op)]})"
        if p == "count_eq":
            return f"{self.helper('_count_eq')}({self.flat(op.args[0])}, {a[1]})"
        if p == "is_eq":
            return f"({a[0]} == {a[1]}) * 1.0"
        if p == "sum_to_row" and op.args[0].type.rank == 2:
            return f"{self.helper('_sum_rows')}({a[0]})"
        if p == "sum_to_row":
            return f"_np.sum({a[0]}, axis=0)"
        if p == "heaviside":
            return f"({a[0]} > 0) * 1.0"
        if p == "tie":
            return f"({a[0]} > {a[1]}) * 1.0 + ({a[0]} == {a[1]}) * 0.5"
        if p in ("pow_dx", "pow_dp"):
            # Branch-free, so one text serves scalars, arrays and broadcasts: where p == 0 the
            # exponent p - 1 becomes 0, so 0 * x ** 0 = 0 instead of 0 * inf; where x == 0 and
            # p >= 0, log's argument becomes 1, so x ** p * log(1) = 0 instead of 1 * -inf.
            x, e = self.float_(op.args[0]), a[1]
            if p == "pow_dx":
                return f"{e} * _np.power({x}, {e} - 1.0 + ({e} == 0))"
            return f"{a[2]} * _np.log({x} + (({x} == 0.0) & ({e} >= 0)))"
        if p == "safe_div":
            return f"{a[0]} / {a[1]} if {a[1]} != 0.0 else 0.0"
        if p == "expand":
            return f"{self.helper('_zeros')}({a[1]}.shape) + {a[0]}"
        if p == "reshape_like":
            return f"_np.ascontiguousarray({a[0]}).reshape({a[1]}.shape)"
        raise NotImplementedError(f"no Python emission for primitive '{p}'")

    # A loop's step is nearly always a constant. Then whether it runs and its trip count are
    # written out as arithmetic instead of calling the helpers: each call of a compiled function
    # is also a test of its error status and a block that releases every live array, for Numba
    # to type and lower and LLVM to optimise (gmm's gradient had 27 such calls).
    def in_range(self, lo: str, hi: str, step: ir.Operand) -> str:
        """Whether ``range(lo, hi, step)`` is not empty."""
        if isinstance(step, ir.Const):
            return f"{lo} < {hi}" if step.value > 0 else f"{lo} > {hi}"
        return f"{self.helper('_in_range')}({lo}, {hi}, {self.o(step)})"

    def trip_count(self, lo: str, hi: str, step: ir.Operand) -> str:
        """``len(range(lo, hi, step))``."""
        if isinstance(step, ir.Const) and step.value in (1, -1):
            first, second = (hi, lo) if step.value > 0 else (lo, hi)
            # max, not a conditional expression: that branch made k-means' jammed loop 4x
            # slower (LLVM no longer vectorised its lanes)
            return f"max(0, {first} - {second})"
        return f"{self.helper('_trip_count')}({lo}, {hi}, {self.o(step)})"

    def flat(self, x: ir.Operand) -> str:
        """``x`` as the 1-D array the reduction helpers loop over (a view when contiguous)."""
        return self.o(x) if x.type.rank == 1 else f"{self.o(x)}.ravel()"

    def shape_message(self, line: int) -> str:
        return repr(f"array shapes do not match in the expression on line {line} of {self.opts.source_name}")

    def float_(self, x: ir.Operand) -> str:
        if x.type.dtype == "int" and x.type.rank == 0:
            return f"float({self.o(x)})"
        return self.o(x)

    # ---- statements --------------------------------------------------------------------
    def put(self, indent: str, text: str, line: int) -> None:
        self.lines.append(f"{indent}{text}  # line {line}" if line else f"{indent}{text}")

    def bounds(self, indent: str, op: ir.Op) -> None:
        access = _access(op)
        if not self.opts.boundscheck or access is None:
            return
        base, idx = access
        for axis, i in enumerate(idx):
            if (id(op), axis) not in self.hoisted:
                self.check(indent, op.line, self.index_message(op, base, idx, axis), [(base, axis, self.o(i))],
                           record=True)

    def index_message(self, op: ir.Op, base: ir.Var, idx: list[ir.Operand], axis: int) -> str:
        if base in self.transposed:           # a lane's read, reported as written: a[x, c], not a_T[c, x]
            base, axis = self.transposed[base], 1 - axis
        name = base.name[:-4] if base.kind == "adjoint" and base.name.endswith("_bar") else base.name
        where = f" (axis {axis})" if len(idx) > 1 else ""
        return repr(f"index out of range for '{name}'{where} on line {op.line} of {self.opts.source_name}")

    def check(self, indent: str, line: int, msg: str, indices: list[tuple[ir.Var, int, str | tuple[str, str]]],
              record: bool = False, done: list | None = None) -> None:
        """One ``raise IndexError(msg)`` for indices (array, axis, index text, or the texts of the
        least and greatest of a range of indices) that share it. An index ``i`` is in range of
        an extent ``n`` iff ``-n <= i < n``; a range iff its least and greatest are; a bound known
        not negative, or a negative literal, needs one side only (extents are never negative),
        which is most of the compile time the checks cost (gmm's gradient: 96 comparisons joined
        by ``or`` before, 18 after). With ``record`` (a check
        in the statement's own block, not one hoisted under ``if`` before a loop), indices
        already checked on this path are left out and the new ones remembered. ``done`` collects
        the (extent, index) pairs of consecutive checks: an index checked against an extent
        known equal to one it was already checked against cannot fail there (the earlier check
        raises first), as for ``mu[j]`` and ``q[j]`` with ``mu`` and ``q`` both declared k rows."""
        if record:
            indices = [(b, axis, v) for b, axis, v in indices if not self.facts.checked(b.name, axis, v)]
            for base, axis, value in indices:
                self.facts.add_checked(base.name, axis, value)
        done = [] if done is None else done
        conds = []
        for base, axis, value in indices:
            n = f"{base.name}.shape[{axis}]"
            if any(v == value and self.facts.equal(e, n) for e, v in done):
                continue
            done.append((n, value))
            low, high = value if isinstance(value, tuple) else (value, value)
            conds += [] if self.nonnegative(low) else [f"{low} < -{n}"]
            conds += [] if (literal(high) or 0) < 0 else [f"{high} >= {n}"]
        if conds:
            self.put(indent, f"if {' or '.join(conds)}: raise IndexError({msg})", line)

    def nonnegative(self, text: str) -> bool:
        """Whether an index text is known >= 0 here: a literal, or the counter of a loop around."""
        value = literal(text)
        return text in self.counters if value is None else value >= 0

    def hoist_checks(self, indent: str, loop: ir.For) -> list[tuple[ir.Var, int]]:
        """Check indices that move with the loop counter once, before the loop.

        An index ``i + c`` (``i`` the counter) into an array the loop does not rebind, read or
        written by a statement that runs on every iteration (not under an ``if`` or in an inner
        loop), is in range on every iteration iff it is at the first and last one; per-access
        checks in the body would cost up to 3x on tight loops. Indices the loop does not change
        stay checked in the body: checked before the loop, they made k-means' jammed search 9%
        slower (its lanes vectorise less well), for under 0.2 s of gmm's compile. Returns the
        (array, axis) pairs the counter itself was checked against: inside the body, an access
        by the counter into an array of an equal extent needs no check (gmm's ``q[j, c]`` in
        the loop over ``c``).
        """
        if not self.opts.boundscheck:
            return []
        offset = {loop.var: 0}
        for st in loop.body:
            if (isinstance(st, ir.Op) and st.prim in ("add", "sub") and st.target is not None
                    and st.target.kind == "temp" and st.args[0] in offset and isinstance(st.args[1], ir.Const)
                    and st.args[1].type.dtype == "int"):
                offset[st.target] = offset[st.args[0]] + (st.args[1].value if st.prim == "add" else -st.args[1].value)
        rebound = {v for st in ir.walk(loop.body) for v in _rebound(st)} | {loop.var}
        checks = []
        for st in loop.body:
            access = _access(st) if isinstance(st, ir.Op) else None
            if access is None or access[0] in rebound:
                continue
            base, idx = access
            for axis, i in enumerate(idx):
                if (id(st), axis) in self.hoisted:
                    continue
                if isinstance(i, ir.Var) and i in offset:
                    self.hoisted.add((id(st), axis))
                    checks.append((st, base, idx, axis, offset[i]))
        if not checks:
            return []
        lo, hi, step = self.o(loop.lo), self.o(loop.hi), self.o(loop.step)
        unit = isinstance(loop.step, ir.Const) and loop.step.value in (1, -1)
        if unit and literal(hi) is not None:
            last = _offset(hi, -loop.step.value)
        else:
            last = self.fn.fresh(loop.var.name + "_last")
            if unit:
                value = f"{hi} - {step}"          # read only if the loop runs
            else:
                value = f"{lo} + ({self.trip_count(lo, hi, loop.step)} - 1) * {step}"
            self.put(indent, f"{last} = {value}", loop.line)
        self.put(indent, f"if {self.in_range(lo, hi, loop.step)}:", loop.line)
        # Checks with the same message (the first and last iteration of one access, an array
        # and its adjoint, two accesses of one array on one line) share a raise: each raise
        # site costs Numba and LLVM a block that releases every live array (gmm's gradient had
        # 35 such pairs). As with any hoisting, which one is reported can change only when
        # several indices are out of range.
        groups: dict[str, tuple[int, list]] = {}
        ordered = isinstance(loop.step, ir.Const)       # the first index is the least or the greatest
        for st, base, idx, axis, off in checks:
            msg = self.index_message(st, base, idx, axis)
            line, indices = groups.setdefault(msg, (st.line, []))
            ends = [_offset(end, off) for end in (lo, last)]
            ranges = [tuple(ends if loop.step.value > 0 else ends[::-1])] if ordered else ends
            for value in ranges:
                if (base, axis, value) not in indices:      # the jammed copies of one access
                    indices.append((base, axis, value))
        done: list[tuple[str, str | tuple[str, str]]] = []     # (extent, index) checked above
        for msg, (line, indices) in groups.items():
            self.check(indent + "    ", line, msg, indices, done=done)
        return [(base, axis) for _, base, _, axis, off in checks if not off]

    def op(self, indent: str, op: ir.Op) -> None:
        p, a = op.prim, op.args
        self.bounds(indent, op)
        s = [self.o(x) for x in a]
        if p in ("setindex", "addindex"):
            eq = "=" if p == "setindex" else "+="
            self.put(indent, f"{s[0]}[{', '.join(s[2:])}] {eq} {s[1]}", op.line)
        elif p in ("setrow", "addrow"):
            self.put(indent, f"{s[0]}[{s[2]}] {'=' if p == 'setrow' else '+='} {s[1]}", op.line)
        elif p in ("setslice", "addslice"):
            eq = "=" if p == "setslice" or id(op) in self.written else "+="
            self.put(indent, f"{s[0]}[{s[2]}:{s[3]}] {eq} {s[1]}", op.line)
        elif p == "addto":
            self.put(indent, f"{s[0]} += {s[1]}", op.line)
        elif p == "addto_outside":
            self.add_outside(indent, op)
        elif p in ("push", "push_reserved"):
            self.push(indent, op)
        elif p == "reserve":
            self.reserve(indent, op)
        elif p == "pop":
            self.pop(indent, op)
        elif p == "new_tape":
            self.new_tape(indent, op.target)
        elif p == "transposed_copy":
            self.transposed_copy(indent, op)
        elif id(op) in self.filled:
            self.zero_outside(indent, op)
        elif op.target in self.reusable and op.prim in _ZEROED:
            rank = op.target.type.rank
            dims = s[:rank] if p == "zeros" else [f"{s[0]}.shape[{k}]" for k in range(rank)]
            self.allocate(indent, op.line, op.target, dims, zero=True)
        else:
            self.put(indent, f"{op.target.name} = {self.expr(op)}", op.line)
        self.learn(op)

    def learn_parameters(self) -> None:
        """What the argument checks guarantee before every call: parameters declared with one
        dimension name have equal extents there, and a literal dimension is that extent."""
        named: dict[str, str] = {}
        for p, t in zip(self.fn.params, self.fn.param_types):
            for k, d in enumerate(t.dims or ()):
                term = f"{p.name}.shape[{k}]"
                if isinstance(d, int):
                    self.facts.add_equal(term, str(d))
                elif isinstance(d, str):
                    self.facts.add_equal(named.setdefault(d, term), term)

    def learn(self, op: ir.Op) -> None:
        """Update the shape facts after ``op``: its target's old facts go, and what its definition
        says about its extents comes in."""
        t = op.target
        if t is None:
            if op.prim == "addto" and op.args[0].type.rank == 0:
                self.facts.forget({op.args[0].name})
            return
        self.facts.forget({t.name})
        p, a = op.prim, op.args
        term = lambda x: x.name if isinstance(x, ir.Var) else str(x.value)  # noqa: E731
        if p in SAME_EXTENTS and t.type.rank and isinstance(a[0], ir.Var):
            for k in range(t.type.rank):
                self.facts.add_equal(f"{t.name}.shape[{k}]", f"{a[0].name}.shape[{k}]")
        elif p == "row" and isinstance(a[0], ir.Var):
            for k in range(t.type.rank):
                self.facts.add_equal(f"{t.name}.shape[{k}]", f"{a[0].name}.shape[{k + 1}]")
        elif p == "transposed_copy":
            for k in range(2):
                self.facts.add_equal(f"{t.name}.shape[{k}]", f"{a[0].name}.shape[{1 - k}]")
        elif p == "dim" and isinstance(a[0], ir.Var) and isinstance(a[1], ir.Const):
            self.facts.add_equal(t.name, f"{a[0].name}.shape[{a[1].value}]")
        elif p in ("zeros", "ones", "full"):
            for k, x in enumerate(a[:t.type.rank]):
                self.facts.add_equal(f"{t.name}.shape[{k}]", term(x))
        elif p == "eq" and all(x.type.dtype == "int" and x.type.rank == 0 for x in a):
            self.facts.record_eq(t.name, term(a[0]), term(a[1]))
        elif p in ("add", "sub", "mul") and t.type == Type("int") and all(x.type == Type("int") for x in a):
            x, y = self.facts.form(term(a[0])), self.facts.form(term(a[1]))
            if p != "mul":
                self.facts.set_linear(t.name, x + y if p == "add" else x - y)
            elif not x.terms or not y.terms:
                self.facts.set_linear(t.name, y.scaled(x.const) if not x.terms else x.scaled(y.const))
        elif p == "slice" and isinstance(a[0], ir.Var):
            self.learn_slice(t.name, a[0].name, term(a[1]), term(a[2]))
        elif p == "pop" and self.tape_extents.get(a[0]):
            for k, terms in enumerate(self.tape_extents[a[0]]):
                for extent in terms:    # a popped array has the extents of what was pushed
                    self.facts.add_equal(f"{t.name}.shape[{k}]", extent)
        elif p in _PRODUCT_EXTENTS and all(isinstance(x, ir.Var) for x in a[:2]):
            extents = _PRODUCT_EXTENTS[p].get(tuple(x.type.rank for x in a[:2]), ())
            for k, (arg, axis) in enumerate(extents):
                self.facts.add_equal(f"{t.name}.shape[{k}]", f"{a[arg].name}.shape[{axis}]")

    def learn_slice(self, view: str, array: str, lo: str, hi: str) -> None:
        length = self.facts.slice_length(array, lo, hi)
        if length is not None:
            self.facts.add_equal(f"{view}.shape[0]", length)

    @contextmanager
    def loop(self, indent: str, st: ir.For | ir.While):
        """While ``st``'s lines are emitted (from its header on): it is the innermost loop."""
        rebound = _rebound_names(st)
        self.loops.append(_Loop(id(st), len(self.lines), indent, st.line, rebound))
        counter = _nonnegative_counter(st)
        if counter:
            self.counters.add(counter)
        try:
            yield
        finally:
            self.loops.pop()
            self.counters.discard(counter)

    @contextmanager
    def scope(self, st: ir.Stmt):
        """Facts inside a region of ``st``: those from before it about variables it does not
        assign, and the extents of arrays a loop reassigns keeping them (``loop_shapes``);
        afterwards, what it learnt is dropped and what it assigns is forgotten (but for those
        extents)."""
        rebound = _rebound_names(st)
        kept = {v.name: v.type.rank for v in kept_extents(st)} if isinstance(st, (ir.For, ir.While)) else {}
        outer = self.facts
        self.facts = outer.copy()
        self.facts.forget_keeping_extents(rebound, kept)
        try:
            yield
        finally:
            self.facts = outer
            outer.forget_keeping_extents(rebound, kept)

    def add_outside(self, indent: str, op: ir.Op) -> None:
        """``b += a`` except on ``a[lo:hi]`` (bounds as Python slices take them): two loops."""
        b, a, lo, hi = (self.o(x) for x in op.args)
        self.put(indent, f"if {a}.shape[0] != {b}.shape[0]: raise ValueError({self.shape_message(op.line)})", op.line)
        self.outside(indent, op.line, lo, hi, f"{a}.shape[0]", f"{b}[_i0] += {a}[_i0]")

    def outside(self, indent: str, line: int, lo: str, hi: str, n: str, statement: str, end: str | None = None) -> None:
        """``statement`` for each index ``_i0`` of a length-``n`` array outside ``[lo:hi]``; the
        loop after the slice runs to ``end`` (the written array's own extent, equal to ``n``)."""
        self.slice_bounds(indent, line, lo, hi, n)
        for lo_, hi_ in (("0", "_lo"), ("_hi", end or n)):
            self.put(indent, f"for _i0 in range({lo_}, {hi_}):", line)
            self.put(indent + "    ", statement, line)

    def transposed_copy(self, indent: str, op: ir.Op) -> None:
        """``t = a.T`` as a new C-contiguous array, copied by a loop nest."""
        t, a = op.target.name, self.o(op.args[0])
        self.put(indent, f"{t} = {self.empty(op.target.type.dtype, f'({a}.shape[1], {a}.shape[0])')}", op.line)
        self.put(indent, f"for _i0 in range({a}.shape[0]):", op.line)
        self.put(indent + "    ", f"for _i1 in range({a}.shape[1]):", op.line)
        self.put(indent + "        ", f"{t}[_i1, _i0] = {a}[_i0, _i1]", op.line)

    def slice_bounds(self, indent: str, line: int, lo: str, hi: str, n: str) -> None:
        """``_lo``, ``_hi``: the elements ``[lo:hi]`` of a length-``n`` array, as Python slices take
        them; a bound the shape facts place in ``[0, n]`` as it is (each clamp is a branch)."""
        for name, bound in (("_lo", lo), ("_hi", hi)):
            value, form = literal(bound), self.facts.form(bound)
            if self.facts.nonnegative(form) and self.facts.nonnegative(self.facts.form(n) - form):
                clipped = bound                 # known within [0, n] (ode's n - 1 of an n-array)
            elif self.facts.nonnegative(form):
                clipped = f"min({bound}, {n})"
            elif value is not None:
                clipped = f"min(max({n} - {-value}, 0), {n})"
            else:
                clipped = f"min(max({bound} + {n} if {bound} < 0 else {bound}, 0), {n})"
            self.put(indent, f"{name} = {clipped}", line)
        self.put(indent, "_hi = max(_hi, _lo)", line)

    def new_tape(self, indent: str, tape: ir.Var) -> None:
        if tape.kind == "tape_list":
            self.lines.append(f"{indent}{tape.name} = [{self.empty(tape.type.dtype, (0,) * (tape.type.rank - 1))}]")
            self.lines.append(f"{indent}{tape.name}.pop()")
        else:
            self.lines.append(f"{indent}{tape.name}_n = 0")

    def push(self, indent: str, op: ir.Op) -> None:
        tape, value = op.args[:2]
        if tape.kind == "tape_list":
            self.put(indent, f"{tape.name}.append(_np.ascontiguousarray({self.o(value)}))", op.line)
            self.learn_push(tape, value)
            return
        count = tape.name + "_n"
        if op.prim == "push":
            self.grow(indent, op, f"{count} + 1")
        self.put(indent, f"{tape.name}[{count}] = {self.o(value)}", op.line)
        self.put(indent, f"{count} += 1", op.line)

    def grow(self, indent: str, op: ir.Op, needed: str) -> None:
        """Make room on a scalar tape (doubling), or raise MemoryError naming the loop's line."""
        tape = op.args[0].name
        limit = tape_limit_bytes()
        loop = op.args[2].value if len(op.args) > 2 else op.line
        msg = repr(f"the tape of the loop at line {loop} of {self.opts.source_name} needs more than the "
                   f"memory limit of {limit:,} bytes (half the physical memory; ADC_TAPE_LIMIT_BYTES sets it)")
        self.put(indent, f"if {needed} > {tape}.shape[0]:", op.line)
        self.lines.append(f"{indent}    if ({needed}) * {tape}.itemsize > {limit}: raise MemoryError({msg})")
        self.lines.append(f"{indent}    {tape} = {self.helper('_grow')}({tape}, {needed})")

    def reserve(self, indent: str, op: ir.Op) -> None:
        self.grow(indent, op, f"{op.args[0].name}_n + {self.o(op.args[1])}")

    def learn_push(self, tape: ir.Var, value: ir.Var) -> None:
        """For each axis, the terms every array pushed on ``tape`` so far had as its extent and
        that keep their value for the rest of the function (``tape_extents``)."""
        if tape not in self.tape_extents:
            return
        terms = [{m for m in self.facts.members(f"{value.name}.shape[{k}]") if self.lasting(m)}
                 for k in range(value.type.rank)]
        known = self.tape_extents[tape]
        self.tape_extents[tape] = terms if known is None else [a & b for a, b in zip(known, terms)]

    def lasting(self, term: str) -> bool:
        """Whether a term names only parameters and variables assigned once, at the function's top
        level: it has the same value wherever it is read later."""
        if literal(term) is not None:
            return True
        m = EXTENT.fullmatch(term)
        return (m.group(1) if m else term) in self.lasting_names

    def pop(self, indent: str, op: ir.Op) -> None:
        tape = op.args[0]
        if tape.kind == "tape_list":
            self.put(indent, f"{op.target.name} = {tape.name}.pop()", op.line)
            return
        self.put(indent, f"{tape.name}_n -= 1", op.line)
        self.put(indent, f"{op.target.name} = {tape.name}[{tape.name}_n]", op.line)

    def block(self, stmts: list[ir.Stmt], indent: str) -> None:
        if not stmts:
            self.lines.append(indent + "pass")
        inner = indent + "    "
        self.fused.update(fusion.plan(stmts, self.uses, self.owners))
        pieces = piecewise.plan(stmts, self.uses, self.defs, self.owners, self.fused)
        self.pieces.update(pieces)
        absorbed = {id(a) for p in pieces.values() for a in p.absorbed}
        late = set().union(*(piecewise.leaves(p.part.args[1], self.fused) for p in pieces.values()))
        hidden = {**self.fused, **{a.target: a for p in pieces.values() for a in p.absorbed if a.target is not None}}
        donated = self.donors.in_block(stmts, hidden, late)
        self.donated.update(donated)
        by_id = {id(st): st for st in stmts}
        self.takers.update({donor: by_id[k].target for k, donor in donated.items()})
        self.rides.update(tie_counts.plan(stmts, self.fused, self.owners))
        self.filled.update(self.filled_slices(stmts))
        self.open = None
        for st in stmts:
            if isinstance(st, ir.Op) and st.target in self.fused or id(st) in absorbed:
                continue
            if fusion.is_loop_op(st) or fusion.is_slice_loop(st, self.fused, self.owners):
                self.fused_loop(indent, st)
                continue
            self.open = None
            if isinstance(st, ir.Op):
                self.op(indent, st)
            elif isinstance(st, ir.For):
                in_range = self.hoist_checks(indent, st)
                with self.loop(indent, st):
                    bounds = f"{self.o(st.lo)}, {self.o(st.hi)}, {self.o(st.step)}"
                    self.put(indent, f"for {st.var.name} in range({bounds}):", st.line)
                    with self.scope(st):
                        for base, axis in in_range:      # the counter itself, checked before the loop
                            self.facts.add_checked(base.name, axis, st.var.name)
                        self.block(st.body, inner)
            elif isinstance(st, ir.While):
                with self.loop(indent, st), self.scope(st):
                    if st.cond_body:
                        self.put(indent, "while True:", st.line)
                        self.block(st.cond_body, inner)
                        self.put(inner, f"if not {self.o(st.cond)}:", st.line)
                        self.lines.append(inner + "    break")
                        self.block(st.body, inner)
                    else:
                        self.put(indent, f"while {self.o(st.cond)}:", st.line)
                        self.block(st.body, inner)
            elif isinstance(st, ir.If):
                self.put(indent, f"if {self.o(st.cond)}:", st.line)
                with self.scope(st):
                    self.block(st.then, inner)
                if st.orelse:
                    self.lines.append(indent + "else:")
                    with self.scope(st):
                        self.block(st.orelse, inner)
            elif isinstance(st, ir.Assert):
                if not (isinstance(st.cond, ir.Var) and self.facts.holds(st.cond.name)):
                    self.put(indent, f"if not {self.o(st.cond)}:", st.line)
                    msg = repr(f"{st.message} (assert on line {st.line} of {self.opts.source_name})")
                    self.lines.append(f"{inner}raise AssertionError({msg})")
                if isinstance(st.cond, ir.Var):
                    self.facts.asserted(st.cond.name)
            elif isinstance(st, ir.Return):
                vals = [self.o(v) for v in st.values] + [t.name for t in self.tapes]
                if self.fn.returns_tuple or len(vals) != 1:
                    text = "(" + ", ".join(vals) + ("," if len(vals) == 1 else "") + ")"
                else:
                    text = vals[0]
                self.put(indent, f"return {text}", st.line)
        self.open = None        # a loop after this block's end runs outside it

    # ---- fused elementwise loops ------------------------------------------------------
    def filled_slices(self, stmts: list[ir.Stmt]) -> dict[int, ir.Op]:
        """``t = zeros(n)`` whose next use is ``t[lo:hi] += v`` (a slice write's adjoint, ode's
        stages): by id of the zeros op, that addition. The emitter then zeroes only outside the
        slice and writes ``v`` into it, one pass instead of two (zeroing all, then adding).
        ``v`` must not read ``t``'s memory, nor may anything in between."""
        found: dict[int, ir.Op] = {}
        for k, st in enumerate(stmts):
            if not (isinstance(st, ir.Op) and st.prim in _ZEROED and st.target.type == Type("float", 1)):
                continue
            memory = self.sharers.get(st.target, set()) | {st.target}
            later = next((x for x in stmts[k + 1:] if mentioned(x) & memory), None)
            if not (isinstance(later, ir.Op) and later.prim == "addslice" and later.args[0] is st.target):
                continue
            between = stmts[k + 1:stmts.index(later)]
            bounds = {a for a in later.args[2:4] if isinstance(a, ir.Var)}
            reads = piecewise.leaves(later.args[1], self.fused)
            if (not any(bounds & ir.vars_written([x]) for x in between)
                    and not any(self.owners.get(v, {v}) & memory for v in reads)):
                found[id(st)] = later
        return found

    def zero_outside(self, indent: str, op: ir.Op) -> None:
        """``t = zeros(n)`` that a later slice write fills (``filled_slices``): a buffer zeroed
        outside that slice only."""
        t, fill = op.target, self.filled[id(op)]
        n = self.o(op.args[0]) if op.prim == "zeros" else f"{self.o(op.args[0])}.shape[0]"
        self.allocate(indent, op.line, t, [n])
        lo, hi = (self.o(x) for x in fill.args[2:4])
        self.outside(indent, op.line, lo, hi, n, f"{t.name}[_i0] = 0.0", end=f"{t.name}.shape[0]")
        self.written.add(id(fill))

    def allocate(self, indent: str, line: int, target: ir.Var | str, dims: list[str], zero: bool = False) -> bool:
        """``target = empty(dims)`` (``zeros`` with ``zero``), float64. A ``buffer_reuse`` array
        whose extents equal array extents its loop does not change takes a slot instead: a
        buffer allocated before the loop, the one freed last whose holder had those extents,
        else a new one (zeroed here with ``zero``). Allocated inside the loop only when its
        shape changed, the buffer kept LLVM from vectorising the loops writing it (ode's RK4
        stages). An array that donates its buffer to a later result (``donation``) takes a slot
        only if that result could take one too, and holds it as long. Returns whether another
        array of this iteration held the slot."""
        life = self.reusable.get(target) if isinstance(target, ir.Var) else None
        taker = self.takers.get(target)
        if life and taker:          # the later result it gives its buffer holds the slot on
            later = self.reusable.get(taker)
            life = replace(life, end=max(life.end, later.end)) if later and later.loop == life.loop else None
        loop = next((x for x in reversed(self.loops) if x.id == life.loop), None) if life else None
        extents = [self.invariant_extent(d, loop) for d in dims] if loop else []
        if not loop or None in extents:
            fresh = f"{self.helper('_zeros' if zero else '_empty')}(({', '.join(dims)},))"
            self.put(indent, f"{getattr(target, 'name', target)} = {fresh}", line)
            return False
        free = [slot for slot in loop.slots if slot.end < life.start and slot.extents == extents]
        slot = max(free, key=lambda slot: slot.end) if free else None
        if slot is None:
            slot = _Slot(self.fn.fresh("slot"), extents, life.end)
            loop.slots.append(slot)
            fresh = f"{self.helper('_empty')}(({', '.join(extents)},))"
            self.slot_lines.append((loop.header, f"{loop.indent}{slot.name} = {fresh}  # line {loop.line}"))
        slot.end = life.end
        self.slotted.add(target)
        if zero:
            idx = [f"_i{k}" for k in range(len(dims))]
            for k, i in enumerate(idx):
                self.put(indent + "    " * k, f"for {i} in range({slot.name}.shape[{k}]):", line)
            self.put(indent + "    " * len(dims), f"{slot.name}[{', '.join(idx)}] = 0.0", line)
        self.put(indent, f"{target.name} = {slot.name}", line)
        return bool(free)

    def invariant_extent(self, dim: str, loop: "_Loop") -> str | None:
        """An extent of an array of the function (not a view the emitter made) known equal to
        ``dim`` here, that ``loop`` does not rebind, so it has the same value before the loop
        (an extent is never negative: allocating by it before a loop that does not run cannot
        fail)."""
        for term in sorted(self.facts.members(dim)):
            m = EXTENT.fullmatch(term)
            if m and m.group(1) in self.ir_names and m.group(1) not in loop.rebound:
                return term
        return None

    def fused_loop(self, indent: str, st: ir.Op) -> None:
        """An elementwise expression tree as one loop nest: ``r = tree``, ``a += tree``,
        ``a[i] += tree``, ``a[i] = tree`` or ``a[lo:hi] (+)= tree`` (a loop over a view of the
        slice); no temporary per operation. Operand shapes must
        match exactly (scalars and rows against matrices broadcast); else a ValueError."""
        write = st.prim in fusion.WRITES | fusion.SLICE_WRITES
        begin, rebind = len(self.lines), False
        if st.prim in fusion.SLICE_WRITES:
            dest, lo, hi = st.args[0], self.o(st.args[2]), self.o(st.args[3])
            view = self.fn.fresh(dest.name + "_part")
            self.put(indent, f"{view} = {dest.name}[{lo}:{hi}]", st.line)
            self.facts.forget({view})
            self.learn_slice(view, dest.name, lo, hi)
            idx, leaves = ["_i0"], []
            value = self.element(st.args[1], idx, leaves)
            dims, rank = [f"{view}.shape[0]"], 1
            place = f"{view}[_i0]"
            assign = "=" if st.prim == "setslice" or id(st) in self.written else "+="
        elif write:
            dest, row = st.args[0], st.prim != "addto"
            rank = dest.type.rank - row
            idx = [f"_i{k}" for k in range(rank)]
            leaves: list[tuple[ir.Var, list[str]]] = []
            value = self.element(st.args[1], idx, leaves)
            dims = [f"{dest.name}.shape[{k + row}]" for k in range(rank)]
            if row:
                self.bounds(indent, st)
            place = f"{dest.name}[{', '.join(([self.o(st.args[2])] if row else []) + idx)}]"
            assign = "=" if st.prim == "setrow" else "+="
        else:
            piece = next((p for p in self.pieces.values() if p.reader is st), None)
            if piece is not None:
                self.open = None
                self.piecewise_loop(indent, st, piece)
                return
            rank = st.target.type.rank
            idx = [f"_i{k}" for k in range(rank)]
            leaves = []
            value = self.element_op(st, idx, leaves)
            ref = next((v for v, axes in leaves if axes == idx), None)
            if ref is not None:
                dims = [f"{ref.name}.shape[{k}]" for k in range(rank)]
            else:   # only outer products span every axis: each axis from a leaf indexed by it
                dims = [next(f"{v.name}.shape[{axes.index(i)}]" for v, axes in leaves if i in axes) for i in idx]
            rebind = any(v is st.target for v, _ in leaves)           # y = y * 2 reads the old y
            out = self.fn.fresh(st.target.name + "_new") if rebind else st.target.name
            place, assign = f"{out}[{', '.join(idx)}]", "="
        pairs = [(f"{v.name}.shape[{j}]", dims[idx.index(a)]) for v, axes in leaves
                 for j, a in enumerate(axes) if write or v is not ref or axes != idx]
        donor = None
        if not write:       # before the shape check, which then ends the set-up a joined loop may merge
            donor = self.donated.get(id(st)) if not rebind else None
            if donor in self.slotted and self.takers.get(donor) is not st.target:
                donor = None            # its slot serves another array once it is dead
            if donor is not None:
                self.put(indent, f"{out} = {donor.name}", st.line)
            elif self.allocate(indent, st.line, out if rebind else st.target, dims):
                self.open = None        # a loop before may still read the slot's last holder
        mismatch = list(dict.fromkeys(f"{x} != {y}" for x, y in pairs if x != y and not self.facts.equal(x, y)))
        check = len(self.lines) if mismatch else None
        raised = f"raise ValueError({self.shape_message(st.line)})"
        if mismatch:
            self.put(indent, f"if {' or '.join(mismatch)}: {raised}", st.line)
        for x, y in pairs:
            self.facts.add_equal(x, y)
        counts = [] if write else self.ridden_counts(indent, st, leaves, idx)
        head = len(self.lines)
        for k, i in enumerate(idx):
            self.put(indent + "    " * k, f"for {i} in range({dims[k]}):", st.line)
        self.put(indent + "    " * rank, f"{place} {assign} {value}", st.line)
        for name, v, m in counts:
            self.put(indent + "    " * rank, f"{name} += {v.name}[{idx[0]}] == {m}", st.line)
        if not write and rebind:
            self.put(indent, f"{st.target.name} = {out}", st.line)
        if counts or rebind or not self.opts.join_loops:
            self.open = None
        else:
            written = st.args[0] if write else st.target
            nest = shared_loops.LoopNest(
                head, len(self.lines), dims, idx,
                shared_loops.storage(written, self.owners) | (shared_loops.storage(donor, self.owners) if donor else set()),
                set().union(*(shared_loops.storage(v, self.owners) for v, _ in leaves)),
                set() if write or donor else {st.target},
                mismatch if check == head - 1 and st.prim not in ("addrow", "setrow") else [], raised)
            self.join(begin, nest, leaves)
        if not write:
            self.facts.forget({st.target.name})
            for k, d in enumerate(dims):
                self.facts.add_equal(f"{st.target.name}.shape[{k}]", d)

    def join(self, begin: int, nest: shared_loops.LoopNest, leaves: list) -> None:
        """Move the loop nest just emitted (from ``begin``) into the one before it if that is
        allowed (``shared_loops``): its set-up lines before that nest, its body after that nest's
        body. A shape check that ends both set-ups with one message becomes one ``raise`` (not
        after a row write's index check, which would then raise before the first shape check)."""
        prev = self.open
        self.open = nest
        if prev is None or prev.end != begin or not shared_loops.may_join(prev, nest, leaves, self.owners, self.params):
            return
        if not all(a == b or self.facts.equal(a, b) for a, b in zip(prev.dims, nest.dims)):
            return
        setup, body = self.lines[begin:nest.start], self.lines[nest.start + len(nest.idx):]
        del self.lines[begin:]
        at = prev.start
        if prev.checks and nest.checks and prev.raised == nest.raised:
            prev.checks = list(dict.fromkeys(prev.checks + nest.checks))
            check = self.lines[at - 1]
            indent, comment = check[:len(check) - len(check.lstrip())], check.rsplit(prev.raised, 1)[1]
            self.lines[at - 1] = f"{indent}if {' or '.join(prev.checks)}: {prev.raised}{comment}"
            setup, at = setup[:-1], at - 1
        else:
            prev.checks, prev.raised = nest.checks, nest.raised
        self.lines[at:at] = setup
        prev.start += len(setup)
        self.lines.extend(body)
        prev.end = len(self.lines)
        prev.writes |= nest.writes
        prev.reads |= nest.reads
        prev.made |= nest.made
        self.open = prev

    def piecewise_loop(self, indent: str, st: ir.Op, piece: piecewise.Piecewise) -> None:
        """A rank-1 elementwise result reading an array built in two pieces (``compiler/piecewise.py``):
        three loops, over the elements before the slice, the slice and after it, each reading
        its piece's expression; the piece array itself is never stored. The loops after the first
        run over views from index 0: an index Numba cannot prove non-negative (``i - lo``) gets a
        wraparound test that keeps LLVM from vectorising the loop."""
        read = next(v for v, p in self.pieces.items() if p is piece)
        line, (lo, hi) = st.line, (self.o(x) for x in piece.part.args[2:])
        leaves: list = []
        self.piece_view[read] = (piece.whole, None)
        self.element_op(st, ["_i0"], leaves)
        part_leaves: list = []
        self.piece_view[read] = (piece.part.args[1], part_leaves)
        self.element_op(st, ["_i0"], [])
        ref = leaves[0][0]
        n = f"{ref.name}.shape[0]"
        self.allocate(indent, line, st.target, [n])
        self.slice_bounds(indent, line, lo, hi, n)
        pairs = [(f"{v.name}.shape[0]", n) for v, _ in leaves if v is not ref]
        mismatch = [f"{x} != {y}" for x, y in pairs if x != y and not self.facts.equal(x, y)]
        for x, y in pairs:              # past the first conditions of the check, they are equal
            self.facts.add_equal(x, y)
        part = self.facts.slice_length(ref.name, lo, hi)
        mismatch += [f"{v.name}.shape[0] != _hi - _lo" for v, _ in part_leaves
                     if part is None or not self.facts.equal(f"{v.name}.shape[0]", part)]
        if mismatch:
            self.put(indent, f"if {' or '.join(dict.fromkeys(mismatch))}: raise ValueError({self.shape_message(line)})",
                     line)
        for source, a, b in ((piece.whole, "0", "_lo"), (piece.part.args[1], "_lo", "_hi"), (piece.whole, "_hi", n)):
            self.piece_view[read] = (source, [] if source is piece.part.args[1] else None)
            if a != "0":
                seen: list = []
                self.element_op(st, ["_i0"], seen)
                self.renamed = {v: self.fn.fresh(f"{v.name}_{a[1:]}") for v in dict.fromkeys([st.target, *(v for v, _ in seen)])}
                for v, view in self.renamed.items():
                    self.put(indent, f"{view} = {v.name}[{a}:{b}]", line)
            value = self.element_op(st, ["_i0"], [])
            count = b if a == "0" else f"{b} - {a}"
            self.put(indent, f"for _i0 in range({count}):", line)
            self.put(indent + "    ", f"{self.renamed.get(st.target, st.target.name)}[_i0] = {value}", line)
            self.renamed = {}
        del self.piece_view[read]
        self.facts.forget({st.target.name})
        self.facts.add_equal(f"{st.target.name}.shape[0]", n)

    def ridden_counts(self, indent: str, st: ir.Op, leaves: list, idx: list[str]) -> list[tuple]:
        """Start each count of equal elements (``tie_counts``) that ``st``'s loop makes:
        (count name, vector, extremum text) for those whose vector the loop reads whole."""
        made = []
        for count in self.rides.get(id(st), []):
            v, m = count.args
            if not any(leaf is v and axes == idx for leaf, axes in leaves):
                continue
            name = self.fn.fresh(v.name + "_ties")
            self.put(indent, f"{name} = 0", st.line)
            self.counted[id(count)] = name
            made.append((name, v, self.o(m)))
        return made

    def element(self, o: ir.Operand, axes: list[str], leaves: list) -> str:
        """The scalar expression for one element of ``o``, indexed by loop variables ``axes``."""
        if isinstance(o, ir.Var) and o in self.piece_view:
            source, part_leaves = self.piece_view[o]
            if part_leaves is None:
                return f"({self.element_op(source, axes, leaves)})"
            renamed, self.renamed = self.renamed, {}
            text = self.element(source, axes, part_leaves)
            self.renamed = renamed
            return f"({text})"
        if isinstance(o, ir.Var) and o in self.fused:
            return f"({self.element_op(self.fused[o], axes, leaves)})"
        if isinstance(o, ir.Var) and o.type.rank:
            mine = axes[len(axes) - o.type.rank:]
            leaves.append((o, mine))
            return f"{self.renamed.get(o, o.name)}[{', '.join(mine)}]"
        return self.o(o)

    def element_op(self, op: ir.Op, axes: list[str], leaves: list) -> str:
        if op.prim == "outer":
            return f"{self.element(op.args[0], axes[:1], leaves)} * {self.element(op.args[1], axes[1:], leaves)}"
        args = [a if isinstance(a, ir.Const) else ir.Var(self.element(a, axes, leaves), Type(a.type.dtype))
                for a in op.args]
        return self.expr(ir.Op(op.line, ir.Var("_", Type(op.target.type.dtype)), op.prim, args))

    def predeclare(self, indent: str) -> None:
        """Give a typed initial value at entry to each variable that may be read before it is
        assigned (after a loop or branch that assigns it, or earlier in a loop body), so Numba
        sees one type on every path. Only those: an initial value is a second definition, and
        Numba's SSA reconstruction and type inference work per multiply-defined variable and
        block (predeclaring every variable assigned in a region made up half of lstm's gradient's
        typing and SSA time)."""
        nested: dict[str, ir.Var] = {}
        for v in maybe_unassigned_reads(self.fn):
            if v.kind not in ("tape", "tape_list"):
                nested.setdefault(v.name, v)
        # Arrays start as one shared empty array per dtype and rank: an allocation per variable
        # was an inlined np.empty call each (over a hundred in an LSTM gradient) for Numba to
        # compile. Sharing is safe: a zero-size array has no element to write.
        shared: dict[str, str] = {}
        for v in sorted(nested.values(), key=lambda v: v.name):
            value = self.empty(v.type.dtype, (0,) * v.type.rank) if v.type.rank else initial_value(v.type)
            if v.type.rank:
                if value not in shared:
                    shared[value] = f"_empty_{v.type.dtype}{v.type.rank}"
                    self.lines.append(f"{indent}{shared[value]} = {value}")
                value = shared[value]
            self.lines.append(f"{indent}{v.name} = {value}")

    def place_slots(self) -> None:
        """Insert each slot's allocation before its loop (once the whole function is emitted:
        earlier, it would move the lines that open loop nests point at)."""
        for _, at, line in sorted(((k, at, line) for k, (at, line) in enumerate(self.slot_lines)),
                                  key=lambda x: (x[1], x[0]), reverse=True):
            self.lines.insert(at, line)


_ZEROED = ("zeros", "zeros_like")

# Each result extent of a product or rearrangement, as (operand, axis), by the operands' ranks.
_PRODUCT_EXTENTS = {
    "matmul": {(2, 2): ((0, 0), (1, 1)), (2, 1): ((0, 0),), (1, 2): ((1, 1),)},
    "outer": {(1, 1): ((0, 0), (1, 0))},
    "transpose": {(2,): ((0, 1), (0, 0))},
    "sum_to_row": {(2,): ((0, 1),)},
}


def _tapes_pushed_before_popped(fn: ir.Function) -> dict[ir.Var, None]:
    """The array tapes whose every push comes before their first pop in program order (the order
    they are emitted in): when the first pop is emitted, every push has been seen."""
    popped: set[ir.Var] = set()
    late: set[ir.Var] = set()
    tapes: set[ir.Var] = set()
    for st in ir.walk(fn.body):
        if isinstance(st, ir.Op) and st.prim in ("push", "pop") and st.args[0].kind == "tape_list":
            tapes.add(st.args[0])
            if st.prim == "pop":
                popped.add(st.args[0])
            elif st.args[0] in popped:
                late.add(st.args[0])
    return {t: None for t in tapes - late}


def _nonnegative_counter(st: ir.Stmt) -> str | None:
    """The counter of a loop that counts up from a literal >= 0 or down to one >= -1 and is not
    assigned in its body: never negative inside it."""
    if not isinstance(st, ir.For) or not isinstance(st.step, ir.Const):
        return None
    bound = st.lo if st.step.value > 0 else st.hi
    floor = 0 if st.step.value > 0 else -1
    if not (isinstance(bound, ir.Const) and bound.value >= floor):
        return None
    if any(st.var in ir.defined(inner) for inner in ir.walk(st.body)):
        return None
    return st.var.name


def _offset(text: str, off: int) -> str:
    """The text of ``text + off``, folded when ``text`` is a literal."""
    value = literal(text)
    if value is None:
        return f"{text} + {off}" if off > 0 else f"{text} - {-off}" if off else text
    return str(value + off) if value + off >= 0 else f"({value + off})"


@dataclass
class _Slot:
    """A buffer that arrays of one loop take in turn (``buffer_reuse``): its variable, its
    extents, and the last statement of the iteration that its last holder lives to."""

    name: str
    extents: list[str]
    end: int


@dataclass
class _Loop:
    """A loop being emitted: where its header line is (slots are allocated just before), and
    the variables it assigns."""

    id: int
    header: int
    indent: str
    line: int
    rebound: set[str]
    slots: list[_Slot] = field(default_factory=list)


def _allocates(st: ir.Op) -> bool:
    """Whether the emitter gives ``st``'s result a new float buffer of its own (``allocate``)."""
    if fusion.is_loop_op(st):
        return st.prim not in fusion.WRITES
    return st.prim in _ZEROED and st.target.type.dtype == "float" and st.target.type.rank > 0


def _rebound_names(st: ir.Stmt) -> set[str]:
    """The names of the variables ``st`` (its regions included) gives new values."""
    return {v.name for inner in ir.walk([st]) for v in _rebound(inner)}


def _rebound(st: ir.Stmt) -> list[ir.Var]:
    """The variables a statement (not its regions) gives a new value, not counting element,
    row or slice writes, which keep an array's shape."""
    if isinstance(st, ir.Op):
        if st.target is not None:
            return [st.target]
        if st.prim == "addto" and st.args[0].type.rank == 0:
            return [st.args[0]]
    if isinstance(st, ir.For):
        return [st.var]
    return []


def _access(op: ir.Op) -> tuple[ir.Var, list[ir.Operand]] | None:
    """(array, index operands) of an element or row access, read or write."""
    p, a = op.prim, op.args
    if p == "index":
        return a[0], a[1:]
    if p == "row":
        return a[0], a[1:2]
    if p in ("setindex", "addindex"):
        return a[0], a[2:]
    if p in ("setrow", "addrow"):
        return a[0], a[2:3]
    return None


def initial_value(t: Type) -> str:
    """A scalar's value before its first assignment."""
    return {"float": "0.0", "int": "0", "bool": "False"}[t.dtype]


def _memory_limit() -> int:
    """Tapes may use at most half of physical memory (a clear MemoryError instead of swapping)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):
        return 8 * 2**30


def blas_available() -> bool:
    """Whether Numba can call BLAS (np.dot) here: its linear algebra needs SciPy."""
    return importlib.util.find_spec("scipy") is not None


def tape_limit_bytes() -> int:
    """The most memory one tape may take: ``$ADC_TAPE_LIMIT_BYTES``, or half of physical memory."""
    return int(os.environ.get("ADC_TAPE_LIMIT_BYTES", 0)) or _memory_limit()


def lent_tapes(fn: ir.Function) -> list[ir.Var]:
    """The scalar tapes of ``fn``, whose buffers the caller lends: each is a trailing parameter
    (``tape_f``: float64[::1], any length; a push grows it by doubling) and comes back, grown, at
    the end of the returned tuple. A caller that lends the returned buffer to the next call
    (``runtime/tapes.py``) pays for growing a tape and for its fresh pages once, not per call."""
    return [st.target for st in fn.body
            if isinstance(st, ir.Op) and st.prim == "new_tape" and st.target.kind == "tape"]


class Emitted(NamedTuple):
    """A generated module: its text, its entry function's name, and the text of each helper
    module it imports, by module name, every module after the ones it imports."""

    source: str
    entry: str
    helpers: dict[str, str]


def emit_module(fn: ir.Function, options: EmitOptions | None = None, header: str = "") -> Emitted:
    """Python source of a module whose entry function computes ``fn``, with its helper modules.
    The entry's parameters are ``fn``'s, then its ``lent_tapes``.
    The names the emitter makes up are taken from a copy of ``fn``'s: emitting leaves ``fn`` as
    it was, so a derivative built from it later gets the same names (and the same module text,
    which is its cache key) whether or not ``fn`` was emitted first. Loops are unrolled and
    jammed here, and their lanes given transposed copies to read, on a copy, so IR listings and
    the reverse transform see them as written."""
    fn = transpose_lanes(unroll_and_jam(fn))
    fn = replace(fn, taken=set(fn.taken))
    options = options or EmitOptions(source_name=fn.filename)
    em = _Emitter(fn, options)
    entry = fn.fresh(fn.name)
    params = ", ".join([p.name for p in fn.params] + [t.name for t in em.tapes])
    sig = ", ".join([numba_type(p.type) for p in fn.params] + [numba_type(Type(t.type.dtype, 1)) for t in em.tapes])
    sig_text = f"({sig},)" if len(fn.params) + len(em.tapes) == 1 else f"({sig})"
    em.lines.append(f"@_nb.njit({sig_text}, {VECTOR_NJIT_OPTIONS if em.transposed else NJIT_OPTIONS})")
    em.lines.append(f"def {entry}({params}):")
    em.predeclare("    ")
    em.block(fn.body, "    ")
    em.place_slots()
    out = [f"# {header or 'Generated by adc'}, from {fn.filename!r}. Do not edit.",
           "import numba as _nb", "import numpy as _np", ""]
    blas = blas_available()
    out.extend(definitions(em.helpers, blas, vector=bool(em.transposed)))
    out.append("")
    out.extend(em.lines)
    out.append("")
    return Emitted("\n".join(out), entry, helper_modules(em.helpers, blas))
