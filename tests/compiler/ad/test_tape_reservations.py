"""Scalar tapes a counted loop pushes to are reserved once before it runs, and the pushes inside
skip their capacity check (``compiler/ad/reservations.py``). A reservation must cover every
unchecked push that can happen before the loop ends, including after nested loops that reserve
for themselves, and counts only the pushes left once dead restores are dropped.

Plain Python. The runs here lend empty tapes and grow them to exactly the size asked for, so a
push past a reservation raises IndexError (compiled, it would write out of bounds), and compare
the gradient with finite differences."""
from __future__ import annotations

import numpy as np
import pytest

import adc
from adc.compiler import ir
from gradcheck import check_grad

SOURCE = """
def nested(a: float, n: int, k: int) -> float:
    # one float tape, pushed by both loops: only the inner loop reserves it
    x = a
    y = a
    for i in range(n):
        x = sin(x) * y
        for j in range(k):
            y = sin(y) + x
    return x + y

def branches(v: float[n]) -> float:
    # pushes in both branches count, as if each ran every iteration
    s = 1.0
    for i in range(n):
        if v[i] > 0.0:
            s = sin(s) * v[i]
        else:
            s = cos(s) + v[i]
            s = sin(s) * v[i]
    return s

def counted_while(v: float[n]) -> float:
    # the while loop's pushes cannot be counted; its trip count, pushed after it, can
    s = 0.0
    for i in range(n):
        x = v[i]
        while x * x > 0.5:
            x = sin(x) * 0.9
        s = s * x + x
    return s

def while_outer(a: float, n: int) -> float:
    # a for loop inside a while loop reserves for itself
    x = a
    while x < 100.0:
        for i in range(n):
            x = sin(x) * 0.5 + x + 1.0
    return x

def dead_bound(A: float[n], idx: float[n]) -> float:
    # the bound of the no_grad loop was taped for a reverse loop that dead-code elimination
    # empties; its push goes, and the int tape's reservation counts only `width`
    rem = idx + 0.0
    s = 0.0
    width = 1
    for r in range(n):
        s = s * A[r] + A[int(rem[r])]
        if width > 1:
            with no_grad:
                child = zeros(n)
                for j in range(width):
                    child[j % n] = rem[(j + 1) % n]
                rem = child + 0.0
        width = width + 1
    return s
"""

ARGS = {
    "nested": ({"a": 0.3, "n": 3, "k": 4}, ["a"]),
    "branches": ({"v": np.array([0.5, -0.3, 0.8, -1.2, 0.4])}, ["v"]),
    "counted_while": ({"v": np.array([0.3, 2.0, -1.5, 0.9])}, ["v"]),
    "while_outer": ({"a": 0.7, "n": 3}, ["a"]),
    "dead_bound": ({"A": np.array([0.5, -1.0, 1.5, 0.7]), "idx": np.array([3.0, 0.0, 2.0, 1.0])}, ["A"]),
}

# line of each loop that reserves -> {tape: pushes reserved per iteration}
EXPECTED = {
    "nested": {8: {"tape_f": 1}},
    "branches": {15: {"tape_f": 5}},
    "counted_while": {26: {"tape_i": 1}},
    "while_outer": {37: {"tape_f": 1}},
    "dead_bound": {47: {"tape_f": 1, "tape_i": 1}},
}


@pytest.fixture(scope="module")
def module():
    return adc.loads(SOURCE, "reservations.ad", jit=False)


def _reservations(fn: ir.Function) -> dict[int, dict[str, int]]:
    """Line of each loop preceded by reservations -> {tape name: reserved pushes per trip}."""
    defs = {st.target: st for st in ir.walk(fn.body) if isinstance(st, ir.Op) and st.target is not None}
    found: dict[int, dict[str, int]] = {}

    def visit(stmts: list[ir.Stmt]) -> None:
        for k, st in enumerate(stmts):
            if isinstance(st, ir.Op) and st.prim == "reserve":
                loop = next(s for s in stmts[k:] if isinstance(s, ir.For))
                need = defs[st.args[1]]
                if need.prim == "mul":
                    need, per_trip = defs[need.args[0]], need.args[1].value
                else:
                    per_trip = 1
                assert need.prim == "trip_count" and need.args == [loop.lo, loop.hi, loop.step]
                found.setdefault(loop.line, {})[st.args[0].name] = per_trip
            for region in ir.regions(st):
                visit(region)

    visit(fn.body)
    return found


def _assert_unchecked_pushes_reserved(stmts: list[ir.Stmt], reserved: set[str]) -> None:
    """Every unchecked push of ``stmts`` (outside nested loops) is to a tape in ``reserved``,
    and in a loop, to a tape reserved just before that loop."""
    for k, st in enumerate(stmts):
        if isinstance(st, ir.Op) and st.prim == "push_reserved":
            assert st.args[0].name in reserved, st
        if isinstance(st, ir.For):
            before = stmts[:k]
            while before and isinstance(before[-1], ir.Op) and before[-1].prim in ("reserve", "trip_count", "mul"):
                before = before[:-1]
            mine = {op.args[0].name for op in stmts[len(before):k] if op.prim == "reserve"}
            _assert_unchecked_pushes_reserved(st.body, mine)
        else:
            for region in ir.regions(st):
                _assert_unchecked_pushes_reserved(region, set() if isinstance(st, ir.While) else reserved)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_reservations_count_the_pushes_that_remain(module, name):
    fn = adc.grad(getattr(module, name), ARGS[name][1]).ir
    assert _reservations(fn) == EXPECTED[name]
    _assert_unchecked_pushes_reserved(fn.body, set())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_reservations_hold_every_unchecked_push(module, name, monkeypatch):
    args, wrt = ARGS[name]
    check_grad(getattr(module, name), args, wrt)
    d = adc.grad(getattr(module, name), wrt)
    lent = d.compiled.call
    monkeypatch.setitem(lent.entry.__globals__, "_grow", _grow_exactly)
    ordered = [args[p] for p, _ in getattr(module, name).params]
    out = lent.entry(*ordered, *(np.empty(0, dtype=t) for t in lent.dtypes))
    for got, want in zip(out, d(**args)):
        np.testing.assert_array_equal(got, want)


def _grow_exactly(tape: np.ndarray, needed: int) -> np.ndarray:
    bigger = np.empty(needed, dtype=tape.dtype)
    bigger[:tape.shape[0]] = tape
    return bigger


def test_outer_pushes_of_a_tape_an_inner_loop_reserves_are_checked(module):
    # with tapes lent at their usual size (1024 values), the inner loop's reservation fills the
    # tape exactly, so an unchecked outer push in the next iteration would fall off its end
    check_grad(module.nested, {"a": 0.3, "n": 3, "k": 1022}, ["a"])
