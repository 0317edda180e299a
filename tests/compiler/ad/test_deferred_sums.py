"""Accumulations into one adjoint that nothing reads in between become one sum
(``passes/deferred_sums.py``): gradients against central differences, compiled and not, the
listing of the case it is for, and cases where the adjoint is read or an addend changes."""
from __future__ import annotations

import numpy as np
import pytest

import adc
from gradcheck import check_grad

RNG = np.random.default_rng(17)

SOURCE = """
def stages(x: float[n], s: int) -> float:
    y = x * 0.5
    for step in range(s):
        a = tanh(y)
        b = sin(y + a)
        c = cos(y * b)
        y = y + 0.1 * (a + b + c)
    return sum(y * y)

def read_between(x: float[n]) -> float:
    y = sin(x)
    u = y * y
    v = u + y
    return sum(v * exp(u))
"""


@pytest.fixture(scope="module")
def plain():
    return adc.loads(SOURCE, "sums.ad", jit=False)


@pytest.mark.parametrize("name", ["stages", "read_between"])
def test_gradient_matches_finite_differences(plain, name):
    args = dict(x=RNG.uniform(-1.0, 1.0, 6))
    if name == "stages":
        args["s"] = 3
    check_grad(getattr(plain, name), args)


def test_stages_gradient_compiled(plain):
    jitted = adc.loads(SOURCE, "sums.ad", jit=True)
    check_grad(jitted.stages, dict(x=RNG.uniform(-1.0, 1.0, 7), s=4), wrt="x", reference=plain.stages)


def test_stage_adjoints_are_added_once(plain):
    """``c``, ``b`` and ``a`` each add into ``y_bar`` and nothing reads ``y_bar`` until the
    step's reverse ends: one addition of the sum."""
    listing = adc.adjoint_source(plain.stages, lang="ad")
    reverse = listing[listing.index(", -1, -1):"):]
    assert reverse.count("y_bar +=") == 1
