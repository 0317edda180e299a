"""Lowering: checked AST -> IR, one function at a time (``lower_function``).

What happens here, so later stages stay small:

* expressions become three-address ``Op``s on fresh temporaries; ``and``/``or`` and ``a if c
  else b`` become ``If`` regions (they short-circuit, so ``i < n and x[i] > 0`` is safe);
* calls of module functions are **inlined** (recursion is rejected by the checker), with the
  callee's names prefixed by the callee's name; one compiled function per entry point, no calls
  in the hot path, and the reverse transform sees the whole computation;
* ``break``/``continue``/early ``return`` become flags: the rest of a block after a statement that
  may exit is wrapped in ``if not flag:``, and a ``for`` loop that may exit early becomes a
  ``while`` loop over its counter;
* sugar builtins (mean, mse, softmax, bce_with_logits, ...) become a handful of core primitives.
"""
from __future__ import annotations

import builtins
import keyword
from contextlib import contextmanager
from dataclasses import dataclass, field

from . import astnodes as A
from . import ir
from .check import CheckedModule, FuncInfo
from .primitives import UNARY_MATH
from .types import BOOL, FLOAT, INT, Type

_PY_RESERVED = set(keyword.kwlist) | set(dir(builtins)) | {"np", "numba", "math"}


class Names:
    """Allocates unique Python-safe names; user names are kept when they are free."""

    def __init__(self):
        self.used: set[str] = set(_PY_RESERVED)

    def fresh(self, base: str) -> str:
        return ir.fresh_name(self.used, base)


@dataclass
class _Loop:
    brk: ir.Var | None = None
    cont: ir.Var | None = None


@dataclass
class _Frame:
    """One (possibly inlined) function activation."""

    info: FuncInfo
    prefix: str
    vars: dict[str, ir.Var] = field(default_factory=dict)
    ret_vars: list[ir.Var] | None = None
    ret_flag: ir.Var | None = None
    tail_values: list[ir.Operand] | None = None
    loops: list[_Loop] = field(default_factory=list)


def _contains(stmts: list[A.Stmt], kind, into_loops: bool) -> bool:
    for st in stmts:
        if isinstance(st, kind):
            return True
        if isinstance(st, A.If):
            if any(_contains(b, kind, into_loops) for _, b in st.branches) or _contains(st.orelse, kind, into_loops):
                return True
        elif isinstance(st, A.With):
            if _contains(st.body, kind, into_loops):
                return True
        elif isinstance(st, (A.For, A.While)) and into_loops:
            if _contains(st.body, kind, into_loops):
                return True
    return False


def _const(value) -> ir.Const:
    if isinstance(value, bool):
        return ir.Const(value, BOOL)
    if isinstance(value, int):
        return ir.Const(value, INT)
    return ir.Const(float(value), FLOAT)


