"""The checker: names, types, ranks, int/float promotion, control-flow rules, no recursion.

``check(module)`` annotates every expression with its ``Type`` and returns a ``CheckedModule``
(function signatures, local variable types, constant values, the call graph). Every problem is an
``AdError`` at the offending span; nothing later in the pipeline re-checks user input.
"""
from __future__ import annotations

import difflib
import keyword
import math
from dataclasses import dataclass, field

from . import astnodes as A
from .builtins import RESERVED, SIGNATURES, BuiltinTypeError
from .errors import AdError, Span
from .types import BOOL, FLOAT, INT, Type, assignable, promote

_INT_MAX = 2 ** 63 - 1
_CONST_FUNCS = ("sqrt", "exp", "log", "sin", "cos")


@dataclass
class FuncInfo:
    """What the checker learned about one function."""

    node: A.FuncDef
    params: list[tuple[str, Type]]
    returns: list[Type]
    shape_vars: dict[str, tuple[str, int]] = field(default_factory=dict)   # n -> (param, axis)
    locals: dict[str, Type] = field(default_factory=dict)
    calls: list[tuple[str, Span]] = field(default_factory=list)
    mutated: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def result_type(self) -> Type | tuple[Type, ...]:
        return tuple(self.returns) if self.node.returns_tuple else self.returns[0]


@dataclass
class CheckedModule:
    module: A.Module
    consts: dict[str, int | float | bool]
    funcs: dict[str, FuncInfo]


def _err(message: str, span: Span | None, hint: str | None = None) -> AdError:
    return AdError("type error", message, span, hint)


def _nearest(name: str, candidates) -> str | None:
    match = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.6)
    return f"did you mean '{match[0]}'?" if match else None


def _valid_name(name: str, span: Span, what: str) -> None:
    if keyword.iskeyword(name) or name.startswith("__") or name in RESERVED:
        raise _err(f"'{name}' cannot be used as a {what} name", span,
                   "names of builtins, Python keywords and names starting with '__' are reserved")


def _type_of(texpr: A.TypeExpr) -> Type:
    if texpr.base not in ("float", "int", "bool"):
        raise _err(f"unknown type '{texpr.base}'", texpr.span, _nearest(texpr.base, ("float", "int", "bool"))
                   or "the types are float, int and bool, and arrays such as float[n] or int[n]")
    if texpr.base == "bool" and texpr.dims:
        raise _err("arrays of bool are not supported", texpr.span)
    return Type(texpr.base, len(texpr.dims), tuple(texpr.dims) if texpr.dims else None)


def _int_literal(e: A.Num) -> None:
    if e.is_int and e.value > _INT_MAX:
        raise _err(f"integer literal {e.value} does not fit in a 64-bit int", e.span,
                   "write it as a float, e.g. 1e20")


def _assignments(stmts: list[A.Stmt], out: dict[str, Span] | None = None) -> dict[str, Span]:
    """Every name a block binds (assignments and loop variables), with its first binding in source order."""
    out = {} if out is None else out
    for st in stmts:
        if isinstance(st, A.Assign) and st.target.items is None:
            out.setdefault(st.target.name, st.target.span)
        elif isinstance(st, A.TupleAssign):
            for name, span in zip(st.names, st.name_spans):
                out.setdefault(name, span)
        elif isinstance(st, A.For):
            out.setdefault(st.var, st.span)
        if isinstance(st, A.If):
            for _, body in st.branches:
                _assignments(body, out)
            _assignments(st.orelse, out)
        elif isinstance(st, (A.For, A.While, A.With)):
            _assignments(st.body, out)
    return out


class _Scope:
    """Per-function state while checking: declared types and definitely-assigned names."""

    def __init__(self, info: FuncInfo, consts: dict):
        self.info = info
        self.consts = consts
        self.types: dict[str, Type] = {}
        self.first_def: dict[str, Span] = {}
        self.defined: set[str] = set()
        self.loop_depth = 0
        self.loop_vars: list[str] = []
        self.ended_loops: set[str] = set()
        self.bound_later: dict[str, Span] = {}
        self.no_grad = 0


