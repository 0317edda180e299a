"""The count of elements equal to a max (its derivative shares the seed among ties) is made
inside an earlier loop that reads the vector (``compiler/tie_counts.py``), and the gradient is
unchanged: bit for bit the one counted by the helper, and numpy's where elements tie."""
from __future__ import annotations

import numpy as np
import pytest

import adc

SOURCE = """
def lse(x: float[n]) -> float:
    a = max(x)
    return log(sum(exp(x - a))) + a

def top(x: float[n]) -> float:
    return max(x)

def shifted(x: float[n], y: float[n]) -> float:
    a = max(x)
    e = exp(y - a)
    return sum(e) + a
"""


@pytest.fixture(scope="module")
def module():
    return adc.loads(SOURCE, "ties.ad", jit=False)


def _grad_body(f, wrt="x") -> str:
    return adc.adjoint_source(f, wrt, lang="python").split("def " + f.name + "_grad")[1]


def test_count_rides_in_the_loop_that_reads_the_vector(module):
    body = _grad_body(module.lse)
    assert "_count_eq(" not in body
    loop = body[body.index("for _i0"):body.index("t_3 = ")]
    assert "_exp(" in loop and "x_ties += x[_i0] == a" in loop


def test_count_without_such_a_loop_stays_a_pass(module):
    assert "_count_eq(" in _grad_body(module.top)
    # the loop before the count reads y, not x
    assert "_count_eq(" in _grad_body(module.shifted, ("x", "y"))


@pytest.mark.parametrize("jit", [False, True])
def test_gradient_with_ties(module, jit):
    m = module if not jit else adc.loads(SOURCE, "ties.ad")
    x = np.random.default_rng(0).standard_normal(37)
    x[[3, 20, 31]] = x.max() + 0.5                 # three elements share the max
    e = np.exp(x - x.max())
    softmax = e / e.sum()
    expected = softmax.copy()
    expected[[3, 20, 31]] += (1.0 - softmax.sum()) / 3
    np.testing.assert_allclose(adc.grad(m.lse, "x")(x), expected, rtol=1e-13, atol=1e-16)
    top = adc.grad(m.top, "x")(x)
    np.testing.assert_array_equal(top, np.isin(np.arange(37), [3, 20, 31]) / 3.0)
