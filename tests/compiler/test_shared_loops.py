"""Consecutive elementwise loops over the same extents as one loop (``compiler/shared_loops.py``):
fewer loops in the emitted module, and results bit-identical to the module emitted with every
loop on its own, in plain Python and compiled; a loop that would read or write memory the other
touches at another index is left on its own."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import adc
from adc.compiler import ir
from adc.compiler.emit_python import EmitOptions, emit_module, lent_tapes
from adc.compiler.shared_loops import LoopNest, may_join
from adc.compiler.types import Type
from adc.runtime.cache import load_module
from adc.runtime.tapes import LentTapes

EVALS = Path(adc.__file__).parent / "runtime" / "gradbench" / "evals"

SOURCE = """
def gates(x: float[n], y: float[n], w: float[n]) -> float:
    a = x * y
    b = exp(x) * w
    c = a * 2.0 + b
    d = a - b * y
    return sum(c * d) + sum(a) + sum(b)

def into_slices(x: float[n], y: float[n]) -> float[n]:
    z = x * 1.0
    z[1:n] = x[1:n] * y[0:n - 1]
    return z
"""


def _source(fn: ir.Function, join: bool) -> tuple[str, str, dict]:
    return emit_module(fn, EmitOptions(True, "shared.ad", join_loops=join))


def _run(fn: ir.Function, args: tuple, join: bool, jit: bool):
    source, entry, helpers = _source(fn, join)
    call = getattr(load_module(source, jit, helpers)[0], entry)
    tapes = lent_tapes(fn)
    if tapes:
        call = LentTapes(call, [t.type.dtype for t in tapes])
    out = call(*args)
    return out if isinstance(out, tuple) else (out,)


def _copies(args: tuple) -> tuple:
    return tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)


def _loops(source: str) -> int:
    return sum(line.lstrip().startswith("for _i") for line in source.splitlines())


def _cases():
    rng = np.random.default_rng(3)
    small = adc.loads(SOURCE, "shared.ad", jit=False)
    x, y, w = rng.normal(size=(3, 9))
    yield "gates", adc.grad(small.gates, ("x", "y", "w")).ir, (x, y, w)
    yield "into_slices", small.functions["into_slices"].ir, (x, y)
    ode = adc.load(EVALS / "ode.ad", jit=False)
    yield "ode", adc.grad(ode.last, "x").ir, (rng.normal(size=12), 4)
    lstm = adc.load(EVALS / "lstm.ad", jit=False)
    b, layers, chars = 3, 2, 5
    args = (rng.normal(size=(2 * layers, 4 * b)), rng.normal(size=(3, b)),
            rng.normal(size=(2 * layers, b)), rng.normal(size=(chars, b)))
    yield "lstm", adc.grad(lstm.objective, ("main_params", "extra_params")).ir, args


CASES = list(_cases())


@pytest.mark.parametrize("jit", [False, True], ids=["nojit", "jit"])
@pytest.mark.parametrize("name, fn, args", CASES, ids=[c[0] for c in CASES])
def test_joined_loops_compute_bit_identical_results(name, fn, args, jit):
    joined = _run(fn, _copies(args), True, jit)
    alone = _run(fn, _copies(args), False, jit)
    assert len(joined) == len(alone)
    for j, a in zip(joined, alone):
        assert np.array_equal(j, a)


@pytest.mark.parametrize("name", ["gates", "ode", "lstm"])
def test_consecutive_loops_over_one_extent_share_a_loop(name):
    fn = next(c[1] for c in CASES if c[0] == name)
    assert _loops(_source(fn, True)[0]) < _loops(_source(fn, False)[0])


def _vec(name: str, kind: str = "temp") -> ir.Var:
    return ir.Var(name, Type("float", 1), kind)


def _nest(writes, reads, made=()) -> LoopNest:
    return LoopNest(0, 2, ["n"], ["_i0"], set(writes), set(reads), set(made))


def test_a_loop_touching_the_other_loops_memory_at_another_index_stays_alone():
    a, b, x, p = _vec("a"), _vec("b"), _vec("x"), _vec("p", "param")
    view = _vec("a_tail")
    owners = {view: {a}}
    # the second reads the first's new result at its own element: joins
    assert may_join(_nest([a], [x], [a]), _nest([b], [a]), [(a, ["_i0"])], owners, {p})
    # ... but not through a view of it (another index), nor a written array that is not new
    assert not may_join(_nest([a], [x], [a]), _nest([b], [view]), [(view, ["_i0"])], owners, {p})
    assert not may_join(_nest([a], [x]), _nest([b], [a]), [(a, ["_i0"])], owners, {p})
    # the second writes what the first reads or writes
    assert not may_join(_nest([a], [x]), _nest([x], []), [], owners, {p})
    assert not may_join(_nest([a], [x]), _nest([a], []), [], owners, {p})
    # the first writes a parameter's memory: a check of the second would raise before its writes
    assert not may_join(_nest([p], [x]), _nest([b], [x]), [(x, ["_i0"])], owners, {p})
