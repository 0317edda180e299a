"""The one primitive table: every operation the IR can hold, with how it prints.

``PRIMS[name]`` says whether a primitive is pure (CSE and DCE may touch it), whether it mutates
its first argument in place, whether its result aliases (views) its first argument, and how it
reads in the ``.ad``-style listing. How each one is computed lives in the Python emitter
(``emit_python.py``); how each one is differentiated lives in ``ad/rules.py``.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Prim:
    name: str
    fmt: str                  # listing template: {0}, {1}... are operands, {args} all of them
    pure: bool = True
    mutates: bool = False     # writes args[0] in place (no target)
    view: bool = False        # result may share memory with args[0]
    ad_only: bool = False     # made by the reverse transform, never by the lowering


def _table(*prims: Prim) -> dict[str, Prim]:
    return {p.name: p for p in prims}


def _fn(name: str, **kw) -> Prim:
    return Prim(name, name + "({args})", **kw)


UNARY_MATH = ("sin", "cos", "tan", "asin", "acos", "atan", "exp", "log", "log1p", "expm1", "sqrt",
              "abs", "tanh", "sigmoid", "softplus", "relu", "sign", "floor")

PRIMS: dict[str, Prim] = _table(
    Prim("id", "{0}", view=True),
    _fn("copy"),
    Prim("neg", "-{0}"),
    Prim("add", "{0} + {1}"),
    Prim("sub", "{0} - {1}"),
    Prim("mul", "{0} * {1}"),
    Prim("div", "{0} / {1}"),
    Prim("pow", "{0} ** {1}"),
    Prim("mod", "{0} % {1}"),
    Prim("floordiv", "{0} // {1}"),
    Prim("matmul", "{0} @ {1}"),
    *(_fn(n) for n in UNARY_MATH),
    _fn("maximum"),
    _fn("minimum"),
    Prim("lt", "{0} < {1}"),
    Prim("le", "{0} <= {1}"),
    Prim("gt", "{0} > {1}"),
    Prim("ge", "{0} >= {1}"),
    Prim("eq", "{0} == {1}"),
    Prim("ne", "{0} != {1}"),
    Prim("not", "not {0}"),
    Prim("or", "{0} or {1}"),
    Prim("and", "{0} and {1}"),
    Prim("to_float", "float({0})"),
    Prim("to_int", "int({0})"),
    _fn("sum"),
    _fn("prod"),
    Prim("amax", "max({0})"),
    Prim("amin", "min({0})"),
    _fn("norm"),
    _fn("logsumexp"),
    _fn("dot"),
    Prim("transpose", "transpose({0})", view=True),
    Prim("reshape", "reshape({args})", view=True),
    _fn("outer"),
    Prim("index", "{0}[{rest}]"),
    Prim("row", "{0}[{1}]", view=True),
    Prim("slice", "{0}[{1}:{2}]", view=True),
    Prim("dim", "shape({0})[{1}]"),
    Prim("size", "size({0})"),
    _fn("zeros"),
    _fn("ones"),
    _fn("full"),
    _fn("eye"),
    _fn("arange"),
    Prim("pack", "[{args}]"),
    Prim("stop_gradient", "stop_gradient({0})", view=True),
    Prim("range_cond", "in_range({args})"),
    Prim("setindex", "{0}[{rest2}] = {1}", pure=False, mutates=True),
    Prim("setrow", "{0}[{2}] = {1}", pure=False, mutates=True),
    Prim("setslice", "{0}[{2}:{3}] = {1}", pure=False, mutates=True),
    # Used by the reverse-mode transform only (no derivative of their own).
    _fn("zeros_like", ad_only=True),
    Prim("expand", "expand({0}, like={1})", ad_only=True),
    Prim("reshape_like", "reshape({0}, like={1})", ad_only=True),
    Prim("sum_to_row", "sum({0}, axis=0)", ad_only=True),
    _fn("heaviside", ad_only=True),
    _fn("tie", ad_only=True),
    _fn("safe_div", ad_only=True),
    _fn("pow_dx", ad_only=True),
    _fn("pow_dp", ad_only=True),
    _fn("count_eq", ad_only=True),
    _fn("is_eq", ad_only=True),
    _fn("prod_others", ad_only=True),
    _fn("trip_count", ad_only=True),
    Prim("addto", "{0} += {1}", pure=False, mutates=True, ad_only=True),
    Prim("addindex", "{0}[{rest2}] += {1}", pure=False, mutates=True, ad_only=True),
    Prim("addrow", "{0}[{2}] += {1}", pure=False, mutates=True, ad_only=True),
    Prim("addslice", "{0}[{2}:{3}] += {1}", pure=False, mutates=True, ad_only=True),
    Prim("addto_outside", "{0} += {1} outside [{2}:{3}]", pure=False, mutates=True, ad_only=True),
    Prim("new_tape", "tape()", pure=False, ad_only=True),
    Prim("push", "push({1})", pure=False, mutates=True, ad_only=True),
    Prim("push_reserved", "push({1})", pure=False, mutates=True, ad_only=True),
    Prim("reserve", "reserve({1})", pure=False, mutates=True, ad_only=True),
    Prim("pop", "pop()", pure=False, ad_only=True),
    # Made just before emission (passes/lane_layout.py), after the reverse transform.
    Prim("transposed_copy", "transposed_copy({0})", ad_only=True),
)

TAPE_PRIMS = {"new_tape", "push", "push_reserved", "reserve", "pop"}   # the order protocol of the sweeps
