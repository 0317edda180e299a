"""Dead-code elimination (``compiler/passes/dce.py``): an assignment no read can see goes, even
when the variable is read elsewhere; a value read by a later loop iteration, or by a while
loop's next test, stays. Values are checked against Python references."""
from __future__ import annotations

import numpy as np
import pytest

import adc
from adc.compiler.pipeline import forward_ir, front_end

SOURCE = """
def overwritten(a: float) -> float:
    x = a * 3.0
    x = a + 1.0
    return x

def carried(a: float[n]) -> float:
    prev = 0.0
    total = 0.0
    for i in range(n):
        t = prev * 2.0
        prev = a[i]
        total += t
    return total

def while_carried(a: float) -> float:
    x = a
    y = 0.0
    while x < 100.0:
        y = x
        x = x * 3.0
    return y

def dead_in_branch(a: float, flag: bool) -> float:
    z = a * 5.0
    if flag:
        z = a - 1.0
    else:
        z = a + 1.0
    return z
"""


@pytest.fixture(scope="module")
def module():
    return adc.loads(SOURCE, "dce.ad", jit=False)


def _text(name: str) -> str:
    return str(forward_ir(front_end(SOURCE, "dce.ad"), name))


def test_overwritten_assignment_removed(module):
    assert "a * 3.0" not in _text("overwritten")
    assert module.overwritten(2.0) == 3.0
    assert "a * 5.0" not in _text("dead_in_branch")
    assert (module.dead_in_branch(2.0, True), module.dead_in_branch(2.0, False)) == (1.0, 3.0)


def test_values_read_by_the_next_iteration_stay(module):
    a = np.array([1.0, 2.0, 4.0, 8.0])
    assert "prev = a[" in _text("carried")
    assert module.carried(a) == 2.0 * (1.0 + 2.0 + 4.0)
    assert "y = x" in _text("while_carried")
    assert module.while_carried(2.0) == 54.0


def test_gradient_through_carried_values(module):
    a = np.array([1.0, 2.0, 4.0, 8.0])
    np.testing.assert_array_equal(adc.grad(module.carried)(a), [2.0, 2.0, 2.0, 0.0])
    assert adc.grad(module.while_carried)(2.0) == 27.0
