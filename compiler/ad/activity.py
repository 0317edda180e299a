"""Activity analysis: which values carry derivatives from the ``wrt`` inputs to the results.

A value is *varied* if it depends differentiably on a ``wrt`` parameter, and *useful* if the
results depend differentiably on it; it is *active* if both. Only active values get adjoints.
The analysis is flow-insensitive (per variable, iterated to a fixed point over loops), which is
exact for temporaries and conservative for reassigned variables. Integer and bool values, and
operations under ``no_grad`` or ``stop_gradient``, are never active.
"""
from __future__ import annotations

from .. import ir
from ..primitives import PRIMS
from .rules import differentiable_args


def _ops(fn: ir.Function) -> list[ir.Op]:
    return [st for st in ir.walk(fn.body) if isinstance(st, ir.Op)]


def _edges(op: ir.Op) -> tuple[ir.Var | None, list[ir.Var]]:
    """(the variable an op defines or mutates, the float variables it differentiably reads)."""
    if op.nograd:
        return None, []
    mutates = PRIMS[op.prim].mutates
    dest = op.args[0] if mutates else op.target
    if not isinstance(dest, ir.Var) or not dest.type.is_float:
        return None, []
    srcs = [op.args[k] for k in differentiable_args(op)]
    return dest, [s for s in srcs if isinstance(s, ir.Var) and s.type.is_float]


def active_vars(fn: ir.Function, wrt: list[ir.Var]) -> set[ir.Var]:
    edges = [_edges(op) for op in _ops(fn)]
    edges = [(d, s) for d, s in edges if d is not None]
    varied = set(wrt)
    changed = True
    while changed:
        changed = False
        for dest, srcs in edges:
            if dest not in varied and any(s in varied for s in srcs):
                varied.add(dest)
                changed = True
    results = [v for st in fn.body if isinstance(st, ir.Return) for v in st.values]
    useful = {v for v in results if isinstance(v, ir.Var) and v.type.is_float}
    changed = True
    while changed:
        changed = False
        for dest, srcs in edges:
            if dest in useful:
                for s in srcs:
                    if s not in useful:
                        useful.add(s)
                        changed = True
    return varied & useful
