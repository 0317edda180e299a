"""Which elementwise loops may write their result into an input array that dies there.

``d_1 = d * t_2``, when nothing reads ``t_2`` afterwards and nothing else refers to its memory,
can overwrite ``t_2`` element by element instead of allocating: each element is read before it
is written, at the same index. On large arrays the allocation is the expensive part (fresh pages
from the kernel: lse's gradient allocated two 10 MB arrays per call).

An input may donate its buffer when it is assigned exactly once, at the top level of the same
block, by an operation that makes a new array (not a parameter, a view, a tape pop or an alias);
no other variable may share its memory, it is never taped, viewed or returned, and every read of
it is in that block at or before the loop. Element or row writes into it before the loop do not
stop it: they change its values, not which buffer it is (det fills ``child_partial`` element by
element, then copies it into ``partial`` with ``+ 0.0``; the copy now reuses its memory). A write
after the loop is a read there too, so the rule above already excludes it.
"""
from __future__ import annotations

from . import fusion, ir
from .passes.analysis import assignment_counts, escaping, use_counts
from .primitives import PRIMS


class Donors:
    """What decides donation for one function; ``in_block`` applies it to a block once the
    block's fusion is planned (a value fused into a later loop is read there, not where it stands)."""

    def __init__(self, fn: ir.Function, owners: dict[ir.Var, set[ir.Var]]):
        counts = assignment_counts(fn)
        self.owners = owners
        self.shared = {v for w, memory in owners.items() for v in memory if v is not w}
        self.kept = escaping(fn.body)
        self.total = use_counts(fn.body)
        self.fresh = {st.target for st in ir.walk(fn.body) if isinstance(st, ir.Op) and st.target is not None
                      and counts[st.target] == 1 and st.target not in fn.params and st.prim != "pop"
                      and not PRIMS[st.prim].view}

    def in_block(self, block: list[ir.Stmt], fused: dict[ir.Var, ir.Op],
                 late: set[ir.Var] = frozenset()) -> dict[int, ir.Var]:
        """For the id of each allocating elementwise loop of ``block``, the input whose buffer
        it takes; never one of ``late``, read further down than where their reader stands."""
        out: dict[int, ir.Var] = {}
        made: set[ir.Var] = set()
        seen: dict[ir.Var, int] = {}
        for st in block:
            for v, n in use_counts([st]).items():
                seen[v] = seen.get(v, 0) + n
            if _allocating_loop(st) and st.target not in fused:
                tree = _tree(st, fused)
                for v in st.args:
                    if (v in made and v not in late and v.type == st.target.type and v not in self.shared
                            and v not in self.kept and self.owners.get(v, {v}) == {v}
                            and seen.get(v) == self.total.get(v) and _only_in(v, tree, block, fused)):
                        out[id(st)] = v
                        break
            if isinstance(st, ir.Op) and st.target in self.fresh and st.target not in fused:
                made.add(st.target)         # a fused value never has a buffer of its own
        return out


def _tree(st: ir.Op, fused: dict[ir.Var, ir.Op]) -> set[int]:
    """The ids of the fused producers computed inside ``st``'s loop."""
    ids, todo = set(), [a for a in st.args if a in fused]
    while todo:
        op = fused[todo.pop()]
        ids.add(id(op))
        todo.extend(a for a in op.args if a in fused)
    return ids


def _only_in(v: ir.Var, tree: set[int], block: list[ir.Stmt], fused: dict[ir.Var, ir.Op]) -> bool:
    """Whether every fused producer reading ``v`` is computed inside this loop's own tree."""
    return all(id(st) in tree for st in block
               if isinstance(st, ir.Op) and st.target in fused and v in st.args)


def _allocating_loop(st: ir.Stmt) -> bool:
    return isinstance(st, ir.Op) and fusion.is_loop_op(st) and st.prim not in fusion.WRITES
