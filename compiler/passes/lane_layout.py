"""Lane layout: jammed loops read the rows they share from a transposed copy, so a vector load
serves all their lanes.

A jammed loop (``unroll_jam.py``) runs ``W`` iterations side by side: its counter ``j`` steps by
``W * s`` and its lanes read rows ``j, j + s, ..., j + (W-1) s`` of a matrix in their fused inner
loop (k-means' search: ``centroids[j_u, e]`` for the jammed centroids ``j_u``). Those elements
are a row apart in memory, so each lane is a scalar load, subtract, multiply and add. From a
transposed copy ``a_T[e, j_u]`` they are adjacent, and LLVM's SLP vectoriser turns the lanes'
chains into vector chains: one load, subtract, multiply and add for four or eight lanes. Each lane
still computes exactly the operations it did, in the same order (vectorising does not
reassociate), so results are bit for bit the same. ``emit_python`` compiles a function holding
a transposed copy with SLP vectorisation on (``helpers.VECTOR_PIPELINE_DEFINITION``); Numba
leaves it off otherwise.

The copy is made once, just before the outermost loop around the jammed loop in which nothing
rebinds the matrix or writes memory it may share, and only when there is such a loop: it costs a
pass over the whole matrix, repaid only when the jammed loop runs again (k-means reads every
centroid once per point; a loop nest reading a few rows of a large matrix pays for all of it). Reads ``a[x, c]`` become ``a_T[c, x]``: same indices, so the same element, the
same wrap-around of a negative index and the same range checks (the emitter names the original
array and axis in the message).

The pass runs on a copy, just before emission, after unroll-and-jam; listings and the reverse
transform never see it.
"""
from __future__ import annotations

import copy
from dataclasses import replace

from .. import ir
from .analysis import maybe_unassigned_reads, mutated, storage_owners

# Lanes unroll-and-jam runs side by side in a loop whose lanes this pass will lay out: one
# vector chain of four doubles waits an add's latency per element like a scalar one did, so
# eight (two 256-bit chains, or one 512-bit) halve the steps.
LANE_JAM = 8


def transpose_lanes(fn: ir.Function) -> ir.Function:
    """``fn`` with the lanes of its jammed loops reading transposed copies (a new function), or
    ``fn`` itself when no jammed loop qualifies."""
    if not _plans(fn):
        return fn
    fn = replace(copy.deepcopy(fn), taken=set(fn.taken))
    copies: dict[tuple[int, ir.Var], ir.Var] = {}     # (id of the loop it precedes, matrix) -> copy
    for _, block, outer, reads in _plans(fn):
        for read in reads:
            matrix = read.args[0]
            key = (id(outer), matrix)
            if key not in copies:
                made = ir.Var(fn.fresh(matrix.name + "_T"), matrix.type)
                copies[key] = made
                block.insert(next(k for k, st in enumerate(block) if st is outer),
                             ir.Op(read.line, made, "transposed_copy", [matrix], nograd=True))
            read.args = [copies[key], read.args[2], read.args[1]]
    return fn


def lane_loops(fn: ir.Function) -> set[int]:
    """The ids of the loops (step 1 or -1) whose lanes this pass would lay out once jammed:
    their inner loop reads rows ``j + c`` of a matrix kept across an outer loop."""
    return {id(loop) for loop, _, _, _ in _plans(fn, jammed=False)}


def _plans(fn: ir.Function, jammed: bool = True) -> list[tuple[ir.For, list[ir.Stmt], ir.Stmt, list[ir.Op]]]:
    """(jammed loop, block, loop in it, reads) for each group of lane reads: the reads of one
    matrix's rows by the lanes of a jammed loop (with ``jammed`` false: by a loop stepping by 1
    or -1, as if jammed), to be served by a copy made just before that outer loop."""
    owners = storage_owners(fn, mutated(fn.body))
    unassigned = maybe_unassigned_reads(fn)
    plans = []

    def visit(block: list[ir.Stmt], around: list[tuple[list[ir.Stmt], ir.Stmt]]) -> None:
        for st in block:
            if isinstance(st, ir.For):
                for reads in _lane_reads(st, jammed):
                    matrix = reads[0].args[0]
                    if matrix in unassigned:
                        continue
                    outer = _outermost_invariant(matrix, around, owners)
                    if outer is not None:
                        plans.append((st, *outer, reads))
            for region in ir.regions(st):
                visit(region, around + [(block, st)] if isinstance(st, (ir.For, ir.While)) else around)

    visit(fn.body, [])
    return plans


