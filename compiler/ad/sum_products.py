"""Column sums of matrix products: ``sum(A @ B, axis=0)`` becomes ``sum(A, axis=0) @ B``.

Reverse mode makes this pattern whenever a product feeds an operation that broadcast a row: the
adjoint of ``mu`` in ``x - mu`` is the column sum of ``x``'s adjoint, and when that adjoint is
``y_bar @ Q`` (the adjoint of ``y = x @ transpose(Q)``) and nothing else reads it, computing the
product only to sum its rows costs a matrix product (n * m * p multiply-adds, gmm: one 1000 x
64 x 64 product per component, a quarter of its gradient) where the sum first costs n * m
additions and a vector-matrix product. Both are the same sum of the same products, grouped
differently, so results differ only by rounding.

Rewritten when the product of two float matrices is assigned once, never written in place and
read exactly once, by that sum, later in the same block, and the sum's result is assigned once
and not read in between (in a loop, such a read would see the previous iteration's value). Both
new operations take the product's place, where its operands hold the values it read.
"""
from __future__ import annotations

from .. import ir
from ..passes.analysis import def_counts, mutated, use_counts
from ..types import Type

_MATRIX = Type("float", 2)


def sum_products_by_rows(fn: ir.Function) -> None:
    counts = def_counts(fn)
    uses = use_counts(fn.body)
    stable = {v for v, c in counts.items() if c == 1} - mutated(fn.body)
    for block in ir.blocks(fn.body):
        k = 0
        while k < len(block):
            st = block[k]
            k += 1
            if not (isinstance(st, ir.Op) and st.prim == "matmul" and st.target in stable
                    and uses.get(st.target) == 1 and all(a.type == _MATRIX for a in st.args)):
                continue
            total = _reader(block[k:], st.target)
            if not (isinstance(total, ir.Op) and total.prim == "sum_to_row" and total.target in stable):
                continue
            at = next(j for j in range(k, len(block)) if block[j] is total)
            if total.target in ir.vars_read(block[k:at]):
                continue
            a, b = st.args
            rows = ir.Var(fn.fresh("colsum"), Type("float", 1), "temp")
            st.target, st.prim, st.args = rows, "sum_to_row", [a]
            del block[at]
            total.prim, total.args = "matmul", [rows, b]
            block.insert(k, total)


def _reader(later: list[ir.Stmt], v: ir.Var) -> ir.Stmt | None:
    """The first statement of ``later`` reading ``v``, None if that is inside a region."""
    for st in later:
        if v in ir.operands(st):
            return st
        if any(v in ir.vars_read(region) for region in ir.regions(st)):
            return None
    return None