class Lowerer:
    def __init__(self, cm: CheckedModule):
        self.cm = cm
        self.names = Names()
        self.block: list[ir.Stmt] = []
        self.frames: list[_Frame] = []
        self.no_grad = 0
        self.line = 0

    # ---- emission helpers ---------------------------------------------------------------
    @contextmanager
    def into(self, block: list[ir.Stmt]):
        saved, self.block = self.block, block
        try:
            yield block
        finally:
            self.block = saved

    def var(self, base: str, t: Type, kind: str = "temp") -> ir.Var:
        return ir.Var(self.names.fresh(base), Type(t.dtype, t.rank), kind)

    def temp(self, t: Type) -> ir.Var:
        return self.var("t", t)

    def op(self, prim: str, args: list[ir.Operand], t: Type | None, target: ir.Var | None = None) -> ir.Var | None:
        if target is None and t is not None:
            target = self.temp(t)
        self.block.append(ir.Op(self.line, target, prim, list(args), self.no_grad > 0))
        return target

    def assign(self, target: ir.Var, value: ir.Operand) -> None:
        self.op("id", [self.coerce(value, target.type)], None, target)

    def coerce(self, o: ir.Operand, want: Type) -> ir.Operand:
        if want.dtype == "float" and o.type.dtype == "int":
            if isinstance(o, ir.Const):
                return ir.Const(float(o.value), FLOAT)
            return self.op("to_float", [o], Type("float", o.type.rank))
        return o

    @property
    def frame(self) -> _Frame:
        return self.frames[-1]

    # ---- functions ----------------------------------------------------------------------
    def function(self, name: str) -> ir.Function:
        info = self.cm.funcs[name]
        frame = _Frame(info, "")
        params = []
        for pname, ptype in info.params:
            v = self.var(pname, ptype, "param")
            frame.vars[pname] = v
            params.append(v)
        body: list[ir.Stmt] = []
        self.frames.append(frame)
        with self.into(body):
            self.line = info.node.span.line
            self._bind_shapes(frame)
            self._body(frame)
        self.frames.pop()
        if frame.ret_vars is not None:
            values: list[ir.Operand] = list(frame.ret_vars)
        else:
            values = frame.tail_values or []
        body.append(ir.Return(self.line, values))
        return ir.Function(name, params, [t for _, t in info.params], body, list(info.returns),
                           info.node.returns_tuple, self.cm.module.filename, taken=self.names.used,
                           source_params=[pname for pname, _ in info.params])

    def _bind_shapes(self, frame: _Frame) -> None:
        for d, (pname, axis) in frame.info.shape_vars.items():
            v = self.var(frame.prefix + d, INT, "user")
            frame.vars[d] = v
            self.op("dim", [frame.vars[pname], ir.Const(axis, INT)], None, v)

    def _check_shapes(self, frame: _Frame, callee: str) -> None:
        """Calls between .ad functions get the same shape checks as calls from Python: every
        dimension named or written in the callee's signature must match its argument."""
        for pname, ptype in frame.info.params:
            for axis, d in enumerate(ptype.dims or ()):
                if isinstance(d, str) and frame.info.shape_vars[d] == (pname, axis):
                    continue
                want = frame.vars[d] if isinstance(d, str) else ir.Const(d, INT)
                size = self.op("dim", [frame.vars[pname], ir.Const(axis, INT)], INT)
                same = self.op("eq", [size, want], BOOL)
                self.block.append(ir.Assert(self.line, same, f"{callee}(): argument '{pname}' has the wrong "
                                                             f"size on axis {axis} (expected {d})"))

    def _body(self, frame: _Frame) -> None:
        body = frame.info.node.body
        early = _contains(body[:-1], A.Return, True) or not isinstance(body[-1], A.Return)
        if early:
            frame.ret_vars = [self.var(f"{frame.prefix}result" if len(frame.info.returns) == 1
                                       else f"{frame.prefix}result{k}", t, "user")
                              for k, t in enumerate(frame.info.returns)]
            frame.ret_flag = self.var(f"{frame.prefix}returned", BOOL, "flag")
            self.op("id", [ir.Const(False, BOOL)], None, frame.ret_flag)
        self.stmts(body)

    def inline_call(self, e: A.Call, args: list[ir.Operand]) -> list[ir.Operand]:
        info = self.cm.funcs[e.func]
        frame = _Frame(info, f"{e.func}_")
        for (pname, ptype), a in zip(info.params, args):
            v = self.var(frame.prefix + pname, ptype, "user")
            frame.vars[pname] = v
            self.assign(v, a)
        self.frames.append(frame)
        saved_line = self.line
        self._bind_shapes(frame)
        self._check_shapes(frame, e.func)
        self._body(frame)
        self.line = saved_line
        self.frames.pop()
        return list(frame.ret_vars) if frame.ret_vars is not None else list(frame.tail_values)

    # ---- statements ---------------------------------------------------------------------
    def stmts(self, stmts: list[A.Stmt]) -> None:
        for k, st in enumerate(stmts):
            self.stmt(st)
            flags = self._exit_flags(st)
            if flags and k + 1 < len(stmts):
                self.line = stmts[k + 1].span.line
                cond = flags[0]
                for f in flags[1:]:
                    cond = self.op("or", [cond, f], BOOL)
                go_on = self.op("not", [cond], BOOL)
                rest: list[ir.Stmt] = []
                with self.into(rest):
                    self.stmts(stmts[k + 1:])
                self.block.append(ir.If(self.line, go_on, rest, []))
                return

    def _exit_flags(self, st: A.Stmt) -> list[ir.Var]:
        """Flags that ``st`` may set and that must stop the rest of the current block."""
        if isinstance(st, (A.Assign, A.AugAssign, A.TupleAssign, A.Pass, A.Assert)):
            return []
        frame = self.frame
        flags: list[ir.Var] = []
        loop = frame.loops[-1] if frame.loops else None
        body = [st]
        if loop is not None and not isinstance(st, (A.For, A.While)):
            if loop.brk is not None and _contains(body, A.Break, False):
                flags.append(loop.brk)
            if loop.cont is not None and _contains(body, A.Continue, False):
                flags.append(loop.cont)
        if frame.ret_flag is not None and _contains(body, A.Return, True):
            flags.append(frame.ret_flag)
        return flags

    def stmt(self, st: A.Stmt) -> None:
        self.line = st.span.line
        frame = self.frame
        if isinstance(st, A.Assign):
            if st.target.items is None:
                self._assign_name(st.target.name, st.value)
            else:
                self._element_write(st.target, self.expr(st.value))
        elif isinstance(st, A.AugAssign):
            prim = {"+": "add", "-": "sub", "*": "mul", "/": "div"}[st.op]
            rhs = self.expr(st.value)
            if st.target.items is None:
                v = frame.vars[st.target.name]
                self.line = st.span.line
                rhs = self.coerce(rhs, v.type) if v.type.is_float else rhs
                if prim in ("add", "sub"):       # a running sum: its adjoint passes straight through
                    self.op(prim, [v, rhs], None, v)
                else:                            # the derivative of v * e reads the old v
                    self.assign(v, self.op(prim, [v, rhs], v.type))
            else:
                old = self._element_read(st.target)
                self._element_write(st.target, self.op(prim, [old, rhs], Type(old.type.dtype, old.type.rank)
                                                       if prim != "div" else Type("float", old.type.rank)))
        elif isinstance(st, A.TupleAssign):
            values = self.expr_multi(st.value)
            for name, val in zip(st.names, values):
                self._bind(name, val)
        elif isinstance(st, A.Return):
            values = [self.coerce(self.expr(v), t) for v, t in zip(st.values, frame.info.returns)]
            if frame.ret_vars is None:
                frame.tail_values = values
                return
            for rv, val in zip(frame.ret_vars, values):
                self.assign(rv, val)
            self.op("id", [ir.Const(True, BOOL)], None, frame.ret_flag)
            for loop in frame.loops:
                if loop.brk is not None:
                    self.op("id", [ir.Const(True, BOOL)], None, loop.brk)
        elif isinstance(st, A.Break):
            self.op("id", [ir.Const(True, BOOL)], None, frame.loops[-1].brk)
        elif isinstance(st, A.Continue):
            self.op("id", [ir.Const(True, BOOL)], None, frame.loops[-1].cont)
        elif isinstance(st, A.Pass):
            pass
        elif isinstance(st, A.Assert):
            cond = self.expr(st.cond)
            self.block.append(ir.Assert(st.span.line, cond, st.message))
        elif isinstance(st, A.If):
            self._if(st.branches, st.orelse)
        elif isinstance(st, A.For):
            self._for(st)
        elif isinstance(st, A.While):
            self._while(st)
        elif isinstance(st, A.With):
            self.no_grad += 1
            self.stmts(st.body)
            self.no_grad -= 1
        else:
            raise AssertionError(type(st).__name__)

    def _bind(self, name: str, value: ir.Operand) -> None:
        frame = self.frame
        v = frame.vars.get(name)
        if v is None:
            t = frame.info.locals[name]
            v = self.var(frame.prefix + name, t, "user")
            frame.vars[name] = v
        self.assign(v, value)

    def _assign_name(self, name: str, value_expr: A.Expr) -> None:
        frame = self.frame
        mark = len(self.block)
        value = self.expr(value_expr)
        v = frame.vars.get(name)
        if v is None:
            t = frame.info.locals[name]
            v = self.var(frame.prefix + name, t, "user")
            frame.vars[name] = v
        last = self.block[-1] if len(self.block) > mark else None
        # Write the last operation straight into the variable when it is the value's producer
        # and does not read the variable (x = sin(y), not x = sin(x): the derivative rule reads
        # the old x), or is a running sum like ``x += e`` (x = x + e: its rule reads no values).
        running = isinstance(last, ir.Op) and last.prim in ("add", "sub") and last.args[0] is v and last.args[1] is not v
        if (isinstance(last, ir.Op) and last.target is value and value.kind == "temp"
                and (running or all(a is not v for a in last.args)) and value.type.dtype == v.type.dtype):
            last.target = v
            return
        self.assign(v, value)

    def _items(self, items: list) -> list[ir.Operand]:
        return [self.expr(it) for it in items]

    def _slice_bounds(self, base: ir.Operand, sl: A.Slice) -> tuple[ir.Operand, ir.Operand]:
        lo = self.expr(sl.lo) if sl.lo is not None else ir.Const(0, INT)
        hi = self.expr(sl.hi) if sl.hi is not None else self.op("dim", [base, ir.Const(0, INT)], INT)
        return lo, hi

    def _element_read(self, target: A.Target) -> ir.Operand:
        base = self.frame.vars[target.name]
        return self._index(base, target.items)

    def _element_write(self, target: A.Target, value: ir.Operand) -> None:
        base = self.frame.vars[target.name]
        items = target.items
        value = self.coerce(value, Type(base.type.dtype, value.type.rank))
        if any(isinstance(it, A.Slice) for it in items):
            lo, hi = self._slice_bounds(base, items[0])
            self.op("setslice", [base, value, lo, hi], None)
        elif len(items) == base.type.rank:
            self.op("setindex", [base, value, *self._items(items)], None)
        elif len(items) == 1:
            self.op("setrow", [base, value, self.expr(items[0])], None)
        else:
            # T[i, j] = r on a 3-D array: write into the sub-array T[i], then store that back into
            # T. Rows are values in the IR (the copy pass copies a row that is written), so a
            # write into T[i] alone would never reach T.
            idx = self._items(items)
            subs = [base]
            for i in idx[:-1]:
                subs.append(self.op("row", [subs[-1], i], Type(base.type.dtype, subs[-1].type.rank - 1)))
            self.op("setrow", [subs[-1], value, idx[-1]], None)
            for parent, sub, i in reversed(list(zip(subs, subs[1:], idx))):
                self.op("setrow", [parent, sub, i], None)

    def _if(self, branches, orelse) -> None:
        (cond_e, body), rest = branches[0], branches[1:]
        line = cond_e.span.line
        cond = self.expr(cond_e)
        then: list[ir.Stmt] = []
        other: list[ir.Stmt] = []
        with self.into(then):
            self.stmts(body)
        with self.into(other):
            if rest:
                self._if(rest, orelse)
            else:
                self.stmts(orelse)
        self.block.append(ir.If(line, cond, then, other))

    def _loop_ctx(self, body: list[A.Stmt]) -> tuple[_Loop, bool]:
        frame = self.frame
        loop = _Loop()
        returns = frame.ret_flag is not None and _contains(body, A.Return, True)
        if _contains(body, A.Break, False) or returns:
            loop.brk = self.var("broke", BOOL, "flag")
            self.op("id", [ir.Const(False, BOOL)], None, loop.brk)
        if _contains(body, A.Continue, False):
            loop.cont = self.var("skip", BOOL, "flag")
        return loop, loop.brk is not None

    def _loop_body(self, loop: _Loop, body: list[A.Stmt], tail: list[ir.Stmt]) -> list[ir.Stmt]:
        out: list[ir.Stmt] = []
        self.frame.loops.append(loop)
        with self.into(out):
            if loop.cont is not None:
                self.op("id", [ir.Const(False, BOOL)], None, loop.cont)
            self.stmts(body)
            self.block.extend(tail)
        self.frame.loops.pop()
        return out

    def _for(self, st: A.For) -> None:
        args = [self.expr(a) for a in st.iter.args]
        if len(args) == 1:
            args = [ir.Const(0, INT), args[0]]
        if len(args) == 2:
            args.append(ir.Const(1, INT))
        lo, hi, step = [a if isinstance(a, ir.Const) else self.op("id", [a], INT) for a in args]
        if isinstance(step, ir.Var):
            nonzero = self.op("ne", [step, ir.Const(0, INT)], BOOL)
            self.block.append(ir.Assert(st.span.line, nonzero, "range() step must not be zero"))
        ivar = self.var(self.frame.prefix + st.var, INT, "user")
        self.frame.vars[st.var] = ivar
        loop, early = self._loop_ctx(st.body)
        line = st.span.line
        if not early:
            body = self._loop_body(loop, st.body, [])
            self.block.append(ir.For(line, ivar, lo, hi, step, body))
        else:
            self.op("id", [lo], None, ivar)
            cond_body: list[ir.Stmt] = []
            with self.into(cond_body):
                self.line = line
                inside = self.op("range_cond", [ivar, hi, step], BOOL)
                go_on = self.op("not", [loop.brk], BOOL)
                cond = self.op("and", [inside, go_on], BOOL)
            self.line = line
            step_op = ir.Op(line, ivar, "add", [ivar, step])
            body = self._loop_body(loop, st.body, [step_op])
            self.block.append(ir.While(line, cond_body, cond, body))
        del self.frame.vars[st.var]

    def _while(self, st: A.While) -> None:
        loop, early = self._loop_ctx(st.body)
        line = st.span.line
        cond_body: list[ir.Stmt] = []
        with self.into(cond_body):
            if early:
                c = self.var("go_on", BOOL)
                self.op("not", [loop.brk], None, c)
                inner: list[ir.Stmt] = []
                with self.into(inner):
                    self.assign(c, self.expr(st.cond))
                self.block.append(ir.If(line, c, inner, []))
                cond = c
            else:
                cond = self.expr(st.cond)
        body = self._loop_body(loop, st.body, [])
        self.block.append(ir.While(line, cond_body, cond, body))

    # ---- expressions --------------------------------------------------------------------
    def expr_multi(self, e: A.Expr) -> list[ir.Operand]:
        assert isinstance(e, A.Call) and e.func in self.cm.funcs
        args = [self.expr(a) for a in e.args]
        self.line = e.span.line
        return self.inline_call(e, args)

    def expr(self, e: A.Expr) -> ir.Operand:
        t: Type = e.type
        self.line = e.span.line
        if isinstance(e, A.Num):
            return ir.Const(e.value, INT if e.is_int else FLOAT)
        if isinstance(e, A.Bool):
            return ir.Const(e.value, BOOL)
        if isinstance(e, A.Name):
            v = self.frame.vars.get(e.id)
            return v if v is not None else _const(self.cm.consts[e.id])
        if isinstance(e, A.BinOp):
            a, b = self.expr(e.left), self.expr(e.right)
            prim = {"+": "add", "-": "sub", "*": "mul", "/": "div", "//": "floordiv", "%": "mod",
                    "@": "matmul", "**": "pow"}[e.op]
            self.line = e.span.line
            if prim == "matmul":
                a, b = self._float_operands(a, b)
            elif prim == "pow":
                a = self.coerce(a, t)
            return self.op(prim, [a, b], t)
        if isinstance(e, A.UnaryOp):
            a = self.expr(e.operand)
            self.line = e.span.line
            if e.op == "-" and isinstance(a, ir.Const):
                return ir.Const(-a.value, a.type)
            return self.op("neg" if e.op == "-" else "not", [a], t)
        if isinstance(e, A.Compare):
            a, b = self.expr(e.left), self.expr(e.right)
            prim = {"<": "lt", "<=": "le", ">": "gt", ">=": "ge", "==": "eq", "!=": "ne"}[e.op]
            self.line = e.span.line
            return self.op(prim, [a, b], BOOL)
        if isinstance(e, A.BoolOp):
            r = self.var("cond", BOOL)
            self.assign(r, self.expr(e.left))
            right: list[ir.Stmt] = []
            with self.into(right):
                self.assign(r, self.expr(e.right))
            self.line = e.span.line
            if e.op == "and":
                self.block.append(ir.If(self.line, r, right, []))
            else:
                self.block.append(ir.If(self.line, r, [], right))
            return r
        if isinstance(e, A.IfExp):
            cond = self.expr(e.cond)
            r = self.var("choice", t)
            then: list[ir.Stmt] = []
            other: list[ir.Stmt] = []
            with self.into(then):
                self.assign(r, self.expr(e.then))
            with self.into(other):
                self.assign(r, self.expr(e.orelse))
            self.block.append(ir.If(e.span.line, cond, then, other))
            return r
        if isinstance(e, A.Index):
            return self._index(self.expr(e.base), e.items)
        if isinstance(e, A.Attr):
            base = self.expr(e.base)
            return self.op("transpose", [base], t)
        if isinstance(e, A.ArrayLit):
            elems = [self.coerce(self.expr(x), Type(t.dtype)) for x in e.elems]
            self.line = e.span.line
            return self.op("pack", elems, t)
        if isinstance(e, A.Call):
            if e.func in self.cm.funcs:
                values = self.expr_multi(e)
                return values[0]
            args = [self.expr(a) for a in e.args]
            self.line = e.span.line
            return self._builtin(e.func, args, t)
        raise AssertionError(type(e).__name__)

    def _index(self, base: ir.Operand, items: list) -> ir.Operand:
        bt = base.type
        if any(isinstance(it, A.Slice) for it in items):
            lo, hi = self._slice_bounds(base, items[0])
            return self.op("slice", [base, lo, hi], Type(bt.dtype, 1))
        idx = self._items(items)
        if len(idx) == bt.rank:
            return self.op("index", [base, *idx], Type(bt.dtype))
        sub = base
        for i in idx:
            sub = self.op("row", [sub, i], Type(bt.dtype, sub.type.rank - 1))
        return sub

    def _builtin(self, name: str, args: list[ir.Operand], t: Type) -> ir.Operand:
        op = self.op
        if name in UNARY_MATH or name == "pow":
            # numpy keeps int arrays int (sign, floor, power) and Numba's int ** int is an
            # integer power, so an int argument of a float-valued function becomes float first.
            return op(name, [self.coerce(args[0], t), *args[1:]], t)
        if name in ("dot", "outer"):
            return op(name, self._float_operands(*args), t)
        if name in ("maximum", "minimum", "norm", "logsumexp", "prod", "zeros", "ones", "arange"):
            return op(name, args, t)
        if name == "sum":
            return op("sum", args, t)
        if name in ("max", "min"):
            if len(args) == 1:
                return op("amax" if name == "max" else "amin", args, t)
            return op("maximum" if name == "max" else "minimum", args, t)
        if name == "mean":
            return self._mean(args[0])
        if name == "full":
            return op("full", [*args[:-1], self.coerce(args[-1], FLOAT)], t)
        if name == "eye":
            return op("eye", [args[0], args[-1]], t)
        if name == "len":
            return op("dim", [args[0], ir.Const(0, INT)], INT)
        if name == "float":
            return self.coerce(args[0], FLOAT) if args[0].type.dtype == "int" else args[0]
        if name == "int":
            return op("to_int", args, INT) if args[0].type.dtype == "float" else args[0]
        if name == "transpose":
            return op("transpose", args, t)
        if name == "reshape":
            return op("reshape", args, t)
        if name in ("stop_gradient", "detach"):
            return op("stop_gradient", args, t)
        if name == "bce_with_logits":
            z, y = args
            loss = op("sub", [op("softplus", [z], z.type.with_dtype("float")), op("mul", [z, y], Type("float", z.type.rank))],
                      Type("float", z.type.rank))
            return self._mean(loss) if loss.type.rank else loss
        if name == "mse":
            a, b = args
            d = op("sub", [a, b], Type("float", max(a.type.rank, b.type.rank)))
            sq = op("mul", [d, d], d.type)
            return self._mean(sq) if sq.type.rank else sq
        if name == "softmax":
            z = args[0]
            shift = op("stop_gradient", [op("amax", [z], FLOAT)], FLOAT)
            e = op("exp", [op("sub", [z, shift], z.type)], z.type)
            return op("div", [e, op("sum", [e], FLOAT)], z.type)
        if name == "log_softmax":
            z = args[0]
            return op("sub", [z, op("logsumexp", [z], FLOAT)], z.type)
        if name == "cross_entropy":
            z, label = args
            return op("sub", [op("logsumexp", [z], FLOAT), op("index", [z, label], FLOAT)], FLOAT)
        raise AssertionError(f"builtin {name} has no lowering")

    def _float_operands(self, *args: ir.Operand) -> list[ir.Operand]:
        """Products of arrays run through numpy's dot, which Numba allows on float arrays only."""
        return [self.coerce(a, FLOAT) for a in args]

    def _mean(self, x: ir.Operand) -> ir.Operand:
        total = self.op("sum", [x], FLOAT)
        count = self.op("to_float", [self.op("size", [x], INT)], FLOAT)
        return self.op("div", [total, count], FLOAT)


def lower_function(cm: CheckedModule, name: str) -> ir.Function:
    """The IR of module function ``name``, with every call inlined."""
    return Lowerer(cm).function(name)