def _outermost_invariant(matrix: ir.Var, around: list[tuple[list[ir.Stmt], ir.Stmt]],
                         owners: dict[ir.Var, set[ir.Var]]) -> tuple[list[ir.Stmt], ir.Stmt] | None:
    """The outermost of the loops ``around`` (outermost first; block and loop) in which, and in
    every loop inside it, ``matrix`` keeps its value: not rebound, and no memory it may share
    written in place."""
    shared = owners.get(matrix, {matrix})
    found = None
    for block, loop in reversed(around):
        body = [loop]
        if matrix in ir.vars_written(body) or any(owners.get(v, {v}) & shared for v in mutated(body)):
            break
        found = (block, loop)
    return found


def _lane_reads(loop: ir.For, jammed: bool) -> list[list[ir.Op]]:
    """Groups of reads ``a[x, c]`` of a float matrix in the top level of an inner loop of
    ``loop`` (a top-level ``for`` of its body), with one column operand ``c`` and rows ``x`` the
    counter of ``loop`` plus constants that make runs of at least ``W`` consecutive rows, ``W``
    the lanes (``loop`` steps by ``W`` or ``-W``, a power of two): the lanes' copies of
    ``a[j + o, c]`` read ``W`` elements adjacent in the transpose."""
    if not isinstance(loop.step, ir.Const):
        return []
    width = abs(loop.step.value)
    # Vectors hold a power of two of lanes: k-means jammed twelve wide and laid out ran slower
    # than jammed four wide and not laid out.
    if not (width >= 2 and width & (width - 1) == 0 if jammed else width == 1):
        return []
    if loop.var in ir.vars_written(loop.body):
        return []
    found = []
    for at, inner in enumerate(loop.body):
        if not isinstance(inner, ir.For):
            continue
        offsets = _offsets(loop.body[:at], {loop.var: 0})
        for v in ir.vars_written(inner.body):       # a later iteration reads what the last one left
            offsets.pop(v, None)
        groups: dict[tuple, dict[ir.Op, int]] = {}     # (matrix, column) -> read -> its row's offset
        for st in inner.body:
            if (isinstance(st, ir.Op) and st.prim == "index" and len(st.args) == 3
                    and isinstance(st.args[1], ir.Var) and st.args[1] in offsets
                    and st.args[0].type.rank == 2 and st.args[0].type.dtype == "float"):
                column = st.args[2]
                key = (st.args[0], id(column) if isinstance(column, ir.Var) else column)
                groups.setdefault(key, {})[st] = offsets[st.args[1]]
            _offsets([st], offsets)
        for reads in groups.values():
            rows = sorted(set(reads.values()))
            breaks = [k for k in range(1, len(rows)) if rows[k] != rows[k - 1] + 1]
            runs = [b - a for a, b in zip([0, *breaks], [*breaks, len(rows)])]
            if min(runs) >= width:
                found.append(list(reads))
    return found


def _offsets(stmts: list[ir.Stmt], offsets: dict[ir.Var, int]) -> dict[ir.Var, int]:
    """``offsets`` (the variables known to hold the counter plus a constant, by that constant)
    after straight-line ``stmts``: each ``v = x + c`` of a known ``x`` makes ``v`` known, any
    other write of a variable makes it unknown."""
    for st in stmts:
        for v in ir.vars_written([st]):
            offsets.pop(v, None)
        if (isinstance(st, ir.Op) and st.prim in ("add", "sub") and st.target is not None
                and isinstance(st.args[0], ir.Var) and st.args[0] in offsets
                and isinstance(st.args[1], ir.Const) and st.args[1].type.dtype == "int"):
            delta = st.args[1].value
            offsets[st.target] = offsets[st.args[0]] + (delta if st.prim == "add" else -delta)
    return offsets
