"""The IR ("explicit graph"): typed values, primitive operations and structured regions.

A function body is a list of statements:

* ``Op``     ``target = prim(args)``; a primitive from ``primitives.PRIMS``. Primitives marked
  *mutating* (``setindex``, ``push``, ...) write into ``args[0]`` in place and have no target.
* ``For``    a counted loop over ``range(lo, hi, step)`` with a body region.
* ``While``  a condition region (statements computing ``cond``) and a body region.
* ``If``     two regions.
* ``Assert`` a run-time check; ``Return`` ends the function (only as its last statement).

Values are ``Var`` (a named, typed storage location) or ``Const``. Temporaries made by the
lowering are defined once; user variables keep their source names and may be reassigned. There
is no ``break``/``continue``/early ``return``: the lowering turns them into flags, so every later
stage sees only these forms. Every statement carries the ``.ad`` line it came from.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

from .types import Type


@dataclass(eq=False)
class Var:
    name: str
    type: Type
    kind: str = "temp"       # temp | user | param | flag | adjoint | tape

    def __repr__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Const:
    value: int | float | bool
    type: Type

    def __repr__(self) -> str:
        return repr(self.value)


Operand = Var | Const


@dataclass(eq=False)
class Stmt:
    line: int


@dataclass(eq=False)
class Op(Stmt):
    target: Var | None
    prim: str
    args: list[Operand]
    nograd: bool = False      # inside `with no_grad:` or otherwise carrying no derivative


@dataclass(eq=False)
class For(Stmt):
    var: Var
    lo: Operand
    hi: Operand
    step: Operand
    body: list[Stmt]


@dataclass(eq=False)
class While(Stmt):
    cond_body: list[Stmt]
    cond: Operand
    body: list[Stmt]


@dataclass(eq=False)
class If(Stmt):
    cond: Operand
    then: list[Stmt]
    orelse: list[Stmt]


@dataclass(eq=False)
class Assert(Stmt):
    cond: Operand
    message: str


@dataclass(eq=False)
class Return(Stmt):
    values: list[Operand]


@dataclass(eq=False)
class Function:
    name: str
    params: list[Var]
    param_types: list[Type]                       # declared types, with dims, for argument checks
    body: list[Stmt]
    result_types: list[Type]
    returns_tuple: bool
    filename: str = "<string>"
    taken: set[str] = field(default_factory=set, repr=False)   # names in use (for adding more)
    source_params: list[str] = field(default_factory=list)     # parameter names as in the .ad source

    def fresh(self, base: str) -> str:
        """A new name that collides with nothing in this function (nor with Python's)."""
        return fresh_name(self.taken, base)

    def __str__(self) -> str:
        from .printer import format_function
        return format_function(self)


def fresh_name(taken: set[str], base: str) -> str:
    """Add to ``taken`` and return ``base`` or ``base_1``, ``base_2``...; never starting with '_'
    (generated code keeps leading underscores for its own helpers)."""
    if base.startswith("_"):
        base = "u" + base
    name, k = base, 1
    while name in taken:
        name = f"{base}_{k}"
        k += 1
    taken.add(name)
    return name


def regions(st: Stmt) -> Iterator[list[Stmt]]:
    """The nested statement lists of a structured statement."""
    if isinstance(st, For):
        yield st.body
    elif isinstance(st, While):
        yield st.cond_body
        yield st.body
    elif isinstance(st, If):
        yield st.then
        yield st.orelse


def blocks(stmts: list[Stmt]) -> Iterator[list[Stmt]]:
    """``stmts`` and every statement list nested in it, outermost first (the lists themselves,
    so a pass may rewrite each in place)."""
    yield stmts
    for st in stmts:
        for region in regions(st):
            yield from blocks(region)


def walk(stmts: list[Stmt]) -> Iterator[Stmt]:
    """Every statement, depth first, in program order."""
    for st in stmts:
        yield st
        for region in regions(st):
            yield from walk(region)


def operands(st: Stmt) -> list[Operand]:
    """The values a statement reads (not counting the statements nested inside it)."""
    if isinstance(st, Op):
        return list(st.args)
    if isinstance(st, For):
        return [st.lo, st.hi, st.step]
    if isinstance(st, While):
        return [st.cond]
    if isinstance(st, (If, Assert)):
        return [st.cond]
    if isinstance(st, Return):
        return list(st.values)
    return []


def defined(st: Stmt) -> list[Var]:
    """The variables a statement (not its nested regions) assigns or mutates."""
    if isinstance(st, Op):
        from .primitives import PRIMS
        if st.target is not None:
            return [st.target]
        if PRIMS[st.prim].mutates and isinstance(st.args[0], Var):
            return [st.args[0]]
    if isinstance(st, For):
        return [st.var]
    return []


def vars_read(stmts: list[Stmt]) -> set[Var]:
    return {a for st in walk(stmts) for a in operands(st) if isinstance(a, Var)}


def vars_written(stmts: list[Stmt]) -> set[Var]:
    return {v for st in walk(stmts) for v in defined(st)}
