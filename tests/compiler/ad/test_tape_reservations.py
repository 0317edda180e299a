"""Scalar tapes a counted loop pushes to are reserved once before it runs, and the pushes inside
skip their capacity check; the reservation must cover every push that can happen before the
loop ends, including those of nested loops that reserve for themselves. Plain Python, where a
push past the tape's end raises IndexError (compiled, it would write out of bounds)."""
from __future__ import annotations

import adc
from gradcheck import check_grad

NESTED = """
def f(a: float, n: int, k: int) -> float:
    x = a
    y = a
    for i in range(n):
        x = sin(x) * y
        for j in range(k):
            y = sin(y) + x
    return x + y
"""


def test_outer_pushes_of_a_tape_an_inner_loop_reserves_are_checked():
    # the inner loop's reservation fills the lent tape (1024 values) exactly, so an unchecked
    # outer push in the next iteration would fall off its end
    m = adc.loads(NESTED, "nested.ad", jit=False)
    check_grad(m.f, {"a": 0.3, "n": 3, "k": 1022}, ["a"])
