"""Array values of a loop body recomputed by the reverse sweep instead of taped.

A loop body's cheap array operations (elementwise arithmetic, views, an array built and then
filled by slice or element writes) are replayed in the reverse sweep from the rewound loop state,
so only the loop-carried state is taped: an RK4 step tapes ``y`` and recomputes its stages. The
programs below also cover the fills that must not be replayed (a rule that reads the result, a
read between the build and the fill, a fill under a branch, a fill whose inputs change before
the array's last use). Every gradient is checked against central differences.
"""
from __future__ import annotations

import numpy as np
import pytest

import adc
from gradcheck import check_grad

RNG = np.random.default_rng(7)

SOURCE = """
def rhs(x: float[n], y: float[n]) -> float[n]:
    z = x * 1.0
    z[1:n] = x[1:n] * y[0:n - 1]
    return z

def rk4(x: float[n], s: int) -> float:
    h = 1.0 / s
    y = zeros(n) + 0.5
    for step in range(s):
        k1 = rhs(x, y)
        k2 = rhs(x, y + h * k1 / 2)
        k3 = rhs(x, y + h * k2 / 2)
        k4 = rhs(x, y + h * k3)
        y = y + h * (k1 + 2 * k2 + 2 * k3 + k4) / 6
    return sum(y * y)

def fill_after_div(x: float[n], s: int) -> float:
    y = x * 1.0
    for step in range(s):
        z = y / (x * x + 1.0)
        z[0] = y[0] * x[0]
        y = y + z * 0.5
    return sum(y * y)

def read_before_fill(x: float[n], s: int) -> float:
    y = x * 1.0
    for step in range(s):
        z = y * 2.0
        w = z * x
        z[0] = 1.0
        y = w * 0.25 + z * y * 0.5
    return sum(y * y)

def fill_in_branch(x: float[n], s: int) -> float:
    y = x * 1.0
    for step in range(s):
        z = y * x
        z[1] = y[0]
        if step % 2 == 0:
            z[0] = y[n - 1]
        y = y * 0.5 + z * y * 0.25
    return sum(y * y)

def fill_inputs_change(x: float[n], s: int) -> float:
    y = x * 1.0
    acc = 0.0
    for step in range(s):
        z = x * 1.0
        z[0] = y[0]
        y = y * 0.75 + x
        acc = acc + sum(z * y)
    return acc
"""

CASES = ["rk4", "fill_after_div", "read_before_fill", "fill_in_branch", "fill_inputs_change"]


@pytest.fixture(scope="module")
def plain():
    return adc.loads(SOURCE, "recompute.ad", jit=False)


@pytest.mark.parametrize("name", CASES)
def test_gradient_matches_finite_differences(plain, name):
    check_grad(getattr(plain, name), dict(x=RNG.uniform(-1.0, 1.0, 6), s=3), wrt="x")


def test_rk4_gradient_compiled():
    jitted = adc.loads(SOURCE, "recompute.ad", jit=True)
    plain = adc.loads(SOURCE, "recompute.ad", jit=False)
    check_grad(jitted.rk4, dict(x=RNG.uniform(-1.0, 1.0, 7), s=4), wrt="x", reference=plain.rk4)


def test_rk4_tapes_only_the_state(plain):
    """The stages (``rhs`` results filled in place) and their arguments are recomputed: the
    loop pushes ``y`` alone."""
    adjoint = adc.adjoint_source(plain.rk4, wrt="x", lang="ad")
    assert adjoint.count("push(") == 1
    assert "push(y)" in adjoint.replace(" ", "")
