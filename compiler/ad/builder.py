"""A small IR builder for derivative code: emits ops into a list and folds the obvious algebra
(``g * 1``, ``x + 0``, ``x ** 1``, constants), so generated adjoints read like hand-written ones."""
from __future__ import annotations

import operator

from .. import ir
from ..types import FLOAT, Type

_FOLD = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv}


def _is(o: ir.Operand, value) -> bool:
    return isinstance(o, ir.Const) and not isinstance(o.value, bool) and o.value == value


def const(value: float) -> ir.Const:
    return ir.Const(float(value), FLOAT)


class Builder:
    def __init__(self, fn: ir.Function, out: list[ir.Stmt], line: int = 0, made: set | None = None):
        self.fn = fn
        self.out = out
        self.line = line
        self.made = made if made is not None else set()   # every value this builder created

    def new(self, base: str, t: Type, kind: str = "temp") -> ir.Var:
        v = ir.Var(self.fn.fresh(base), Type(t.dtype, t.rank), kind)
        self.made.add(v)
        return v

    def emit(self, prim: str, args: list[ir.Operand], t: Type | None, target: ir.Var | None = None,
             name: str = "d") -> ir.Var | None:
        if target is None and t is not None:
            target = self.new(name, t)
        self.out.append(ir.Op(self.line, target, prim, list(args)))
        return target

    def _ftype(self, *xs: ir.Operand) -> Type:
        return Type("float", max(x.type.rank for x in xs))

    def binary(self, prim: str, a: ir.Operand, b: ir.Operand) -> ir.Operand:
        if isinstance(a, ir.Const) and isinstance(b, ir.Const) and prim in _FOLD and not (prim == "div" and b.value == 0):
            return const(_FOLD[prim](a.value, b.value))
        if prim == "mul":
            if _is(a, 1):
                return b if b.type.is_float or b.type.rank else self.emit("to_float", [b], FLOAT)
            if _is(b, 1):
                return a
            if _is(a, -1):
                return self.neg(b)
            if _is(b, -1):
                return self.neg(a)
        if prim == "add":
            if _is(a, 0):
                return b
            if _is(b, 0):
                return a
        if prim == "sub" and _is(b, 0):
            return a
        if prim == "div" and _is(b, 1):
            return a
        return self.emit(prim, [a, b], self._ftype(a, b))

    def add(self, a, b):
        return self.binary("add", a, b)

    def sub(self, a, b):
        return self.binary("sub", a, b)

    def mul(self, a, b, *more):
        out = self.binary("mul", a, b)
        for m in more:
            out = self.binary("mul", out, m)
        return out

    def div(self, a, b):
        return self.binary("div", a, b)

    def neg(self, a):
        if isinstance(a, ir.Const):
            return ir.Const(-a.value, a.type)
        return self.emit("neg", [a], self._ftype(a))

    def pow(self, a, p):
        if _is(p, 1):
            return a
        if _is(p, 0):
            return const(1.0)
        return self.emit("pow", [a, p], self._ftype(a, p))

    def call(self, prim: str, *args: ir.Operand, rank: int | None = None) -> ir.Var:
        t = Type("float", max(a.type.rank for a in args) if rank is None else rank)
        return self.emit(prim, list(args), t)
