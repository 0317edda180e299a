"""The derivative rules: one short function per differentiable primitive.

Convention, stated once: a rule receives the builder ``b``, the primal op ``t = prim(x, y, ...)``
(so ``x = op.args[0]``, ``r = op.target``) and ``g``, the adjoint of ``t`` (``t_bar``). It returns
``{argument index: contribution}``, where a contribution is either an operand to be added to
that argument's adjoint (the transform sums it down to the argument's rank when the op
broadcast), or a ``Scatter`` that adds ``g`` into part of the argument's adjoint (indexing).
Rules only read primal values through ``op``; the transform makes those values available.

Derivatives at non-smooth points follow PyTorch: abs'(0) = 0, relu'(0) = 0, sign' = floor' = 0,
maximum/minimum split the gradient evenly on ties, max/min of an array share it evenly among
equal maxima, norm'(0) = 0, sqrt'(0) = inf.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .. import ir
from ..primitives import PRIMS
from ..types import FLOAT, INT
from .builder import Builder, const


@dataclass(frozen=True)
class Scatter:
    """Add ``value`` into the argument's adjoint at ``index`` (``addindex``/``addrow``/``addslice``)."""

    prim: str
    value: ir.Operand
    index: tuple[ir.Operand, ...]


Rule = Callable[[Builder, ir.Op, ir.Operand], dict]
RULES: dict[str, Rule] = {}
ARGS: dict[str, tuple[int, ...]] = {}     # which arguments a primitive is differentiable in


def rule(*names: str, args: tuple[int, ...] = (0,)):
    def register(fn: Rule) -> Rule:
        for name in names:
            RULES[name] = fn
            ARGS[name] = args
        return fn
    return register


def elementwise(name: str, local: Callable[[Builder, ir.Operand, ir.Operand], ir.Operand]) -> None:
    """Register ``d/dx f(x)`` given as ``local(b, x, r)``; the rule multiplies it by ``g``."""
    RULES[name] = lambda b, op, g: {0: b.mul(g, local(b, op.args[0], op.target))}
    ARGS[name] = (0,)
    BROADCASTS.add(name)


# Rules that only combine ``g`` elementwise with other values, so they are also right for a ``g``
# of lower rank than the op's result, standing for that value broadcast (the adjoint a sum gives
# its argument). The transform keeps such adjoints unexpanded until a rule outside this set.
BROADCASTS = {"id", "copy", "neg", "add", "sub", "mul", "div", "pow", "maximum", "minimum"}
# Rules that add ``g`` into part of their argument's adjoint, which broadcasts a lower-rank ``g``.
SCATTERS = {"row", "slice"}


# Primitives with no derivative (integer maths, comparisons, constructors without float inputs).
ZERO = {"sign", "floor", "lt", "le", "gt", "ge", "eq", "ne", "not", "and", "or", "to_int", "mod",
        "floordiv", "dim", "size", "zeros", "ones", "eye", "arange", "range_cond", "stop_gradient",
        "to_float"}


def differentiable_args(op: ir.Op) -> tuple[int, ...]:
    """The operand indices ``op`` is differentiable in. Variadic primitives (``pack``, ``full``)
    register every index they may have, so keep only those this op has."""
    return tuple(k for k in ARGS.get(op.prim, ()) if k < len(op.args))


# ---- structure --------------------------------------------------------------------------
rule("id", "copy")(lambda b, op, g: {0: g})
rule("neg")(lambda b, op, g: {0: b.neg(g)})
rule("add", args=(0, 1))(lambda b, op, g: {0: g, 1: g})
rule("sub", args=(0, 1))(lambda b, op, g: {0: g, 1: b.neg(g)})


@rule("mul", args=(0, 1))
def _mul(b, op, g):
    """A square ``x * x`` gives ``(g * x) * 2``: the same value as ``g*x + g*x`` (doubling is
    exact), with ``g`` read once, so a ``g`` made by ``outer`` can fuse into it."""
    x, y = op.args
    if x is y:
        return {0: b.mul(b.mul(g, x), const(2.0))}
    return {0: b.mul(g, y), 1: b.mul(g, x)}


@rule("div", args=(0, 1))
def _div(b, op, g):
    # A scalar divisor's reciprocal depends only on forward values, so it stays off the chain
    # of adjoints: in a loop carrying its adjoint (Newton's r_bar) a multiply replaces a division.
    x, y = op.args
    gy = b.mul(g, b.div(const(1.0), y)) if y.type.rank == 0 else b.div(g, y)
    return {0: gy, 1: b.neg(b.mul(gy, op.target))}


@rule("pow", args=(0, 1))
def _pow(b, op, g):
    """PyTorch at x = 0: d/dx is 0 where p == 0 (not 0 * inf), d/dp is 0 where p >= 0 (not
    x ** p * log(0)). A constant exponent is folded here (``x ** 2`` gives ``2 * x``); a variable
    one needs ``pow_dx``/``pow_dp``, which check p at run time."""
    x, p = op.args
    if isinstance(p, ir.Const):
        return {} if p.value == 0 else {0: b.mul(g, p, b.pow(x, b.sub(p, const(1.0))))}
    return {0: b.mul(g, b.call("pow_dx", x, p)), 1: b.mul(g, b.call("pow_dp", x, p, op.target))}


