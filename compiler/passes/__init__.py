"""Simplification passes over IR functions; each module is one pass with one entry function."""
from __future__ import annotations

from .. import ir
from .adjoint_copies import elide_adjoint_copies
from .copies import insert_copies
from .cse import eliminate_common_subexpressions
from .dce import eliminate_dead_code
from .deferred_sums import merge_deferred_accumulations
from .fold import fold_constants
from .fresh_sums import sum_fresh_accumulations
from .zeroed_slices import add_outside_zeroed_slices


def simplify(fn: ir.Function) -> ir.Function:
    """Fold constants, merge common subexpressions and drop dead code, in place."""
    fold_constants(fn)
    eliminate_common_subexpressions(fn)
    eliminate_dead_code(fn)
    return fn


__all__ = ["simplify", "insert_copies", "fold_constants", "eliminate_common_subexpressions",
           "eliminate_dead_code", "elide_adjoint_copies",
           "add_outside_zeroed_slices", "sum_fresh_accumulations",
           "merge_deferred_accumulations"]