class Checker:
    def __init__(self, module: A.Module):
        self.module = module
        self.consts: dict[str, int | float | bool] = {}
        self.const_types: dict[str, Type] = {}
        self.funcs: dict[str, FuncInfo] = {}

    # ---- module level -------------------------------------------------------------------
    def run(self) -> CheckedModule:
        for c in self.module.consts:
            _valid_name(c.name, c.span, "constant")
            if c.name in self.consts:
                raise _err(f"constant '{c.name}' is defined twice", c.span)
            value = self._const_value(c.value)
            self.consts[c.name] = value
            self.const_types[c.name] = BOOL if isinstance(value, bool) else INT if isinstance(value, int) else FLOAT
        for f in self.module.funcs:
            _valid_name(f.name, f.span, "function")
            if f.name in self.funcs:
                raise _err(f"function '{f.name}' is defined twice", f.span)
            if f.name in self.consts:
                raise _err(f"'{f.name}' is already a constant", f.span)
            self.funcs[f.name] = self._signature(f)
        for info in self.funcs.values():
            self._check_function(info)
        self._check_recursion()
        return CheckedModule(self.module, self.consts, self.funcs)

    def _const_value(self, e: A.Expr):
        if isinstance(e, A.Num):
            _int_literal(e)
            e.type = INT if e.is_int else FLOAT
            return e.value
        if isinstance(e, A.Bool):
            e.type = BOOL
            return e.value
        if isinstance(e, A.Name):
            if e.id not in self.consts:
                raise _err(f"unknown constant '{e.id}' in a constant expression", e.span,
                           _nearest(e.id, self.consts))
            return self.consts[e.id]
        if isinstance(e, A.UnaryOp) and e.op == "-":
            return -self._const_value(e.operand)
        if isinstance(e, A.BinOp) and e.op in ("+", "-", "*", "/", "**", "//", "%"):
            a, b = self._const_value(e.left), self._const_value(e.right)
            try:
                return {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "/": lambda: a / b,
                        "**": lambda: a ** b, "//": lambda: a // b, "%": lambda: a % b}[e.op]()
            except (ZeroDivisionError, OverflowError, ValueError) as exc:
                raise _err(f"constant expression fails: {exc}", e.span) from None
        if isinstance(e, A.Call):
            if e.func not in _CONST_FUNCS or len(e.args) != 1:
                raise _err(f"'{e.func}(...)' cannot be used in a constant expression", e.span,
                           "constants may call " + ", ".join(_CONST_FUNCS) + " with one argument")
            try:
                return getattr(math, e.func)(self._const_value(e.args[0]))
            except (ValueError, OverflowError) as exc:
                raise _err(f"constant expression fails: {exc}", e.span) from None
        raise _err("a constant must be a literal or arithmetic on literals and other constants", e.span)

    def _constant_dims(self, texpr: A.TypeExpr) -> None:
        """A module constant used as a dimension (``float[N]``) stands for its value."""
        for k, d in enumerate(texpr.dims):
            if isinstance(d, str) and d in self.consts:
                value = self.consts[d]
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise _err(f"dimension '{d}' is the constant {value!r}, not a size", texpr.span,
                               "a dimension is a name bound from the arguments or a non-negative int")
                texpr.dims[k] = value

    def _signature(self, f: A.FuncDef) -> FuncInfo:
        for texpr in [p.type for p in f.params] + list(f.returns):
            self._constant_dims(texpr)
        params, seen = [], set()
        shape_vars: dict[str, tuple[str, int]] = {}
        for p in f.params:
            _valid_name(p.name, p.span, "parameter")
            if p.name in seen:
                raise _err(f"parameter '{p.name}' appears twice", p.span)
            seen.add(p.name)
            t = _type_of(p.type)
            params.append((p.name, t))
            for axis, d in enumerate(p.type.dims):
                if isinstance(d, str):
                    _valid_name(d, p.type.span, "shape variable")
                    shape_vars.setdefault(d, (p.name, axis))
        for p in f.params:
            if p.name in shape_vars:
                raise _err(f"'{p.name}' is both a parameter and a shape variable", p.span,
                           f"drop the parameter '{p.name}': its value comes from the shape of "
                           f"'{shape_vars[p.name][0]}'")
        returns = [_type_of(t) for t in f.returns]
        return FuncInfo(f, params, returns, shape_vars)

    def _check_recursion(self) -> None:
        graph = {name: [c for c, _ in info.calls] for name, info in self.funcs.items()}
        state: dict[str, int] = {}

        def visit(name: str, path: list[str]):
            state[name] = 1
            for callee, span in self.funcs[name].calls:
                if state.get(callee) == 1:
                    cycle = path[path.index(callee):] + [callee]
                    raise _err("recursion is not supported: " + " -> ".join(cycle), span,
                               "rewrite the recursion as a loop")
                if callee not in state:
                    visit(callee, path + [callee])
            state[name] = 2

        for name in graph:
            if name not in state:
                visit(name, [name])

    # ---- functions ----------------------------------------------------------------------
    def _check_function(self, info: FuncInfo) -> None:
        s = _Scope(info, self.consts)
        for name, t in info.params:
            s.types[name] = t
            s.defined.add(name)
            s.first_def[name] = info.node.span
        for d in info.shape_vars:
            s.types[d] = INT
            s.defined.add(d)
        s.bound_later = _assignments(info.node.body)
        self.scope = s
        falls_through = self._block(info.node.body)
        if falls_through:
            last = info.node.body[-1]
            raise _err(f"function '{info.name}' can reach its end without returning a value",
                       self._first_line(last),
                       f"add a 'return' at the end of '{info.name}'")
        info.locals = dict(s.types)

    def _block(self, stmts: list[A.Stmt]) -> bool:
        """Check statements; return whether control can fall through the end of the block."""
        for i, st in enumerate(stmts):
            if not self._stmt(st):
                if i + 1 < len(stmts):
                    raise _err("unreachable statement", self._first_line(stmts[i + 1]),
                               "nothing after return, break or continue in the same block runs")
                return False
        return True

    def _first_line(self, st: A.Stmt) -> Span:
        """The code on the first line of ``st`` (some statements' spans point inside the statement)."""
        lines = self.module.source.splitlines()
        if not 0 < st.span.line <= len(lines):
            return st.span
        text = lines[st.span.line - 1]
        code = text.split("#", 1)[0] if '"' not in text and "'" not in text else text
        return Span(st.span.line, len(text) - len(text.lstrip()) + 1, len(code.rstrip()) + 1)

    def _declare(self, name: str, t: Type, span: Span) -> None:
        s = self.scope
        if name in self.consts:
            raise _err(f"cannot assign to constant '{name}'", span)
        if name in s.info.shape_vars:
            raise _err(f"cannot assign to shape variable '{name}'", span,
                       "shape variables are fixed by the arguments' shapes")
        if name in s.loop_vars:
            raise _err(f"cannot assign to loop variable '{name}' inside its loop", span)
        if name in self.funcs:
            raise _err(f"'{name}' is a function and cannot be assigned", span)
        if name in s.types:
            old = s.types[name]
            if not assignable(old, t):
                line = s.first_def[name].line
                hint = "a variable keeps one type and rank; use a new name"
                if old == INT and t == FLOAT:
                    hint = f"to hold floats, make '{name}' a float from the start, e.g. '{name} = 0.0'"
                raise _err(f"'{name}' has type {old} (from line {line}) and cannot be assigned a {t}", span,
                           hint)
        else:
            _valid_name(name, span, "variable")
            s.types[name] = Type(t.dtype, t.rank)
            s.first_def[name] = span
        s.defined.add(name)

    def _stmt(self, st: A.Stmt) -> bool:
        s = self.scope
        if isinstance(st, A.Assign):
            t = self._expr(st.value)
            if isinstance(t, tuple) and st.target.items is None:
                raise _err(f"cannot assign {len(t)} values {_fmt(t)} to one name", st.value.span,
                           "unpack them into names, e.g. '" + ", ".join("abcdefgh"[:len(t)]) + " = ...'")
            if st.target.items is None:
                self._declare(st.target.name, t, st.target.span)
            else:
                self._element_write(st.target, t, st.value.span)
            return True
        if isinstance(st, A.AugAssign):
            t = self._expr(st.value)
            name = st.target.name
            if st.target.items is None and not (name in s.types or name in self.consts or name in self.funcs):
                raise _err(f"'{name}' is updated with '{st.op}=' before it is assigned", st.target.span,
                           f"assign it first, e.g. '{name} = 0.0'")
            if st.target.items is None:
                old = self._lookup(st.target.name, st.target.span)
                self._arith_type(st.op, old, t, st.span)
                self._declare(st.target.name, self._arith_type(st.op, old, t, st.span), st.target.span)
            else:
                elem = self._element_type(st.target)
                self._arith_type(st.op, elem, t, st.span)
                self._element_write(st.target, self._arith_type(st.op, elem, t, st.span), st.value.span)
            return True
        if isinstance(st, A.TupleAssign):
            t = self._expr(st.value)
            if not isinstance(t, tuple):
                raise _err(f"cannot unpack {t} into {len(st.names)} names", st.value.span,
                           "only calls of functions that return a tuple can be unpacked")
            if len(t) != len(st.names):
                raise _err(f"cannot unpack {len(t)} values into {len(st.names)} names", st.value.span)
            for i, name in enumerate(st.names):
                if name in st.names[:i]:
                    raise _err(f"'{name}' appears twice on the left of '='", st.name_spans[i])
            for name, span, elem in zip(st.names, st.name_spans, t):
                self._declare(name, elem, span)
            return True
        if isinstance(st, A.Return):
            want = s.info.returns
            if len(st.values) != len(want):
                raise _err(f"'{s.info.name}' returns {len(want)} value(s), this returns {len(st.values)}",
                           st.span)
            for i, (v, w) in enumerate(zip(st.values, want)):
                t = self._expr(v)
                if isinstance(t, tuple) or not assignable(w, t):
                    which = f"return value {i + 1}" if len(want) > 1 else "return value"
                    raise _err(f"{which} has type {_fmt(t)}, but '{s.info.name}' declares {w}", v.span)
            return False
        if isinstance(st, (A.Break, A.Continue)):
            if s.loop_depth == 0:
                word = "break" if isinstance(st, A.Break) else "continue"
                raise _err(f"'{word}' outside a loop", st.span)
            return False
        if isinstance(st, A.Pass):
            return True
        if isinstance(st, A.Assert):
            self._cond(st.cond, "assert")
            return True
        if isinstance(st, A.If):
            return self._if(st)
        if isinstance(st, A.For):
            return self._for(st)
        if isinstance(st, A.While):
            self._cond(st.cond, "while")
            before = set(s.defined)
            s.loop_depth += 1
            self._block(st.body)
            s.loop_depth -= 1
            s.defined = before
            return True
        if isinstance(st, A.With):
            if st.name != "no_grad":
                raise _err(f"unknown context '{st.name}'", st.span, "the only context is 'with no_grad:'")
            s.no_grad += 1
            falls = self._block(st.body)
            s.no_grad -= 1
            return falls
        raise AssertionError(f"unhandled statement {type(st).__name__}")

    def _if(self, st: A.If) -> bool:
        s = self.scope
        before = set(s.defined)
        outs: list[set[str]] = []
        any_falls = False
        for cond, body in st.branches:
            s.defined = set(before)
            self._cond(cond, "if")
            if self._block(body):
                outs.append(set(s.defined))
                any_falls = True
        s.defined = set(before)
        if self._block(st.orelse):
            outs.append(set(s.defined))
            any_falls = True
        s.defined = set.intersection(*outs) if outs else before
        return any_falls

    def _for(self, st: A.For) -> bool:
        s = self.scope
        it = st.iter
        if not (isinstance(it, A.Call) and it.func == "range"):
            raise _err("a for loop iterates over range(...)", it.span,
                       "write 'for i in range(n):' and index the array with i")
        if not 1 <= len(it.args) <= 3:
            raise _err(f"range() takes 1 to 3 arguments, got {len(it.args)}", it.span)
        for a in it.args:
            if self._expr(a) != INT:
                raise _err(f"range() arguments must be int, got {_fmt(a.type)}", a.span,
                           "convert with int(...)")
        if len(it.args) == 3 and isinstance(it.args[2], A.Num) and it.args[2].value == 0:
            raise _err("range() step must not be zero", it.args[2].span)
        it.type = INT
        if st.var in s.types and st.var not in s.loop_vars:
            raise _err(f"loop variable '{st.var}' is already a variable of this function", st.span,
                       "use a fresh name for the loop variable")
        if st.var in s.loop_vars:
            raise _err(f"loop variable '{st.var}' is already used by an enclosing loop", st.span)
        _valid_name(st.var, st.span, "loop variable")
        s.types[st.var] = INT
        s.first_def[st.var] = st.span
        before = set(s.defined)
        s.defined.add(st.var)
        s.loop_vars.append(st.var)
        s.loop_depth += 1
        self._block(st.body)
        s.loop_depth -= 1
        s.loop_vars.pop()
        del s.types[st.var]
        s.ended_loops.add(st.var)
        s.info.locals[f"{st.var}"] = INT
        s.defined = before
        return True

    def _cond(self, e: A.Expr, what: str) -> None:
        t = self._expr(e)
        if t != BOOL:
            hint = "compare with a number, e.g. 'x > 0'" if t in (INT, FLOAT) else None
            if isinstance(t, Type) and t.rank > 0:
                hint = "reduce the array first, e.g. 'sum(x) > 0' or 'norm(x) < 1'"
            raise _err(f"the condition of '{what}' must be a bool, got {_fmt(t)}", e.span, hint)

    def _lookup(self, name: str, span: Span) -> Type:
        s = self.scope
        if name in s.types:
            if name not in s.defined:
                raise _err(f"'{name}' may be used before it is assigned", span,
                           "assign it on every path (e.g. before the if/loop) first")
            return s.types[name]
        if name in self.consts:
            return self.const_types[name]
        if name in self.funcs:
            raise _err(f"'{name}' is a function; call it with arguments", span)
        if name in s.ended_loops:
            raise _err(f"loop variable '{name}' does not exist after its loop", span,
                       "copy it into another variable inside the loop if you need it later")
        if name in s.bound_later:
            raise _err(f"'{name}' is used before it is assigned", span,
                       f"it is first assigned on line {s.bound_later[name].line}")
        cands = set(s.types) | set(self.consts)
        if name in ("true", "false"):
            hint = f"did you mean '{name.capitalize()}'?"
        else:
            hint = _nearest(name, cands)
        raise _err(f"unknown name '{name}'", span, hint)

    # ---- element writes -----------------------------------------------------------------
    def _element_type(self, target: A.Target) -> Type:
        base = self._lookup(target.name, target.span)
        if base.rank == 0:
            raise _err(f"'{target.name}' has type {base}, not an array; it cannot be indexed", target.span)
        return self._index_type(base, target.items, target.span)

    def _element_write(self, target: A.Target, value: Type, span: Span) -> None:
        elem = self._element_type(target)
        if elem.dtype == "int" and isinstance(value, Type) and value.dtype == "float":
            raise _err(f"cannot store a float into the int array '{target.name}'", span,
                       "convert with int(...)")
        if isinstance(value, tuple) or not (assignable(elem, value) or (value.rank == 0 and value.is_numeric
                                                                         and elem.dtype == "float")):
            raise _err(f"cannot store a {_fmt(value)} into {target.name}[...] of type {elem}", span)
        self.scope.info.mutated.add(target.name)

    def _index_type(self, base: Type, items: list, span: Span) -> Type:
        if len(items) > base.rank:
            raise _err(f"too many indices: {len(items)} for a {base.rank}-D array", span)
        slices = [it for it in items if isinstance(it, A.Slice)]
        for it in items:
            if isinstance(it, A.Slice):
                for bound in (it.lo, it.hi):
                    if bound is not None and self._expr(bound) != INT:
                        raise _err(f"slice bounds must be int, got {_fmt(bound.type)}", bound.span)
            else:
                t = self._expr(it)
                if t != INT:
                    hint = "convert with int(...)" if t == FLOAT else None
                    raise _err(f"array indices must be int, got {_fmt(t)}", it.span, hint)
        if slices and (base.rank != 1 or len(items) != 1):
            raise _err("slices are supported on 1-D arrays only (x[lo:hi])", slices[0].span)
        if slices:
            return Type(base.dtype, 1)
        return Type(base.dtype, base.rank - len(items))

    # ---- expressions --------------------------------------------------------------------
    def _expr(self, e: A.Expr):
        t = self._expr_inner(e)
        e.type = t
        return t

    def _arith_type(self, op: str, a, b, span: Span) -> Type:
        if isinstance(a, tuple) or isinstance(b, tuple):
            raise _err("a tuple cannot be used in arithmetic; unpack it first", span)
        if op == "@":
            if not (a.is_numeric and b.is_numeric) or a.rank == 0 or b.rank == 0 or a.rank > 2 or b.rank > 2:
                raise _err(f"'@' needs 1-D or 2-D arrays, got {a} @ {b}", span,
                           "use '*' to multiply by a scalar" if 0 in (a.rank, b.rank) else None)
            return Type("float", {(2, 2): 2, (2, 1): 1, (1, 2): 1, (1, 1): 0}[(a.rank, b.rank)])
        dtype = promote(a, b)
        if dtype is None:
            raise _err(f"unsupported operand types for '{op}': {a} and {b}", span,
                       "arithmetic works on int and float values" if BOOL in (a, b) else None)
        if op in ("//", "%"):
            if a != INT or b != INT:
                raise _err(f"'{op}' works on int scalars, got {a} and {b}", span,
                           "use floor(a / b) for floats" if op == "//" else None)
            return INT
        if op in ("/", "**"):
            dtype = "float"      # as in Python, 2 / 4 and 2 ** -1 are not integers
        return Type(dtype, max(a.rank, b.rank))

    def _expr_inner(self, e: A.Expr):
        if isinstance(e, A.Num):
            _int_literal(e)
            return INT if e.is_int else FLOAT
        if isinstance(e, A.Bool):
            return BOOL
        if isinstance(e, A.Name):
            return self._lookup(e.id, e.span)
        if isinstance(e, A.BinOp):
            return self._arith_type(e.op, self._expr(e.left), self._expr(e.right), e.span)
        if isinstance(e, A.UnaryOp):
            t = self._expr(e.operand)
            if e.op == "not":
                if t != BOOL:
                    raise _err(f"'not' needs a bool, got {_fmt(t)}", e.span)
                return BOOL
            if isinstance(t, tuple) or not t.is_numeric:
                raise _err(f"cannot negate a {_fmt(t)}", e.span)
            return t
        if isinstance(e, A.Compare):
            a, b = self._expr(e.left), self._expr(e.right)
            if isinstance(a, tuple) or isinstance(b, tuple) or a.rank or b.rank:
                raise _err(f"comparisons work on scalars, got {_fmt(a)} {e.op} {_fmt(b)}", e.span,
                           "reduce arrays first, e.g. 'sum(x) > 0'")
            if a == BOOL or b == BOOL:
                if e.op not in ("==", "!=") or a != b:
                    raise _err(f"cannot compare {a} {e.op} {b}", e.span)
            return BOOL
        if isinstance(e, A.BoolOp):
            for side in (e.left, e.right):
                t = self._expr(side)
                if t != BOOL:
                    raise _err(f"'{e.op}' needs bool operands, got {_fmt(t)}", side.span,
                               "compare first, e.g. 'x > 0'")
            return BOOL
        if isinstance(e, A.IfExp):
            self._cond(e.cond, "if")
            a, b = self._expr(e.then), self._expr(e.orelse)
            if isinstance(a, tuple) or isinstance(b, tuple) or a.rank != b.rank or promote(a, b) is None and a != b:
                raise _err(f"both branches of a conditional expression need one type, got {_fmt(a)} and {_fmt(b)}",
                           e.span)
            return a if a == b else Type(promote(a, b), a.rank)
        if isinstance(e, A.Index):
            base = self._expr(e.base)
            if isinstance(base, tuple) or base.rank == 0:
                what = f"a {_fmt(base)}"
                if isinstance(e.base, A.Name):
                    what = f"'{e.base.id}' has type {_fmt(base)}"
                raise _err(f"{what}, not an array; it cannot be indexed", e.base.span)
            return self._index_type(base, e.items, e.span)
        if isinstance(e, A.Attr):
            base = self._expr(e.base)
            if e.name != "T":
                raise _err(f"unknown attribute '.{e.name}'", e.span, "the only attribute is '.T' (transpose)")
            if isinstance(base, tuple) or base.rank != 2:
                raise _err(f"'.T' needs a 2-D array, got {_fmt(base)}", e.span)
            return base
        if isinstance(e, A.ArrayLit):
            if not e.elems:
                raise _err("an array literal needs at least one element", e.span, "use zeros(n) for empty arrays")
            types = [self._expr(x) for x in e.elems]
            for x, t in zip(e.elems, types):
                if isinstance(t, tuple) or t.rank != 0 or not t.is_numeric:
                    raise _err(f"array literal elements must be numbers, got {_fmt(t)}", x.span)
            return Type("float" if any(t.dtype == "float" for t in types) else "int", 1)
        if isinstance(e, A.Call):
            return self._call(e)
        raise AssertionError(f"unhandled expression {type(e).__name__}")

    def _call(self, e: A.Call):
        s = self.scope
        if e.func == "range":
            raise _err("range() can only be used in 'for i in range(...)'", e.func_span)
        if e.func in self.funcs:
            callee = self.funcs[e.func]
            if len(e.args) != len(callee.params):
                raise _err(f"'{e.func}' takes {len(callee.params)} argument(s), got {len(e.args)}", e.span)
            for arg, (pname, ptype) in zip(e.args, callee.params):
                t = self._expr(arg)
                if isinstance(t, tuple) or not assignable(ptype, t):
                    raise _err(f"argument '{pname}' of '{e.func}' expects {ptype}, got {_fmt(t)}", arg.span)
            s.info.calls.append((e.func, e.func_span))
            return callee.result_type
        if e.func in s.types or e.func in self.consts:
            t = s.types.get(e.func) or self.const_types[e.func]
            raise _err(f"'{e.func}' is a variable of type {t}, not a function", e.func_span)
        if e.func not in SIGNATURES:
            hint = _nearest(e.func, set(SIGNATURES) | set(self.funcs))
            raise _err(f"unknown function '{e.func}'", e.func_span, hint)
        lo, hi, rule = SIGNATURES[e.func]
        if not lo <= len(e.args) <= hi:
            want = str(lo) if lo == hi else f"{lo} to {hi}"
            raise _err(f"{e.func}() takes {want} argument(s), got {len(e.args)}", e.span)
        types = [self._expr(a) for a in e.args]
        for a, t in zip(e.args, types):
            if isinstance(t, tuple):
                raise _err("a tuple cannot be passed to a builtin; unpack it first", a.span)
        try:
            return rule(types)
        except BuiltinTypeError as exc:
            span = e.args[exc.arg].span if exc.arg is not None else e.span
            raise _err(f"{e.func}(): {exc}", span) from None


def _fmt(t) -> str:
    if isinstance(t, tuple):
        return "(" + ", ".join(str(x) for x in t) + ")"
    return str(t)


def check(module: A.Module) -> CheckedModule:
    """Type-check a parsed module; raise ``AdError`` located in the module's file."""
    try:
        return Checker(module).run()
    except AdError as err:
        raise err.located(module.filename, module.source) from None
