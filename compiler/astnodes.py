"""AST of a .ad module: small dataclasses named after grammar rules, each with a source span.

The checker fills ``Expr.type``; later stages read it and never re-derive types.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import Span


@dataclass(eq=False)
class Node:
    span: Span


@dataclass(eq=False)
class Expr(Node):
    type: Any = field(default=None, init=False, repr=False)


@dataclass(eq=False)
class Name(Expr):
    id: str


@dataclass(eq=False)
class Num(Expr):
    value: int | float
    is_int: bool


@dataclass(eq=False)
class Bool(Expr):
    value: bool


@dataclass(eq=False)
class BinOp(Expr):
    op: str          # + - * / // % @ **
    left: Expr
    right: Expr


@dataclass(eq=False)
class UnaryOp(Expr):
    op: str          # - + not
    operand: Expr


@dataclass(eq=False)
class Compare(Expr):
    op: str          # < <= > >= == !=
    left: Expr
    right: Expr


@dataclass(eq=False)
class BoolOp(Expr):
    op: str          # and / or (short-circuit)
    left: Expr
    right: Expr


@dataclass(eq=False)
class IfExp(Expr):
    cond: Expr
    then: Expr
    orelse: Expr


@dataclass(eq=False)
class Call(Expr):
    func: str
    args: list[Expr]
    func_span: Span


@dataclass(eq=False)
class Slice(Node):
    lo: Expr | None
    hi: Expr | None


@dataclass(eq=False)
class Index(Expr):
    base: Expr
    items: list[Expr | Slice]


@dataclass(eq=False)
class Attr(Expr):
    base: Expr
    name: str


@dataclass(eq=False)
class ArrayLit(Expr):
    elems: list[Expr]


@dataclass(eq=False)
class TypeExpr(Node):
    base: str
    dims: list[str | int]


@dataclass(eq=False)
class Stmt(Node):
    pass


@dataclass(eq=False)
class Target(Node):
    name: str
    items: list[Expr | Slice] | None = None     # None: plain name; else an element/row/slice write


@dataclass(eq=False)
class Assign(Stmt):
    target: Target
    value: Expr


@dataclass(eq=False)
class AugAssign(Stmt):
    target: Target
    op: str          # + - * /
    value: Expr


@dataclass(eq=False)
class TupleAssign(Stmt):
    names: list[str]
    name_spans: list[Span]
    value: Expr


@dataclass(eq=False)
class Return(Stmt):
    values: list[Expr]


@dataclass(eq=False)
class Break(Stmt):
    pass


@dataclass(eq=False)
class Continue(Stmt):
    pass


@dataclass(eq=False)
class Pass(Stmt):
    pass


@dataclass(eq=False)
class Assert(Stmt):
    cond: Expr
    message: str


@dataclass(eq=False)
class If(Stmt):
    branches: list[tuple[Expr, list[Stmt]]]
    orelse: list[Stmt]


@dataclass(eq=False)
class For(Stmt):
    var: str
    iter: Expr
    body: list[Stmt]


@dataclass(eq=False)
class While(Stmt):
    cond: Expr
    body: list[Stmt]


@dataclass(eq=False)
class With(Stmt):
    name: str
    body: list[Stmt]


@dataclass(eq=False)
class Param(Node):
    name: str
    type: TypeExpr


@dataclass(eq=False)
class FuncDef(Node):
    name: str
    params: list[Param]
    returns: list[TypeExpr]
    returns_tuple: bool
    body: list[Stmt]


@dataclass(eq=False)
class ConstDef(Node):
    name: str
    value: Expr


@dataclass(eq=False)
class Module(Node):
    consts: list[ConstDef]
    funcs: list[FuncDef]
    filename: str = "<string>"
    source: str = ""