# ---- elementwise maths ------------------------------------------------------------------
elementwise("sin", lambda b, x, r: b.call("cos", x))
elementwise("cos", lambda b, x, r: b.neg(b.call("sin", x)))
elementwise("tan", lambda b, x, r: b.add(const(1.0), b.mul(r, r)))
elementwise("asin", lambda b, x, r: b.div(const(1.0), b.call("sqrt", b.sub(const(1.0), b.mul(x, x)))))
elementwise("acos", lambda b, x, r: b.div(const(-1.0), b.call("sqrt", b.sub(const(1.0), b.mul(x, x)))))
elementwise("atan", lambda b, x, r: b.div(const(1.0), b.add(const(1.0), b.mul(x, x))))
elementwise("exp", lambda b, x, r: r)
elementwise("log", lambda b, x, r: b.div(const(1.0), x))
elementwise("log1p", lambda b, x, r: b.div(const(1.0), b.add(const(1.0), x)))
elementwise("expm1", lambda b, x, r: b.add(r, const(1.0)))
elementwise("sqrt", lambda b, x, r: b.div(const(0.5), r))
elementwise("abs", lambda b, x, r: b.call("sign", x))
elementwise("tanh", lambda b, x, r: b.sub(const(1.0), b.mul(r, r)))
elementwise("sigmoid", lambda b, x, r: b.mul(r, b.sub(const(1.0), r)))
elementwise("softplus", lambda b, x, r: b.call("sigmoid", x))
elementwise("relu", lambda b, x, r: b.call("heaviside", x))


@rule("maximum", "minimum", args=(0, 1))
def _extremum(b, op, g):
    x, y = op.args
    first, second = (x, y) if op.prim == "maximum" else (y, x)
    return {0: b.mul(g, b.call("tie", first, second)), 1: b.mul(g, b.call("tie", second, first))}


# ---- reductions -------------------------------------------------------------------------
rule("sum")(lambda b, op, g: {0: g})
rule("prod")(lambda b, op, g: {0: b.mul(g, b.call("prod_others", op.args[0]))})
# Ties share equally: g / count where x equals the result; the mask is elementwise, so it is
# computed inside the loop that accumulates it.
rule("amax", "amin")(lambda b, op, g: {0: b.mul(b.div(g, b.call("count_eq", op.args[0], op.target, rank=0)),
                                                b.call("is_eq", op.args[0], op.target))})
rule("norm")(lambda b, op, g: {0: b.mul(op.args[0], b.call("safe_div", g, op.target))})
rule("logsumexp")(lambda b, op, g: {0: b.mul(g, b.call("exp", b.sub(op.args[0], op.target)))})
rule("dot", args=(0, 1))(lambda b, op, g: {0: b.mul(g, op.args[1]), 1: b.mul(g, op.args[0])})


@rule("matmul", args=(0, 1))
def _matmul(b, op, g):
    x, y = op.args
    ranks = (x.type.rank, y.type.rank)
    if ranks == (1, 1):
        return {0: b.mul(g, y), 1: b.mul(g, x)}
    if ranks == (2, 2):
        return {0: b.call("matmul", g, b.call("transpose", y), rank=2),
                1: b.call("matmul", b.call("transpose", x), g, rank=2)}
    if ranks == (2, 1):
        return {0: b.call("outer", g, y, rank=2), 1: b.call("matmul", g, x, rank=1)}
    return {0: b.call("matmul", y, g, rank=1), 1: b.call("outer", x, g, rank=2)}


# ---- shapes and indexing ----------------------------------------------------------------
rule("transpose")(lambda b, op, g: {0: b.call("transpose", g)})
rule("reshape")(lambda b, op, g: {0: b.call("reshape_like", g, op.args[0], rank=op.args[0].type.rank)})
rule("outer", args=(0, 1))(lambda b, op, g: {0: b.call("matmul", g, op.args[1], rank=1),
                                             1: b.call("matmul", op.args[0], g, rank=1)})
rule("index")(lambda b, op, g: {0: Scatter("addindex", g, tuple(op.args[1:]))})
rule("row")(lambda b, op, g: {0: Scatter("addrow", g, (op.args[1],))})
rule("slice")(lambda b, op, g: {0: Scatter("addslice", g, tuple(op.args[1:3]))})


@rule("pack", args=tuple(range(256)))
def _pack(b, op, g):
    return {k: b.emit("index", [g, ir.Const(k, INT)], FLOAT) for k in range(len(op.args))}


# Writes into arrays are differentiated by the transform itself (they overwrite, so the old
# element's adjoint is consumed); activity flows from the stored value and the old array.
for _write in ("setindex", "setrow", "setslice"):
    ARGS[_write] = (0, 1)


@rule("full", args=tuple(range(1, 4)))
def _full(b, op, g):
    return {len(op.args) - 1: b.call("sum", g, rank=0)}


def missing_rules() -> set[str]:
    """Primitives with neither a rule nor a zero derivative (AD-only primitives included)."""
    return {name for name, p in PRIMS.items()
            if name not in RULES and name not in ZERO and name not in ARGS and not p.ad_only}
