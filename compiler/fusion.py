"""Which elementwise array operations the emitter fuses into one loop.

``d = a * (1.0 - h * h)`` on arrays would allocate three temporaries with one numpy call each;
fused, it is one loop writing ``d`` (or adding straight into an adjoint, ``w_bar += g * h``).
A producer is fused into its consumer when it is an elementwise operation on arrays whose result
is read exactly once, by the next elementwise operation or in-place accumulation that needs it,
in the same block, with nothing in between changing its inputs (``analysis.consumer``).
"""
from __future__ import annotations

from . import ir
from .passes.analysis import consumer

ELEMENTWISE = {"add", "sub", "mul", "div", "neg", "pow", "sin", "cos", "tan", "asin", "acos", "atan",
               "exp", "log", "log1p", "expm1", "sqrt", "abs", "tanh", "sigmoid", "softplus", "relu",
               "sign", "floor", "maximum", "minimum", "heaviside", "tie", "is_eq", "stop_gradient"}


WRITES = {"addto", "addrow", "setrow"}     # in-place writes of a whole array or one row
SLICE_WRITES = {"addslice", "setslice"}    # loops only around a fused value that cannot overlap


def is_loop_op(st: ir.Stmt) -> bool:
    """An operation the emitter writes as a loop over its result's (or target's) elements.

    Explicit loops instead of numpy array expressions also keep Numba's compile time down: an
    in-place array ``+=`` alone costs it seconds to compile, a loop a fraction of that.
    """
    if not isinstance(st, ir.Op) or st.target is None and st.prim not in WRITES:
        return False
    if st.prim in WRITES:
        dest = st.args[0].type
        return dest.dtype == "float" and dest.rank - (st.prim != "addto") > 0
    return st.prim in ELEMENTWISE and st.target.type.rank > 0 and st.target.type.dtype == "float"


def is_slice_loop(st: ir.Stmt, fused: dict[ir.Var, ir.Op], owners: dict[ir.Var, set[ir.Var]]) -> bool:
    """``a[lo:hi] = v`` or ``+= v`` as one loop over the slice: ``v`` a fused tree, or a float
    vector or scalar that cannot share the written array's memory. Numba compiles numpy's slice
    assignment through its general broadcasting code: seconds of compile time, and slower than
    the loop on the short slices the reverse sweep writes (an LSTM gate's adjoint)."""
    if not (isinstance(st, ir.Op) and st.prim in SLICE_WRITES):
        return False
    dest, value = st.args[0], st.args[1]
    if value in fused:
        return True
    if dest.type.rank != 1 or value.type.dtype != "float":
        return False
    return not isinstance(value, ir.Var) or not owners.get(value, {value}) & owners.get(dest, {dest})


def plan(stmts: list[ir.Stmt], uses: dict[ir.Var, int],
         owners: dict[ir.Var, set[ir.Var]]) -> dict[ir.Var, ir.Op]:
    """The producers of ``stmts`` to compute inside their consumer's loop, by result variable.
    ``outer(u, v)`` is fused into ``target += outer(u, v)`` (a rank-1 update) and into an
    elementwise result (``outer(g, v) * y``: an element is ``g[i] * v[j]``), not into row writes.
    A slice write takes a tree only when no input may share the written array's memory
    (``owners``): numpy evaluates ``z[1:n] = z[0:n-1] * 2`` fully before writing."""
    fused: dict[ir.Var, ir.Op] = {}
    leaves: dict[ir.Var, set[ir.Var]] = {}     # the inputs a fused expression tree really reads
    for k, st in enumerate(stmts):
        outer = isinstance(st, ir.Op) and st.prim == "outer"
        if not (outer or (is_loop_op(st) and st.prim != "addto")):
            continue
        reads = set().union(*(leaves.get(a, {a}) for a in st.args if isinstance(a, ir.Var)))
        if _takes(consumer(stmts, k, uses, reads), st, reads, owners):
            fused[st.target] = st
            leaves[st.target] = reads
    return fused


def _takes(reader: ir.Stmt | None, st: ir.Op, reads: set[ir.Var], owners: dict[ir.Var, set[ir.Var]]) -> bool:
    """Whether ``reader``, the one statement reading ``st``'s result, computes it in its loop."""
    if not isinstance(reader, ir.Op):
        return False
    outer = st.prim == "outer"
    if reader.prim in SLICE_WRITES:
        dest = owners.get(reader.args[0], {reader.args[0]})
        return (not outer and reader.args[1] is st.target
                and not any(owners.get(v, {v}) & dest for v in reads))
    if not is_loop_op(reader):
        return False
    if reader.prim in WRITES:
        into = reader.args[1] is st.target and reader.args[0] is not st.target
        return into and (not outer or reader.prim == "addto")
    return True
